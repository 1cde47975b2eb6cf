"""The backward walk: accumulation, hooks, grad modes, autograd.grad, freed graphs, higher order, deep chains."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import autograd


def both(fn):
    return fn(glasstorch), fn(torch)


def close(g, t, rtol=1e-6, atol=1e-7):
    g = g.detach().numpy() if hasattr(g, "detach") else np.asarray(g)
    t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    np.testing.assert_allclose(g, t, rtol=rtol, atol=atol)


def test_grad_accumulates_across_backward_calls_and_zero_clears():
    def run(L):
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x ** 3).sum().backward()
        second = x.grad.clone()
        x.grad.zero_()
        (2 * x).sum().backward()
        return first, second, x.grad
    for g, t in zip(*both(run)):
        close(g, t)


def test_grad_of_shared_subexpression_and_broadcast_leaf():
    def run(L):
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        b = L.tensor([0.5], requires_grad=True)
        y = x * b
        z = (y + y * y + b).sum()
        z.backward()
        return x.grad, b.grad
    for g, t in zip(*both(run)):
        close(g, t)


def test_backward_with_gradient_argument():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.backward(L.tensor([1.0, 0.1]))
        return x.grad
    close(*both(run))


def test_retain_grad_and_non_leaf_grad_is_none():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        h.retain_grad()
        m = h * h
        m.sum().backward()
        return h.grad, m.grad, x.grad
    (gh, gm, gx), (th, tm, tx) = both(run)
    close(gh, th)
    close(gx, tx)
    assert gm is None and tm is None


def test_hooks_on_leaf_and_non_leaf_can_replace_grad():
    def run(L):
        seen = []
        x = L.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: seen.append(g.clone()))
        h = x * x
        h.register_hook(lambda g: g * 10)
        h.register_hook(lambda g: seen.append(g.clone()))
        handle = h.register_hook(lambda g: g * 1000)
        handle.remove()
        h.sum().backward()
        return [x.grad] + seen
    g, t = both(run)
    assert len(g) == len(t) == 3
    for a, b in zip(g, t):
        close(a, b)


def test_leaf_hook_replacement_reaches_grad():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g + 1)
        (x * 2).sum().backward()
        return x.grad
    close(*both(run))


@pytest.mark.parametrize("mode", ["no_grad", "set_grad_enabled", "inference_mode"])
def test_grad_modes_as_context_managers(mode):
    x = glasstorch.ones(2, requires_grad=True)
    ctx = {"no_grad": glasstorch.no_grad, "set_grad_enabled": lambda: glasstorch.set_grad_enabled(False),
           "inference_mode": glasstorch.inference_mode}[mode]
    with ctx():
        y = x * 2
        assert not glasstorch.is_grad_enabled()
        with glasstorch.enable_grad():
            z = x * 2
        assert not glasstorch.is_grad_enabled()
    assert glasstorch.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_grad_modes_as_decorators_and_calls():
    x = glasstorch.ones(2, requires_grad=True)

    @glasstorch.no_grad()
    def f1():
        return x * 2

    @glasstorch.no_grad
    def f2():
        return x * 2

    @glasstorch.inference_mode()
    def f3():
        return x * 2

    @glasstorch.enable_grad()
    def f4():
        return x * 2

    assert not f1().requires_grad and not f2().requires_grad and not f3().requires_grad
    with glasstorch.no_grad():
        assert f4().requires_grad
    glasstorch.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        glasstorch.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with glasstorch.set_grad_enabled(True):
        assert (x * 2).requires_grad
    with glasstorch.inference_mode(False):
        assert (x * 2).requires_grad


def test_autograd_grad_allow_unused_and_no_accumulation():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = L.tensor([3.0], requires_grad=True)
        out = (x * x).sum()
        gx, gy = L.autograd.grad(out, [x, y], allow_unused=True)
        return gx, gy, x.grad
    (gx, gy, xg), (tx, ty, txg) = both(run)
    close(gx, tx)
    assert gy is None and ty is None and xg is None and txg is None
    x = glasstorch.tensor([1.0], requires_grad=True)
    y = glasstorch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        autograd.grad((x * 2).sum(), [x, y])


def test_autograd_grad_of_non_leaf_and_multiple_outputs():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        h = x.exp()
        a, b = (h * 2).sum(), (h * h).sum()
        return L.autograd.grad([a, b], [h, x])
    for g, t in zip(*both(run)):
        close(g, t)


def test_create_graph_second_derivative():
    def run(L):
        x = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = (x ** 3 + x.sin() * x).sum()
        (g,) = L.autograd.grad(y, x, create_graph=True)
        (h,) = L.autograd.grad(g.sum(), x)
        return g, h
    for g, t in zip(*both(run)):
        close(g, t)


def test_hessian_vector_product():
    def run(L):
        L.manual_seed(0)
        A = L.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 3.0]])
        x = L.tensor([1.0, -1.0, 0.5], requires_grad=True)
        v = L.tensor([0.1, 0.2, 0.3])
        f = (x @ A @ x) / 2 + (x ** 4).sum()
        (g,) = L.autograd.grad(f, x, create_graph=True)
        (hv,) = L.autograd.grad((g * v).sum(), x)
        return hv
    close(*both(run))


def test_newtons_method_finds_minimum():
    """Newton's method on y = x^4 - 2x^2 with second derivatives from autograd (as in the notes)."""
    def run(L):
        x = L.tensor(2.0, requires_grad=True)
        for _ in range(10):
            y = x ** 4 - 2 * x ** 2
            y.backward(create_graph=True)
            gx = x.grad
            x.grad = None
            gx.backward()
            gx2 = x.grad
            x.data -= gx.data / gx2.data
            x.grad = None
        return x
    g, t = both(run)
    close(g, t)
    assert abs(g.item() - 1.0) < 1e-6


