"""default_collate: turn a list of samples into one batch, structure by structure (torch's rules).

    tensors / arrays  -> stacked along a new first dimension
    Python floats     -> float64 tensor;  ints -> int64;  bools -> bool
    dicts, namedtuples, lists, tuples -> the same structure of collated fields (a tuple becomes a list)
    strings           -> left as a list

A batch is data, outside autograd: tensors are stacked as arrays (no graph history is kept).
"""
import collections.abc
import numbers

import numpy as np

from ... import backend
from ...tensor import Tensor

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(arrays):
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                               f"and {list(a.shape)} at entry {i}")
    stacked = backend.array_module(arrays[0]).stack(arrays)
    if stacked.dtype.kind == "u" and stacked.dtype != np.uint8:  # glasstorch has no uint16/32/64: widen
        stacked = stacked.astype(np.int64)
    return Tensor._make(stacked)


def _check_array_dtype(array):
    if array.dtype.kind in "SaUO":
        raise TypeError(_ERROR.format(array.dtype))
    return array


def default_collate(batch):
    """Collate a list of samples into a batch (see the module docstring for the rules).

    Example:
        >>> import glasstorch
        >>> images, labels = default_collate([(glasstorch.ones(2), 0), (glasstorch.zeros(2), 1)])
        >>> images.shape, labels
        (glasstorch.Size([2, 2]), tensor([0, 1]))
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t._array for t in batch])
    if isinstance(elem, np.ndarray):
        return _stack([_check_array_dtype(a) for a in batch])
    if isinstance(elem, np.generic):  # NumPy scalars keep their dtype
        return _stack([_check_array_dtype(np.asarray(x)) for x in batch])
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(elem, numbers.Integral):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # torch returns a list for tuples (backwards compatibility)
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """What the loader applies to each sample when batching is off (`batch_size=None`): arrays -> tensors."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "SaUO":
        backend.from_numpy_dtype(data.dtype)
        return Tensor._make(data)
    if isinstance(data, np.generic) and data.dtype.kind not in "SaUO":
        return Tensor._make(np.asarray(data))
    if isinstance(data, (str, bytes)) or not isinstance(data, (collections.abc.Mapping, collections.abc.Sequence)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return type(data)({key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    try:
        return type(data)([default_convert(d) for d in data])
    except TypeError:
        return [default_convert(d) for d in data]
