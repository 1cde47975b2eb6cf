"""kl_divergence against torch: the value and its gradient with respect to both distributions' parameters,
for every pair registered; a float64 gradcheck; NotImplementedError for a pair nobody registered."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.autograd import gradcheck

torch.set_num_threads(1)
R = np.random.default_rng(7)


def _spd(n=3):
    a = R.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


PAIRS = {
    # name: (make_p(L, *params), make_q(L, *params), p's params, q's params)
    "Normal": (lambda L, m, s: L.distributions.Normal(m, s), lambda L, m, s: L.distributions.Normal(m, s),
               [R.standard_normal(4), R.uniform(0.5, 2, 4)], [R.standard_normal(4), R.uniform(0.5, 2, 4)]),
    "Bernoulli": (lambda L, p: L.distributions.Bernoulli(probs=p), lambda L, x: L.distributions.Bernoulli(logits=x),
                  [R.uniform(0.1, 0.9, 4)], [R.standard_normal(4)]),
    "Categorical": (lambda L, x: L.distributions.Categorical(logits=x),
                    lambda L, p: L.distributions.Categorical(probs=p),
                    [R.standard_normal((2, 3))], [R.uniform(0.1, 1, (2, 3))]),
    "OneHotCategorical": (lambda L, x: L.distributions.OneHotCategorical(logits=x),
                          lambda L, x: L.distributions.OneHotCategorical(logits=x),
                          [R.standard_normal((2, 3))], [R.standard_normal((2, 3))]),
    "Uniform": (lambda L, lo, hi: L.distributions.Uniform(lo, hi), lambda L, lo, hi: L.distributions.Uniform(lo, hi),
                [np.array([0.0, 0.5]), np.array([1.0, 2.0])], [np.array([-1.0, 0.0]), np.array([2.0, 2.5])]),
    "Exponential": (lambda L, r: L.distributions.Exponential(r), lambda L, r: L.distributions.Exponential(r),
                    [R.uniform(0.5, 2, 3)], [R.uniform(0.5, 2, 3)]),
    "Beta": (lambda L, a, b: L.distributions.Beta(a, b), lambda L, a, b: L.distributions.Beta(a, b),
             [R.uniform(0.5, 3, 3), R.uniform(0.5, 3, 3)], [R.uniform(0.5, 3, 3), R.uniform(0.5, 3, 3)]),
    "MultivariateNormal": (
        lambda L, m, c: L.distributions.MultivariateNormal(m, covariance_matrix=(c + c.mT) / 2),
        lambda L, m, t: L.distributions.MultivariateNormal(m, scale_tril=t.tril()),
        [R.standard_normal((2, 3)), _spd()],
        [R.standard_normal(3), np.tril(R.standard_normal((3, 3))) + 2 * np.eye(3)]),
    "Independent": (lambda L, m, s: L.distributions.Independent(L.distributions.Normal(m, s), 1),
                    lambda L, m, s: L.distributions.Independent(L.distributions.Normal(m, s), 1),
                    [R.standard_normal((2, 3)), R.uniform(0.5, 2, (2, 3))],
                    [R.standard_normal((2, 3)), R.uniform(0.5, 2, (2, 3))]),
    "Exponential_Normal": (lambda L, r: L.distributions.Exponential(r), lambda L, m, s: L.distributions.Normal(m, s),
                           [R.uniform(0.5, 2, 3)], [R.standard_normal(3), R.uniform(0.5, 2, 3)]),
    "Uniform_Normal": (lambda L, lo, hi: L.distributions.Uniform(lo, hi), lambda L, m, s: L.distributions.Normal(m, s),
                       [np.array([0.0, 0.5]), np.array([1.0, 2.0])], [R.standard_normal(2), R.uniform(0.5, 2, 2)]),
    "Normal_Uniform": (lambda L, m, s: L.distributions.Normal(m, s), lambda L, lo, hi: L.distributions.Uniform(lo, hi),
                       [R.standard_normal(2), R.uniform(0.5, 2, 2)], [np.array([0.0, 0.5]), np.array([1.0, 2.0])]),
}


def _kl(L, name, dtype):
    make_p, make_q, pp, qp = PAIRS[name]
    p_in = [L.tensor(a, dtype=dtype(L), requires_grad=True) for a in pp]
    q_in = [L.tensor(a, dtype=dtype(L), requires_grad=True) for a in qp]
    return p_in + q_in, L.distributions.kl_divergence(make_p(L, *p_in), make_q(L, *q_in))


@pytest.mark.parametrize("dtype", [lambda L: L.float32, lambda L: L.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(PAIRS))
def test_kl_and_its_gradients_match_torch(name, dtype):
    rtol = 2e-5 if dtype(torch) == torch.float32 else 1e-9
    g_in, g = _kl(glasstorch, name, dtype)
    t_in, t = _kl(torch, name, dtype)
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=rtol)
    if not t.requires_grad:
        return
    w = R.standard_normal(tuple(t.shape))
    g_grads = glasstorch.autograd.grad((g * glasstorch.tensor(w, dtype=g.dtype)).sum(), g_in, allow_unused=True)
    t_grads = torch.autograd.grad((t * torch.tensor(w, dtype=t.dtype)).sum(), t_in, allow_unused=True)
    for i, (gg, tg) in enumerate(zip(g_grads, t_grads)):
        if tg is None:
            assert gg is None or not np.any(gg.numpy()), f"torch has no gradient for input {i}"
        else:
            np.testing.assert_allclose(gg.numpy(), tg.numpy(), rtol=rtol * 10, atol=rtol * 10, err_msg=f"input {i}")


@pytest.mark.parametrize("name", ["Normal", "Bernoulli", "Categorical", "Exponential", "Beta", "MultivariateNormal",
                                  "Independent", "Uniform_Normal"])
def test_kl_gradcheck_float64(name):
    make_p, make_q, pp, qp = PAIRS[name]
    inputs = [glasstorch.tensor(a, requires_grad=True) for a in pp + qp]
    n = len(pp)
    assert gradcheck(lambda *xs: glasstorch.distributions.kl_divergence(make_p(glasstorch, *xs[:n]),
                                                                        make_q(glasstorch, *xs[n:])), inputs)


def test_infinite_where_q_rules_out_p():
    D = glasstorch.distributions
    kl = D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(0.0, 1.0))
    assert kl.item() == float("inf")
    kl = D.kl_divergence(D.Categorical(probs=glasstorch.tensor([0.5, 0.5])),
                         D.Categorical(probs=glasstorch.tensor([1.0, 0.0])))
    assert kl.item() == torch.distributions.kl_divergence(
        torch.distributions.Categorical(probs=torch.tensor([0.5, 0.5])),
        torch.distributions.Categorical(probs=torch.tensor([1.0, 0.0]))).item()


def test_unregistered_pair_raises_like_torch():
    def kl(L):
        return L.distributions.kl_divergence(L.distributions.Independent(L.distributions.Normal(L.zeros(2), 1.0), 1),
                                             L.distributions.Normal(0.0, 1.0))
    with pytest.raises(NotImplementedError) as theirs:
        kl(torch)
    with pytest.raises(NotImplementedError) as ours:
        kl(glasstorch)
    assert str(ours.value) == str(theirs.value)


def test_register_kl_dispatches_to_the_most_specific_pair():
    D = glasstorch.distributions

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    try:
        assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 42.0
        assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0  # (Normal-Normal)
    finally:
        del D.kl._KL_REGISTRY[MyNormal, D.Normal]
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)