def test_gradient_penalty_through_matmul_and_tanh():
    def run(L):
        w = L.tensor([[0.3, -0.2], [0.1, 0.4]], requires_grad=True)
        x = L.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)
        out = (x @ w).tanh().sum()
        (gx,) = L.autograd.grad(out, x, create_graph=True)
        penalty = (gx.norm(dim=1) - 1).pow(2).mean()
        penalty.backward()
        return w.grad
    close(*both(run))


def test_second_backward_through_freed_graph_raises():
    x = glasstorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()
    # retain_graph keeps it
    z = (x.exp()).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]) + 2 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_add_only_graph_can_backward_twice_like_torch():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        return x.grad
    close(*both(run))


def test_long_chain_backward_is_iterative():
    x = glasstorch.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-3)


def test_detach_and_requires_grad_():
    x = glasstorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf
    z = glasstorch.tensor([1.0]).requires_grad_()
    assert z.requires_grad and z.is_leaf
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        (x * 2).requires_grad_(False)


def test_detect_anomaly_names_the_op():
    x = glasstorch.tensor([-1.0, 1.0], requires_grad=True)
    with glasstorch.autograd.set_detect_anomaly(True):
        with pytest.raises(RuntimeError, match="Log"):
            x.log()
        y = glasstorch.tensor([0.0, 1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="Sqrt"):
            y.sqrt().sum().backward()
    assert not glasstorch.autograd.is_anomaly_enabled()
    x.log()  # outside anomaly mode: nan silently, as torch


def test_grad_dtype_and_shape_follow_input():
    x = glasstorch.tensor([1.0, 2.0], dtype=glasstorch.float64, requires_grad=True)
    y = (x.float() * 2).sum()
    y.backward()
    assert x.grad.dtype == glasstorch.float64 and x.grad.shape == (2,)
    w = glasstorch.ones(3, 1, requires_grad=True)
    (w * glasstorch.ones(3, 4)).sum().backward()
    assert w.grad.shape == (3, 1) and w.grad.tolist() == [[4.0]] * 3


def test_next_functions_and_grad_fn_names():
    x = glasstorch.tensor([1.0], requires_grad=True)
    y = (x * 2).exp().sum()
    t = torch.tensor([1.0], requires_grad=True)
    ty = (t * 2).exp().sum()
    assert y.grad_fn.name() == ty.grad_fn.name()
    assert [type(f).__name__ if f is not None else None for f, _ in y.grad_fn.next_functions] == ["Exp"]


def test_backward_restores_grad_mode_and_keeps_recording():
    w = glasstorch.tensor([[0.5, -0.3]], requires_grad=True)
    for _ in range(3):
        h = glasstorch.ops.linear(glasstorch.ones(4, 2), w).tanh()
        loss = ((h - 1) ** 2).mean()
        assert loss.requires_grad
        loss.backward()
        assert glasstorch.is_grad_enabled()
        with glasstorch.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()
    with glasstorch.no_grad():
        (w * 2).sum()
        assert not glasstorch.is_grad_enabled()
    assert glasstorch.is_grad_enabled()


def test_backward_releases_intermediate_activations():
    import weakref
    x = glasstorch.randn(100, 100, requires_grad=True)
    h = (x * 2).exp()
    y = (h.reshape(-1) + 1).sum()
    alive = weakref.ref(h)
    del h
    assert alive() is not None  # the graph holds it until backward
    y.backward()
    assert alive() is None, "the graph still holds an activation after backward"
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


# ----------------------------------------------------------------------------- the plain walk on arrays
def _mlp_loss(L, params, x, y, sigmoid=False):
    """Linear, tanh/sigmoid, MSE: the ops whose backward also runs on arrays (array_backward)."""
    w1, b1, w2, b2 = params
    h = L.nn.functional.linear(x, w1, b1)
    h = h.sigmoid() if sigmoid else h.tanh()
    return L.nn.functional.mse_loss(L.nn.functional.linear(h, w2, b2), y)


@pytest.mark.parametrize("sigmoid", [False, True])
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
def test_plain_walk_matches_the_recorded_walk_and_torch(x_shape, sigmoid):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(4, 3), (4,), (2, 4), (2,)]]
    x = rng.standard_normal(x_shape).astype(np.float32)
    y = rng.standard_normal(x_shape[:-1] + (2,)).astype(np.float32)

    def grads(L, create_graph):
        params = [L.tensor(a, requires_grad=True) for a in arrays]
        xt = L.tensor(x, requires_grad=True)
        loss = _mlp_loss(L, params, xt, L.tensor(y), sigmoid)
        return L.autograd.grad(loss, params + [xt], create_graph=create_graph)

    plain, recorded, reference = grads(glasstorch, False), grads(glasstorch, True), grads(torch, False)
    for p, r, t in zip(plain, recorded, reference):
        assert type(p) is glasstorch.Tensor and p.dtype == glasstorch.float32 and p.grad_fn is None
        assert r.requires_grad  # recorded: it can be differentiated again
        np.testing.assert_allclose(p.numpy(), r.detach().numpy(), rtol=1e-6, atol=1e-7)
        close(p, t, rtol=1e-5, atol=1e-6)


