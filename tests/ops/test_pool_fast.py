"""The threaded pools (ops/pool_fast.py, what F.max_pool2d and F.avg_pool2d run) equal the lesson's (ops/pool.py).

Random shapes, kernels, strides, padding, dilation and ceil_mode, inputs with many ties (small integers:
the first maximum takes the gradient), 3-d and 4-d inputs; the pool made the rule for every size, with
1-3 threads. Values and input gradients must be identical; the average pool's against torch too.
"""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glasstorch as gt
import glasstorch.nn.functional as F
from glasstorch import backend
from glasstorch.ops import pool as lesson
from glasstorch.ops import pool_fast as fast


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}threads")
def threaded(request, monkeypatch):
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(backend, "_num_threads", request.param)
    return request.param


@st.composite
def pool_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    hw = tuple(d * (k - 1) + 1 + draw(st.integers(0, 5)) for k, d in zip(kernel, dilation))
    lead = (draw(st.integers(1, 5)),) + ((draw(st.integers(1, 3)),) if draw(st.booleans()) else ())
    return dict(shape=lead + hw, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                ceil_mode=draw(st.booleans()), seed=draw(st.integers(0, 2 ** 16)))


def pooled_and_grad(module, x, upstream_seed, case):
    t = gt.tensor(x, requires_grad=True)
    out = module.max_pool2d(t, case["kernel"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"])
    upstream = np.random.default_rng(upstream_seed).standard_normal(out.shape).astype(x.dtype)
    out.backward(gt.tensor(upstream))
    return out.detach().numpy(), t.grad.numpy()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=pool_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_max_pool_equals_lesson(threaded, case, dtype):
    x = np.random.default_rng(case["seed"]).integers(-3, 4, case["shape"]).astype(dtype)  # many ties
    (y_fast, g_fast), (y_lesson, g_lesson) = (pooled_and_grad(m, x, case["seed"], case) for m in (fast, lesson))
    np.testing.assert_array_equal(y_fast, y_lesson)
    np.testing.assert_array_equal(g_fast, g_lesson)


def test_f_max_pool2d_runs_the_fast_op_and_keeps_return_indices(threaded):
    x = gt.tensor(np.random.default_rng(0).standard_normal((4, 3, 6, 6)), requires_grad=True)
    assert type(F.max_pool2d(x, 2).grad_fn).__name__ == "FastMaxPool2dFunction"
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    expected = lesson.max_pool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), False, return_indices=True)
    np.testing.assert_array_equal(values.detach().numpy(), expected[0].detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), expected[1].numpy())


def assert_same_or_rounded(fast_values, lesson_values, rounded):
    if rounded:  # within a few roundings of the sums
        tol = 1e-6 if fast_values.dtype == np.float32 else 1e-14
        np.testing.assert_allclose(fast_values, lesson_values, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(fast_values, lesson_values)


def avg_pooled_and_grad(pool2d, tensor, x, upstream_seed, case, **options):
    """pool2d's output and input gradient (tensor: the framework's tensor function) for a random upstream gradient."""
    t = tensor(x, requires_grad=True)
    out = pool2d(t, case["kernel"], case["stride"], case["padding"], case["ceil_mode"], **options)
    upstream = np.random.default_rng(upstream_seed).standard_normal(tuple(out.shape)).astype(x.dtype)
    out.backward(tensor(upstream))
    return out.detach().numpy(), t.grad.numpy()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=pool_cases(), dtype=st.sampled_from([np.float32, np.float64]), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, None, 3]))
def test_fast_avg_pool_equals_lesson_and_torch(threaded, case, dtype, count_include_pad, divisor_override):
    x = np.random.default_rng(case["seed"]).standard_normal(case["shape"]).astype(dtype)
    options = dict(count_include_pad=count_include_pad, divisor_override=divisor_override)
    results = [avg_pooled_and_grad(lambda t, k, s, p, c, **o: m.avg_pool2d(t, k, s, p, c, o["count_include_pad"],
                                                                           o["divisor_override"]),
                                   gt.tensor, x, case["seed"], case, **options) for m in (fast, lesson)]
    expected = avg_pooled_and_grad(torch.nn.functional.avg_pool2d, torch.tensor, x, case["seed"], case, **options)
    windows = lesson.Windows(x.shape, case["kernel"], case["stride"], case["padding"], (1, 1), case["ceil_mode"])
    tiled = fast.TiledRows.of(np, x, windows) is not None  # a product: the BLAS's own order of the sums' roundings
    for (y, g) in results:  # else the same operations in the same order on each sample: identical
        assert_same_or_rounded(y, results[1][0], tiled)
        assert_same_or_rounded(g, results[1][1], tiled)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(y, expected[0], rtol=tol, atol=tol)
        np.testing.assert_allclose(g, expected[1], rtol=tol, atol=tol)


