"""Batch/layer/group norm, dropout and embedding (ops/normalization.py via nn.functional) against torch:
running statistics, dropout masks, errors (the gradchecks are in tests/ops/test_op_table.py)."""
import numpy as np
import pytest
import torch

import glasstorch as gt
import glasstorch.nn.functional as F
from glasstorch.autograd.gradcheck import gradcheck
from helpers import compare

RNG = np.random.default_rng(0)
TF = torch.nn.functional
TOL = dict(rtol=1e-4, atol=1e-4)  # float32 reductions over a batch


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (4, 3, 5, 2)])
def test_batch_norm_training_and_running_stats(shape):
    x = (RNG.standard_normal(shape) * 2 + 1).astype(np.float32)
    w, b = RNG.standard_normal(3).astype(np.float32), RNG.standard_normal(3).astype(np.float32)
    mean0, var0 = RNG.standard_normal(3).astype(np.float32), RNG.random(3).astype(np.float32) + 0.5
    stats_gt = [gt.tensor(mean0), gt.tensor(var0)]
    stats_t = [torch.tensor(mean0), torch.tensor(var0)]
    for momentum in (0.1, 0.5):
        compare(lambda a, c, d: F.batch_norm(a, *stats_gt, c, d, training=True, momentum=momentum),
                lambda a, c, d: TF.batch_norm(a, *stats_t, c, d, training=True, momentum=momentum),
                [x, w, b], **TOL)
        for ours, theirs in zip(stats_gt, stats_t):  # unbiased variance in the running estimate
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    compare(lambda a, c, d: F.batch_norm(a, *stats_gt, c, d, training=False),
            lambda a, c, d: TF.batch_norm(a, *stats_t, c, d, training=False), [x, w, b], **TOL)


def test_batch_norm_without_running_stats_or_affine():
    x = RNG.standard_normal((6, 4, 3)).astype(np.float32)
    compare(lambda a: F.batch_norm(a, None, None, training=True),
            lambda a: TF.batch_norm(a, None, None, training=True), [x], **TOL)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(gt.zeros(1, 3), None, None, training=True)


def test_layer_norm_and_group_norm():
    x = RNG.standard_normal((3, 4, 5, 2)).astype(np.float32)
    w, b = RNG.standard_normal((5, 2)).astype(np.float32), RNG.standard_normal((5, 2)).astype(np.float32)
    compare(lambda a, c, d: F.layer_norm(a, (5, 2), c, d), lambda a, c, d: TF.layer_norm(a, (5, 2), c, d),
            [x, w, b], **TOL)
    compare(lambda a: F.layer_norm(a, 2, eps=1e-3), lambda a: TF.layer_norm(a, (2,), eps=1e-3), [x], **TOL)
    gw, gb = RNG.standard_normal(4).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
    compare(lambda a, c, d: F.group_norm(a, 2, c, d), lambda a, c, d: TF.group_norm(a, 2, c, d),
            [x, gw, gb], **TOL)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(gt.tensor(x), (4,))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(gt.tensor(x), 3)


def test_dropout_statistics_and_modes():
    gt.manual_seed(0)
    x = gt.ones(200, 500, requires_grad=True)
    y = F.dropout(x, p=0.3)
    kept = (y.detach().numpy() != 0).mean()
    assert abs(kept - 0.7) < 0.01
    np.testing.assert_allclose(np.unique(y.detach().numpy()), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(y.detach().numpy().mean() - 1.0) < 0.02  # the 1/(1-p) scaling keeps the expectation
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # gradient uses the same mask
    assert F.dropout(x, 0.3, training=False) is x
    assert (F.dropout(x, 1.0).detach().numpy() == 0).all()
    assert y.dtype == gt.float32
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_dropout_is_reproducible_with_manual_seed():
    x = gt.ones(50, 50)
    gt.manual_seed(3)
    a = F.dropout(x).numpy()
    gt.manual_seed(3)
    np.testing.assert_array_equal(a, F.dropout(x).numpy())


def test_dropout2d_drops_whole_channels():
    gt.manual_seed(1)
    y = F.dropout2d(gt.ones(20, 30, 4, 5), p=0.5).numpy()
    per_channel = y.reshape(20, 30, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1)).all()
    assert 0.4 < (per_channel[..., 0] == 0).mean() < 0.6
    y1 = F.dropout1d(gt.ones(30, 6), p=0.5).numpy()  # unbatched (C, L)
    assert ((y1 == 0).all(-1) | (y1 == 2.0).all(-1)).all()


def test_alpha_dropout_keeps_mean_and_variance():
    gt.manual_seed(0)
    x = gt.randn(400, 500)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert F.alpha_dropout(x, 0.2) is x


def test_inplace_dropout_writes_into_the_input():
    gt.manual_seed(0)
    x = gt.ones(10, 10)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and (x.numpy() == 0).any()


@pytest.mark.parametrize("kw", [dict(), dict(padding_idx=2), dict(padding_idx=-1), dict(scale_grad_by_freq=True)])
def test_embedding_matches_torch(kw):
    weight = RNG.standard_normal((7, 4)).astype(np.float32)
    idx = RNG.integers(0, 7, (3, 5))
    idx[0, :2] = 6
    compare(lambda w: F.embedding(gt.tensor(idx), w, **kw), lambda w: TF.embedding(torch.tensor(idx), w, **kw),
            [weight], **TOL)


def test_embedding_max_norm_renormalizes_used_rows_in_place():
    weight = (RNG.standard_normal((6, 3)) * 3).astype(np.float32)
    idx = np.array([0, 2, 2, 5])
    wg, wt = gt.tensor(weight), torch.tensor(weight)
    F.embedding(gt.tensor(idx), wg, max_norm=1.0)
    TF.embedding(torch.tensor(idx), wt, max_norm=1.0)
    np.testing.assert_allclose(wg.numpy(), wt.numpy(), rtol=1e-5)


def test_embedding_gradcheck_and_errors():
    w = gt.tensor(RNG.standard_normal((5, 2)), requires_grad=True)
    idx = gt.tensor([[0, 4], [4, 1]])
    assert gradcheck(lambda a: F.embedding(idx, a), (w,))  # (padding_idx zeroes a row by design)
    with pytest.raises(RuntimeError, match="indices"):
        F.embedding(gt.tensor([0.0, 1.0]), w)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(gt.tensor([5]), w)