def test_plain_walk_applies_no_ops_for_array_backward_nodes(monkeypatch):
    """On the plain walk Linear/Tanh/MSE compute their gradients on arrays: no op runs inside backward."""
    from glasstorch.autograd import function
    params = [glasstorch.randn(*s, requires_grad=True) for s in [(4, 3), (4,), (2, 4), (2,)]]
    loss = _mlp_loss(glasstorch, params, glasstorch.randn(5, 3), glasstorch.randn(5, 2))
    applied = []
    monkeypatch.setattr(function, "forward_observer", lambda cls, *rest: applied.append(cls.__name__))
    loss.backward()
    assert applied == []
    assert all(p.grad is not None for p in params)
    loss = _mlp_loss(glasstorch, params, glasstorch.randn(5, 3), glasstorch.randn(5, 2))
    autograd.grad(loss, params, create_graph=True)
    assert "Mul" in applied  # recorded for a double backward: the same formulas, run as ops


def test_plain_walk_hands_tensors_to_hooks_retain_grad_and_trace():
    def run(L):
        w = L.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        h = L.nn.functional.linear(L.tensor([[1.0, 2.0]]), w).tanh()
        h.retain_grad()
        seen = []
        h.register_hook(lambda g: seen.append(type(g).__name__) or g * 2)
        w.register_hook(lambda g: seen.append(type(g).__name__))
        (h * h).sum().backward()
        return h.grad, w.grad, seen
    (gh, gw, seen), (th, tw, tseen) = both(run)
    close(gh, th)
    close(gw, tw)
    assert seen == ["Tensor", "Tensor"]
    from glasstorch.autograd.trace import trace
    w = glasstorch.tensor([[0.5, -1.0]], requires_grad=True)
    steps = trace(glasstorch.nn.functional.linear(glasstorch.tensor([[1.0, 2.0]]), w).tanh().sum())
    assert "Tanh" in steps.text() and "Mm(" in steps.text()  # (F.linear without a bias: torch's mm)


