"""Convolutions (ops/conv.py via nn.functional) against torch and against the slow obvious loops, on
random settings (the fixed cases and their float64 gradchecks are in tests/ops/test_op_table.py)."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glasstorch as gt
import glasstorch.nn.functional as F
from glasstorch.autograd.gradcheck import gradcheck
from glasstorch.ops import conv_fast as conv_fast_ops
from helpers import assert_match, run_both

RNG = np.random.default_rng(0)
TF = torch.nn.functional
TOL = dict(rtol=1e-4, atol=1e-4)  # float32 sums of up to 27 products


def reference_conv2d(x, w, b, stride, padding, dilation, groups):
    """The definition, one output pixel at a time (float64): what the im2col fast path must reproduce."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for g in range(groups):
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                           j * sw:j * sw + dw * (kw - 1) + 1:dw]
                out[:, g * og:(g + 1) * og, i, j] = np.einsum("nchw,ochw->no", patch, w[g * og:(g + 1) * og])
    if b is not None:
        out += b[None, :, None, None]
    return out


conv_settings = st.fixed_dictionaries({
    "n": st.integers(1, 3), "groups": st.sampled_from([1, 2]), "cg": st.integers(1, 3), "og": st.integers(1, 3),
    "h": st.integers(4, 9), "w": st.integers(4, 9), "kh": st.integers(1, 3), "kw": st.integers(1, 3),
    "sh": st.integers(1, 3), "sw": st.integers(1, 2), "ph": st.integers(0, 2), "pw": st.integers(0, 2),
    "dh": st.integers(1, 2), "dw": st.integers(1, 2), "bias": st.booleans()})


@settings(max_examples=40, deadline=None)
@given(conv_settings)
def test_conv2d_matches_torch_and_reference(s):
    c, o = s["cg"] * s["groups"], s["og"] * s["groups"]
    assume(s["h"] + 2 * s["ph"] >= s["dh"] * (s["kh"] - 1) + 1)  # the dilated kernel fits the padded input
    assume(s["w"] + 2 * s["pw"] >= s["dw"] * (s["kw"] - 1) + 1)
    x = RNG.standard_normal((s["n"], c, s["h"], s["w"])).astype(np.float32)
    w = RNG.standard_normal((o, s["cg"], s["kh"], s["kw"])).astype(np.float32)
    b = RNG.standard_normal(o).astype(np.float32)
    args = dict(stride=(s["sh"], s["sw"]), padding=(s["ph"], s["pw"]), dilation=(s["dh"], s["dw"]), groups=s["groups"])
    arrays = [x, w, b] if s["bias"] else [x, w]
    ours, theirs = run_both(lambda *t: F.conv2d(*t, **args), lambda *t: TF.conv2d(*t, **args), arrays)
    assert ours[0].dtype == np.float32 and all(g.dtype == np.float32 for g in ours[1])
    assert_match(ours, theirs, **TOL)
    expected = reference_conv2d(x.astype(np.float64), w.astype(np.float64), b if s["bias"] else None,
                                args["stride"], args["padding"], args["dilation"], s["groups"])
    np.testing.assert_allclose(ours[0], expected, rtol=1e-4, atol=1e-4)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("padding,dilation", [("same", 1), ("same", 2), ("valid", 1)])
def test_conv2d_string_padding(padding, dilation):
    x = RNG.standard_normal((2, 3, 7, 6)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 2, 3)).astype(np.float32)  # even kernel: 'same' pads asymmetrically
    ours, theirs = run_both(lambda a, b: F.conv2d(a, b, padding=padding, dilation=dilation),
                            lambda a, b: TF.conv2d(a, b, padding=padding, dilation=dilation), [x, w])
    assert_match(ours, theirs, **TOL)


def test_conv2d_unbatched_and_conv1d():
    x = RNG.standard_normal((3, 6, 5)).astype(np.float32)
    w = RNG.standard_normal((2, 3, 3, 2)).astype(np.float32)
    assert_match(*run_both(lambda a, b: F.conv2d(a, b, padding=1), lambda a, b: TF.conv2d(a, b, padding=1), [x, w]),
                 **TOL)
    x1 = RNG.standard_normal((2, 4, 11)).astype(np.float32)
    w1 = RNG.standard_normal((6, 2, 3)).astype(np.float32)
    b1 = RNG.standard_normal(6).astype(np.float32)
    for kw in (dict(stride=2, padding=1, groups=2), dict(padding="same", dilation=2, groups=2)):
        assert_match(*run_both(lambda a, b, c: F.conv1d(a, b, c, **kw),
                               lambda a, b, c: TF.conv1d(a, b, c, **kw), [x1, w1, b1]), **TOL)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 2), st.sampled_from([1, 2]), st.integers(2, 5), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 1), st.integers(1, 2))
