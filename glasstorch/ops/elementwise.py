"""Unary elementwise math and activations: exp, log, sqrt, trig, tanh, sigmoid, relu, clamp, softmax ...

Where the derivative is easiest in terms of the output (exp, sigmoid, tanh, sqrt), the op keeps its
output (`saves_output`) instead of recomputing from the input. Forward computes with ctx.xp: NumPy on
the CPU, CuPy on the GPU.
"""
import warnings

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .arithmetic import maximum, minimum, pow, where
from .common import NamedFunction, as_tensor, float_operand, to_dtype, wrap_dim
from .quick_paths import one_like


class Exp(Function):
    """y = exp(x);  dL/dx = dL/dy * y"""
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.exp(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.output


class Expm1(Function):
    """y = exp(x) - 1;  dL/dx = dL/dy * (y + 1)"""
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.expm1(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.output + 1)


class Log(Function):
    """y = ln(x);  dL/dx = dL/dy / x"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.inputs[0]


class Log2(Function):
    """y = log2(x);  dL/dx = dL/dy / (x ln 2)"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.log2(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / (ctx.inputs[0] * 0.6931471805599453)


class Log10(Function):
    """y = log10(x);  dL/dx = dL/dy / (x ln 10)"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.log10(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / (ctx.inputs[0] * 2.302585092994046)


class Log1p(Function):
    """y = ln(1 + x);  dL/dx = dL/dy / (1 + x)"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / (ctx.inputs[0] + 1)


class Sqrt(Function):
    """y = sqrt(x);  dL/dx = dL/dy / (2 y)"""
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.sqrt(x)

    @staticmethod
    def backward(ctx, grad):
        return grad / (ctx.output * 2)


class Rsqrt(Function):
    """y = 1 / sqrt(x);  dL/dx = -dL/dy * y^3 / 2"""
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return 1 / ctx.xp.sqrt(x)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.output
        return grad * y * y * y * -0.5


class Reciprocal(Function):
    """y = 1 / x;  dL/dx = -dL/dy * y^2"""
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return 1 / x

    @staticmethod
    def backward(ctx, grad):
        return -grad * ctx.output * ctx.output


class Sin(Function):
    """y = sin(x);  dL/dx = dL/dy * cos(x)"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * cos(ctx.inputs[0])


class Cos(Function):
    """y = cos(x);  dL/dx = -dL/dy * sin(x)"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad * sin(ctx.inputs[0])


class Tan(Function):
    """y = tan(x);  dL/dx = dL/dy * (1 + y^2)"""
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.tan(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.output * ctx.output + 1)


class Sinh(Function):
    """y = sinh(x);  dL/dx = dL/dy * cosh(x)"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * cosh(ctx.inputs[0])


class Cosh(Function):
    """y = cosh(x);  dL/dx = dL/dy * sinh(x)"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * sinh(ctx.inputs[0])


class TanhFunction(NamedFunction):
    """y = tanh(x);  dL/dx = dL/dy * (1 - y^2)"""
    node_name = "Tanh"  # the node prints as TanhBackward0
    needs_inputs = False
    saves_output = True
    array_backward = True
    grads_fit_inputs = True

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.tanh(x)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.output_as(grad)
        return grad * (one_like(y) - y * y)  # (one_like(y): the number 1, on NumPy's quick path)


class SigmoidFunction(NamedFunction):
    """y = 1 / (1 + exp(-x));  dL/dx = dL/dy * y * (1 - y)"""
    node_name = "Sigmoid"  # the node prints as SigmoidBackward0
    needs_inputs = False
    saves_output = True
    array_backward = True
    grads_fit_inputs = True

    @staticmethod
    def forward(ctx, x):
        # exp of a large positive number overflows; split by sign so only exp(-|x|) is ever taken
        e = ctx.xp.exp(-ctx.xp.abs(x))
        return ctx.xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    @staticmethod
    def backward(ctx, grad):
        y = ctx.output_as(grad)
        return grad * y * (1 - y)


class ReLUFunction(NamedFunction):
    """y = max(x, 0);  dL/dx = dL/dy where y > 0, else 0"""
    node_name = "Relu"  # the node prints as ReluBackward0
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        mask = ctx.output._array > 0
        return grad * Tensor._make(mask.astype(grad._array.dtype))


class Abs(Function):
    """y = |x|;  dL/dx = dL/dy * sign(x)  (0 at x = 0)"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor._make(ctx.xp.sign(ctx.inputs[0]._array))


class Clamp(Function):
    """y = min(max(x, lo), hi);  dL/dx = dL/dy where lo <= x <= hi, else 0"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        return ctx.xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]._array
        inside = ctx.xp.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            inside &= x >= ctx.lo
        if ctx.hi is not None:
            inside &= x <= ctx.hi
        return grad * Tensor._make(inside.astype(grad._array.dtype))


class ZeroGrad(Function):
    """Piecewise-constant functions (sign, floor, ceil, round, trunc): dL/dx = 0 almost everywhere."""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, fn, args=()):
        return getattr(ctx.xp, fn)(x, *args)  # fn names the function: ctx.xp.floor(x) ...

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class SoftmaxFunction(NamedFunction):
    """y = exp(x - max) / sum(exp(x - max));  dL/dx = y * (dL/dy - sum(dL/dy * y))"""
    node_name = "Softmax"  # the node prints as SoftmaxBackward0
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        # subtracting the max changes nothing mathematically and keeps exp() from overflowing
        e = ctx.xp.exp(x - x.max(axis=dim, keepdims=True))
        e /= e.sum(axis=dim, keepdims=True)
        return e

    @staticmethod
    def backward(ctx, grad):
        y = ctx.output
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True))


