"""Dropout: zero each element with probability p, scale the survivors by 1/(1-p).

Masks are drawn on the host from glasstorch's generator (the same numbers on the CPU and the GPU) and
moved to the input's device.
"""
from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor

xp = backend.xp


class MaskedScale(Function):
    """y = x * m (m: 0 for a dropped element, 1/(1-p) for a kept one);  dL/dx = dL/dy * m"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor._make(ctx.mask)


def dropout_mask(shape, p, dtype, generator=None):
    """Bernoulli(1 - p) keep-mask already scaled by 1/(1 - p), so the expected output equals the input."""
    draw_dtype = dtype if dtype in (xp.float32, xp.float64) else xp.float32
    keep = backend.rng(generator).random(shape, dtype=draw_dtype) >= p
    mask = keep.astype(dtype)
    mask *= 1 / (1 - p)
    return mask


def dropout(x, p=0.5, training=True, inplace=False, feature_dims=0):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only).

    feature_dims=k draws one decision per slice of the first k dims (dropout2d: whole channels).
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    dtype = x._array.dtype
    if p == 1.0:
        mask = xp.zeros((1,) * x.ndim, dtype=dtype)
    else:
        shape = tuple(x.shape) if not feature_dims else tuple(x.shape[:feature_dims]) + (1,) * (x.ndim - feature_dims)
        mask = dropout_mask(shape, p, dtype)
    mask = backend.like(x._array, mask)  # a host mask, used where x lives
    if inplace:
        return x.mul_(Tensor._make(mask))
    return MaskedScale.apply(x, mask=mask)
