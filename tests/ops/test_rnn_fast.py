"""The tuned LSTM scan (ops/rnn_fast.py, what nn.LSTM runs) equals the lesson's (ops/rnn.py's scan, "lstm").

Random packed batch sizes (non-increasing, as pack_padded_sequence makes them; equal ones are a padded
batch), both directions, float32 and float64, random upstream gradients on every output (outputs, h_n,
c_n), in one piece and split over 1-3 threads (shares made the rule for every size): values and all four
input gradients equal to rounding (the tuned scan multiplies by W_hh^T as a transposed view, which the
BLAS sums in another order; everything else is the same operations in the same order). Plus a float64
numerical gradient check, and nn.LSTM running the tuned scan against torch.
"""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glasstorch as gt
from glasstorch import backend, nn
from glasstorch.autograd import gradcheck
from glasstorch.ops import rnn as lesson
from glasstorch.ops import rnn_fast as fast


TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}threads")
def threads(request, monkeypatch):
    """n threads, and every batch worth splitting (the split itself needs a one-thread-BLAS context: see below)."""
    monkeypatch.setattr(fast, "MIN_SHARE_FLOPS", 1)
    monkeypatch.setattr(backend, "_num_threads", request.param)
    return request.param


def count_splits(monkeypatch):
    """A list that gets one entry per call of the scan's loop that went over more than one thread."""
    splits, real = [], backend.parallel_ranges

    def spy(fn, count, threads=None, **kwargs):
        if fn.__name__ in ("forward_share", "backward_share") and min(threads or 1, count) > 1:
            splits.append(count)
        return real(fn, count, threads, **kwargs)
    monkeypatch.setattr(backend, "parallel_ranges", spy)
    return splits


def scan_and_grads(scan, arrays, upstream):
    """Outputs of scan(gx, w_hh, h0, c0) and the gradients of sum(output * upstream) wrt the four inputs."""
    inputs = [gt.tensor(a, requires_grad=True) for a in arrays]
    outs = scan(*inputs)
    loss = sum((o * gt.tensor(u)).sum() for o, u in zip(outs, upstream))
    grads = gt.autograd.grad(loss, inputs)
    return [o.detach().numpy() for o in outs], [g.numpy() for g in grads]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch_sizes=st.lists(st.integers(1, 5), min_size=1, max_size=6).map(lambda b: sorted(b, reverse=True)),
       hidden=st.integers(1, 6), reverse=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2 ** 16))
def test_fast_lstm_scan_equals_lesson(threads, monkeypatch, batch_sizes, hidden, reverse, dtype, seed):
    rng = np.random.default_rng(seed)
    batch, n_rows = batch_sizes[0], sum(batch_sizes)
    arrays = [rng.standard_normal(s).astype(dtype) for s in
              [(n_rows, 4 * hidden), (4 * hidden, hidden), (batch, hidden), (batch, hidden)]]
    upstream = [rng.standard_normal(s).astype(dtype) for s in [(n_rows, hidden), (batch, hidden), (batch, hidden)]]
    with monkeypatch.context() as patch:
        splits = count_splits(patch)
        outs_fast, grads_fast = scan_and_grads(
            lambda *a: fast.lstm_scan(*a, batch_sizes=batch_sizes, reverse=reverse), arrays, upstream)
    # forward and backward each split the batch when there are threads and sequences to share
    assert len(splits) == (2 if threads > 1 and batch > 1 else 0)
    outs_lesson, grads_lesson = scan_and_grads(
        lambda *a: lesson.recurrent_scan(*a, mode="lstm", batch_sizes=batch_sizes, reverse=reverse), arrays, upstream)
    for name, a, b in zip(["output", "h_n", "c_n", "d gx", "d w_hh", "d h0", "d c0"],
                          outs_fast + grads_fast, outs_lesson + grads_lesson):
        assert a.dtype == b.dtype == dtype, name
        np.testing.assert_allclose(a, b, **TOL[dtype], err_msg=name)


