"""Fused cross-entropy, NLL and binary cross-entropy (ops/loss.py via nn.functional) against torch:
edge cases and errors (every weight / ignore_index / smoothing / reduction spec, with float64 gradchecks and
double backward, is in tests/ops/test_op_table.py)."""
import itertools

import numpy as np
import pytest
import torch

import glasstorch as gt
import glasstorch.nn.functional as F
from glasstorch.autograd.gradcheck import gradcheck, gradgradcheck
from helpers import compare

RNG = np.random.default_rng(0)


def class_targets(shape, n_classes, ignore_some=True):
    t = RNG.integers(0, n_classes, shape)
    if ignore_some:
        t.reshape(-1)[::4] = -100
    return t


@pytest.mark.parametrize("reduction,weighted,smoothing", list(itertools.product(["mean", "sum", "none"],
                                                                                [False, True], [0.0, 0.25])))
def test_cross_entropy_class_indices(reduction, weighted, smoothing):
    logits = (RNG.standard_normal((7, 5)) * 3).astype(np.float32)
    weight = RNG.random(5).astype(np.float32) + 0.1 if weighted else None
    target = class_targets((7,), 5)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    compare(lambda x, t, w: F.cross_entropy(x, t, weight=w, **kw),
            lambda x, t, w: torch.nn.functional.cross_entropy(x, t, weight=w, **kw), [logits], (target, weight))


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_spatial_targets_and_ignore_index(reduction):
    logits = RNG.standard_normal((2, 4, 3, 5)).astype(np.float32)
    target = RNG.integers(0, 4, (2, 3, 5))
    target[0, 1] = 2  # a custom ignore_index
    weight = RNG.random(4).astype(np.float32) + 0.1
    kw = dict(reduction=reduction, ignore_index=2, label_smoothing=0.1)
    compare(lambda x, t, w: F.cross_entropy(x, t, weight=w, **kw),
            lambda x, t, w: torch.nn.functional.cross_entropy(x, t, weight=w, **kw), [logits], (target, weight))


@pytest.mark.parametrize("smoothing,weighted", [(0.0, False), (0.2, True)])
def test_cross_entropy_probability_targets(smoothing, weighted):
    logits = RNG.standard_normal((6, 4, 3)).astype(np.float32)
    probs = RNG.random((6, 4, 3)).astype(np.float32)
    probs /= probs.sum(1, keepdims=True)
    weight = RNG.random(4).astype(np.float32) if weighted else None
    for reduction in ("mean", "sum", "none"):
        kw = dict(reduction=reduction, label_smoothing=smoothing)
        compare(lambda x, p, w: F.cross_entropy(x, p, weight=w, **kw),
                lambda x, p, w: torch.nn.functional.cross_entropy(x, p, weight=w, **kw), [logits], (probs, weight))


