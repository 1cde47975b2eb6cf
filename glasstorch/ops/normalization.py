"""Normalization (batch, layer, group), dropout, and embedding lookup.

The normalizations are compositions of ops (mean, subtract, rsqrt ...), so their backward, and
their double backward, come from the ops' own: x_hat = (x - mean) / sqrt(var + eps), var biased.
Dropout masks are drawn on the host from glasstorch's generator (the same numbers on the CPU and
the GPU) and moved to the input's device.
"""
from .. import backend
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .elementwise import rsqrt

xp = backend.xp


def _normalize(x, dims, eps):
    """(x - mean) / sqrt(var + eps) over dims (biased variance), plus the batch mean and variance."""
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    return centered * rsqrt(var + eps), mean, var


def _affine(out, weight, bias, shape):
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) over the batch and spatial dims.

    Training: batch statistics are used, and the running ones move towards them in place,
    running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance (as torch).
    Evaluation: the running statistics are used.
    """
    channels = x.shape[1]
    shape = (1, channels) + (1,) * (x.ndim - 2)
    dims = (0,) + tuple(range(2, x.ndim))
    if training:
        count = x.numel() // channels
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
        out, mean, var = _normalize(x, dims, eps)
        if running_mean is not None or running_var is not None:
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(mean.detach().reshape(-1) * momentum)
                if running_var is not None:
                    unbiased = var.detach().reshape(-1) * (count / (count - 1))
                    running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        out = (x - running_mean.reshape(shape)) * rsqrt(running_var.reshape(shape) + eps)
    return _affine(out, weight, bias, shape)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last len(normalized_shape) dims of each sample; weight/bias have that shape."""
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(x.shape[x.ndim - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size{list(x.shape)}")
    out, _, _ = _normalize(x, tuple(range(x.ndim - k, x.ndim)), eps)
    return _affine(out, weight, bias, normalized_shape)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels into groups and normalize each sample's group; weight/bias are per channel."""
    n, channels = x.shape[0], x.shape[1]
    if channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(x.shape)} and num_groups={num_groups}")
    grouped, _, _ = _normalize(x.reshape(n, num_groups, -1), (2,), eps)
    return _affine(grouped.reshape(x.shape), weight, bias, (1, channels) + (1,) * (x.ndim - 2))


# ----------------------------------------------------------------------------- dropout
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


# ----------------------------------------------------------------------------- embedding
class Embedding(Function):
    """y = W[idx];  dL/dW = scatter-add of dL/dy rows into the looked-up rows (padding_idx row gets none)"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        indices = backend.like(weight, indices)  # indices from the host join weight on the GPU
        ctx.indices, ctx.padding_idx, ctx.scale = indices, padding_idx, scale_grad_by_freq
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        from .indexing import index_put_zeros
        weight_shape = tuple(ctx.inputs[0].shape)
        flat = ctx.indices.reshape(-1)
        rows = grad.reshape(-1, weight_shape[1])
        factor = None
        if ctx.padding_idx is not None:
            factor = (flat != ctx.padding_idx).astype(grad._array.dtype)
        if ctx.scale:
            counts = ctx.xp.bincount(flat, minlength=weight_shape[0])[flat].astype(grad._array.dtype)
            factor = 1 / counts if factor is None else factor / counts
        if factor is not None:
            rows = rows * Tensor._make(factor[:, None])
        return index_put_zeros(rows, weight_shape, (flat,), accumulate=True)


def embedding(indices, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False):
    """Rows of `weight` picked by the integer array `indices` (any shape): output indices.shape + (dim,)."""
    if max_norm is not None:
        _renorm_rows_(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, indices=indices, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)


def _renorm_rows_(weight, indices, max_norm, norm_type):
    """torch's embedding_renorm_: rows used by `indices` whose norm exceeds max_norm are scaled down, in place."""
    w = weight._array
    xp = backend.array_module(w)
    rows = xp.unique(backend.like(w, indices).reshape(-1))
    norms = (xp.abs(w[rows]) ** norm_type).sum(axis=1) ** (1 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1).astype(w.dtype)
    w[rows] *= scale[:, None]
    weight._version_counter[0] += 1
