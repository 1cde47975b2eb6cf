"""The gamma family: lgamma, digamma, polygamma (what the Beta distribution's log_prob, entropy and KL need),
and erfinv (the normal distribution's quantile function, Normal.icdf).

NumPy and CuPy have no gamma functions, so each is written here with array operations of `ctx.xp`
(one code path for the CPU and the GPU), computed in float64 and cast back to the input's dtype:
  lgamma      Lanczos' approximation (g = 7, 9 terms), the reflection formula below 1/2
  digamma     the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series
  polygamma   (-1)^(n+1) n! zeta(n + 1, x), the Hurwitz zeta by sums up to x >= 10, then Euler-Maclaurin
  erfinv      Acklam's rational approximation of the normal quantile, then one Halley step on erf
  betainc     the regularized incomplete beta I_x(a, b) (Lentz's continued fraction), for the implicit
              reparameterisation gradient of Beta draws (`beta_rsample`)
Each derivative is the next function up: lgamma' = digamma, digamma' = polygamma(1), polygamma(n)' =
polygamma(n + 1); the backwards call the ops, so higher derivatives come for free.
"""
import math

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .activation import erf_array
from .common import float_operand
from .elementwise import exp

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7)
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)  # B2, B4, ..., B14
_ASYMPTOTIC_FROM = 10.0  # the series below are accurate to float64 from here on


def _poles(xp, x):
    """Where x is 0 or a negative integer (the poles of the gamma function)."""
    return (x <= 0) & (x == xp.floor(x))


def lgamma_array(xp, x):
    """log|Gamma(x)| of an array (float64 inside, the input's dtype out)."""
    x64 = x.astype(xp.float64)
    reflect = x64 < 0.5
    z = xp.where(reflect, 1 - x64, x64) - 1  # z >= -1/2: Lanczos' series is accurate there
    series = _LANCZOS[0]
    for i, c in enumerate(_LANCZOS[1:], start=1):
        series = series + c / (z + i)
    t = z + _LANCZOS_G + 0.5
    with backend.xp.errstate(divide="ignore", invalid="ignore"):  # (NumPy's switch; CuPy never warns)
        right = 0.5 * math.log(2 * math.pi) + (z + 0.5) * xp.log(t) - t + xp.log(series)
        # Gamma(x) Gamma(1 - x) = pi / sin(pi x); sin of the fractional part keeps large |x| accurate
        sine = xp.abs(xp.sin(math.pi * (x64 - xp.floor(x64))))
        out = xp.where(reflect, math.log(math.pi) - xp.log(sine) - right, right)
    out = xp.where(_poles(xp, x64), math.inf, out)
    return out.astype(x.dtype)


def digamma_array(xp, x):
    """psi(x) = d/dx log Gamma(x) of an array: -inf at 0, nan at the negative integers (as torch)."""
    x64 = x.astype(xp.float64)
    reflect = x64 < 0.5
    y = xp.where(reflect, 1 - x64, x64)
    shift = xp.zeros_like(y)
    for _ in range(int(_ASYMPTOTIC_FROM)):  # y >= 1/2, so ten steps reach 10
        small = y < _ASYMPTOTIC_FROM
        shift = shift - xp.where(small, 1 / y, 0.0)
        y = xp.where(small, y + 1, y)
    inv2 = 1 / (y * y)
    tail = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))))
    psi = xp.log(y) - 0.5 / y - tail + shift
    with backend.xp.errstate(divide="ignore", invalid="ignore"):
        # psi(1 - x) - psi(x) = pi / tan(pi x)
        psi = xp.where(reflect, psi - math.pi / xp.tan(math.pi * (x64 - xp.floor(x64))), psi)
    psi = xp.where(_poles(xp, x64), xp.where(x64 == 0, -math.inf, math.nan), psi)
    return psi.astype(x.dtype)


