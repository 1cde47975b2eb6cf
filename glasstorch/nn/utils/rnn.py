"""Batches of sequences of different lengths: padding, and packing (torch.nn.utils.rnn).

A padded batch (T, B, *) wastes the steps after each sequence's end. A PackedSequence keeps only the
real steps, time-major: the first batch_sizes[0] rows of `data` are step 0 of every sequence, the next
batch_sizes[1] rows step 1 of the sequences that are that long, and so on, with the sequences sorted
by decreasing length (`sorted_indices` maps sorted position -> original batch position, and
`unsorted_indices` back). A recurrent layer given a PackedSequence runs each sequence over its own
length only and returns a PackedSequence.

Every function here moves rows with one differentiable gather (index_select), so gradients flow
through packing and padding.
"""
from collections import namedtuple

import numpy as np

from ... import backend
from ...ops.indexing import index_select
from ...ops.shape import cat
from ...tensor import Tensor, full, int64, tensor


def _to_index(values, like=None):
    """An int64 index tensor, on the device of the tensor `like` (the gathers below run where the data is)."""
    array = np.asarray(values, dtype=np.int64)
    return Tensor._make(backend.like(like._array, array) if like is not None else array)


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        if lengths.device.type != "cpu":
            raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got 1D "
                               f"{lengths.device.type} {lengths.dtype} tensor")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def invert_permutation(permutation):
    """The inverse of a permutation (a Tensor of int64), or None for None."""
    if permutation is None:
        return None
    p = backend.to_host(permutation._array)
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size, dtype=p.dtype)
    return Tensor._make(inverse)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Packed steps of a batch of sequences: (data, batch_sizes, sorted_indices, unsorted_indices).

    data (sum of lengths, *): the steps, time-major; batch_sizes (T,) int64 on the CPU: sequences alive at
    each step; sorted_indices / unsorted_indices: the sort by length and its inverse (None when the
    batch came sorted). Build one with pack_padded_sequence or pack_sequence, not by hand.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)) as torch allows
            data, batch_sizes = data[0], data[1]
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """data moved/cast as Tensor.to; the index tensors follow the device (batch_sizes stays on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        sorted_indices = self.sorted_indices.to(device) if self.sorted_indices is not None else None
        unsorted_indices = self.unsorted_indices.to(device) if self.unsorted_indices is not None else None
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def float(self):
        return self.to(dtype=_dtype("float32"))

    def double(self):
        return self.to(dtype=_dtype("float64"))

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _dtype(name):
    return backend.to_dtype(name)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) whose sequence b has lengths[b] steps.

    enforce_sorted=True expects lengths in decreasing order; False sorts them here and records the order
    in sorted_indices (the recurrent layer puts its outputs back in the original order).

    Example::

        >>> x = torch.arange(6.).reshape(3, 2)           # T=3, B=2: lengths 3 and 1
        >>> pack_padded_sequence(x, [3, 1]).data
        tensor([0., 1., 2., 4.])
    """
    lengths = _lengths_list(lengths)
    if len(lengths) != input.shape[1 if not batch_first else 0]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={input.shape[1 if not batch_first else 0]})")
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        order = None
    else:
        order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
        lengths = [lengths[i] for i in order]
    if lengths and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if lengths and lengths[0] > steps:
        raise RuntimeError(f"Expected sequence length to be at most {steps}, but got {lengths[0]}")
    sorted_indices = _to_index(order) if order is not None else None
    original = order if order is not None else np.arange(batch)
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0] if lengths else 0)]
    # row (t, b) of the padded batch is row t * B + b of input.reshape(T * B, *)
    rows = [t * batch + original[s] for t, n in enumerate(batch_sizes) for s in range(n)]
    data = index_select(input.reshape((steps * batch,) + tuple(input.shape[2:])), 0, _to_index(rows, input))
    if sorted_indices is not None:
        sorted_indices = sorted_indices.to(input.device)
    return PackedSequence(data, tensor(batch_sizes, dtype=int64), sorted_indices, None)


def _lengths_of(batch_sizes):
    sizes = [int(b) for b in batch_sizes]
    return [sum(1 for b in sizes if b > s) for s in range(sizes[0] if sizes else 0)]


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo pack_padded_sequence: returns (padded (T, B, *) or (B, T, *), lengths int64 in the original order).

    Steps after a sequence's end hold padding_value; total_length pads T up to that many steps.
    """
    data, batch_sizes = sequence.data, [int(b) for b in sequence.batch_sizes.tolist()]
    lengths = _lengths_of(batch_sizes)  # sorted order
    batch, steps = (batch_sizes[0] if batch_sizes else 0), len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    unsorted = (backend.to_host(sequence.unsorted_indices._array) if sequence.unsorted_indices is not None
                else np.arange(batch))
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)]).astype(np.int64)
    pad_row = data.shape[0]  # one extra row holding padding_value, which every empty position reads
    rows = np.full((steps, batch), pad_row, dtype=np.int64)
    for b in range(batch):
        s = unsorted[b]  # where original sequence b sits in the sorted order
        length = lengths[s]
        rows[:length, b] = offsets[:length] + s
    padding = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = index_select(cat([data, padding], 0), 0, _to_index(rows.reshape(-1), data))
    padded = padded.reshape((steps, batch) + tuple(data.shape[1:]))
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor([lengths[unsorted[b]] for b in range(batch)], dtype=int64)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors (L_i, *) into (max L, B, *) (or (B, max L, *)), padding the short ones with padding_value.

    padding_side="left" puts the padding before each sequence instead of after it.
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    lengths = [s.shape[0] for s in sequences]
    steps, batch, tail = max(lengths), len(sequences), tuple(sequences[0].shape[1:])
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    pad_row = int(starts[-1])
    rows = np.full((steps, batch), pad_row, dtype=np.int64)
    for b, length in enumerate(lengths):
        first = 0 if padding_side == "right" else steps - length
        rows[first:first + length, b] = starts[b] + np.arange(length)
    first = sequences[0]
    padding = full((1,) + tail, padding_value, dtype=first.dtype, device=first.device)
    padded = index_select(cat(sequences + [padding], 0), 0, _to_index(rows.reshape(-1), first))
    padded = padded.reshape((steps, batch) + tail)
    return padded.transpose(0, 1) if batch_first else padded


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *): pack_padded_sequence(pad_sequence(sequences), lengths)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences in a padded batch: [padded[:lengths[b], b] for each b]."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, :length] for b, length in enumerate(_lengths_list(lengths))]


def unpack_sequence(packed_sequences):
    """The list of sequences in a PackedSequence, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
