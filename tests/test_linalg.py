"""torch.linalg: values and gradients against PyTorch on random batched shapes, float64 gradient checks."""
import numpy as np
import pytest

import glasstorch
from glasstorch.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(14)


def pair(array, requires_grad=True):
    """The same float64 values as a glasstorch and a torch tensor."""
    return (glasstorch.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def well_conditioned(*batch, n=4):
    return RNG.standard_normal(batch + (n, n)) + 3 * np.eye(n)


def spd(*batch, n=4):
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def check(fn_g, fn_t, arrays, atol=1e-8):
    """Forward values and the gradient of a random-weighted sum of the output, against torch."""
    g_in = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_g, out_t = fn_g(*g_in), fn_t(*t_in)
    np.testing.assert_allclose(out_g.detach().numpy(), out_t.detach().numpy(), atol=atol, rtol=1e-7)
    w = RNG.standard_normal(tuple(out_t.shape))
    (out_g * glasstorch.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for a, b in zip(g_in, t_in):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("batch", [(), (2,), (2, 3)])
def test_inv_det_slogdet_match_torch(batch):
    a = well_conditioned(*batch)
    check(glasstorch.linalg.inv, torch.linalg.inv, [a])
    check(glasstorch.linalg.det, torch.linalg.det, [a])
    check(lambda x: glasstorch.linalg.slogdet(x).logabsdet, lambda x: torch.linalg.slogdet(x).logabsdet, [a])
    sign_g = glasstorch.linalg.slogdet(glasstorch.tensor(a)).sign.numpy()
    np.testing.assert_array_equal(sign_g, torch.linalg.slogdet(torch.tensor(a)).sign.numpy())


@pytest.mark.parametrize("b_shape", ["vector", "matrix", "batched"])
def test_solve_matches_torch(b_shape):
    if b_shape == "batched":
        a, b = well_conditioned(3), RNG.standard_normal((3, 4, 2))
    elif b_shape == "vector":
        a, b = well_conditioned(), RNG.standard_normal(4)
    else:
        a, b = well_conditioned(), RNG.standard_normal((4, 3))
    check(glasstorch.linalg.solve, torch.linalg.solve, [a, b])
    check(lambda x, y: glasstorch.linalg.solve(x, y.mT, left=False) if y.ndim > 1 else glasstorch.linalg.solve(x, y),
          lambda x, y: torch.linalg.solve(x, y.mT, left=False) if y.ndim > 1 else torch.linalg.solve(x, y), [a, b])


@pytest.mark.parametrize("upper,left,unit", [(False, True, False), (True, True, False), (False, False, False),
                                             (True, True, True)])
def test_solve_triangular_matches_torch(upper, left, unit):
    """Only A's triangle is read: the other triangle's gradient is zero (a full random A shows that)."""
    a, b = well_conditioned(2), RNG.standard_normal((2, 4, 3) if left else (2, 3, 4))
    check(lambda x, y: glasstorch.linalg.solve_triangular(x, y, upper=upper, left=left, unitriangular=unit),
          lambda x, y: torch.linalg.solve_triangular(x, y, upper=upper, left=left, unitriangular=unit), [a, b])
    g = [glasstorch.tensor(v, requires_grad=True) for v in (well_conditioned(), RNG.standard_normal((4, 2)))]
    assert gradcheck(lambda x, y: glasstorch.linalg.solve_triangular(x, y, upper=upper), g)
    assert gradgradcheck(lambda x, y: glasstorch.linalg.solve_triangular(x, y, upper=upper), g)


def test_cholesky_matches_torch_through_a_symmetric_input():
    x = RNG.standard_normal((2, 4, 4))
    sym = lambda lib: (lambda m: lib.linalg.cholesky(m @ m.mT + 4 * lib.eye(4, dtype=lib.float64)))  # noqa: E731
    check(sym(glasstorch), sym(torch), [x])
    a = glasstorch.tensor(spd())
    assert glasstorch.linalg.cholesky(a, upper=True).triu().allclose(glasstorch.linalg.cholesky(a, upper=True))


def test_qr_reconstructs_and_its_gradient_matches_torch():
    a = RNG.standard_normal((2, 5, 3))
    q, r = glasstorch.linalg.qr(glasstorch.tensor(a))
    np.testing.assert_allclose((q @ r).numpy(), a, atol=1e-12)
    check(lambda x: glasstorch.linalg.qr(x).Q, lambda x: torch.linalg.qr(x).Q, [a])
    check(lambda x: glasstorch.linalg.qr(x).R, lambda x: torch.linalg.qr(x).R, [a])
    assert glasstorch.linalg.qr(glasstorch.tensor(a), mode="complete").Q.shape == (2, 5, 5)


def test_eigh_values_and_gauge_invariant_gradients_match_torch():
    x = RNG.standard_normal((3, 4, 4))
    check(lambda m: glasstorch.linalg.eigh(m + m.mT).eigenvalues, lambda m: torch.linalg.eigh(m + m.mT).eigenvalues, [x])
    # V diag(w^2) V^T does not depend on the eigenvectors' signs
    g_fn = lambda m: (lambda w, v: v @ (v.mT * (w * w).unsqueeze(-1)))(*glasstorch.linalg.eigh(m + m.mT))  # noqa
    t_fn = lambda m: (lambda w, v: v @ (v.mT * (w * w).unsqueeze(-1)))(*torch.linalg.eigh(m + m.mT))  # noqa
    check(g_fn, t_fn, [x], atol=1e-8)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
def test_svd_values_and_gauge_invariant_gradients_match_torch(shape):
    x = RNG.standard_normal(shape)
    check(lambda m: glasstorch.linalg.svdvals(m), lambda m: torch.linalg.svdvals(m), [x])
    g_fn = lambda m: (lambda u, s, vh: (u * s.unsqueeze(-2)) @ (vh * s.unsqueeze(-1)))(  # noqa: E731
        *glasstorch.linalg.svd(m, full_matrices=False))
    t_fn = lambda m: (lambda u, s, vh: (u * s.unsqueeze(-2)) @ (vh * s.unsqueeze(-1)))(  # noqa: E731
        *torch.linalg.svd(m, full_matrices=False))
    check(g_fn, t_fn, [x])
    u, s, vh = glasstorch.linalg.svd(glasstorch.tensor(x))
    assert u.shape == torch.linalg.svd(torch.tensor(x)).U.shape and vh.shape[-1] == shape[-1]


def test_lstsq_and_pinv_match_torch():
    a, b = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 2))
    check(lambda x, y: glasstorch.linalg.lstsq(x, y).solution, lambda x, y: torch.linalg.lstsq(x, y).solution, [a, b])
    check(glasstorch.linalg.pinv, torch.linalg.pinv, [a])
    check(glasstorch.linalg.pinv, torch.linalg.pinv, [a.T.copy()])
    result = glasstorch.linalg.lstsq(glasstorch.tensor(a), glasstorch.tensor(b))
    assert int(result.rank) == 3 and result.singular_values.shape == (3,)


