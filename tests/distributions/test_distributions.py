"""Every distribution against torch.distributions (the oracle): log_prob, entropy, mean, variance, stddev, cdf
and their gradients with respect to the parameters, a float64 gradcheck of log_prob and entropy, shapes, expand,
validation errors, and the statistics of many draws (glasstorch's generator differs from torch's, so draws are
compared by their mean and variance, not value by value).

One table drives the comparisons: a case's `make(L, *params)` is run with L = glasstorch and L = torch.
"""
import math
import zlib

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.autograd import gradcheck

torch.set_num_threads(1)


def _spd(rng, shape, n=3):
    """Symmetric positive definite matrices (a batch of them)."""
    a = rng.standard_normal(tuple(shape) + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _tril(rng, shape, n=3):
    lower = np.tril(rng.standard_normal(tuple(shape) + (n, n)), -1)
    return lower + np.eye(n) * rng.uniform(0.5, 1.5, tuple(shape) + (n, 1))


CASES = {
    # name: (make(L, *params), params(rng), value(rng) in the support, methods)
    "Normal": (lambda L, loc, scale: L.distributions.Normal(loc, scale),
               lambda r: [r.standard_normal((2, 3)), r.uniform(0.5, 2, (3,))],
               lambda r: r.standard_normal((4, 2, 3)), ["mean", "variance", "stddev", "entropy", "cdf", "mode"]),
    "Bernoulli_probs": (lambda L, p: L.distributions.Bernoulli(probs=p),
                        lambda r: [r.uniform(0.1, 0.9, (2, 3))],
                        lambda r: r.integers(0, 2, (4, 2, 3)).astype(float), ["mean", "variance", "entropy"]),
    "Bernoulli_logits": (lambda L, x: L.distributions.Bernoulli(logits=x),
                         lambda r: [r.standard_normal((5,))],
                         lambda r: r.integers(0, 2, (5,)).astype(float), ["mean", "variance", "entropy"]),
    "Categorical_probs": (lambda L, p: L.distributions.Categorical(probs=p),
                          lambda r: [r.uniform(0.1, 1, (2, 4))],
                          lambda r: r.integers(0, 4, (3, 2)), ["entropy"]),
    "Categorical_logits": (lambda L, x: L.distributions.Categorical(logits=x),
                           lambda r: [r.standard_normal((4,))],
                           lambda r: r.integers(0, 4, (6,)), ["entropy"]),
    "OneHotCategorical": (lambda L, x: L.distributions.OneHotCategorical(logits=x),
                          lambda r: [r.standard_normal((2, 4))],
                          lambda r: np.eye(4)[r.integers(0, 4, (3, 2))], ["mean", "variance", "entropy"]),
    "Uniform": (lambda L, lo, w: L.distributions.Uniform(lo, lo + w),
                lambda r: [r.uniform(-1, -0.5, (2, 3)), r.uniform(1.6, 2, (2, 3))],
                lambda r: r.uniform(-0.4, 0.5, (2, 3)), ["mean", "variance", "stddev", "entropy"]),
    "Exponential": (lambda L, rate: L.distributions.Exponential(rate),
                    lambda r: [r.uniform(0.5, 2, (2, 3))],
                    lambda r: r.uniform(0.1, 3, (4, 2, 3)), ["mean", "variance", "stddev", "entropy", "cdf"]),
    "Beta": (lambda L, a, b: L.distributions.Beta(a, b),
             lambda r: [r.uniform(0.5, 3, (2, 3)), r.uniform(0.5, 3, (3,))],
             lambda r: r.uniform(0.05, 0.95, (4, 2, 3)), ["mean", "variance", "stddev", "entropy", "mode"]),
    "MVN_cov": (lambda L, loc, cov: L.distributions.MultivariateNormal(loc, covariance_matrix=cov),
                lambda r: [r.standard_normal((2, 3)), _spd(r, (2,))],
                lambda r: r.standard_normal((4, 2, 3)), ["mean", "variance", "stddev", "entropy"]),
    "MVN_tril": (lambda L, loc, tril: L.distributions.MultivariateNormal(loc, scale_tril=tril),
                 lambda r: [r.standard_normal((3,)), _tril(r, (2,))],
                 lambda r: r.standard_normal((2, 3)), ["mean", "variance", "entropy"]),
    "MVN_precision": (lambda L, loc, prec: L.distributions.MultivariateNormal(loc, precision_matrix=prec),
                      lambda r: [r.standard_normal((3,)), _spd(r, ())],
                      lambda r: r.standard_normal((5, 3)), ["mean", "variance", "entropy"]),
    "Independent": (lambda L, loc, scale: L.distributions.Independent(L.distributions.Normal(loc, scale), 1),
                    lambda r: [r.standard_normal((2, 3)), r.uniform(0.5, 2, (2, 3))],
                    lambda r: r.standard_normal((4, 2, 3)), ["mean", "variance", "entropy"]),
}
# the integer parameters of the discrete cases' values
INTEGER_VALUES = {"Categorical_probs", "Categorical_logits"}


def _setup(name, dtype, L, requires_grad=True):
    make, params, value, methods = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays, value_array = params(rng), value(rng)
    np_dtype = {"float32": np.float32, "float64": np.float64}[dtype]
    ps = [L.tensor(a.astype(np_dtype), requires_grad=requires_grad) for a in arrays]
    v = L.tensor(value_array.astype(np.int64 if name in INTEGER_VALUES else np_dtype))
    return make, ps, v, methods


def _outputs(L, name, make, ps, v):
    d = make(L, *ps)
    out = {"log_prob": d.log_prob(v)}
    for method in CASES[name][3]:
        attr = getattr(d, method)
        out[method] = attr(v) if method == "cdf" else attr() if method == "entropy" else attr
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name, dtype):
    rtol, atol = (2e-5, 2e-5) if dtype == "float32" else (1e-9, 1e-9)
    make, g_ps, g_v, _ = _setup(name, dtype, glasstorch)
    _, t_ps, t_v, _ = _setup(name, dtype, torch)
    g_out, t_out = _outputs(glasstorch, name, make, g_ps, g_v), _outputs(torch, name, make, t_ps, t_v)
    for key in t_out:
        g, t = g_out[key], t_out[key]
        assert tuple(g.shape) == tuple(t.shape), f"{key}: shape {tuple(g.shape)} != torch's {tuple(t.shape)}"
        assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], key
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol, err_msg=key)
        if not t.requires_grad:
            continue
        upstream = np.random.default_rng(3).standard_normal(tuple(t.shape))
        t_grads = torch.autograd.grad(t, t_ps, torch.tensor(upstream, dtype=t.dtype), retain_graph=True,
                                      allow_unused=True)
        g_grads = glasstorch.autograd.grad(g, g_ps, glasstorch.tensor(upstream, dtype=g.dtype), retain_graph=True,
                                           allow_unused=True)
        for i, (gg, tg) in enumerate(zip(g_grads, t_grads)):
            if tg is None:
                assert gg is None or not np.any(gg.numpy()), f"{key}: torch has no gradient for param {i}"
                continue
            np.testing.assert_allclose(gg.numpy(), tg.numpy(), rtol=rtol * 10, atol=atol * 10,
                                       err_msg=f"gradient of {key} wrt param {i}")