@pytest.mark.parametrize("reverse", [False, True])
def test_fast_lstm_scan_gradcheck(reverse):
    rng = np.random.default_rng(3)
    batch_sizes, hidden = [3, 3, 2, 1], 3
    inputs = [gt.tensor(rng.standard_normal(s), requires_grad=True) for s in
              [(sum(batch_sizes), 4 * hidden), (4 * hidden, hidden), (3, hidden), (3, hidden)]]
    assert gradcheck(lambda *a: fast.lstm_scan(*a, batch_sizes=batch_sizes, reverse=reverse), inputs)


def test_lstm_runs_the_fast_scan_and_matches_torch(threads):
    """The benchmark's shape in small: 2 layers, time-major, float32; outputs and every gradient as torch's.

    With threads, the scan sets the BLAS to one thread while it runs, and gives it back."""
    pytest.importorskip("threadpoolctl")
    blas_threads = backend.blas_thread_count()
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(6, 8, num_layers=2)
    ours = nn.LSTM(6, 8, num_layers=2)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(1).standard_normal((7, 4, 6)).astype(np.float32)
    xo, xt = gt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (out_o, (h_o, c_o)), (out_t, (h_t, c_t)) = ours(xo), theirs(xt)
    assert out_o.grad_fn is not None
    node = out_o.grad_fn
    while type(node).__name__ != "LSTMScanFunction":  # (reshape and slicing nodes above it)
        node = node.edges[0]
    for a, b in ((out_o, out_t), (h_o, h_t), (c_o, c_t)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=2e-5, atol=2e-6)
    (out_o.sum() + h_o.sum() * 2 + c_o.sum() * 3).backward()
    (out_t.sum() + h_t.sum() * 2 + c_t.sum() * 3).backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=2e-4, atol=2e-5)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.grad.dtype == gt.float32, name
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=2e-4, atol=2e-5, err_msg=name)
    assert backend.blas_thread_count() == blas_threads


def test_backward_twice_with_retain_graph_gives_the_same_gradients(threads):
    """Backward reads the saved activations and never writes them: a second pass (retain_graph) matches the first."""
    rng = np.random.default_rng(4)
    batch_sizes, hidden = [4, 3, 3, 1], 5
    inputs = [gt.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in
              [(sum(batch_sizes), 4 * hidden), (4 * hidden, hidden), (4, hidden), (4, hidden)]]
    out, h_n, c_n = fast.lstm_scan(*inputs, batch_sizes=batch_sizes)
    loss = (out * out).sum() + h_n.sum() + (c_n * 2).sum()
    first = gt.autograd.grad(loss, inputs, retain_graph=True)
    second = gt.autograd.grad(loss, inputs)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flipped_products_equal_lesson(monkeypatch, flipped, dtype):
    # the step's products as (4H x H) @ (H x n) and (H x 4H) @ (4H x n), copied back transposed (what runs when
    # NumPy's BLAS has more than one thread), or as written in the lesson; packed sequences shrink n as they end
    monkeypatch.setattr(fast, "_flipped_products", lambda scan: flipped)
    rng = np.random.default_rng(7)
    batch_sizes, hidden = [4, 4, 3, 1], 5
    n_rows = sum(batch_sizes)
    arrays = [rng.standard_normal(s).astype(dtype) for s in
              [(n_rows, 4 * hidden), (4 * hidden, hidden), (4, hidden), (4, hidden)]]
    upstream = [rng.standard_normal(s).astype(dtype) for s in [(n_rows, hidden), (4, hidden), (4, hidden)]]
    for reverse in (False, True):
        got = scan_and_grads(lambda *a: fast.lstm_scan(*a, batch_sizes=batch_sizes, reverse=reverse), arrays, upstream)
        want = scan_and_grads(lambda *a: lesson.recurrent_scan(*a, mode="lstm", batch_sizes=batch_sizes,
                                                               reverse=reverse), arrays, upstream)
        for a, b in zip(got[0] + got[1], want[0] + want[1]):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_allclose(a, b, **TOL[dtype])


def test_products_flip_only_on_a_multithreaded_blas(monkeypatch):
    scan = fast._Scan(backend.xp, (2,), False, 3)
    monkeypatch.setattr(backend, "blas_thread_count", lambda: 2)
    assert fast._flipped_products(scan)
    monkeypatch.setattr(backend, "blas_thread_count", lambda: 1)
    assert not fast._flipped_products(scan)
