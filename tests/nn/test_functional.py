"""nn.functional: activations, regression losses and helpers against torch (the heavy ops have tests/ops/;
every activation is also in tests/ops/test_op_table.py, with float64 gradchecks and double backward)."""
import numpy as np
import pytest
import torch

import glasstorch as gt
import glasstorch.nn.functional as F
from helpers import compare

RNG = np.random.default_rng(0)
TF = torch.nn.functional


ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}), ("selu", {}),
    ("celu", {"alpha": 1.5}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("sigmoid", {}), ("tanh", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}), ("hardtanh", {"min_val": -2.0,
                                                                                                "max_val": 0.5}),
    ("hardsigmoid", {}), ("hardswish", {}), ("logsigmoid", {}), ("softsign", {}), ("tanhshrink", {}),
    ("softmax", {"dim": 1}), ("log_softmax", {"dim": 0}), ("softmin", {"dim": 1}), ("glu", {"dim": 1}),
    ("threshold", {"threshold": 0.1, "value": -3.0}),
]


@pytest.mark.parametrize("name,kw", ACTIVATIONS, ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, k in ACTIVATIONS])
def test_activation_matches_torch(name, kw):
    x = (RNG.standard_normal((6, 8)) * 4).astype(np.float32)
    x[0, :4] = [0.0, 6.0, -1.0, 0.5]  # the kinks
    compare(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), [x])


def test_activations_stay_finite_for_extreme_inputs():
    x = gt.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], requires_grad=True)
    for fn in (F.elu, F.softplus, F.logsigmoid, F.gelu, F.silu):
        x.grad = None
        y = fn(x)
        y.sum().backward()
        assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all(), fn.__name__


def test_inplace_activations_modify_their_input():
    for fn in (F.relu, F.leaky_relu, F.elu, F.hardtanh, F.relu6, F.silu):
        x = gt.tensor(RNG.standard_normal(10).astype(np.float32) * 3)
        expected = fn(x.clone()).numpy()
        assert fn(x, inplace=True) is x
        np.testing.assert_allclose(x.numpy(), expected)


def test_prelu_matches_torch():
    x = RNG.standard_normal((4, 3, 5)).astype(np.float32)
    compare(F.prelu, TF.prelu, [x, RNG.random(3).astype(np.float32)])
    compare(F.prelu, TF.prelu, [x, np.array([0.25], dtype=np.float32)])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "soft_margin_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pointwise_losses(name, reduction):
    a = RNG.standard_normal((5, 4)).astype(np.float32)
    b = np.sign(RNG.standard_normal((5, 4))).astype(np.float32) if name == "soft_margin_loss" else \
        RNG.standard_normal((5, 4)).astype(np.float32)
    inputs, constants = ([a], (b,)) if name == "soft_margin_loss" else ([a, b], ())
    compare(lambda x, y: getattr(F, name)(x, y, reduction=reduction),
            lambda x, y: getattr(TF, name)(x, y, reduction=reduction), inputs, constants)


@pytest.mark.parametrize("kw", [dict(delta=0.3), dict(beta=0.3), dict(beta=0.0)])
def test_huber_and_smooth_l1_parameters(kw):
    a, b = RNG.standard_normal((6,)).astype(np.float32), RNG.standard_normal((6,)).astype(np.float32)
    name = "huber_loss" if "delta" in kw else "smooth_l1_loss"
    compare(lambda x, y: getattr(F, name)(x, y, **kw), lambda x, y: getattr(TF, name)(x, y, **kw), [a, b])


def test_mse_broadcast_warns_like_torch():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(gt.zeros(3, 1), gt.zeros(3))


