"""glasstorch.einsum against torch.einsum: forward and gradients of every operand (random upstream gradient)
in float32 and float64, a float64 numerical gradcheck, and torch's errors for malformed equations."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.autograd import gradcheck

# (equation, operand shapes)
CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 5, 4), (2, 3, 6, 4)]),          # attention scores
    ("bhqk,bhkd->bhqd", [(2, 3, 5, 6), (2, 3, 6, 4)]),          # attention output
    ("ii->i", [(4, 4)]),                                       # diagonal
    ("ii", [(4, 4)]),                                          # trace (implicit output)
    ("iij->j", [(3, 3, 4)]),
    ("iji->j", [(3, 4, 3)]),
    ("ij->", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ji", [(2, 3)]),                                          # implicit: letters in alphabetical order
    ("ijk", [(2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),                                 # outer product
    ("i,i->", [(5,), (5,)]),                                   # dot product
    ("ab,cd->", [(2, 3), (4, 5)]),
    ("ij,ij->ij", [(3, 4), (1, 4)]),                           # a size-1 dim broadcasts
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),                # three operands, left to right
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),            # bilinear
    ("...ij->...ji", [(2, 3, 4, 5)]),                          # ellipsis
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),         # ellipsis dims broadcast
    ("b...d,b...d->b...", [(2, 3, 4), (2, 3, 4)]),
    ("a...,a->...", [(3, 2, 2), (3,)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("i...->...", [(3, 2)]),
    (",i->i", [(), (3,)]),                                     # a 0-dim operand
    ("i j , j k -> i k", [(2, 3), (3, 2)]),                    # spaces are ignored
]


def _ids(case):
    return f"{case[0]}:{'x'.join(str(s) for s in case[1])}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("equation,shapes", CASES, ids=[_ids(c) for c in CASES])
def test_einsum_matches_torch(equation, shapes, dtype):
    rng = np.random.default_rng(len(equation) + len(shapes))
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    g_in = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    t_out, g_out = torch.einsum(equation, *t_in), glasstorch.einsum(equation, *g_in)
    assert tuple(g_out.shape) == tuple(t_out.shape) and g_out.dtype.name == dtype
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **tol)
    upstream = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.tensor(upstream))
    g_out.backward(glasstorch.tensor(upstream))
    for i, (g, t) in enumerate(zip(g_in, t_in)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), **tol, err_msg=f"operand {i}")


@pytest.mark.parametrize("equation,shapes", [c for c in CASES if c[1][0]], ids=[_ids(c) for c in CASES if c[1][0]])
def test_einsum_gradcheck_float64(equation, shapes):
    rng = np.random.default_rng(1)
    inputs = [glasstorch.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert gradcheck(lambda *xs: glasstorch.einsum(equation, *xs), inputs)


def test_einsum_takes_a_list_of_operands_and_tensor_methods_compose():
    a, b = torch.randn(2, 3), torch.randn(3, 4)
    got = glasstorch.einsum("ij,jk->ik", [glasstorch.tensor(a.numpy()), glasstorch.tensor(b.numpy())])
    np.testing.assert_allclose(got.numpy(), (a @ b).numpy(), rtol=1e-5, atol=1e-6)


def test_einsum_double_backward_matches_torch():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    results = []
    for L in (torch, glasstorch):
        x, y = L.tensor(a, requires_grad=True), L.tensor(b, requires_grad=True)
        out = (L.einsum("ij,jk->ik", x, y) ** 2).sum()
        (gx,) = L.autograd.grad(out, [x], create_graph=True)
        (gy,) = L.autograd.grad(gx.sum(), [y])
        results.append(gy.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10)


@pytest.mark.parametrize("equation,shapes,message", [
    ("ij,jk->ik", [(2, 3)], "operands were specified"),
    ("ij->ij", [(2, 3, 4)], "number of subscripts"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "subscript j has size"),
    ("ij->ii", [(2, 2)], "appears more than once"),
    ("ij->k", [(2, 2)], "does not appear"),
    ("i1->i", [(2, 2)], "invalid subscript"),
])
def test_einsum_errors(equation, shapes, message):
    args = [glasstorch.zeros(*s) for s in shapes]
    with pytest.raises(RuntimeError, match=message):
        glasstorch.einsum(equation, *args)
    with pytest.raises(RuntimeError):  # torch refuses the same equations
        torch.einsum(equation, *[torch.zeros(*s) for s in shapes])
