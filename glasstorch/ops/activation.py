"""Activation functions beyond relu/sigmoid/tanh: leaky_relu, elu, gelu, softplus, hardtanh, logsigmoid.

Each forward is computed on raw arrays in one go; each backward is written with ops on the input,
so second derivatives (create_graph=True) come out right as well.
"""
import math

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .arithmetic import where
from .common import NamedFunction
from .elementwise import clamp, exp, sigmoid, tanh

xp = backend.xp

_erf = xp.frompyfunc(math.erf, 1, 1)


def erf_array(xp, a):
    """erf elementwise on an array of `xp` (NumPy and CuPy have none).

    float32: Abramowitz & Stegun 7.1.26, |error| < 1.5e-7 (about float32's own resolution), vectorised.
    Other dtypes: the C library's erf through math.erf, exact but an element at a time, on the host.
    """
    if a.dtype != xp.float32:
        if not a.size:
            return a.copy()
        host = backend.to_host(a)  # (math.erf runs on the CPU: a GPU array goes there and back)
        return backend.like(a, backend.xp.asarray(_erf(host), dtype=a.dtype))  # (a 0-dim input gives a float)
    z = xp.abs(a)
    t = 1 / (1 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return xp.copysign(1 - poly * xp.exp(-z * z), a)


class LeakyReLUFunction(NamedFunction):
    """y = x if x > 0 else slope * x;  dL/dx = dL/dy * (1 if x > 0 else slope)"""
    node_name = "LeakyRelu"  # the node prints as LeakyReluBackward0

    @staticmethod
    def forward(ctx, x, slope):
        ctx.slope = slope
        return ctx.xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]._array
        # the factor is piecewise constant, so multiplying by a constant array keeps double backward exact
        return grad * Tensor._make(ctx.xp.where(x > 0, 1, ctx.slope).astype(x.dtype))


class HardtanhFunction(NamedFunction):
    """y = clamp(x, lo, hi);  dL/dx = dL/dy where lo < x < hi (strictly, as torch), else 0"""
    node_name = "Hardtanh"  # the node prints as HardtanhBackward0

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        return ctx.xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]._array
        return grad * Tensor._make(((x > ctx.lo) & (x < ctx.hi)).astype(x.dtype))


class ELUFunction(NamedFunction):
    """y = x if x > 0 else alpha (exp(x) - 1);  dL/dx = dL/dy * (1 if x > 0 else alpha exp(x))"""
    node_name = "Elu"  # the node prints as EluBackward0

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return ctx.xp.where(x > 0, x, alpha * ctx.xp.expm1(ctx.xp.minimum(x, 0)))

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        positive = Tensor._make(x._array > 0)
        # exp of min(x, 0): the unused branch must not overflow for large positive x
        return grad * where(positive, 1.0, exp(clamp(x, max=0.0)) * ctx.alpha)


class GELUFunction(NamedFunction):
    """y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2;  dL/dx = dL/dy (Phi(x) + x phi(x)),  phi the normal pdf

    approximate='tanh': y = x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3).
    """
    node_name = "Gelu"  # the node prints as GeluBackward0

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        if approximate == "tanh":
            u = 0.7978845608028654 * (x + 0.044715 * x * x * x)
            return 0.5 * x * (1 + ctx.xp.tanh(u))
        return 0.5 * x * (1 + erf_array(ctx.xp, x * 0.7071067811865476))

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        if ctx.approximate == "tanh":
            t = tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))
            du = 0.7978845608028654 * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        cdf = NormalCdf.apply(x)  # an op, not an array: double backward sees through it
        pdf = exp(x * x * -0.5) * 0.3989422804014327
        return grad * (cdf + x * pdf)


class NormalCdf(Function):
    """y = Phi(x) = (1 + erf(x / sqrt 2)) / 2;  dL/dx = dL/dy phi(x)"""

    @staticmethod
    def forward(ctx, x):
        return 0.5 * (1 + erf_array(ctx.xp, x * 0.7071067811865476))

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        return grad * exp(x * x * -0.5) * 0.3989422804014327


class SoftplusFunction(NamedFunction):
    """y = log(1 + exp(beta x)) / beta  (y = x where beta x > threshold);  dL/dx = dL/dy sigmoid(beta x)"""
    node_name = "Softplus"  # the node prints as SoftplusBackward0

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        z = x * beta
        # log1p(exp(z)) = max(z, 0) + log1p(exp(-|z|)): no overflow for large z
        soft = (ctx.xp.maximum(z, 0) + ctx.xp.log1p(ctx.xp.exp(-ctx.xp.abs(z)))) / beta
        return ctx.xp.where(z > threshold, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        linear = Tensor._make(x._array * ctx.beta > ctx.threshold)
        return grad * where(linear, 1.0, sigmoid(x * ctx.beta))


class LogSigmoidFunction(NamedFunction):
    """y = log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|));  dL/dx = dL/dy sigmoid(-x)"""
    node_name = "LogSigmoid"  # the node prints as LogSigmoidBackward0

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.minimum(x, 0) - ctx.xp.log1p(ctx.xp.exp(-ctx.xp.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        return grad * sigmoid(-ctx.inputs[0])


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLUFunction.apply(x, slope=negative_slope)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return HardtanhFunction.apply(x, lo=min_val, hi=max_val)


def elu(x, alpha=1.0):
    return ELUFunction.apply(x, alpha=alpha)


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return GELUFunction.apply(x, approximate=approximate)


def softplus(x, beta=1.0, threshold=20.0):
    return SoftplusFunction.apply(x, beta=beta, threshold=threshold)


def logsigmoid(x):
    return LogSigmoidFunction.apply(x)