class LogSoftmaxFunction(NamedFunction):
    """y = x - max - log(sum(exp(x - max)));  dL/dx = dL/dy - softmax(x) * sum(dL/dy)"""
    node_name = "LogSoftmax"  # the node prints as LogSoftmaxBackward0
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        shifted = x - x.max(axis=dim, keepdims=True)  # the max shift keeps exp() finite for logits of 1e4
        shifted -= ctx.xp.log(ctx.xp.exp(shifted).sum(axis=dim, keepdims=True))
        return shifted

    @staticmethod
    def backward(ctx, grad):
        softmax_ = exp(ctx.output)
        return grad - softmax_ * grad.sum(ctx.dim, keepdim=True)


# ----------------------------------------------------------------------------- wrappers
def exp(x):
    return Exp.apply(float_operand(x, "exp"))


def expm1(x):
    return Expm1.apply(float_operand(x, "expm1"))


def log(x):
    return Log.apply(float_operand(x, "log"))


def log2(x):
    return Log2.apply(float_operand(x, "log2"))


def log10(x):
    return Log10.apply(float_operand(x, "log10"))


def log1p(x):
    return Log1p.apply(float_operand(x, "log1p"))


def sqrt(x):
    return Sqrt.apply(float_operand(x))


def rsqrt(x):
    return Rsqrt.apply(float_operand(x, "rsqrt"))


def reciprocal(x):
    return Reciprocal.apply(float_operand(x, "reciprocal"))


def square(x):
    """x ** 2: torch's node, PowBackward0; a bool tensor is squared as int64, as in torch."""
    x = as_tensor(x)
    if x._array.dtype == backend.xp.bool_:
        x = to_dtype(x, backend.int64)
    return pow(x, 2)


def sin(x):
    return Sin.apply(float_operand(x))


def cos(x):
    return Cos.apply(float_operand(x))


def tan(x):
    return Tan.apply(float_operand(x, "tan"))


def sinh(x):
    return Sinh.apply(float_operand(x, "sinh"))


def cosh(x):
    return Cosh.apply(float_operand(x, "cosh"))


def tanh(input):
    return TanhFunction.apply(float_operand(input))


def sigmoid(input):
    return SigmoidFunction.apply(float_operand(input))


def relu(x):
    return ReLUFunction.apply(as_tensor(x))


def abs(x):
    return Abs.apply(as_tensor(x))


def clamp(x, min=None, max=None):
    """Clip values to [min, max]; either bound may be None (torch.clamp / torch.clip)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if x._array.dtype.kind in "iub" and any(isinstance(v, float) for v in (min, max)):
        x = float_operand(x)
    return Clamp.apply(x, lo=min, hi=max)


clip = clamp


def sign(x):
    return ZeroGrad.apply(x, fn="sign")


def floor(x):
    return x if x._array.dtype.kind in "iub" else ZeroGrad.apply(x, fn="floor")


def ceil(x):
    return x if x._array.dtype.kind in "iub" else ZeroGrad.apply(x, fn="ceil")


def trunc(x):
    return x if x._array.dtype.kind in "iub" else ZeroGrad.apply(x, fn="trunc")


def round(x, decimals=0):
    # NumPy and torch both round half to even
    return ZeroGrad.apply(x, fn="round", args=(decimals,))


def _classify(x, name):
    """isnan/isinf/isfinite: a bool tensor, no gradient."""
    return Tensor._make(getattr(backend.array_module(x._array), name)(x._array))


def isnan(x):
    return _classify(x, "isnan")


def isinf(x):
    return _classify(x, "isinf")


def isfinite(x):
    return _classify(x, "isfinite")


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    clean = backend.array_module(x._array).nan_to_num(x._array, nan=nan, posinf=posinf, neginf=neginf)
    return where(isfinite(x), x, Tensor._make(clean))


def softmax(x, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along `dim` (stable: the max is subtracted first)."""
    x = float_operand(x, "softmax")
    if dtype is not None:
        x = x.to(dtype)
    return SoftmaxFunction.apply(x, dim=_softmax_dim(x, dim))


def log_softmax(x, dim=None, dtype=None):
    """log(softmax(x)) computed as x - logsumexp(x): finite even for logits of 1e4."""
    x = float_operand(x, "log_softmax")
    if dtype is not None:
        x = x.to(dtype)
    return LogSoftmaxFunction.apply(x, dim=_softmax_dim(x, dim))


def _softmax_dim(x, dim):
    if dim is None:  # torch's legacy implicit choice (with a warning there)
        warnings.warn("Implicit dimension choice for softmax has been deprecated. Change the call to include dim=X "
                      "as an argument.", stacklevel=3)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return wrap_dim(dim, x.ndim) if x.ndim else None
