"""Torch-style autograd.Function (ctx) and autograd.functional, against PyTorch and numerical gradients."""
import numpy as np
import pytest

import glasstorch
from glasstorch.autograd import gradcheck

torch = pytest.importorskip("torch")


def make(lib):
    class Poly(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k, x.argmax()

        @staticmethod
        def backward(ctx, g, g_index):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * ctx.k * g, None
    return Poly


def test_multi_output_function_matches_torch_and_gradcheck():
    x = np.random.default_rng(0).standard_normal(5)
    outs = []
    for lib in (glasstorch, torch):
        t = lib.tensor(x, requires_grad=True)
        y, i = make(lib).apply(t, 2.0)
        assert not i.requires_grad and y.requires_grad
        (y * y).sum().backward()
        outs.append((y.detach().numpy(), int(i), t.grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0])
    assert outs[0][1] == outs[1][1]
    np.testing.assert_allclose(outs[0][2], outs[1][2])
    t = glasstorch.tensor(x, requires_grad=True)
    assert gradcheck(lambda a: make(glasstorch).apply(a, 2.0)[0], (t,))


def test_saved_tensors_errors_as_torch():
    Poly = make(glasstorch)
    t = glasstorch.ones(3, requires_grad=True)
    y, _ = Poly.apply(t * 1, 1.0)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()
    h = t * 1
    y, _ = Poly.apply(h, 1.0)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        class Dirty(glasstorch.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                a.add_(1)
                ctx.mark_dirty(a)
                return a
        Dirty.apply(glasstorch.ones(2, requires_grad=True))


def test_internal_ops_keep_the_array_contract():
    from glasstorch.ops.elementwise import exp
    assert glasstorch.autograd.Function.forward_takes_arrays
    assert type(exp(glasstorch.ones(2, requires_grad=True)).grad_fn).forward_takes_arrays
    assert not make(glasstorch).forward_takes_arrays


@pytest.mark.parametrize("name", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
def test_functional_matches_torch(name):
    x = np.random.default_rng(1).standard_normal(4)
    v = np.random.default_rng(2).standard_normal(4)
    results = []
    for lib in (glasstorch, torch):
        F = lib.autograd.functional
        f = (lambda a: (a.sin() * a).sum()) if name in ("hessian", "hvp", "vhp") else (lambda a: a.sin() * a[0])
        xs = lib.tensor(x)
        if name in ("jacobian", "hessian"):
            results.append(getattr(F, name)(f, xs).numpy())
        else:
            results.append(getattr(F, name)(f, xs, lib.tensor(v))[1].numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)
