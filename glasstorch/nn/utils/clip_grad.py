"""Gradient clipping: rescale all gradients together so their joint norm is at most max_norm
(clip_grad_norm_), or clamp each gradient element into [-clip_value, clip_value] (clip_grad_value_)."""
import math

import numpy as np

from ... import backend
from ...tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms: ||(||g_1||, ..., ||g_n||)||_p, i.e. the p-norm of all elements together."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(np.array(0.0, dtype=np.float32))
    dtype = tensors[0]._array.dtype
    xp = backend.array_module(tensors[0]._array)
    if norm_type == math.inf:
        norms = [float(xp.abs(t._array).max()) for t in tensors]
        total = max(norms)
    else:  # one float per tensor (a GPU tensor's norm is computed there; only the number comes back)
        norms = [float(xp.linalg.norm(t._array.ravel().astype(np.float64, copy=False), norm_type)) for t in tensors]
        total = np.linalg.norm(np.array(norms), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return Tensor._make(backend.like(tensors[0]._array, np.array(total, dtype=dtype)))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place."""
    coef = min(float(max_norm) / (float(total_norm) + 1e-6), 1.0)
    for g in _grads(parameters):
        g._array *= g._array.dtype.type(coef)
        g._version_counter[0] += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of `parameters` in place so that their total norm is at most max_norm.

    Args:
        parameters: a Tensor or an iterable of Tensors whose .grad to clip.
        max_norm: the largest total norm allowed.
        norm_type: p of the p-norm ('inf' for the max-abs norm). Default 2.
        error_if_nonfinite: raise if the total norm is nan or inf. Default False.

    Returns: the total norm of the gradients before clipping (a 0-dim tensor).

    Example::

        >>> w = nn.Parameter(torch.ones(4))
        >>> (10 * w).sum().backward()          # every gradient is 10: total norm 20
        >>> nn.utils.clip_grad_norm_([w], max_norm=1.0)
        tensor(20.)
        >>> w.grad                              # rescaled to norm 1
        tensor([0.5000, 0.5000, 0.5000, 0.5000])
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        backend.array_module(g._array).clip(g._array, -clip_value, clip_value, out=g._array)
        g._version_counter[0] += 1
