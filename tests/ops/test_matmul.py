"""ops/matmul.py's `product`: which products run on one BLAS thread, and that the values do not depend on it.

A mid-sized 2-D product (BLAS_SINGLE_MACS <= multiply-adds < BLAS_THREADS_MIN_MACS) runs inside
`backend.blas_on_one_thread` (OpenBLAS would keep its worker spinning for 0.1 s after a multithreaded call);
small ones (OpenBLAS keeps those on one thread itself) and large ones go to the BLAS as they are.
"""
import contextlib
import importlib

import numpy as np
import pytest

from glasstorch import backend
matmul = importlib.import_module("glasstorch.ops.matmul")  # (the package exports the function `matmul` by that name)


def spy_on_one_thread(monkeypatch):
    """A list of the BLAS thread counts seen inside each blas_on_one_thread block that product entered."""
    seen, real = [], backend.blas_on_one_thread
    threadpoolctl = pytest.importorskip("threadpoolctl")

    @contextlib.contextmanager
    def spy():
        with real():
            yield
            seen.append([lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"])
    monkeypatch.setattr(backend, "blas_on_one_thread", spy)
    return seen


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, one_thread", [
    ((8, 16, 8), False),                      # small: OpenBLAS's own single-thread case
    ((256, 400, 120), True),                  # LeNet's first fully connected layer: mid-sized
    ((64, 1024, 512), False),                 # 2**25 multiply-adds: the BLAS's threads
])
def test_product_runs_mid_sized_products_on_one_blas_thread(monkeypatch, shape, one_thread, dtype):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if backend._openblas_thread_functions() is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    seen = spy_on_one_thread(monkeypatch)
    m, k, n = shape
    rng = np.random.default_rng(m + k + n)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        out = matmul.product(a, b)
        after = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    assert seen == ([[1]] if one_thread else [])
    assert after == [2]  # the BLAS gets its threads back
    assert out.dtype == dtype and out.shape == (m, n)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(out, exact, rtol=1e-4 if dtype == np.float32 else 1e-12,
                               atol=1e-3 if dtype == np.float32 else 1e-10)
    assert (matmul.BLAS_SINGLE_MACS <= m * k * n < matmul.BLAS_THREADS_MIN_MACS) == one_thread
