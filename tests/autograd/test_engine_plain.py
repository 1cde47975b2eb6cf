"""`engine._run_plain` (every loss.backward()) against `engine._run` (the walk as written for reading).

The plain walk inlines `_run`'s helpers for the common case and hands the rest back to them, so the two must
leave the same `.grad` on every leaf, in the same memory rules, for any graph. Random graphs from hypothesis
mix ops with array and Tensor backward formulas, shared subexpressions, broadcasting, leaves used twice,
gradients already present from an earlier backward, hooks and retain_grad.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import glasstorch
from glasstorch.autograd import engine

UNARY = [lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: t.relu(), lambda t: t * t, lambda t: t.exp() * 0.1,
         lambda t: t.T.T, lambda t: t.sum(0, keepdim=True).expand_as(t), lambda t: -t, lambda t: t.abs()]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a @ b.T @ a * 0.01]


def build(seed, n_ops, hooks):
    """A random graph over three leaves (one broadcast row, one used twice); returns (leaves, loss, retained)."""
    rng = np.random.default_rng(seed)
    w = glasstorch.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    v = glasstorch.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b = glasstorch.tensor(rng.standard_normal((1, 4)).astype(np.float32), requires_grad=True)
    values, retained = [w, v, w * b], []
    for i in range(n_ops):
        if rng.random() < 0.5:
            out = UNARY[rng.integers(len(UNARY))](values[rng.integers(len(values))])
        else:
            a, c = (values[j] for j in rng.integers(len(values), size=2))
            out = BINARY[rng.integers(len(BINARY))](a, c)
        if hooks and i % 3 == 1:
            out.retain_grad()
            retained.append(out)
        if hooks and i % 4 == 2:
            out.register_hook(lambda g: g * 2)
        values.append(out)
    loss = sum(t.sum() for t in values[-3:]) + b.sum()
    return (w, v, b), loss, retained


def walk_grads(walk, seed, n_ops, hooks, earlier):
    leaves, loss, retained = build(seed, n_ops, hooks)
    if hooks:
        leaves[1].register_hook(lambda g: g + 1)
    if earlier:  # a gradient already in .grad from an earlier backward: added to, in place
        for leaf in leaves:
            leaf.grad = glasstorch.ones_like(leaf)
    root = glasstorch.Tensor._make(np.ones((), np.float32))
    if walk == "plain":
        engine._run_plain([(loss, root)], retain_graph=False)
    else:
        engine._run([(loss, root)], retain_graph=False, create_graph=False)
    grads = [None if t.grad is None else t.grad.numpy().copy() for t in leaves]  # (a leaf may go unused)
    return grads, [None if t.grad is None else t.grad.numpy().copy() for t in retained]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2 ** 31), n_ops=st.integers(1, 12), hooks=st.booleans(), earlier=st.booleans())
def test_plain_walk_leaves_the_same_grads_as_the_reading_walk(seed, n_ops, hooks, earlier):
    plain, plain_retained = walk_grads("plain", seed, n_ops, hooks, earlier)
    reading, reading_retained = walk_grads("reading", seed, n_ops, hooks, earlier)
    assert plain[2] is not None  # (b is always used)
    for p, r in zip(plain + plain_retained, reading + reading_retained):
        assert (p is None) == (r is None)
        if p is not None:
            np.testing.assert_array_equal(p, r)


def test_loss_backward_takes_the_plain_walk_and_torch_agrees(monkeypatch):
    import torch
    calls = []
    monkeypatch.setattr(engine, "_run_plain", lambda *a, _f=engine._run_plain: calls.append(1) or _f(*a))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    grads = []
    for lib in (glasstorch, torch):
        w = lib.tensor(x, requires_grad=True)
        ((w @ w.T).tanh().sum() + (w * w).mean()).backward()
        grads.append(w.grad.numpy())
    assert calls == [1]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_two_leaves_never_share_one_gradient_array():
    # y = w + u: Add's backward hands the same array to both inputs; each .grad must own its memory
    w = glasstorch.ones(3, requires_grad=True)
    u = glasstorch.ones(3, requires_grad=True)
    (w + u).sum().backward()
    assert not np.shares_memory(w.grad.numpy(), u.grad.numpy())
    w.grad += 1
    np.testing.assert_array_equal(u.grad.numpy(), np.ones(3, np.float32))


def test_a_non_contiguous_gradient_is_copied_into_grad():
    w = glasstorch.ones(3, 4, requires_grad=True)
    (w.T * glasstorch.arange(3.0)).sum().backward()
    assert w.grad.numpy().flags.c_contiguous
    np.testing.assert_array_equal(w.grad.numpy(), np.tile(np.arange(3.0, dtype=np.float32)[:, None], (1, 4)))


def test_plain_walk_restores_grad_mode_when_backward_raises():
    class Boom(glasstorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")
    x = glasstorch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="boom"):
        Boom.apply(x).sum().backward()
    assert glasstorch.is_grad_enabled()
    with glasstorch.no_grad():
        with pytest.raises(ValueError, match="boom"):
            with glasstorch.enable_grad():
                Boom.apply(x).sum().backward()
        assert not glasstorch.is_grad_enabled()


def test_plain_walk_roots_sharing_a_node_add_their_gradients():
    x = glasstorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    glasstorch.autograd.backward([y, y])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


# --- ops that declare `grads_fit_inputs`: the plain walk trusts their gradients' shapes and dtypes unchecked
def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _fitting_ops():
    import glasstorch.ops  # noqa: F401  (every op class defined)
    return sorted({c for c in _subclasses(glasstorch.autograd.Function) if c.grads_fit_inputs}, key=lambda c: c.__name__)


def test_the_ops_on_a_small_networks_path_declare_fitting_gradients():
    names = {c.__name__ for c in _fitting_ops()}
    assert {"LinearFunction", "TanhFunction", "SigmoidFunction", "MSELossFunction"} <= names


@pytest.mark.parametrize("np_dtype", [np.float32, np.float64, np.float16])
def test_every_op_declaring_fitting_gradients_returns_them_for_every_op_table_case(monkeypatch, np_dtype):
    """Every spec of the op table (and the layers' broadcast, 3-D and dtype cases) through a plain backward, with
    each declaring op's backward wrapped to compare what it returns with its inputs."""
    from glasstorch.teaching import op_specs
    seen = set()
    for cls in _fitting_ops():
        def checked(ctx, grad, _backward=cls.backward, _cls=cls):
            grads = _backward(ctx, grad)
            for i, (inp, g) in enumerate(zip(ctx.inputs, grads if type(grads) is tuple else (grads,))):
                if g is not None and ctx.needs_input_grad[i]:
                    assert (g.shape, g.dtype) == (inp._array.shape, inp._array.dtype), (_cls.__name__, i)
            seen.add(_cls)
            return grads
        monkeypatch.setattr(cls, "backward", staticmethod(checked))
    for spec in op_specs.SPECS:
        for case in spec.shapes:
            xs = [glasstorch.tensor(a, requires_grad=True) for a in op_specs.inputs(spec, case, np_dtype)]
            try:
                out = spec.fn(glasstorch, *xs)
            except (RuntimeError, TypeError):  # (an op that refuses float16, as torch's CPU kernels do)
                continue
            outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.requires_grad]
            if outs:
                sum(o.sum() for o in outs).backward()
    rng = np.random.default_rng(0)
    F = glasstorch.nn.functional

    def t(*shape, dtype=np_dtype):
        return glasstorch.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (mse_loss's broadcasting warning)
        for reduction in ("mean", "sum", "none"):
            F.mse_loss(t(4, 3), t(4, 3), reduction=reduction).sum().backward()
            F.mse_loss(t(4, 1), t(4), reduction=reduction).sum().backward()  # broadcast by the caller
            F.mse_loss(t(4, 3), t(4, 3, dtype=np.float64), reduction=reduction).sum().backward()  # promoted first
        layer = glasstorch.nn.Linear(3, 2).to(glasstorch.from_numpy(np.zeros(1, np_dtype)).dtype)
        glasstorch.nn.MSELoss()(layer(t(2, 5, 3)), t(2, 5, 2)).backward()
    assert seen == set(_fitting_ops())
