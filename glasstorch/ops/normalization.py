"""Normalization: batch, layer and group norm.

The normalizations are compositions of ops (mean, subtract, rsqrt ...), so their backward, and
their double backward, come from the ops' own: x_hat = (x - mean) / sqrt(var + eps), var biased.
"""
from .. import backend
from ..autograd.grad_mode import no_grad
from .common import to_dtype
from .elementwise import rsqrt

xp = backend.xp


def _normalize(x, dims, eps):
    """(x - mean) / sqrt(var + eps) over dims (biased variance), plus the batch mean and variance."""
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dims, keepdim=True)
    return centered * rsqrt(var + eps), mean, var


def _compute_dtype(x, *params):
    """float16 input with float32 weights or statistics (a model under autocast): torch computes in float32 and
    returns the input's dtype. (x in the dtype to compute in, the dtype to return)."""
    if x.dtype == backend.float16 and any(p is not None and p.dtype == backend.float32 for p in params):
        return to_dtype(x, backend.float32), x.dtype
    return x, x.dtype


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
    x, out_dtype = _compute_dtype(x, running_mean, running_var, weight, bias)
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
    return to_dtype(_affine(out, weight, bias, shape), out_dtype)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last len(normalized_shape) dims of each sample; weight/bias have that shape."""
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(x.shape[x.ndim - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size{list(x.shape)}")
    x, out_dtype = _compute_dtype(x, weight, bias)
    out, _, _ = _normalize(x, tuple(range(x.ndim - k, x.ndim)), eps)
    return to_dtype(_affine(out, weight, bias, normalized_shape), out_dtype)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels into groups and normalize each sample's group; weight/bias are per channel."""
    n, channels = x.shape[0], x.shape[1]
    if channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(x.shape)} and num_groups={num_groups}")
    x, out_dtype = _compute_dtype(x, weight, bias)
    grouped, _, _ = _normalize(x.reshape(n, num_groups, -1), (2,), eps)
    return to_dtype(_affine(grouped.reshape(x.shape), weight, bias, (1, channels) + (1,) * (x.ndim - 2)), out_dtype)