def hurwitz_zeta_array(xp, s, q):
    """zeta(s, q) = sum_k (q + k)^-s for an integer s >= 2 (q not a pole): terms until q + k >= 10, then
    the Euler-Maclaurin tail (q+N)^(1-s)/(s-1) + (q+N)^-s/2 + sum_j B_2j/(2j)! s(s+1)..(s+2j-2) (q+N)^(1-s-2j)."""
    a = q.astype(xp.float64)
    total = xp.zeros_like(a)
    with backend.xp.errstate(divide="ignore", invalid="ignore"):
        while True:
            small = a < _ASYMPTOTIC_FROM
            if not bool(small.any()):
                break
            total = total + xp.where(small, a ** -s, 0.0)
            a = xp.where(small, a + 1, a)
    total = total + a ** (1 - s) / (s - 1) + 0.5 * a ** -s
    rising, factorial = float(s), 2.0
    for j, bernoulli in enumerate(_BERNOULLI, start=1):
        total = total + bernoulli / factorial * rising * a ** (1 - s - 2 * j)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        factorial *= (2 * j + 1) * (2 * j + 2)
    return total


def polygamma_array(xp, n, x):
    """psi^(n)(x), the n-th derivative of digamma (n >= 1)."""
    x64 = x.astype(xp.float64)
    value = (-1) ** (n + 1) * math.factorial(n) * hurwitz_zeta_array(xp, n + 1, x64)
    value = xp.where(_poles(xp, x64), math.inf, value)
    return value.astype(x.dtype)


_ACKLAM_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
             -3.066479806614716e+01, 2.506628277459239e+00)
_ACKLAM_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
             -1.328068155288572e+01)
_ACKLAM_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
             4.374664141464968e+00, 2.938163982698783e+00)
_ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)


def _polynomial(coefficients, x):
    out = coefficients[0]
    for c in coefficients[1:]:
        out = out * x + c
    return out


def ndtri_array(xp, p):
    """x with Phi(x) = p (the standard normal quantile): -inf at 0, inf at 1, nan outside [0, 1]."""
    p = p.astype(xp.float64)
    with backend.xp.errstate(divide="ignore", invalid="ignore"):
        tail = xp.minimum(p, 1 - p)  # the tails use sqrt(-2 log p), by symmetry
        q = xp.sqrt(-2 * xp.log(tail))
        x_tail = _polynomial(_ACKLAM_C, q) / (_polynomial(_ACKLAM_D, q) * q + 1)
        x_tail = xp.where(p < 0.5, x_tail, -x_tail)
        r = (p - 0.5) ** 2
        x_mid = _polynomial(_ACKLAM_A, r) * (p - 0.5) / (_polynomial(_ACKLAM_B, r) * r + 1)
        x = xp.where(tail < 0.02425, x_tail, x_mid)
        # one Halley step on Phi(x) - p: relative error 1e-9 -> float64's resolution
        finite = xp.isfinite(x)
        safe = xp.where(finite, x, 0.0)
        e = 0.5 * (1 + erf_array(xp, safe * 0.7071067811865476)) - p
        u = e * math.sqrt(2 * math.pi) * xp.exp(safe * safe / 2)
        x = xp.where(finite, safe - u / (1 + safe * u / 2), x)
    x = xp.where(p == 0, -math.inf, xp.where(p == 1, math.inf, x))
    return xp.where((p < 0) | (p > 1), math.nan, x)


class Erfinv(Function):
    """y = erfinv(x) (erf(y) = x);  dL/dx = dL/dy * sqrt(pi)/2 * exp(y^2)"""
    needs_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return (ndtri_array(ctx.xp, (x.astype(ctx.xp.float64) + 1) / 2) * 0.7071067811865476).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.output
        return grad * exp(y * y) * (math.sqrt(math.pi) / 2)


def betainc_array(xp, a, b, x, iterations=300):
    """I_x(a, b) = B(x; a, b) / B(a, b) (float64), by the continued fraction of Numerical Recipes 6.4, which
    converges fast for x < (a + 1) / (a + b + 2); above that, I_x(a, b) = 1 - I_(1-x)(b, a)."""
    a, b, x = (v.astype(xp.float64) for v in xp.broadcast_arrays(a, b, x))
    flip = x > (a + 1) / (a + b + 2)
    a, b, x = xp.where(flip, b, a), xp.where(flip, a, b), xp.where(flip, 1 - x, x)
    tiny = 1e-300
    with backend.xp.errstate(divide="ignore", invalid="ignore"):
        front = xp.exp(a * xp.log(x) + b * xp.log1p(-x) - lgamma_array(xp, a) - lgamma_array(xp, b)
                       + lgamma_array(xp, a + b)) / a
        c, d = xp.ones_like(x), 1 - (a + b) * x / (a + 1)
        d = 1 / xp.where(xp.abs(d) < tiny, tiny, d)
        f = d
        for m in range(1, iterations):
            for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                              -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
                d = 1 + numerator * d
                d = 1 / xp.where(xp.abs(d) < tiny, tiny, d)
                c = 1 + numerator / c
                c = xp.where(xp.abs(c) < tiny, tiny, c)
                f = f * c * d
        out = front * f
    out = xp.where(x <= 0, 0.0, xp.where(x >= 1, 1.0, out))
    return xp.where(flip, 1 - out, out)


