"""`torch.special`: the gamma family (gammaln, digamma/psi, polygamma), erfinv and ndtri, and the special
functions glasstorch already has under other names (expit is sigmoid, ndtr the normal CDF ...). Gradients: see
ops/special.py."""
from .ops.activation import NormalCdf
from .ops.elementwise import expm1, log1p, log_softmax, sigmoid, softmax
from .ops.reduce import logsumexp
from .ops.special import digamma, erfinv, lgamma, polygamma

gammaln = lgamma
psi = digamma
expit = sigmoid


def ndtr(input):
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2."""
    return NormalCdf.apply(input)


def ndtri(input):
    """The standard normal quantile (the inverse of ndtr): sqrt(2) erfinv(2p - 1)."""
    return erfinv(2 * input - 1) * 1.4142135623730951


__all__ = ["digamma", "erfinv", "expit", "expm1", "gammaln", "log1p", "log_softmax", "logsumexp", "ndtr", "ndtri",
           "polygamma", "psi", "softmax"]