@pytest.mark.parametrize("legacy", [dict(size_average=False), dict(reduce=False), dict(size_average=True, reduce=True)])
def test_mse_legacy_reduction_arguments_warn_and_match_torch(legacy):
    a, b = RNG.standard_normal((4, 3)).astype(np.float32), RNG.standard_normal((4, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ours = F.mse_loss(gt.tensor(a), gt.tensor(b), **legacy)
    with pytest.warns(UserWarning):
        theirs = TF.mse_loss(torch.tensor(a), torch.tensor(b), **legacy)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_mse_bad_reduction_and_non_tensor_target():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(gt.zeros(3), gt.zeros(3), reduction="average")
    x = gt.tensor([1.0, 2.0, 4.0], requires_grad=True)
    loss = F.mse_loss(x, np.array([1.0, 0.0, 0.0], dtype=np.float32))  # an array target is taken as a tensor
    loss.backward()
    np.testing.assert_allclose(loss.item(), 20 / 3, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4 / 3, 8 / 3], rtol=1e-6)


def test_linear_takes_torch_keyword_names():
    x, w, b = (RNG.standard_normal(s).astype(np.float32) for s in [(2, 3), (4, 3), (4,)])
    ours = F.linear(input=gt.tensor(x), weight=gt.tensor(w), bias=gt.tensor(b))
    theirs = TF.linear(input=torch.tensor(x), weight=torch.tensor(w), bias=torch.tensor(b))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(F.linear(x, gt.tensor(w)).numpy(), x @ w.T, rtol=1e-6)  # an array input too


@pytest.mark.parametrize("reduction,log_target", [("batchmean", False), ("sum", False), ("none", True)])
def test_kl_div(reduction, log_target):
    logp = np.log(RNG.dirichlet(np.ones(5), 4)).astype(np.float32)
    q = RNG.dirichlet(np.ones(5), 4).astype(np.float32)
    q[0, 0] = 0.0  # 0 log 0 = 0
    target = np.log(q + 1e-3) if log_target else q
    compare(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
            lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target), [logp],
            (target.astype(np.float32),))  # (torch's gradient for a zero target is NaN; ours is finite)


def test_ranking_and_embedding_losses():
    a, b = RNG.standard_normal((5, 3)).astype(np.float32), RNG.standard_normal((5, 3)).astype(np.float32)
    y = np.sign(RNG.standard_normal(5)).astype(np.float32)
    compare(lambda x1, x2, t: F.margin_ranking_loss(x1[:, 0], x2[:, 0], t, margin=0.3),
            lambda x1, x2, t: TF.margin_ranking_loss(x1[:, 0], x2[:, 0], t, margin=0.3), [a, b], (y,))
    compare(lambda x1, x2, t: F.cosine_embedding_loss(x1, x2, t, margin=0.1),
            lambda x1, x2, t: TF.cosine_embedding_loss(x1, x2, t, margin=0.1), [a, b], (y,))


def test_poisson_and_gaussian_nll():
    a = RNG.standard_normal((4, 3)).astype(np.float32)
    counts = RNG.integers(0, 5, (4, 3)).astype(np.float32)
    compare(lambda x, t: F.poisson_nll_loss(x, t, full=True), lambda x, t: TF.poisson_nll_loss(x, t, full=True),
            [a], (counts,))
    compare(lambda x, t: F.poisson_nll_loss(x, t, log_input=False),
            lambda x, t: TF.poisson_nll_loss(x, t, log_input=False), [np.abs(a) + 0.1], (counts,))
    var = RNG.random((4, 3)).astype(np.float32) + 0.1
    compare(lambda x, v, t: F.gaussian_nll_loss(x, t, v, full=True),
            lambda x, v, t: TF.gaussian_nll_loss(x, t, v, full=True), [a, var], (counts,))


def test_similarities_and_normalize():
    a, b = RNG.standard_normal((4, 6)).astype(np.float32), RNG.standard_normal((4, 6)).astype(np.float32)
    compare(F.cosine_similarity, TF.cosine_similarity, [a, b])
    compare(lambda x, y: F.cosine_similarity(x, y, dim=0), lambda x, y: TF.cosine_similarity(x, y, dim=0), [a, b])
    compare(lambda x: F.normalize(x, p=1.0, dim=0), lambda x: TF.normalize(x, p=1.0, dim=0), [a])
    compare(F.normalize, TF.normalize, [a])
    compare(F.pairwise_distance, TF.pairwise_distance, [a, b])


def test_linear_and_bilinear():
    x, w, bias = (RNG.standard_normal((5, 4)).astype(np.float32), RNG.standard_normal((3, 4)).astype(np.float32),
                  RNG.standard_normal(3).astype(np.float32))
    compare(F.linear, TF.linear, [x, w, bias])
    x2, wb = RNG.standard_normal((5, 2)).astype(np.float32), RNG.standard_normal((3, 4, 2)).astype(np.float32)
    compare(F.bilinear, TF.bilinear, [x, x2, wb, bias])


def test_one_hot():
    t = gt.tensor([[0, 3], [2, 1]])
    out = F.one_hot(t)
    assert out.dtype == gt.int64 and out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out.numpy(), TF.one_hot(torch.tensor([[0, 3], [2, 1]])).numpy())
    assert F.one_hot(t, 6).shape == (2, 2, 6)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(t, 3)


def test_functional_has_what_the_layers_use():
    names = ["linear", "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
             "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "dropout", "dropout2d",
             "batch_norm", "layer_norm", "group_norm", "embedding", "pad", "one_hot", "cross_entropy", "nll_loss",
             "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "mse_loss", "l1_loss"]
    for name in names:
        assert callable(getattr(F, name)), name