def test_plain_walk_keeps_float16_products_in_float32():
    """Linear's array backward multiplies float16 as its forward does: in float32, rounded once."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 300)).astype(np.float16)
    w = rng.standard_normal((8, 300)).astype(np.float16)
    g = rng.standard_normal((64, 8)).astype(np.float16)
    wt = glasstorch.tensor(w, requires_grad=True)
    glasstorch.nn.functional.linear(glasstorch.tensor(x), wt).backward(glasstorch.tensor(g))
    expected = (g.astype(np.float32).T @ x.astype(np.float32)).astype(np.float16)
    np.testing.assert_array_equal(wt.grad.numpy(), expected)


def test_detect_anomaly_names_an_array_backward_op():
    x = glasstorch.tensor([100.0, 0.0], requires_grad=True)
    with glasstorch.autograd.set_detect_anomaly(True):
        with pytest.raises(RuntimeError, match="SigmoidBackward0"):
            x.sigmoid().backward(glasstorch.tensor([float("inf"), 1.0]))  # inf * y (1 - y) = inf * 0


def test_walk_runs_nodes_newest_first_with_complete_gradients():
    """Each node runs after every node that used its output (reverse creation order, as torch's engine):
    `a` feeds a long branch and a short one, so a depth-first order from the root would reach it early."""
    from glasstorch.autograd import engine
    seen = []

    def run(L, observe=None):
        x = L.tensor([0.5, -1.0, 0.25], requires_grad=True)
        a = x * 0.5
        long_branch = a.exp().sin().tanh()
        out = (a * 2 + long_branch + a.sigmoid()).sum()
        if observe is None:
            out.backward()
        else:
            engine._run([(out, engine._root_gradient(out, None, False))], False, False, observer=observe)
        return x.grad

    close(run(glasstorch, observe=lambda node, g, grads: seen.append(node)), run(torch))
    numbers = [node.sequence_nr for node in seen]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers) == 9
    assert seen[-1].name() == "MulBackward0"  # a = x * 0.5, the first node made, runs last


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_implicit_root_gradient_is_a_one_of_the_outputs_shape_and_dtype(shape, dtype):
    def run(L):
        x = L.tensor(np.full(shape, 1.5), dtype=getattr(L, dtype), requires_grad=True)
        y = x * x
        y.backward()
        return x.grad
    g, t = both(run)
    assert tuple(g.shape) == tuple(t.shape) and g.dtype.name == str(t.dtype).replace("torch.", "")
    close(g, t)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (glasstorch.ones(2, requires_grad=True) * 2).backward()


def test_gradients_of_another_dtype_or_broadcast_shape_are_fitted_to_each_input():
    """The walk's inline check takes only a NumPy gradient of the input's exact shape and dtype as it is;
    a float64 gradient reaching a float32 input, or one broadcast over a bias, goes through _fit_to_input."""
    def run(L):
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)  # float32
        w = L.tensor([0.5, -2.0], dtype=L.float64, requires_grad=True)
        b = L.tensor([0.25], requires_grad=True)
        ((x + b) * w).tanh().sum().backward()
        return x.grad, w.grad, b.grad
    for g, t in zip(*both(run)):
        assert tuple(g.shape) == tuple(t.shape) and g.dtype.name == str(t.dtype).replace("torch.", "")
        close(g, t, rtol=1e-6)