@pytest.mark.parametrize("ord", [None, 1, 2, 3.5, float("inf"), -float("inf"), 0])
def test_vector_norm_matches_torch(ord):
    x = RNG.standard_normal((3, 4))
    kwargs = {} if ord is None else {"ord": ord}
    for dim in (None, 1, (0, 1)):
        expected = torch.linalg.vector_norm(torch.tensor(x), dim=dim, **kwargs)
        got = glasstorch.linalg.vector_norm(glasstorch.tensor(x), dim=dim, **kwargs)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10)
    if ord != 0:
        check(lambda t: glasstorch.linalg.vector_norm(t, dim=1, **kwargs),
              lambda t: torch.linalg.vector_norm(t, dim=1, **kwargs), [x])


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")])
def test_matrix_norm_and_norm_match_torch(ord):
    x = RNG.standard_normal((2, 4, 3))
    check(lambda t: glasstorch.linalg.matrix_norm(t, ord), lambda t: torch.linalg.matrix_norm(t, ord), [x])
    got = glasstorch.linalg.matrix_norm(glasstorch.tensor(x), ord, keepdim=True)
    assert got.shape == torch.linalg.matrix_norm(torch.tensor(x), ord, keepdim=True).shape
    check(lambda t: glasstorch.linalg.norm(t[0], ord), lambda t: torch.linalg.norm(t[0], ord), [x])
    check(lambda t: glasstorch.linalg.norm(t), lambda t: torch.linalg.norm(t), [x])


def test_float64_gradcheck_of_every_differentiable_function():
    sq = glasstorch.tensor(well_conditioned(2, n=3), requires_grad=True)
    rect = glasstorch.tensor(RNG.standard_normal((5, 3)), requires_grad=True)
    b = glasstorch.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    L = glasstorch.linalg
    assert gradcheck(L.inv, (sq,))
    assert gradcheck(L.det, (sq,))
    assert gradcheck(lambda a: L.slogdet(a).logabsdet, (sq,))
    assert gradcheck(lambda a, y: L.solve(a[0], y), (sq, b))
    assert gradcheck(lambda a: L.cholesky(a @ a.mT), (sq,))
    assert gradcheck(lambda a: L.qr(a).Q.sum(-1) + L.qr(a).R.sum(-2).sum(), (rect,))
    assert gradcheck(lambda a: L.eigh(a + a.mT).eigenvalues, (sq,))
    assert gradcheck(lambda a: L.svdvals(a), (rect,))
    assert gradcheck(lambda a: (lambda u, s, vh: u @ vh)(*L.svd(a, full_matrices=False)), (rect,))
    rhs = glasstorch.tensor(RNG.standard_normal((5, 2)), requires_grad=True)
    assert gradcheck(lambda a, y: L.lstsq(a, y).solution, (rect, rhs))
    assert gradcheck(L.pinv, (rect,))
    assert gradcheck(lambda a: L.matrix_norm(a, "nuc"), (rect,))
    assert gradgradcheck(L.inv, (sq,))
    assert gradgradcheck(L.det, (sq,))


def test_bad_input_is_named():
    with pytest.raises(RuntimeError, match="square"):
        glasstorch.linalg.inv(glasstorch.ones(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        glasstorch.linalg.svd(glasstorch.ones(3))
    with pytest.raises(RuntimeError, match="full_matrices=False"):
        u, s, vh = glasstorch.linalg.svd(glasstorch.randn(4, 2, requires_grad=True))
        u.sum().backward()


def test_tensor_methods_and_top_level_aliases():
    a = well_conditioned()
    g = glasstorch.tensor(a)
    np.testing.assert_allclose(g.inverse().numpy(), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(glasstorch.det(g).item(), np.linalg.det(a), rtol=1e-10)
    np.testing.assert_allclose(g.logdet().item(), torch.tensor(a).logdet().item(), rtol=1e-10)
    np.testing.assert_allclose(glasstorch.linalg.matrix_power(g, 3).numpy(), np.linalg.matrix_power(a, 3), rtol=1e-10)
    np.testing.assert_allclose(glasstorch.linalg.matrix_power(g, -1).numpy(), np.linalg.inv(a), rtol=1e-10)
