"""nn.utils.rnn (padding and packing of sequences) against torch: values, indices and gradients."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.nn.utils import rnn as ours
from torch.nn.utils import rnn as theirs


def _seqs(rng, lengths, tail=(3,)):
    arrays = [rng.standard_normal((n,) + tail).astype(np.float32) for n in lengths]
    return ([glasstorch.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _backward_both(o, t, rng):
    w = rng.standard_normal(tuple(t.shape)).astype(np.float32)
    (o * glasstorch.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("tail", [(), (3,), (2, 2)])
def test_pad_sequence(batch_first, padding_side, tail):
    rng = np.random.default_rng(0)
    o_in, t_in = _seqs(rng, [2, 5, 1, 5], tail)
    o = ours.pad_sequence(o_in, batch_first=batch_first, padding_value=-3.0, padding_side=padding_side)
    t = theirs.pad_sequence(t_in, batch_first=batch_first, padding_value=-3.0, padding_side=padding_side)
    np.testing.assert_array_equal(o.detach().numpy(), t.detach().numpy())
    _backward_both(o, t, rng)
    for a, b in zip(o_in, t_in):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 4, 5], [1]])
def test_pack_then_pad_round_trip_matches_torch(batch_first, lengths):
    rng = np.random.default_rng(1)
    steps, batch = max(lengths) + 1, len(lengths)
    x = rng.standard_normal((batch, steps, 3) if batch_first else (steps, batch, 3)).astype(np.float32)
    o_x, t_x = glasstorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    sorted_ = all(a >= b for a, b in zip(lengths, lengths[1:]))
    o_p = ours.pack_padded_sequence(o_x, lengths, batch_first=batch_first, enforce_sorted=sorted_)
    t_p = theirs.pack_padded_sequence(t_x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=sorted_)
    np.testing.assert_array_equal(o_p.data.detach().numpy(), t_p.data.detach().numpy())
    np.testing.assert_array_equal(o_p.batch_sizes.numpy(), t_p.batch_sizes.numpy())
    assert o_p.batch_sizes.dtype == glasstorch.int64
    if sorted_:
        assert o_p.sorted_indices is None and o_p.unsorted_indices is None
    else:
        np.testing.assert_array_equal(o_p.sorted_indices.numpy(), t_p.sorted_indices.numpy())
        np.testing.assert_array_equal(o_p.unsorted_indices.numpy(), t_p.unsorted_indices.numpy())
    o_pad, o_len = ours.pad_packed_sequence(o_p, batch_first=batch_first, padding_value=9.0, total_length=steps + 2)
    t_pad, t_len = theirs.pad_packed_sequence(t_p, batch_first=batch_first, padding_value=9.0,
                                              total_length=steps + 2)
    np.testing.assert_array_equal(o_pad.detach().numpy(), t_pad.detach().numpy())
    np.testing.assert_array_equal(o_len.numpy(), t_len.numpy())
    assert o_len.dtype == glasstorch.int64
    _backward_both(o_pad, t_pad, rng)
    np.testing.assert_allclose(o_x.grad.numpy(), t_x.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_unpack_and_unpad(enforce_sorted):
    rng = np.random.default_rng(2)
    lengths = [4, 3, 1] if enforce_sorted else [1, 4, 3]
    o_in, t_in = _seqs(rng, lengths)
    o_p = ours.pack_sequence(o_in, enforce_sorted=enforce_sorted)
    t_p = theirs.pack_sequence(t_in, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(o_p.data.detach().numpy(), t_p.data.detach().numpy())
    back = ours.unpack_sequence(o_p)
    assert [tuple(b.shape) for b in back] == [tuple(t.shape) for t in t_in]
    for b, a in zip(back, o_in):
        np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy())
    padded = ours.pad_sequence(o_in, batch_first=True)
    for b, a in zip(ours.unpad_sequence(padded, glasstorch.tensor(lengths), batch_first=True), o_in):
        np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy())
    for b, a in zip(ours.unpad_sequence(ours.pad_sequence(o_in), lengths), o_in):
        np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy())


def test_packed_sequence_is_a_tuple_with_torch_fields():
    p = ours.pack_sequence([glasstorch.ones(2, 1), glasstorch.ones(3, 1)], enforce_sorted=False)
    assert p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert batch_sizes.tolist() == [2, 2, 1] and sorted_indices.tolist() == [1, 0]
    assert p.to(glasstorch.float64).data.dtype == glasstorch.float64
    assert p.double().batch_sizes is p.batch_sizes
    rebuilt = ours.PackedSequence(data, batch_sizes, sorted_indices)
    assert rebuilt.unsorted_indices.tolist() == [1, 0]


def test_errors_as_torch():
    x = glasstorch.zeros(4, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        ours.pack_padded_sequence(x, [1, 3, 2])
    with pytest.raises(RuntimeError, match="greater than 0"):
        ours.pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(RuntimeError, match="Expected `len\\(lengths\\)` to be equal to batch_size"):
        ours.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        ours.pad_packed_sequence(ours.pack_padded_sequence(x, [4, 2, 1]), total_length=3)
    with pytest.raises(ValueError, match="padding_side"):
        ours.pad_sequence([x], padding_side="middle")
