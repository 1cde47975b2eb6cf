"""Function nodes: what they keep alive, and what they rebuild."""
import gc
import weakref

import numpy as np
import pytest
import torch

import glasstorch as gt


@pytest.mark.parametrize("op", ["relu", "exp", "tanh", "sigmoid", "sqrt"])
def test_output_is_freed_by_refcount_when_backward_never_comes(op):
    # evaluating without no_grad must not keep activations alive until the garbage collector runs
    x = gt.from_numpy(np.ones((50, 50), np.float32)).requires_grad_()
    gc.disable()
    try:
        y = getattr(gt, op)(x)
        ref = weakref.ref(y)
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_backward_after_the_output_tensor_was_dropped_matches_torch():
    a = np.random.default_rng(0).standard_normal((3, 4))
    x = gt.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    loss = gt.tanh(gt.exp(x) * 0.5).sum()  # the exp and tanh outputs exist only inside the graph
    tloss = torch.tanh(torch.exp(tx) * 0.5).sum()
    (g,) = gt.autograd.grad(loss, x, create_graph=True)
    (tg,) = torch.autograd.grad(tloss, tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-6)
    g.sum().backward()
    tg.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_in_place_change_of_a_saved_output_is_caught():
    x = gt.randn(3, requires_grad=True)
    y = gt.exp(x)
    z = y.sum()
    with gt.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
