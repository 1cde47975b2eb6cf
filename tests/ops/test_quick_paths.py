"""ops/quick_paths.py: the same numbers as NumPy's plain calls, by cheaper calls, and their fallbacks.

Sums of squares are compared with float64 sums (the BLAS adds in another order than NumPy, so float32 results
agree to rounding, not bit for bit); `one_like` must give exactly what the Python 1 gives.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glasstorch as torch
from glasstorch.ops import quick_paths

FLOATS = st.sampled_from([np.float32, np.float64])


def arrays(dtype, shape):
    return hnp.arrays(dtype, shape, elements=st.floats(-1e3, 1e3, width=32))


@settings(max_examples=60, deadline=None)
@given(st.data(), FLOATS, st.integers(0, 3))
def test_sum_of_squares(data, dtype, ndim):
    shape = data.draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=0, max_side=9))
    a = data.draw(arrays(dtype, shape))
    got = quick_paths.sum_of_squares(a)
    exact = np.sum(a.astype(np.float64) ** 2)
    assert np.ndim(got) == 0 and np.asarray(got).dtype == dtype
    assert abs(float(got) - exact) <= 4 * max(a.size, 1) * np.finfo(dtype).eps * (exact + 1e-30)


def test_sum_of_squares_above_the_dot_limit_and_in_other_dtypes(monkeypatch):
    a = np.random.default_rng(0).standard_normal(quick_paths.DOT_SUM_MAX + 1).astype(np.float32)
    assert quick_paths.sum_of_squares(a) == np.add.reduce(a * a, axis=None)  # (NumPy's pairwise sum, exactly)
    monkeypatch.setattr(quick_paths, "DOT_SUM_MAX", a.size)
    assert abs(quick_paths.sum_of_squares(a) - np.sum(a.astype(np.float64) ** 2)) < 1e-3
    h = np.arange(6, dtype=np.float16).reshape(2, 3)
    assert quick_paths.sum_of_squares(h) == np.add.reduce(h * h, axis=None)
    assert np.asarray(quick_paths.sum_of_squares(h)).dtype == np.float16


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_one_like_gives_what_the_python_1_gives(dtype):
    y = np.random.default_rng(1).standard_normal((5, 3)).astype(dtype)
    got = quick_paths.one_like(y) - y * y
    want = 1 - y * y
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert quick_paths.one_like(y) is quick_paths.one_like(y[:2])  # (one 0-d array per dtype, kept)
    with pytest.raises(ValueError):
        quick_paths.one_like(y)[...] = 2


def test_one_like_of_a_tensor_is_the_number_1():
    assert quick_paths.one_like(torch.ones(2)) == 1 and type(quick_paths.one_like(torch.ones(2))) is int


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mse_loss_and_tanh_against_torch(reduction, dtype):
    """The two ops that use the quick paths in the XOR step, against the oracle."""
    real = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a_np, b_np = rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    a = torch.tensor(a_np, dtype=dtype, requires_grad=True)
    ra = real.tensor(a_np, dtype=getattr(real, str(dtype).split(".")[1]), requires_grad=True)
    out = torch.nn.functional.mse_loss(torch.tanh(a), torch.tensor(b_np, dtype=dtype), reduction=reduction)
    rout = real.nn.functional.mse_loss(real.tanh(ra), real.tensor(b_np, dtype=ra.dtype), reduction=reduction)
    out.sum().backward()
    rout.sum().backward()
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), rout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(a.grad.numpy(), ra.grad.numpy(), rtol=tol, atol=tol)
