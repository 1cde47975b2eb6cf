"""nn.init and the layers' default initialisation, compared with torch's distributions.

Random draws cannot match torch's bit for bit (different generators), so the checks are exact where
the result is deterministic (gains, fans, eye_, dirac_, constants) and statistical elsewhere: the
support (bounds) and the standard deviation of a large tensor agree with torch's within a few percent.
"""
import math

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import nn


def values(t):
    return t.detach().numpy().astype(np.float64).ravel()


def assert_same_distribution(ours, theirs, bounded):
    """Same quantiles and std as torch's sample (tolerance shrinking with the sample size); a uniform init
    (bounded) must also stay inside torch's support."""
    a, b = values(ours), values(theirs)
    n = a.size
    scale = b.std()
    tol = max(0.05, 10 / np.sqrt(n))
    assert a.std() == pytest.approx(scale, rel=tol)
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    np.testing.assert_allclose(np.quantile(a, q), np.quantile(b, q), atol=tol * scale)
    if bounded:
        slack = 10 * (b.max() - b.min()) / n
        assert a.min() >= b.min() - slack and a.max() <= b.max() + slack


@pytest.mark.parametrize("name, param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                         ("leaky_relu", 3), ("selu", None), ("conv_transpose2d", None)])
def test_calculate_gain_matches_torch(name, param):
    assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        nn.init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 5), (8, 4, 3, 3), (6, 2, 7), (2, 3, 2, 2, 2)])
def test_fans_match_torch(shape):
    assert nn.init._calculate_fan_in_and_fan_out(glasstorch.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_of_a_vector_raises():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(glasstorch.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_uniform_(glasstorch.empty(3, 3), mode="fan_avg")


SHAPE = (256, 128, 3)
CASES = [
    ("uniform_", dict(a=-0.3, b=0.7)),
    ("normal_", dict(mean=0.5, std=0.2)),
    ("xavier_uniform_", dict()),
    ("xavier_uniform_", dict(gain=2.0)),
    ("xavier_normal_", dict(gain=0.5)),
    ("kaiming_uniform_", dict()),
    ("kaiming_uniform_", dict(a=math.sqrt(5))),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_", dict()),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu")),
    ("trunc_normal_", dict(mean=0.1, std=1.0, a=-1.0, b=1.5)),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_random_init_distribution_matches_torch(name, kwargs):
    glasstorch.manual_seed(0)
    torch.manual_seed(0)
    ours = glasstorch.empty(*SHAPE)
    theirs = torch.empty(*SHAPE)
    out = getattr(nn.init, name)(ours, **kwargs)
    getattr(torch.nn.init, name)(theirs, **kwargs)
    assert out is ours and ours.dtype == glasstorch.float32
    assert_same_distribution(ours, theirs, bounded="uniform" in name or "trunc" in name)


def test_init_fills_parameters_in_place_without_graph():
    p = nn.Parameter(glasstorch.zeros(20, 10))
    version = p._version
    nn.init.kaiming_normal_(p)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None and p._version > version
    assert p.abs().sum().item() > 0


def test_init_is_reproducible_with_seed_and_generator():
    glasstorch.manual_seed(3)
    a = nn.init.normal_(glasstorch.empty(4, 4)).numpy().copy()
    glasstorch.manual_seed(3)
    b = nn.init.normal_(glasstorch.empty(4, 4)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = glasstorch.Generator().manual_seed(7), glasstorch.Generator().manual_seed(7)
    c = nn.init.xavier_uniform_(glasstorch.empty(4, 4), generator=g1).numpy()
    d = nn.init.xavier_uniform_(glasstorch.empty(4, 4), generator=g2).numpy()
    np.testing.assert_array_equal(c, d)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    w = nn.init.orthogonal_(glasstorch.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1).astype(np.float64)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-5)


def test_deterministic_inits_equal_torch():
    pairs = [
        (nn.init.eye_(glasstorch.empty(3, 5)), torch.nn.init.eye_(torch.empty(3, 5))),
        (nn.init.dirac_(glasstorch.empty(6, 3, 3, 3)), torch.nn.init.dirac_(torch.empty(6, 3, 3, 3))),
        (nn.init.dirac_(glasstorch.empty(4, 2, 3), groups=2), torch.nn.init.dirac_(torch.empty(4, 2, 3), groups=2)),
        (nn.init.constant_(glasstorch.empty(2, 3), 0.3), torch.nn.init.constant_(torch.empty(2, 3), 0.3)),
        (nn.init.ones_(glasstorch.empty(2)), torch.nn.init.ones_(torch.empty(2))),
        (nn.init.zeros_(glasstorch.empty(2)), torch.nn.init.zeros_(torch.empty(2))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.eye_(glasstorch.empty(2, 2, 2))


# ---------------------------------------------------------------------------------------------- layer defaults
def _layers(nn):
    return {
        "linear": nn.Linear(400, 300),
        "conv2d": nn.Conv2d(16, 64, 5),
        "conv2d_groups": nn.Conv2d(32, 64, 3, groups=4),
        "conv1d": nn.Conv1d(20, 100, 7),
        "conv_transpose2d": nn.ConvTranspose2d(48, 64, 4),
        "bilinear": nn.Bilinear(30, 40, 50),
        "embedding": nn.Embedding(1000, 64, padding_idx=3),
    }


@pytest.mark.parametrize("name", list(_layers(torch.nn)))
def test_default_layer_init_matches_torch(name):
    glasstorch.manual_seed(0)
    torch.manual_seed(0)
    ours = _layers(nn)[name]
    theirs = _layers(torch.nn)[name]
    for (pname, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape) and p.dtype == glasstorch.float32, pname
        assert_same_distribution(p, q, bounded=name != "embedding")
    if name == "embedding":
        assert ours.weight[3].abs().sum().item() == 0.0


def test_default_affine_and_running_stats_match_torch():
    def build(nn):
        return [nn.BatchNorm1d(7), nn.BatchNorm2d(5), nn.LayerNorm((3, 4)), nn.GroupNorm(2, 6), nn.PReLU(3)]
    for ours, theirs in zip(build(nn), build(torch.nn)):
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
            assert a.dtype.name == str(b.dtype).replace("torch.", ""), k


def test_reset_parameters_redraws():
    m = nn.Linear(10, 10)
    before = m.weight.detach().numpy().copy()
    m.reset_parameters()
    assert not np.array_equal(before, m.weight.detach().numpy())
