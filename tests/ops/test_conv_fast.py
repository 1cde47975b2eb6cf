"""The tuned convolutions (ops/conv_fast.py, what F.conv2d runs) equal the textbook ones (ops/conv.py).

Random shapes with stride, padding (asymmetric too), dilation, groups and bias; values and the
gradients of the input, weight and bias, in float64 so that only the summation order may differ.
"""
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import glasstorch as gt
import glasstorch.nn.functional as F
from glasstorch import backend
from glasstorch.ops import conv as textbook
from glasstorch.ops import conv_fast as fast
from glasstorch.ops import elementwise as lesson_elementwise
from glasstorch.ops import pool as lesson_pool


def outputs_and_grads(fn, arrays, upstream_seed):
    """fn's output and the gradient of every input for a random upstream gradient."""
    tensors = [gt.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    upstream = np.random.default_rng(upstream_seed).standard_normal(out.shape)
    (out * gt.tensor(upstream)).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]


def assert_all_close(fast_results, textbook_results):
    assert len(fast_results) == len(textbook_results)
    for a, b in zip(fast_results, textbook_results):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c, o = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    size = [dilation[k] * (kernel[k] - 1) + 1 - sum(padding[k]) + draw(st.integers(0, 6)) for k in range(2)]
    size = [max(s, 1) for s in size]
    return dict(n=draw(st.integers(1, 3)), c=c, o=o, hw=tuple(size), kernel=kernel, stride=stride, padding=padding,
                dilation=dilation, groups=groups, bias=draw(st.booleans()), seed=draw(st.integers(0, 2 ** 16)))