def test_f_avg_pool2d_runs_the_fast_op(threaded):
    x = gt.tensor(np.random.default_rng(0).standard_normal((4, 3, 6, 6)), requires_grad=True)
    out = F.avg_pool2d(x, 2)
    assert type(out.grad_fn).__name__ == "FastAvgPool2dFunction" and out.grad_fn.name() == "AvgPool2DBackward0"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=pool_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_max_pool_with_nan_and_infinities_equals_lesson_and_torch(threaded, case, dtype):
    """NaN wins the max (its gradient to the window's last tap, as the lesson decides); -inf/+inf ties."""
    rng = np.random.default_rng(case["seed"])
    x = rng.choice(np.array([-np.inf, np.inf, np.nan, 0.0, 1.0, -1.0]), size=case["shape"],
                   p=[0.1, 0.1, 0.05, 0.25, 0.25, 0.25]).astype(dtype)
    (y_fast, g_fast), (y_lesson, g_lesson) = (pooled_and_grad(m, x, case["seed"], case) for m in (fast, lesson))
    np.testing.assert_array_equal(y_fast, y_lesson)
    np.testing.assert_array_equal(g_fast, g_lesson)
    t = torch.tensor(x)
    expected = torch.nn.functional.max_pool2d(t, case["kernel"], case["stride"], case["padding"], case["dilation"],
                                              case["ceil_mode"])
    np.testing.assert_array_equal(y_fast, expected.numpy())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=pool_cases(), no_grad=st.booleans())
def test_fast_max_pool_without_backward_gives_the_lesson_values(threaded, case, no_grad):
    """Under no_grad, or for an input that needs no gradient, the forward skips the argmax: same values."""
    x = np.random.default_rng(case["seed"]).integers(-3, 4, case["shape"]).astype(np.float32)
    args = (case["kernel"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"])
    t = gt.tensor(x, requires_grad=no_grad)
    if no_grad:
        with gt.no_grad():
            out = fast.max_pool2d(t, *args)
    else:
        out = fast.max_pool2d(t, *args)
    assert out.grad_fn is None
    np.testing.assert_array_equal(out.numpy(), lesson.max_pool2d(gt.tensor(x), *args).numpy())


@pytest.mark.parametrize("shape, kernel", [((5, 6, 28, 28), (2, 2)), ((3, 16, 10, 10), (2, 2)), ((2, 3, 9, 9), (3, 3)),
                                           ((4, 4, 9), (2, 3)), ((2, 2, 5, 7), (1, 1)), ((2, 1, 8, 8), (4, 4))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("divisor_override", [None, 3])
def test_avg_pool_whose_windows_tile_the_input_is_a_product_equal_to_the_lesson_and_torch(threaded, shape, kernel,
                                                                                           dtype, divisor_override):
    """Windows that tile the input (kernel = stride, no padding, no remainder) run as one product per band of rows
    (pool_fast.TiledRows): the lesson's and torch's values and gradients, within the sums' rounding."""
    case = dict(kernel=kernel, stride=kernel, padding=(0, 0), ceil_mode=False)
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype)
    assert fast.TiledRows.of(np, x, lesson.Windows(shape, kernel, kernel, (0, 0), (1, 1), False)) is not None
    options = dict(count_include_pad=True, divisor_override=divisor_override)
    results = [avg_pooled_and_grad(lambda t, k, s, p, c, **o: m.avg_pool2d(t, k, s, p, c, True, o["divisor_override"]),
                                   gt.tensor, x, 7, case, **options) for m in (fast, lesson)]
    expected = avg_pooled_and_grad(torch.nn.functional.avg_pool2d, torch.tensor, x, 7, case, **options)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for mine, lessons, torchs in zip(results[0], results[1], expected):
        assert mine.dtype == dtype
        assert_same_or_rounded(mine, lessons, rounded=True)
        np.testing.assert_allclose(mine, torchs, rtol=tol, atol=tol)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["input", "upstream gradient"])
def test_tiled_avg_pool_with_a_nan_or_an_infinity_keeps_it_in_its_window(threaded, bad, where):
    """A NaN or an infinity times the pooling matrix's zeros would reach every window of its row: the lesson's code
    runs instead, and only the window holding it (torch's answer) is touched."""
    x = np.random.default_rng(1).standard_normal((3, 2, 6, 6)).astype(np.float32)
    upstream = np.random.default_rng(2).standard_normal((3, 2, 3, 3)).astype(np.float32)
    if where == "input":
        x[1, 0, 2, 3] = bad
    else:
        upstream[1, 0, 1, 1] = bad
    got = []
    for fw, pool in ((gt, F.avg_pool2d), (torch, torch.nn.functional.avg_pool2d)):
        t = fw.tensor(x, requires_grad=True)
        out = pool(t, 2)
        out.backward(fw.tensor(upstream))
        got.append((out.detach().numpy(), t.grad.numpy()))
    for mine, theirs in zip(*got):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-6)  # (assert_allclose: NaN equals NaN)
