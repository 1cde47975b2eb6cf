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

    @contextlib.contextmanager
    def spy():
        with real():
            yield
            seen.append([backend.blas_thread_count()])
    monkeypatch.setattr(backend, "blas_on_one_thread", spy)
    return seen


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, one_thread", [
    ((8, 16, 8), False),                      # small: OpenBLAS's own single-thread case
    ((256, 400, 120), True),                  # LeNet's first fully connected layer: mid-sized
    ((64, 1024, 512), False),                 # 2**25 multiply-adds: the BLAS's threads
])
def test_product_runs_mid_sized_products_on_one_blas_thread(monkeypatch, shape, one_thread, dtype):
    monkeypatch.setattr(backend, "_pool_last_used", float("-inf"))  # (glasstorch's own threads idle)
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if backend._openblas_thread_functions() is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    seen = spy_on_one_thread(monkeypatch)
    m, k, n = shape
    rng = np.random.default_rng(m + k + n)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        out = matmul.product(a, b)
        after = [backend.blas_thread_count()]
    assert seen == ([[1]] if one_thread else [])
    assert after == [2]  # the BLAS gets its threads back
    assert out.dtype == dtype and out.shape == (m, n)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(out, exact, rtol=1e-4 if dtype == np.float32 else 1e-12,
                               atol=1e-3 if dtype == np.float32 else 1e-10)
    assert (matmul.BLAS_SINGLE_MACS <= m * k * n < matmul.BLAS_THREADS_MIN_MACS) == one_thread


def test_product_keeps_to_one_blas_thread_while_glasstorch_threads_are_in_use(monkeypatch):
    """Right after a region on glasstorch's own threads even a large product runs on one BLAS thread (OpenBLAS's
    spinning worker would slow the pool's next region); once the pool has been idle a while, the BLAS's threads."""
    pytest.importorskip("threadpoolctl")
    if backend._openblas_thread_functions() is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    seen = spy_on_one_thread(monkeypatch)
    monkeypatch.setattr(backend, "_num_threads", 2)
    a, b = np.ones((64, 1024), np.float32), np.ones((1024, 512), np.float32)  # 2**25 multiply-adds: large
    backend.parallel_ranges(lambda lo, hi: None, 2)  # a region on two threads
    assert backend.pool_in_use()
    np.testing.assert_array_equal(matmul.product(a, b), np.full((64, 512), 1024, np.float32))
    assert seen == [[1]]
    monkeypatch.setattr(backend, "_pool_last_used", backend._pool_last_used - 2 * backend.POOL_IN_USE_SECONDS)
    assert not backend.pool_in_use()
    matmul.product(a, b)
    assert seen == [[1]]  # the BLAS's threads this time


@pytest.mark.parametrize("x_shape,w_shape,b_shape", [((4, 3), (2, 2), None), ((2, 4, 3), (5, 2), (5,)), ((3,), (2, 2), None),
                                                     ((4, 0), (2, 3), None), ((4, 3), (2, 3), (3,)),
                                                     ((2, 4, 3), (5, 3), (2, 5)), ((3,), (2, 3), (3,))])
def test_linear_names_bad_shapes_as_torch_does(x_shape, w_shape, b_shape):
    # (linear() leaves the inner sizes to the product and asks LinearFunction.forward_error once it has failed)
    import torch
    import glasstorch
    messages = []
    for lib in (glasstorch, torch):
        bias = None if b_shape is None else lib.ones(*b_shape)
        with pytest.raises(RuntimeError) as caught:
            lib.nn.functional.linear(lib.ones(*x_shape), lib.ones(*w_shape), bias)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("make", [
    lambda fw, x, w, b: fw.nn.functional.linear(x, w, b),        # 2-D with a bias: AddmmBackward0
    lambda fw, x, w, b: fw.nn.functional.linear(x, w),           # without: MmBackward0
    lambda fw, x, w, b: x @ w.T,                                 # a matrix product: MmBackward0
    lambda fw, x, w, b: fw.mm(x, w.t()),
])
def test_two_dimensional_products_name_their_nodes_as_torch_does(make):
    """The notes print `grad_fn=<AddmmBackward0>` for nn.Linear's output: the same names as torch's nodes."""
    torch = pytest.importorskip("torch")
    import glasstorch
    rng = np.random.default_rng(0)
    arrays = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    ours = make(glasstorch, *(glasstorch.tensor(a, requires_grad=True) for a in arrays))
    theirs = make(torch, *(torch.tensor(a, requires_grad=True) for a in arrays))
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert repr(ours).endswith(f"grad_fn=<{theirs.grad_fn.name()}>)")
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    assert ours.grad_fn.name() == theirs.grad_fn.name()  # (the name outlives backward's freeing)


def test_linear_of_other_ranks_is_one_linear_node():
    """torch shows ViewBackward0 over an AddmmBackward0 for a 1-D or 3-D input; glasstorch one node
    (docs/DIFFERENCES.md)."""
    import glasstorch
    layer = glasstorch.nn.Linear(3, 2)
    for shape in ((3,), (5, 4, 3)):
        assert layer(glasstorch.ones(shape)).grad_fn.name() == "LinearBackward0"
