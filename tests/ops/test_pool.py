"""Pooling (ops/pool.py via nn.functional) against torch and against the slow obvious loops, on
random settings (the fixed cases and their float64 gradchecks are in tests/ops/test_op_table.py)."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glasstorch as gt
import glasstorch.nn.functional as F
from helpers import assert_match, run_both

RNG = np.random.default_rng(0)
TF = torch.nn.functional


def out_size(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = -(-span // s) + 1 if ceil_mode else span // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def reference_max_pool2d(x, k, s, p, d, ceil_mode):
    """Window by window, as the definition reads."""
    n, c, h, w = x.shape
    oh, ow = out_size(h, k[0], s[0], p[0], d[0], ceil_mode), out_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    out = np.full((n, c, oh, ow), -np.inf)
    for i in range(oh):
        for j in range(ow):
            for a in range(k[0]):
                for b in range(k[1]):
                    r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                    if 0 <= r < h and 0 <= q < w:
                        out[:, :, i, j] = np.maximum(out[:, :, i, j], x[:, :, r, q])
    return out


def reference_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad):
    n, c, h, w = x.shape
    oh, ow = out_size(h, k[0], s[0], p[0], 1, ceil_mode), out_size(w, k[1], s[1], p[1], 1, ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
            r1, q1 = min(r0 + k[0], h + p[0]), min(q0 + k[1], w + p[1])
            size = (r1 - r0) * (q1 - q0)
            r0, q0, r1, q1 = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
            total = x[:, :, r0:r1, q0:q1].sum(axis=(2, 3))
            out[:, :, i, j] = total / (size if count_include_pad else (r1 - r0) * (q1 - q0))
    return out


pool_settings = st.fixed_dictionaries({
    "h": st.integers(3, 9), "w": st.integers(3, 9), "kh": st.integers(1, 3), "kw": st.integers(1, 3),
    "sh": st.integers(1, 3), "sw": st.integers(1, 3), "ph": st.integers(0, 1), "pw": st.integers(0, 1),
    "dh": st.integers(1, 2), "dw": st.integers(1, 2), "ceil_mode": st.booleans(), "count_include_pad": st.booleans()})


def _valid(s, dilation=True):
    k = (s["kh"], s["kw"])
    d = (s["dh"], s["dw"]) if dilation else (1, 1)
    p = (s["ph"], s["pw"])
    if any(pi > (di * (ki - 1) + 1) // 2 for pi, ki, di in zip(p, k, d)):
        return False
    return all(size + 2 * pi >= di * (ki - 1) + 1 for size, pi, ki, di in zip((s["h"], s["w"]), p, k, d))


@settings(max_examples=50, deadline=None)
@given(pool_settings)
def test_max_pool2d_matches_torch_and_reference(s):
    assume(_valid(s))
    x = RNG.standard_normal((2, 3, s["h"], s["w"])).astype(np.float32)
    args = dict(kernel_size=(s["kh"], s["kw"]), stride=(s["sh"], s["sw"]), padding=(s["ph"], s["pw"]),
                dilation=(s["dh"], s["dw"]), ceil_mode=s["ceil_mode"])
    ours, theirs = run_both(lambda t: F.max_pool2d(t, **args), lambda t: TF.max_pool2d(t, **args), [x])
    assert_match(ours, theirs)
    expected = reference_max_pool2d(x, args["kernel_size"], args["stride"], args["padding"], args["dilation"],
                                    s["ceil_mode"])
    np.testing.assert_array_equal(ours[0], expected.astype(np.float32))
    _, idx = F.max_pool2d(gt.tensor(x), return_indices=True, **args)
    _, idx_t = TF.max_pool2d(torch.tensor(x), return_indices=True, **args)
    assert idx.dtype == gt.int64
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())


@settings(max_examples=50, deadline=None)
@given(pool_settings, st.sampled_from([None, 3]))
def test_avg_pool2d_matches_torch_and_reference(s, divisor_override):
    assume(_valid(s, dilation=False))
    x = RNG.standard_normal((2, 2, s["h"], s["w"])).astype(np.float32)
    args = dict(kernel_size=(s["kh"], s["kw"]), stride=(s["sh"], s["sw"]), padding=(s["ph"], s["pw"]),
                ceil_mode=s["ceil_mode"], count_include_pad=s["count_include_pad"], divisor_override=divisor_override)
    ours, theirs = run_both(lambda t: F.avg_pool2d(t, **args), lambda t: TF.avg_pool2d(t, **args), [x])
    assert_match(ours, theirs)
    if divisor_override is None:
        expected = reference_avg_pool2d(x.astype(np.float64), args["kernel_size"], args["stride"], args["padding"],
                                        s["ceil_mode"], s["count_include_pad"])
        np.testing.assert_allclose(ours[0], expected, rtol=1e-5, atol=1e-6)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = np.zeros((1, 2, 4, 6), dtype=np.float32)
    x[0, 1, 1:3, 2:5] = 5.0  # ties inside windows
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        assert_match(*run_both(lambda t: F.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), [x]))


def test_max_pool_keeps_float32_and_unbatched_input():
    x = RNG.standard_normal((3, 6, 6)).astype(np.float32)
    assert_match(*run_both(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x]))
    assert F.max_pool2d(gt.tensor(x), 2).dtype == gt.float32


@pytest.mark.parametrize("size,out", [((6, 9), (3, 3)), ((7, 5), (3, 2)), ((5, 5), 1), ((6, 7), (None, 4))])
def test_adaptive_pools_match_torch(size, out):
    x = RNG.standard_normal((2, 3) + size).astype(np.float32)
    for name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        assert_match(*run_both(lambda t: getattr(F, name)(t, out), lambda t: getattr(TF, name)(t, out), [x]))
    _, idx = F.adaptive_max_pool2d(gt.tensor(x), out, return_indices=True)
    _, idx_t = TF.adaptive_max_pool2d(torch.tensor(x), out, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())


def test_one_dimensional_pools_match_torch():
    x = RNG.standard_normal((2, 3, 11)).astype(np.float32)
    cases = [("max_pool1d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
             ("avg_pool1d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
             ("adaptive_avg_pool1d", dict(output_size=4)), ("adaptive_max_pool1d", dict(output_size=4))]
    for name, kw in cases:
        assert_match(*run_both(lambda t: getattr(F, name)(t, **kw), lambda t: getattr(TF, name)(t, **kw), [x]))


@pytest.mark.parametrize("call,message", [
    (lambda: F.max_pool2d(gt.zeros(1, 1, 4, 4), 2, padding=2), "pad should be at most half"),
    (lambda: F.max_pool2d(gt.zeros(1, 1, 1, 1), 2), "Output size is too small"),
])
def test_pool_errors(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize("shape,kernel", [((2, 3, 14, 15), 7), ((2, 3, 8, 8), 8), ((3, 9, 10), 5)])
def test_large_tiling_avg_pool_matches_torch(shape, kernel):
    """kernel = stride with more than 16 taps takes the reshaped-sum path (global pooling)."""
    x = RNG.standard_normal(shape).astype(np.float32)
    assert_match(*run_both(lambda t: F.avg_pool2d(t, kernel), lambda t: TF.avg_pool2d(t, kernel), [x]))
