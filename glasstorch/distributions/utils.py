"""Helpers the distributions share: broadcasting parameters, probs <-> logits, lazily computed properties."""
import numbers

from .. import backend
from ..nn import functional as F
from ..ops import shape as shape_ops
from ..tensor import Tensor, tensor


def broadcast_all(*values):
    """Tensors and numbers -> tensors of one broadcast shape. Numbers take the dtype and device of the first
    tensor (the default float dtype when there is none)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
                         "implementing __torch_function__.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None:
        dtype, device = backend.get_default_dtype(), None
    else:
        dtype, device = like.dtype, like.device
    tensors = [v if isinstance(v, Tensor) else tensor(v, dtype=dtype, device=device) for v in values]
    return shape_ops.broadcast_tensors(*tensors)


def clamp_probs(probs):
    """Probabilities kept inside [eps, 1 - eps] (so that their logarithms stay finite)."""
    eps = backend.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log p (categorical), or log p - log(1 - p) (binary), of clamped probabilities."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - (-ps_clamped).log1p()
    return ps_clamped.log()


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) (binary) or softmax(logits, -1) (categorical)."""
    if is_binary:
        return logits.sigmoid()
    return F.softmax(logits, dim=-1)


def sum_rightmost(value, dim):
    """value summed over its `dim` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.ndim - dim]) + (-1,)).sum(-1)


class lazy_property:
    """Computed on first access, then stored on the instance (a distribution made from probs computes its
    logits only when asked, and the other way round)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