@pytest.mark.parametrize("name", [n for n in CASES if not n.startswith("MVN_precision")])
def test_log_prob_and_entropy_gradcheck_float64(name):
    make, ps, v, methods = _setup(name, "float64", glasstorch)

    def f(*params):
        if name == "MVN_cov":  # (a covariance perturbed entry by entry is no longer symmetric: symmetrise it)
            params = (params[0], (params[1] + params[1].mT) / 2)
        if name == "MVN_tril":  # (only the lower triangle is a parameter)
            params = (params[0], params[1].tril())
        d = make(glasstorch, *params)
        return (d.log_prob(v),) + ((d.entropy(),) if "entropy" in methods else ())
    assert gradcheck(f, ps, eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("name", list(CASES))
def test_shapes_sample_and_expand(name):
    make, ps, v, _ = _setup(name, "float32", glasstorch, requires_grad=False)
    _, t_ps, _, _ = _setup(name, "float32", torch, requires_grad=False)
    d, t = make(glasstorch, *ps), make(torch, *t_ps)
    assert tuple(d.batch_shape) == tuple(t.batch_shape) and tuple(d.event_shape) == tuple(t.event_shape)
    s = d.sample((5, 2))
    assert tuple(s.shape) == tuple(t.sample((5, 2)).shape) and s.dtype.name == str(t.sample().dtype).split(".")[1]
    assert not s.requires_grad
    assert tuple(d.log_prob(s).shape) == (5, 2) + tuple(d.batch_shape)
    assert d.has_rsample == t.has_rsample
    big = (4,) + tuple(d.batch_shape)
    e, te = d.expand(big), t.expand(big)
    assert tuple(e.batch_shape) == tuple(te.batch_shape)
    x = e.sample()
    assert tuple(x.shape) == tuple(te.sample().shape)
    np.testing.assert_allclose(e.log_prob(x).numpy(), te.log_prob(torch.tensor(x.numpy())).numpy(), rtol=1e-5,
                               atol=1e-5)


def _moments(samples):
    return samples.mean(0), samples.var(0)


@pytest.mark.parametrize("name", ["Normal", "Bernoulli_probs", "Uniform", "Exponential", "Beta", "MVN_cov",
                                  "OneHotCategorical"])
def test_many_draws_have_the_distributions_mean_and_variance(name):
    glasstorch.manual_seed(0)
    make, ps, _, _ = _setup(name, "float64", glasstorch, requires_grad=False)
    d = make(glasstorch, *ps)
    n = 40000
    samples = d.sample((n,)).numpy()
    mean, var = d.mean.numpy(), d.variance.numpy()
    # 5 standard errors of the sample mean and of the sample variance (the 4th moment bounded by 10 var^2)
    np.testing.assert_array_less(np.abs(samples.mean(0) - mean), 5 * np.sqrt(var / n) + 1e-12)
    np.testing.assert_array_less(np.abs(samples.var(0) - var), 5 * np.sqrt(10 * var ** 2 / n) + 1e-12)


def test_categorical_draws_follow_the_probabilities():
    glasstorch.manual_seed(0)
    probs = glasstorch.tensor([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    s = glasstorch.distributions.Categorical(probs=probs).sample((20000,))
    assert s.dtype == glasstorch.int64 and tuple(s.shape) == (20000, 2)
    freq = np.stack([(s.numpy() == k).mean(0) for k in range(3)], -1)
    np.testing.assert_allclose(freq, probs.numpy(), atol=0.015)


def test_mvn_draws_have_the_covariance():
    glasstorch.manual_seed(0)
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    d = glasstorch.distributions.MultivariateNormal(glasstorch.tensor([1.0, -1.0], dtype=glasstorch.float64),
                                                    glasstorch.tensor(cov))
    s = d.sample((40000,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.06)


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "MVN_cov", "MVN_tril", "Independent", "Beta"])
def test_rsample_is_differentiable(name):
    """d E[f(x)] / d params by the reparameterisation trick: the gradient of mean(rsample) is d mean / d params."""
    glasstorch.manual_seed(1)
    make, ps, _, _ = _setup(name, "float64", glasstorch)
    d = make(glasstorch, *ps)
    x = d.rsample((20000,))
    assert x.requires_grad
    got = glasstorch.autograd.grad(x.mean(0).sum(), ps, allow_unused=True)
    expected = glasstorch.autograd.grad(d.mean.sum(), ps, allow_unused=True)
    for g, e in zip(got, expected):
        if e is None:
            continue
        np.testing.assert_allclose(g.numpy(), e.numpy(), atol=0.05)


@pytest.mark.parametrize("b", [0.7, 2.5])
def test_beta_rsample_gradient_is_the_implicit_one(b):
    """Beta(1, b) has the CDF 1 - (1 - z)^b, so a draw z = F^-1(u) moves with b as dz/db = (1 - z) log(1 - z) / b."""
    glasstorch.manual_seed(3)
    conc0 = glasstorch.tensor(b, dtype=glasstorch.float64, requires_grad=True)
    d = glasstorch.distributions.Beta(glasstorch.tensor(1.0, dtype=glasstorch.float64), conc0)
    z = d.rsample((50,))
    (grad,) = glasstorch.autograd.grad(z.sum(), [conc0])
    zs = z.detach().numpy()
    np.testing.assert_allclose(grad.item(), np.sum((1 - zs) * np.log1p(-zs) / b), rtol=1e-6)


def test_betainc_matches_scipy():
    special = pytest.importorskip("scipy.special")  # (installed with scikit-learn)
    from glasstorch.ops.special import betainc_array
    rng = np.random.default_rng(0)
    a, b, x = rng.uniform(0.2, 20, 500), rng.uniform(0.2, 20, 500), rng.uniform(0, 1, 500)
    np.testing.assert_allclose(betainc_array(np, a, b, x), special.betainc(a, b, x), rtol=1e-9, atol=1e-13)


def test_sample_reproducible_with_manual_seed():
    d = glasstorch.distributions.Normal(glasstorch.zeros(3), glasstorch.ones(3))
    glasstorch.manual_seed(5)
    a = d.sample((2,))
    glasstorch.manual_seed(5)
    np.testing.assert_array_equal(a.numpy(), d.sample((2,)).numpy())


@pytest.mark.parametrize("make", [
    lambda L: L.distributions.Normal(L.tensor([0.0]), L.tensor([-1.0])),
    lambda L: L.distributions.Bernoulli(probs=L.tensor([0.5, 1.2])),
    lambda L: L.distributions.Categorical(probs=L.tensor([0.5, -0.1, 0.6])),
    lambda L: L.distributions.Uniform(L.tensor(1.0), L.tensor(0.0)),
    lambda L: L.distributions.Exponential(L.tensor([0.0])),
    lambda L: L.distributions.Beta(L.tensor([1.0]), L.tensor([-2.0])),
    lambda L: L.distributions.MultivariateNormal(L.zeros(2), L.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda L: L.distributions.MultivariateNormal(L.zeros(2), scale_tril=L.tensor([[1.0, 0.0], [2.0, -1.0]])),
])
def test_invalid_parameters_raise_like_torch(make):
    with pytest.raises(ValueError) as theirs:
        make(torch)
    with pytest.raises(ValueError) as ours:
        make(glasstorch)
    constraint = lambda e: str(e.value).split("to satisfy the constraint ")[1].split(",")[0]  # noqa: E731
    assert constraint(ours) in constraint(theirs)  # (torch's Beta: IndependentConstraint(GreaterThan(..), 1))
    if "Dirichlet" not in str(theirs.value):  # (torch checks the Beta's parameters stacked, in a Dirichlet)
        head = lambda e: str(e.value).split(" of distribution")[0]  # noqa: E731  (Size prints differently)
        assert head(ours) == head(theirs)


def test_validate_args_false_skips_the_checks():
    d = glasstorch.distributions.Normal(glasstorch.tensor([0.0]), glasstorch.tensor([-1.0]), validate_args=False)
    assert math.isnan(d.log_prob(glasstorch.tensor([0.0])).item())


@pytest.mark.parametrize("make,value", [
    (lambda L: L.distributions.Bernoulli(0.3), lambda L: L.tensor(0.5)),
    (lambda L: L.distributions.Categorical(logits=L.zeros(3)), lambda L: L.tensor(3)),
    (lambda L: L.distributions.Exponential(1.0), lambda L: L.tensor(-1.0)),
    (lambda L: L.distributions.Beta(2.0, 2.0), lambda L: L.tensor(1.5)),
    (lambda L: L.distributions.Normal(0.0, 1.0), lambda L: 1.0),
    (lambda L: L.distributions.MultivariateNormal(L.zeros(2), L.eye(2)), lambda L: L.zeros(3)),
])
def test_values_outside_the_support_raise_like_torch(make, value):
    with pytest.raises(ValueError) as theirs:
        make(torch).log_prob(value(torch))
    with pytest.raises(ValueError) as ours:
        make(glasstorch).log_prob(value(glasstorch))
    assert str(ours.value).split(" (")[0].split(":")[0] == str(theirs.value).split(" (")[0].split(":")[0]


@pytest.mark.parametrize("call", [
    lambda L: L.distributions.Bernoulli(),
    lambda L: L.distributions.Bernoulli(probs=L.tensor(0.5), logits=L.tensor(0.0)),
    lambda L: L.distributions.Categorical(probs=L.tensor(0.5)),
    lambda L: L.distributions.MultivariateNormal(L.zeros(2)),
    lambda L: L.distributions.MultivariateNormal(L.zeros(2), L.eye(2), scale_tril=L.eye(2)),
    lambda L: L.distributions.MultivariateNormal(L.tensor(0.0), L.eye(1)),
])
def test_bad_arguments_raise_like_torch(call):
    with pytest.raises(ValueError) as theirs:
        call(torch)
    with pytest.raises(ValueError) as ours:
        call(glasstorch)
    assert str(ours.value) == str(theirs.value)


def test_repr_support_and_arg_constraints_like_torch():
    for L in (glasstorch, torch):
        pass
    g = glasstorch.distributions.Normal(0.0, 1.0)
    t = torch.distributions.Normal(0.0, 1.0)
    assert repr(g) == repr(t)
    for name in ("Normal", "Bernoulli_probs", "Categorical_probs", "Uniform", "Exponential", "Beta", "MVN_cov"):
        make, ps, _, _ = _setup(name, "float32", glasstorch, requires_grad=False)
        _, t_ps, _, _ = _setup(name, "float32", torch, requires_grad=False)
        d, td = make(glasstorch, *ps), make(torch, *t_ps)
        assert type(d.support).__name__ == type(td.support).__name__, name
        assert sorted(d.arg_constraints) == sorted(td.arg_constraints), name
        assert [type(c).__name__ for c in d.arg_constraints.values()] == \
            [type(c).__name__ for c in td.arg_constraints.values()], name


def test_enumerate_support_like_torch():
    for make in (lambda L: L.distributions.Bernoulli(probs=L.tensor([0.2, 0.6])),
                 lambda L: L.distributions.Categorical(logits=L.zeros(2, 3)),
                 lambda L: L.distributions.OneHotCategorical(logits=L.zeros(2, 3))):
        for expand in (True, False):
            g, t = make(glasstorch).enumerate_support(expand), make(torch).enumerate_support(expand)
            np.testing.assert_array_equal(g.numpy(), t.numpy())
            assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("name", list(CASES))
def test_on_the_device_values_stay_there_and_equal_the_cpus(name, device):
    """The `device` fixture: on a GPU, parameters, draws, log_prob, entropy and gradients stay on it."""
    make, ps, v, methods = _setup(name, "float32", glasstorch)
    on = [glasstorch.tensor(p.detach().numpy(), requires_grad=True, device=device) for p in ps]
    d_cpu, d = make(glasstorch, *ps), make(glasstorch, *on)
    x = v.to(device)
    lp = d.log_prob(x)
    assert lp.device.type == device and d.sample((2,)).device.type == device
    np.testing.assert_allclose(lp.detach().cpu().numpy(), d_cpu.log_prob(v).detach().numpy(), rtol=1e-4, atol=1e-5)
    if d.has_rsample:
        assert d.rsample().device.type == device
    total = lp.sum() + (d.entropy().sum() if "entropy" in methods else 0)
    grads = glasstorch.autograd.grad(total, on, allow_unused=True)
    assert all(g is None or g.device.type == device for g in grads)
    assert glasstorch.distributions.kl_divergence(d, d).device.type == device
