"""backend: dtype promotion lives in test_tensor.py; here the generator's saved state."""
import numpy as np
import pytest

import glasstorch
from glasstorch import backend


@pytest.mark.parametrize("draws_before", [0, 1, 2, 3])
def test_generator_state_round_trip_includes_buffered_half_word(draws_before):
    # permutation() draws 32-bit halves; an odd number of them leaves one buffered in NumPy's PCG64
    g = glasstorch.Generator().manual_seed(123)
    for _ in range(draws_before):
        glasstorch.randperm(63, generator=g)
    state = g.get_state()
    first = glasstorch.randperm(64, generator=g).tolist()
    g.set_state(state)
    again = glasstorch.randperm(64, generator=g).tolist()
    assert first == again
    assert state.dtype == np.uint8 and state.shape == (48,)


def test_set_state_rejects_garbage():
    with pytest.raises(ValueError, match="48 bytes"):
        glasstorch.Generator().set_state(np.zeros(5, dtype=np.uint8))


def test_manual_seed_reproduces_draws_and_leaves_numpy_global_rng_alone():
    np.random.seed(7)
    expected_numpy = np.random.rand()
    np.random.seed(7)
    glasstorch.manual_seed(0)
    a = glasstorch.randn(5).tolist()
    glasstorch.manual_seed(0)
    b = glasstorch.randn(5).tolist()
    assert a == b
    assert np.random.rand() == expected_numpy


def test_result_type_follows_torch_categories():
    assert backend.result_type((backend.int64, 2), (backend.float32, 0)) is backend.float32
    assert backend.result_type((backend.float32, 2), (backend.float64, 1)) is backend.float32
    assert backend.result_type((backend.int32, 2), (backend.float64, 1)) is backend.float64
    assert backend.result_type((backend.uint8, 2), (backend.int8, 2)) is backend.int16


@pytest.mark.parametrize("name", ["float32", "float64", "float16"])
def test_finfo_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = glasstorch.finfo(getattr(glasstorch, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)
    assert glasstorch.finfo().dtype == "float32"


@pytest.mark.parametrize("name", ["int64", "int32", "int8", "uint8"])
def test_iinfo_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = glasstorch.iinfo(getattr(glasstorch, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


def test_finfo_and_iinfo_refuse_the_other_kind_like_torch():
    with pytest.raises(TypeError, match="floating point"):
        glasstorch.finfo(glasstorch.int64)
    with pytest.raises(TypeError, match="integer"):
        glasstorch.iinfo(glasstorch.float32)