class BetaReparameterized(Function):
    """z = a draw of Beta(a, b), made differentiable by implicit reparameterisation: z = F^-1(u; a, b) with u
    fixed, so dz/da = -(dF/da)(z) / f(z) and the same for b (F the CDF, f the density). dF/da is a central
    difference of the regularized incomplete beta in a (relative error about 1e-8). Once differentiable."""
    once_differentiable = True

    @staticmethod
    def forward(ctx, a, b, z):
        return z.copy()

    @staticmethod
    def backward(ctx, grad):
        xp = backend.array_module(grad._array)
        a, b, z = (t._array.astype(xp.float64) for t in ctx.inputs)
        log_density = ((a - 1) * xp.log(z) + (b - 1) * xp.log1p(-z) - lgamma_array(xp, a) - lgamma_array(xp, b)
                       + lgamma_array(xp, a + b))
        density = xp.exp(log_density)
        ha, hb = 1e-5 * a, 1e-5 * b
        dF_da = (betainc_array(xp, a + ha, b, z) - betainc_array(xp, a - ha, b, z)) / (2 * ha)
        dF_db = (betainc_array(xp, a, b + hb, z) - betainc_array(xp, a, b - hb, z)) / (2 * hb)
        g = grad._array.astype(xp.float64)
        dtype = grad._array.dtype
        return (Tensor._make((-g * dF_da / density).astype(dtype)), Tensor._make((-g * dF_db / density).astype(dtype)),
                None)


def beta_rsample(a, b, z):
    """`z` (draws of Beta(a, b), the shape of a and b) with gradients flowing to a and b."""
    return BetaReparameterized.apply(a, b, z)


class Lgamma(Function):
    """y = log|Gamma(x)|;  dL/dx = dL/dy * digamma(x)"""

    @staticmethod
    def forward(ctx, x):
        return lgamma_array(ctx.xp, x)

    @staticmethod
    def backward(ctx, grad):
        return grad * digamma(ctx.inputs[0])


class Digamma(Function):
    """y = psi(x) = Gamma'(x) / Gamma(x);  dL/dx = dL/dy * polygamma(1, x)"""

    @staticmethod
    def forward(ctx, x):
        return digamma_array(ctx.xp, x)

    @staticmethod
    def backward(ctx, grad):
        return grad * polygamma(1, ctx.inputs[0])


class Polygamma(Function):
    """y = psi^(n)(x);  dL/dx = dL/dy * psi^(n+1)(x)"""

    @staticmethod
    def forward(ctx, x, n):
        ctx.n = n
        return polygamma_array(ctx.xp, n, x)

    @staticmethod
    def backward(ctx, grad):
        return grad * polygamma(ctx.n + 1, ctx.inputs[0])


def _floating(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return float_operand(x)  # integer tensors compute in the default float dtype, as torch


def lgamma(input):
    """log|Gamma(input)|, elementwise (torch.lgamma, torch.special.gammaln)."""
    return Lgamma.apply(_floating(input, "lgamma"))


def digamma(input):
    """The logarithmic derivative of the gamma function, elementwise (torch.digamma, torch.special.psi)."""
    return Digamma.apply(_floating(input, "digamma"))


def erfinv(input):
    """The inverse error function, elementwise: erf(erfinv(x)) = x on (-1, 1)."""
    return Erfinv.apply(_floating(input, "erfinv"))


def polygamma(n, input):
    """The n-th derivative of digamma, elementwise: polygamma(0, x) is digamma(x)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input)
    return Polygamma.apply(_floating(input, "polygamma"), n=n)