def test_conv_transpose2d_matches_torch(n, groups, size, k, stride, padding, dilation):
    output_padding = stride - 1 if stride > 1 else 0
    x = RNG.standard_normal((n, 2 * groups, size, size + 1)).astype(np.float32)
    w = RNG.standard_normal((2 * groups, 3, k, k)).astype(np.float32)
    b = RNG.standard_normal(3 * groups).astype(np.float32)
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    assume((size - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1 > 0)  # a non-empty output
    assert_match(*run_both(lambda *t: F.conv_transpose2d(*t, **kw),
                           lambda *t: TF.conv_transpose2d(*t, **kw), [x, w, b]), **TOL)


def test_conv_transpose1d_matches_torch():
    x = RNG.standard_normal((2, 4, 6)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3)).astype(np.float32)
    assert_match(*run_both(lambda a, b: F.conv_transpose1d(a, b, stride=2, padding=1, output_padding=1),
                           lambda a, b: TF.conv_transpose1d(a, b, stride=2, padding=1,
                                                                             output_padding=1), [x, w]), **TOL)


def test_first_layer_skips_input_gradient():
    x = gt.randn(4, 1, 8, 8)
    w = gt.randn(3, 1, 3, 3, requires_grad=True)
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad is not None and w.grad.dtype == gt.float32


@pytest.mark.parametrize("stride", [1, 2])
def test_blocks_of_samples_do_not_change_results(monkeypatch, stride):
    rng = np.random.default_rng(stride)  # its own draws: the module's RNG depends on which tests ran before
    x = rng.standard_normal((5, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    wt = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    results = []
    for block_bytes in (1, 1 << 30):  # one sample per block / the whole batch in one block
        monkeypatch.setattr(conv_fast_ops, "BLOCK_BYTES", block_bytes)
        xg, wg, wtg = (gt.tensor(a, requires_grad=True) for a in (x, w, wt))
        y = F.conv2d(xg, wg, stride=stride, padding=1, groups=2)
        z = F.conv_transpose2d(xg, wtg, stride=stride)
        (y.square().sum() + z.square().sum()).backward()
        results.append([y.detach().numpy(), z.detach().numpy(), xg.grad.numpy(), wg.grad.numpy(), wtg.grad.numpy()])
    for a, b in zip(*results):  # float32 sums taken in another order: equal up to rounding of the largest terms
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(b).max())


def test_double_backward_raises_clearly():
    x = gt.randn(1, 1, 4, 4, requires_grad=True)
    w = gt.randn(1, 1, 2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="once-differentiable"):
        gt.autograd.grad(F.conv2d(x, w).square().sum(), [x], create_graph=True)


@pytest.mark.parametrize("call,message", [
    (lambda: F.conv2d(gt.zeros(1, 2, 5, 5), gt.zeros(1, 1, 3, 3)), "expected input\\[1, 2, 5, 5\\] to have 1 channels"),
    (lambda: F.conv2d(gt.zeros(1, 1, 2, 2), gt.zeros(1, 1, 3, 3)), "Kernel size can't be greater"),
    (lambda: F.conv2d(gt.zeros(5, 5), gt.zeros(1, 1, 3, 3)), "Expected 3D \\(unbatched\\) or 4D"),
    (lambda: F.conv2d(gt.zeros(1, 1, 5, 5), gt.zeros(1, 1, 3, 3), stride=2, padding="same"), "strided"),
    (lambda: F.conv2d(gt.zeros(1, 1, 5, 5, dtype=gt.float64), gt.zeros(1, 1, 3, 3)), "should be the same"),
    (lambda: F.conv_transpose2d(gt.zeros(1, 1, 2, 2), gt.zeros(1, 1, 3, 3), output_padding=1), "output padding"),
])
def test_conv_errors_name_the_problem(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes_match_torch(mode):
    x = RNG.standard_normal((2, 3, 5, 4)).astype(np.float32)
    pads = (1, 2, 3, 1)
    kw = dict(mode=mode, value=1.5) if mode == "constant" else dict(mode=mode)
    assert_match(*run_both(lambda a: F.pad(a, pads, **kw), lambda a: TF.pad(a, pads, **kw), [x]), **TOL)


def test_pad_negative_crops_and_gradcheck():
    x = RNG.standard_normal((2, 5, 4)).astype(np.float32)
    assert_match(*run_both(lambda a: F.pad(a, (-1, 2, 1, -2)), lambda a: TF.pad(a, (-1, 2, 1, -2)), [x]), **TOL)
    x64 = gt.tensor(RNG.standard_normal((1, 1, 3, 4)), requires_grad=True)
    assert gradcheck(lambda a: F.pad(a, (2, 1, 1, 2), mode="reflect"), (x64,))
