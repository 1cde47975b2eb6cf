"""default_collate / default_convert against torch's, structure by structure."""
import collections

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as torch_collate

import glasstorch
from glasstorch.utils.data import default_collate, default_convert

Point = collections.namedtuple("Point", "x y")


def to_torch(sample):
    """The same sample with glasstorch tensors replaced by torch tensors."""
    if isinstance(sample, glasstorch.Tensor):
        return torch.from_numpy(sample.numpy().copy())
    if isinstance(sample, dict):
        return {k: to_torch(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(to_torch(v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return type(sample)(to_torch(v) for v in sample)
    return sample


def assert_same(ours, theirs):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, glasstorch.Tensor)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and ours.keys() == theirs.keys()
        for k in theirs:
            assert_same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    else:
        assert ours == theirs


def random_batches(rng):
    n = int(rng.integers(1, 6))
    shape = tuple(rng.integers(1, 4, size=int(rng.integers(0, 3))))
    return {
        "tensors": [glasstorch.tensor(rng.standard_normal(shape).astype(np.float32)) for _ in range(n)],
        "arrays_uint8": [rng.integers(0, 255, size=shape).astype(np.uint8) for _ in range(n)],
        "arrays_f64": [rng.standard_normal(shape) for _ in range(n)],
        "floats": [float(v) for v in rng.standard_normal(n)],
        "ints": [int(v) for v in rng.integers(-5, 5, n)],
        "bools": [bool(v) for v in rng.integers(0, 2, n)],
        "numpy_scalars": [np.float32(v) for v in rng.standard_normal(n)],
        "numpy_int_scalars": [np.int32(v) for v in rng.integers(0, 9, n)],
        "strings": [f"s{i}" for i in range(n)],
        "tuples": [(glasstorch.tensor(rng.standard_normal(shape).astype(np.float32)), int(i)) for i in range(n)],
        "lists": [[float(i), int(i)] for i in range(n)],
        "dicts": [{"image": rng.standard_normal(shape), "label": i, "meta": {"id": f"#{i}", "w": 0.5}}
                  for i in range(n)],
        "namedtuples": [Point(i, float(i)) for i in range(n)],
        "nested": [({"a": [i, (1.5, np.int64(i))]}, [glasstorch.tensor([i, i])]) for i in range(n)],
    }


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", list(random_batches(np.random.default_rng(0))))
def test_default_collate_matches_torch(kind, seed):
    batch = random_batches(np.random.default_rng(seed))[kind]
    assert_same(default_collate(batch), torch_collate(to_torch(batch)))


def test_python_numbers_get_torch_dtypes():
    assert default_collate([1.0, 2.0]).dtype == glasstorch.float64
    assert default_collate([1, 2]).dtype == glasstorch.int64
    assert default_collate([True, False]).dtype == glasstorch.bool


def test_collated_batch_is_a_copy():
    samples = [np.zeros(3, np.float32), np.ones(3, np.float32)]
    batch = default_collate(samples)
    batch[0] = 7
    assert samples[0].sum() == 0


@pytest.mark.parametrize("batch, error, message", [
    ([glasstorch.zeros(2), glasstorch.zeros(3)], RuntimeError, "stack expects each tensor to be equal size"),
    ([[1, 2], [1]], RuntimeError, "each element in list of batch should be of equal size"),
    ([object()], TypeError, "batch must contain tensors, numpy arrays, numbers, dicts or lists"),
    ([np.array(["a"])], TypeError, "batch must contain tensors"),
])
def test_collate_errors_match_torch(batch, error, message):
    with pytest.raises(error, match=message):
        default_collate(batch)
    with pytest.raises(error, match=message):
        torch_collate(to_torch(batch))


def test_default_convert_turns_arrays_into_tensors_and_keeps_the_rest():
    sample = (np.arange(3), {"x": np.float32(2.0), "name": "a"}, 5)
    converted = default_convert(sample)
    assert isinstance(converted, list)
    assert isinstance(converted[0], glasstorch.Tensor) and converted[0].tolist() == [0, 1, 2]
    assert isinstance(converted[1]["x"], glasstorch.Tensor) and converted[1]["name"] == "a"
    assert converted[2] == 5