def check_conv2d_against_textbook(case):
    """The fast conv2d's output and gradients equal the textbook's on `case`; returns (rng, x) for more checks."""
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"]) + case["hw"])
    w = rng.standard_normal((case["o"], case["c"] // case["groups"]) + case["kernel"])
    arrays = [x, w] + ([rng.standard_normal(case["o"])] if case["bias"] else [])
    args = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
    results = [outputs_and_grads(lambda *t: module.conv2d(*t, **args), arrays, case["seed"])
               for module in (fast, textbook)]
    assert_all_close(*results)
    return rng, x


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_fast_conv2d_equals_textbook(case):
    check_conv2d_against_textbook(case)


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_fast_conv_transpose2d_equals_textbook(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"]) + case["hw"])
    w = rng.standard_normal((case["c"], case["o"] // case["groups"]) + case["kernel"])
    arrays = [x, w] + ([rng.standard_normal(case["o"])] if case["bias"] else [])
    # torch's rules: symmetric padding, output_padding smaller than the stride or the dilation
    padding = tuple(min(p[0], (k - 1) * d) for p, k, d in zip(case["padding"], case["kernel"], case["dilation"]))
    output_padding = tuple(case["seed"] % max(s, d) for s, d in zip(case["stride"], case["dilation"]))
    args = dict(stride=case["stride"], padding=padding, output_padding=output_padding, groups=case["groups"],
                dilation=case["dilation"])
    results = [outputs_and_grads(lambda *t: module.conv_transpose2d(*t, **args), arrays, case["seed"])
               for module in (fast, textbook)]
    assert_all_close(*results)


@pytest.mark.parametrize("stride", [1, 2])
def test_textbook_conv2d_equals_what_f_conv2d_runs_in_float32(stride):
    """float32 as F.conv2d uses it; the fast op is the one nn.functional dispatches to."""
    rng = np.random.default_rng(stride)
    x = rng.standard_normal((4, 6, 9, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    results = [outputs_and_grads(fn, [x, w, b], 0) for fn in (
        lambda *t: F.conv2d(*t, stride=stride, padding=1, groups=2),
        lambda *t: textbook.conv2d(*t, stride=(stride, stride), padding=((1, 1), (1, 1)), groups=2))]
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, rtol=1e-4, atol=1e-4)
    assert type(F.conv2d(gt.tensor(x, requires_grad=True), gt.tensor(w), padding=1, groups=2).grad_fn).__name__ \
        .startswith("FastConv2d")


@pytest.mark.parametrize("threads", [2, 3])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=conv_cases())
def test_fast_convs_with_im2col_and_col2im_over_threads_equal_textbook(threads, case, monkeypatch):
    """Large columns are copied (im2col) and added back (col2im) with the batch split over the thread pool:
    made the rule for every size here, the results are still the textbook ones."""
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend, "_num_threads", threads)
    case = dict(case, n=case["n"] + 2)  # a few samples to split
    rng, x = check_conv2d_against_textbook(case)
    wt = rng.standard_normal((case["c"], case["o"] // case["groups"]) + case["kernel"])
    transposed = [outputs_and_grads(lambda *t: module.conv_transpose2d(*t, groups=case["groups"]), [x, wt],
                                    case["seed"]) for module in (fast, textbook)]
    assert_all_close(*transposed)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=conv_cases(), dcols_bytes=st.sampled_from([1, 200, 3000]))
def test_fast_conv2d_input_gradient_in_sub_blocks_equals_textbook(case, dcols_bytes, monkeypatch):
    """The input gradient's columns are made and folded back in sub-blocks of a block's samples."""
    monkeypatch.setattr(fast, "BLOCK_BYTES", 1 << 30)  # one block: the whole batch
    monkeypatch.setattr(fast, "DCOLS_BLOCK_BYTES", dcols_bytes)  # 1: one sample per sub-block
    case = dict(case, n=case["n"] + 2)
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"]) + case["hw"])
    w = rng.standard_normal((case["o"], case["c"] // case["groups"]) + case["kernel"])
    args = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
    results = [outputs_and_grads(lambda *t: module.conv2d(*t, **args), [x, w], case["seed"])
               for module in (fast, textbook)]
    assert_all_close(*results)


@pytest.mark.parametrize("threads", [1, 2, 3])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=conv_cases(), per_sample=st.booleans(), exact=st.booleans(), row_taps=st.booleans(),
       forward_bytes=st.sampled_from([1, 3000, 1 << 30]), dtype=st.sampled_from([np.float32, np.float64]),
       relu=st.booleans(),
       avg_pool=st.sampled_from([None, ((1, 1), None), ((2, 2), None), ((2, 1), 3), ((3, 2), None)]))
def test_fast_conv2d_forward_sample_by_sample_and_as_one_matrix_equal_textbook(threads, case, per_sample, exact,
                                                                               row_taps, forward_bytes, dtype, relu,
                                                                               avg_pool, monkeypatch):
    """The two pipelines (a product per sample, in the flat or the exact layout, or one matrix per block),
    forward and backward (the input's gradient by kernel rows or by columns), in blocks from one sample to the
    whole batch, split over the threads: the textbook's values and gradients. With relu, the fused
    convolution + ReLU (FastConv2dReLUFunction) against the textbook convolution followed by the lesson's ReLU;
    with avg_pool too, the fused convolution + ReLU + average pool (FastConv2dReLUAvgPoolFunction, or the pool
    apart where its windows do not tile the output) against the lesson's pool after those."""
    monkeypatch.setattr(fast, "PER_SAMPLE_MIN_PRODUCT", 0 if per_sample else 1 << 40)
    monkeypatch.setattr(fast, "exact_layout_copies_less", lambda *counts: exact)
    monkeypatch.setattr(fast, "ROW_TAPS", row_taps)
    monkeypatch.setattr(fast, "PER_SAMPLE_MAX_PRODUCT", 1 << 40)
    monkeypatch.setattr(fast, "FORWARD_BLOCK_BYTES", forward_bytes)
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend, "_num_threads", threads)
    case = dict(case, n=case["n"] + 2)
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"]) + case["hw"]).astype(dtype)
    w = rng.standard_normal((case["o"], case["c"] // case["groups"]) + case["kernel"]).astype(dtype)
    arrays = [x, w] + ([rng.standard_normal(case["o"]).astype(dtype)] if case["bias"] else [])
    args = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
    fast_conv = (lambda *t: fast.conv2d(*t, **args, relu=True)) if relu else lambda *t: fast.conv2d(*t, **args)
    textbook_conv = (lambda *t: lesson_elementwise.relu(textbook.conv2d(*t, **args))) if relu else \
        lambda *t: textbook.conv2d(*t, **args)
    if avg_pool is not None:
        kernel, divisor = avg_pool
        out_hw = textbook.conv2d(*(gt.tensor(a) for a in arrays), **args).shape[2:]
        assume(all(size >= k for size, k in zip(out_hw, kernel)))
        fast_conv = lambda *t: fast.conv2d(*t, **args, relu=True, avg_pool=avg_pool)  # noqa: E731
        textbook_conv = lambda *t: lesson_pool.avg_pool2d(  # noqa: E731
            lesson_elementwise.relu(textbook.conv2d(*t, **args)), kernel, kernel, (0, 0), False, True, divisor)
    results = [outputs_and_grads(conv, arrays, case["seed"]) for conv in (fast_conv, textbook_conv)]
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    for a, b in zip(*results):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("shape, out_channels, kernel, padding", [
    ((3, 1, 28, 28), 32, 3, 0),   # the notes' SimpleCNN conv1: sample by sample, one block per sample
    ((2, 32, 26, 26), 64, 3, 0),  # its conv2: one matrix
    ((5, 1, 28, 28), 6, 5, 2),    # LeNet's conv1: sample by sample
    ((5, 6, 14, 14), 16, 5, 0),   # LeNet's conv2: sample by sample, with the input's gradient
])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("block_bytes", [2 ** 10, 2 ** 30])
@pytest.mark.parametrize("relu, avg_pool", [(False, None), (True, None), (True, ((2, 2), None))])
def test_f_conv2d_of_the_benchmark_layers_matches_torch_in_float32(shape, out_channels, kernel, padding, threads,
                                                                    block_bytes, relu, avg_pool, monkeypatch):
    """The benchmark networks' layers at their real sizes (a few samples, odd counts split unevenly over two
    threads, in blocks of one sample or of the whole share), against torch: output and gradients. With relu,
    glasstorch's fused convolution + ReLU (what nn.Sequential runs) against torch's conv2d then relu; with
    avg_pool, the fused convolution + ReLU + 2 x 2 average pool (LeNet's layers) against torch's three ops."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(fast, "FORWARD_BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(fast, "SPLIT_BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend, "_num_threads", threads)
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((out_channels, shape[1], kernel, kernel), dtype=np.float32) / kernel
    b = rng.standard_normal(out_channels, dtype=np.float32)
    results = []
    for fw in (gt, torch):
        xt, wt, bt = (fw.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
        if fw is gt:
            out = F._conv2d(xt, wt, bt, 1, padding, 1, 1, relu=relu, avg_pool=avg_pool)
        else:
            out = fw.nn.functional.conv2d(xt, wt, bt, padding=padding)
            out = fw.relu(out) if relu else out
            out = fw.nn.functional.avg_pool2d(out, 2) if avg_pool else out
        out.backward(fw.from_numpy(np.cos(np.arange(out.numel(), dtype=np.float32)).reshape(tuple(out.shape))))
        results.append([t.detach().numpy() for t in (out, xt.grad, wt.grad, bt.grad)])
    for mine, theirs in zip(*results):
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(theirs).max())))


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("rows, cols, length", [(6, 25, 20000), (32, 9, 46464), (16, 150, 9000), (3, 2, 4097)])
def test_weight_gradient_product_in_chunks_over_threads_is_a_times_b_transposed(threads, rows, cols, length,
                                                                                monkeypatch):
    """_long_product (the weight gradient's a @ b.T over a long positions dim): chunked, split over the threads."""
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend, "_num_threads", threads)
    rng = np.random.default_rng(length)
    a, b = rng.standard_normal((rows, length)), rng.standard_normal((cols, length))
    np.testing.assert_allclose(fast._long_product(a, b), a @ b.T, rtol=1e-10, atol=1e-9)


def recording_gemms(monkeypatch):
    """Makes conv_fast's one-matrix products record (thread, BLAS threads at the time); returns the record."""
    pytest.importorskip("threadpoolctl")
    seen = []
    for name in ("_gemm", "_gemm_nt", "_gemm_tn", "_rows_grad", "_long_product"):
        def recorded(*args, _product=getattr(fast, name)):
            seen.append((threading.get_ident(), backend.blas_thread_count()))
            return _product(*args)
        monkeypatch.setattr(fast, name, recorded)
    return seen


@pytest.mark.parametrize("threads", [2, 3])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=conv_cases(), extra=st.sampled_from([0, 1, 2, 4]), split_bytes=st.sampled_from([1, 3000, 1 << 30]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_conv2d_with_the_batch_split_over_threads_equals_textbook_and_one_thread(threads, case, extra, split_bytes,
                                                                                  dtype, monkeypatch):
    """The sample split (every thread unfolds, multiplies and folds back its own share of the batch, the BLAS
    at one thread meanwhile, the weight gradient as partial sums): batch sizes 1-7 (odd ones split unevenly,
    fewer samples than threads), blocks of one sample to the whole share. Equal to the textbook op and to
    the same call at one thread (no split), in float32 and float64."""
    monkeypatch.setattr(fast, "PER_SAMPLE_MIN_PRODUCT", 1 << 40)  # the one-matrix layout, in both directions
    monkeypatch.setattr(fast, "SPLIT_BLOCK_BYTES", split_bytes)
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 1)
    case = dict(case, n=case["n"] + extra)
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"]) + case["hw"]).astype(dtype)
    w = rng.standard_normal((case["o"], case["c"] // case["groups"]) + case["kernel"]).astype(dtype)
    arrays = [x, w] + ([rng.standard_normal(case["o"]).astype(dtype)] if case["bias"] else [])
    args = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
    results = {}
    for count in (1, threads):
        monkeypatch.setattr(backend, "_num_threads", count)
        results[count] = outputs_and_grads(lambda *t: fast.conv2d(*t, **args), arrays, case["seed"])
    expected = outputs_and_grads(lambda *t: textbook.conv2d(*t, **args), arrays, case["seed"])
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    for split, alone, lesson in zip(results[threads], results[1], expected):
        assert split.dtype == alone.dtype == dtype
        np.testing.assert_allclose(split, alone, rtol=tolerance / 10, atol=tolerance / 10)  # only sums regrouped
        np.testing.assert_allclose(split, lesson, rtol=tolerance, atol=tolerance)


def test_conv2d_split_runs_every_share_on_its_own_thread_with_one_blas_thread(monkeypatch):
    """The split is real: the products of forward and backward come from two threads, the BLAS at one thread
    while they run and back at its own count afterwards; at one thread nothing is split."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = recording_gemms(monkeypatch)
    monkeypatch.setattr(fast, "PER_SAMPLE_MIN_PRODUCT", 1 << 40)
    monkeypatch.setattr(fast, "SPLIT_BLOCK_BYTES", 1)  # a block of one sample
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 1)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((5, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))]
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        monkeypatch.setattr(backend, "_num_threads", 2)
        outputs_and_grads(lambda *t: fast.conv2d(*t), arrays, 0)
        threads = {thread for thread, _ in seen}  # (the pool may hold more workers, made for more threads)
        assert threading.get_ident() in threads and len(threads) >= 2 and {blas for _, blas in seen} == {1}
        assert len(seen) == 5 * 3  # per sample: the forward's product, the weight's and the input's gradients
        assert backend.blas_thread_count() == 2
        seen.clear()
        monkeypatch.setattr(backend, "_num_threads", 1)
        outputs_and_grads(lambda *t: fast.conv2d(*t), arrays, 0)
        assert {thread for thread, _ in seen} == {threading.get_ident()} and {blas for _, blas in seen} == {2}


def weight_and_bias_grads(fn, x, w, b, upstream_seed):
    """fn's output and the gradients of w and b (x needs none: a first layer) for a random upstream gradient."""
    wt, bt = gt.tensor(w, requires_grad=True), None if b is None else gt.tensor(b, requires_grad=True)
    out = fn(gt.tensor(x), wt, bt)
    upstream = np.random.default_rng(upstream_seed).standard_normal(out.shape).astype(x.dtype)
    out.backward(gt.tensor(upstream))
    return [out.detach().numpy(), wt.grad.numpy()] + ([] if b is None else [bt.grad.numpy()])


@pytest.mark.parametrize("threads", [1, 2, 3])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=conv_cases(), extra=st.sampled_from([0, 1, 4]), forward_bytes=st.sampled_from([1, 3000, 1 << 30]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_first_layer_weight_gradient_sample_by_sample_equals_textbook(threads, case, extra, forward_bytes, dtype,
                                                                      monkeypatch):
    """An input that needs no gradient (a first layer) in the sample-by-sample layout: the weight gradient is
    summed product by product over the samples, in blocks, split over the threads."""
    monkeypatch.setattr(fast, "PER_SAMPLE_MIN_PRODUCT", 0)
    monkeypatch.setattr(fast, "PER_SAMPLE_MAX_PRODUCT", 1 << 40)
    monkeypatch.setattr(fast, "FORWARD_BLOCK_BYTES", forward_bytes)
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend, "_num_threads", threads)
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"] + extra, case["c"]) + case["hw"]).astype(dtype)
    w = rng.standard_normal((case["o"], case["c"] // case["groups"]) + case["kernel"]).astype(dtype)
    b = rng.standard_normal(case["o"]).astype(dtype) if case["bias"] else None
    args = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
    results = [weight_and_bias_grads(lambda *t: module.conv2d(*t, **args), x, w, b, case["seed"])
               for module in (fast, textbook)]
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    for a, b_ in zip(*results):
        assert a.dtype == b_.dtype == dtype
        np.testing.assert_allclose(a, b_, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape, out_channels, kernel, padding", [((7, 1, 28, 28), 32, 3, 0), ((9, 1, 28, 28), 6, 5, 2)])
def test_first_layers_weight_gradient_matches_torch_in_float32(shape, out_channels, kernel, padding, threads,
                                                               monkeypatch):
    """The cnn's and LeNet's first layers as the benchmarks train them (the images need no gradient): torch's
    weight and bias gradients, with the batch split over two threads in blocks of a few samples."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(fast, "FORWARD_BLOCK_BYTES", 2 ** 16)
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend, "_num_threads", threads)
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((out_channels, 1, kernel, kernel), dtype=np.float32) / kernel
    b = rng.standard_normal(out_channels, dtype=np.float32)
    results = []
    for fw in (gt, torch):
        wt, bt = (fw.from_numpy(a.copy()).requires_grad_() for a in (w, b))
        out = fw.nn.functional.conv2d(fw.from_numpy(x), wt, bt, padding=padding)
        out.backward(fw.from_numpy(np.cos(np.arange(out.numel(), dtype=np.float32)).reshape(tuple(out.shape))))
        results.append([t.detach().numpy() for t in (out, wt.grad, bt.grad)])
    for mine, theirs in zip(*results):
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(theirs).max())))


@pytest.mark.parametrize("where", ["input", "upstream"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_fused_average_pool_keeps_a_nonfinite_value_in_its_windows_as_the_lesson(where, value, monkeypatch):
    """The pool as a product would spread a NaN or an infinity over its whole row of windows: the block that
    meets one is pooled (or its gradient spread) by the lesson's formula instead, in blocks of one sample."""
    monkeypatch.setattr(fast, "FORWARD_BLOCK_BYTES", 1)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 8, 8))
    w, b = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    upstream = rng.standard_normal((3, 4, 3, 3))
    if where == "input":
        x[1, 0, 3, 4] = value
    else:
        upstream[2, 1, 0, 2] = value
    results = []
    for conv in (lambda *t: fast.conv2d(*t, relu=True, avg_pool=((2, 2), None)),
                 lambda *t: lesson_pool.avg_pool2d(lesson_elementwise.relu(textbook.conv2d(*t)), (2, 2), (2, 2),
                                                   (0, 0), False, True, None)):
        tensors = [gt.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = conv(*tensors)
        (out * gt.tensor(upstream)).sum().backward()
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    for fused, lesson in zip(*results):
        np.testing.assert_array_equal(np.isnan(fused), np.isnan(lesson))
        finite = np.isfinite(lesson)
        assert (np.isfinite(fused) == finite).all() and finite.any()
        np.testing.assert_allclose(fused[finite], lesson[finite], rtol=1e-10, atol=1e-10)