def test_cross_entropy_unbatched():
    logits = RNG.standard_normal(5).astype(np.float32)
    compare(lambda x, t: F.cross_entropy(x, t), lambda x, t: torch.nn.functional.cross_entropy(x, t),
            [logits], (np.array(3),))


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1.0], [-1e4, -1e4, 1e4]], dtype=np.float32)
    x = gt.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, gt.tensor([1, 1, 0]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    compare(F.cross_entropy, torch.nn.functional.cross_entropy, [logits], (np.array([1, 1, 0]),))


def test_cross_entropy_is_one_fused_node_with_softmax_minus_onehot_gradient():
    logits = RNG.standard_normal((4, 3)).astype(np.float32)
    x = gt.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, gt.tensor([0, 2, 1, 2]), reduction="sum")
    assert loss.grad_fn.name() == "NllLossBackward0"
    assert loss.grad_fn.next_functions[0][0].name() == "AccumulateGrad"
    loss.backward()
    softmax = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), softmax - np.eye(3)[[0, 2, 1, 2]], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(reduction):
    log_probs = RNG.standard_normal((3, 5, 2)).astype(np.float32)
    target = class_targets((3, 2), 5)
    weight = RNG.random(5).astype(np.float32)
    compare(lambda x, t, w: F.nll_loss(x, t, weight=w, reduction=reduction),
            lambda x, t, w: torch.nn.functional.nll_loss(x, t, weight=w, reduction=reduction), [log_probs],
            (target, weight))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy(reduction):
    p = RNG.random((4, 3)).astype(np.float32)
    p[0, 0], p[0, 1] = 0.0, 1.0  # the log clamps at -100, as torch
    t = RNG.random((4, 3)).astype(np.float32)
    w = RNG.random(3).astype(np.float32)
    compare(lambda x, y, ww: F.binary_cross_entropy(x, y, weight=ww, reduction=reduction),
            lambda x, y, ww: torch.nn.functional.binary_cross_entropy(x, y, weight=ww, reduction=reduction),
            [p[1:]], (t[1:], w))
    yg = F.binary_cross_entropy(gt.tensor(p), gt.tensor(t), reduction=reduction)
    yt = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction=reduction)
    np.testing.assert_allclose(yg.numpy(), yt.numpy(), rtol=1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits(reduction):
    x = (RNG.standard_normal((5, 3)) * 30).astype(np.float32)  # large logits: must stay finite
    x[0, 0] = 0.0
    t = (RNG.random((5, 3)) > 0.5).astype(np.float32)
    w = RNG.random(3).astype(np.float32)
    pw = RNG.random(3).astype(np.float32) * 3
    compare(lambda a, y, ww, p: F.binary_cross_entropy_with_logits(a, y, weight=ww, pos_weight=p, reduction=reduction),
            lambda a, y, ww, p: torch.nn.functional.binary_cross_entropy_with_logits(a, y, weight=ww, pos_weight=p,
                                                                                   reduction=reduction),
            [x], (t, w, pw), rtol=1e-4, atol=1e-4)
    compare(lambda a, y: F.binary_cross_entropy_with_logits(a, y, reduction=reduction),
            lambda a, y: torch.nn.functional.binary_cross_entropy_with_logits(a, y, reduction=reduction), [x, t])


def test_binary_losses_gradcheck_in_both_arguments():
    x = gt.tensor(RNG.random((3, 2)) * 0.8 + 0.1, requires_grad=True)
    t = gt.tensor(RNG.random((3, 2)), requires_grad=True)
    pw = gt.tensor(RNG.random(2) + 0.5, requires_grad=True)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b), (x, t))
    assert gradcheck(lambda a, b, c: F.binary_cross_entropy_with_logits(a, b, pos_weight=c), (x, t, pw))
    assert gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t.detach()), (x,))


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.cross_entropy(gt.zeros(3, 4), gt.tensor([0, 1])), ValueError, "batch_size"),
    (lambda: F.cross_entropy(gt.zeros(3, 4, 5), gt.zeros(3, 4, dtype=gt.int64)), RuntimeError, "Expected target size"),
    (lambda: F.nll_loss(gt.zeros(3, 4), gt.tensor([0, 1, 5])), IndexError, "Target 5 is out of bounds"),
    (lambda: F.cross_entropy(gt.zeros(2, 3), gt.tensor([0, 1]), reduction="avg"), ValueError, "not a valid value"),
    (lambda: F.binary_cross_entropy(gt.tensor([1.5]), gt.tensor([1.0])), RuntimeError, "between 0 and 1"),
    (lambda: F.binary_cross_entropy_with_logits(gt.zeros(2), gt.zeros(3)), ValueError, "must be the same"),
])
def test_loss_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_legacy_size_average_and_reduce():
    x = gt.tensor(RNG.standard_normal((4, 3)).astype(np.float32))
    t = gt.tensor([0, 1, 2, 0])
    with pytest.warns(UserWarning):
        summed = F.cross_entropy(x, t, size_average=False)
    with pytest.warns(UserWarning):
        unreduced = F.cross_entropy(x, t, reduce=False)
    np.testing.assert_allclose(summed.item(), F.cross_entropy(x, t, reduction="sum").item(), rtol=1e-6)
    assert unreduced.shape == (4,)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mse_loss_and_its_gradient_are_torchs_bit_for_bit(reduction, dtype):
    """MSE's backward multiplies in torch's order, (a - b) * (2 / n) then * dL/dL: with an upstream gradient other
    than 1 the result is torch's exactly (the other order differed in the last bit)."""
    a, b = RNG.standard_normal((9, 4)).astype(dtype), RNG.standard_normal((9, 4)).astype(dtype)
    g = RNG.standard_normal(() if reduction != "none" else (9, 4)).astype(dtype)
    ours, theirs = gt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out = F.mse_loss(ours, gt.tensor(b), reduction=reduction)
    t_out = torch.nn.functional.mse_loss(theirs, torch.tensor(b), reduction=reduction)
    out.backward(gt.tensor(g))
    t_out.backward(torch.tensor(g))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_of_empty_tensors_is_torchs(reduction):
    """An empty batch: torch's mean is nan, the sum 0 (glasstorch divided by the zero size)."""
    x = gt.zeros(0, requires_grad=True)
    out = F.mse_loss(x, gt.zeros(0), reduction=reduction)
    expected = torch.nn.functional.mse_loss(torch.zeros(0), torch.zeros(0), reduction=reduction)
    np.testing.assert_array_equal(out.detach().numpy(), expected.numpy())
    out.sum().backward()
    assert x.grad.shape == (0,)
