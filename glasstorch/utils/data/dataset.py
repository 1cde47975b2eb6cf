"""Datasets: what a DataLoader reads from.

A map-style dataset has `__getitem__(i)` and `__len__()`; an iterable one has `__iter__()`.

The batch fast path. A dataset backed by whole arrays may also define `__getbatch__(indices)`,
returning exactly what `default_collate([self[i] for i in indices])` would return, but computed with
one fancy-indexing per array instead of one Python call per sample. The DataLoader uses it whenever the
collate function is the default one; `Subset` passes it through. (torch 2.x's `__getitems__(indices)`,
which returns a *list of samples* to be collated, is honoured too.)
"""
import bisect
import math

import numpy as np

from ... import backend
from ...tensor import Tensor
from .collate import default_collate
from .fetch import fetch_map_batch


class Dataset:
    """A map-style dataset: subclasses define `__getitem__(index)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define `__iter__()`.

    With `num_workers > 0` every worker iterates its own copy; use `get_worker_info()` inside
    `__iter__` to give each worker a different share of the stream.
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are slices along the first dimension of the given tensors: `ds[i] == (x[i], y[i])`.

    Example:
        >>> import glasstorch
        >>> ds = TensorDataset(glasstorch.randn(100, 3), glasstorch.arange(100))
        >>> x, y = ds[7]
        >>> x.shape, y
        (glasstorch.Size([3]), tensor(7))
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        if any(not isinstance(t, Tensor) for t in tensors):
            raise TypeError("TensorDataset takes tensors; got " + ", ".join(type(t).__name__ for t in tensors))
        if any(t.ndim == 0 for t in tensors) or len({t.shape[0] for t in tensors}) != 1:
            raise ValueError("Size mismatch between tensors: every tensor needs the same first dimension, got "
                             + ", ".join(str(tuple(t.shape)) for t in tensors))
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getbatch__(self, indices):
        rows = np.asarray(indices, dtype=np.int64)
        return [Tensor._make(t._array[backend.like(t._array, rows)]) for t in self.tensors]

    def __len__(self):
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        offset = index - (self.cumulative_sizes[which - 1] if which > 0 else 0)
        return self.datasets[which][offset]


class ChainDataset(IterableDataset):
    """Several iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getbatch__(self, indices):
        """The inner dataset's batch, by whichever path it offers (its own `__getbatch__` when it has one)."""
        return fetch_map_batch(self.dataset, [self.indices[i] for i in indices], True, default_collate)

    def __len__(self):
        return len(self.indices)


def _lengths_from_fractions(fractions, n):
    """torch's rule: floor(n * f) each, then hand the remainder out one by one from the first subset."""
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
    lengths = [int(math.floor(n * frac)) for frac in fractions]
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    return lengths


def random_split(dataset, lengths, generator=None):
    """Split a dataset into non-overlapping random subsets of the given lengths (or fractions summing to 1).

    Example:
        >>> import glasstorch
        >>> train, val = random_split(range(10), [0.8, 0.2], generator=glasstorch.Generator().manual_seed(0))
        >>> len(train), len(val)
        (8, 2)
    """
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = backend.rng(generator).permutation(len(dataset)).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + length]))
        start += length
    return subsets
