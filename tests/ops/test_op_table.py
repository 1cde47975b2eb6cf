"""One table of op specs drives every check of the primitive ops against torch (the oracle).

The table itself (SPECS, NO_GRAD_SPECS, the input domains) is data in the library,
glasstorch/teaching/op_specs.py, so that `glasstorch gradcheck` can sweep it too; this file runs it.
For each spec and each of its shape cases:
  * forward and backward (a random upstream gradient) agree with torch, in float32 and float64;
  * a float64 central-difference gradcheck over every element (glasstorch.autograd.gradcheck);
  * double backward (create_graph) agrees with torch, for the ops that support it.
The forward/backward checks run once per `device` (tests/conftest.py): on the CPU, and on the GPU when
CuPy and a GPU are present (the inputs, outputs and gradients must stay there).

A spec's `fn(L, *xs)` is written once and run with L = glasstorch and L = torch, so both sides
execute literally the same program.
"""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.autograd import gradcheck
from glasstorch.teaching import op_specs
from glasstorch.teaching.op_specs import NO_GRAD_SPECS, SPECS, Spec, F

torch.set_num_threads(1)



DTYPES = {"float32": (np.float32, torch.float32, glasstorch.float32, 1e-5, 1e-4),
          "float64": (np.float64, torch.float64, glasstorch.float64, 1e-10, 1e-8)}


def _cases(specs):
    return [pytest.param(spec, case, id=f"{spec.name}-{'x'.join(map(str, case)) or 'scalar'}".replace(" ", ""))
            for spec in specs for case in spec.shapes]


def _inputs(spec, case, np_dtype):
    """Random inputs for a case: deterministic per (spec, case), in the spec's domain."""
    return op_specs.inputs(spec, case, np_dtype)


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _to_numpy(t):
    return t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else t.detach().cpu().numpy()


def _run_both(spec, case, dtype_name, requires_grad=True, device="cpu"):
    np_dtype, _, _, _, _ = DTYPES[dtype_name]
    arrays = _inputs(spec, case, np_dtype)
    g_in = [glasstorch.tensor(a, requires_grad=requires_grad, device=device) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=requires_grad) for a in arrays]
    return g_in, _as_tuple(spec.fn(glasstorch, *g_in)), t_in, _as_tuple(spec.fn(torch, *t_in))


def _differentiable(outputs):
    """The outputs that carry a gradient (max(dim) also returns integer indices)."""
    return [o for o in outputs if o.requires_grad]


def _assert_close(got, expected, rtol, atol, what):
    got, expected = _to_numpy(got), _to_numpy(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != torch's {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != torch's {expected.dtype}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=what)


def _tolerances(dtype_name, device):
    _, _, _, rtol, atol = DTYPES[dtype_name]
    if device != "cpu":  # the GPU sums in another order (and fuses multiply-adds)
        rtol, atol = (2e-4, 1e-4) if dtype_name == "float32" else (1e-7, 1e-8)
    return rtol, atol


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("spec,case", _cases(SPECS))
def test_forward_backward_match_torch(spec, case, dtype_name, device):
    _forward_backward(spec, case, dtype_name, device)


def _forward_backward(spec, case, dtype_name, device="cpu"):
    rtol, atol = _tolerances(dtype_name, device)
    g_in, g_out, t_in, t_out = _run_both(spec, case, dtype_name, device=device)
    assert len(g_out) == len(t_out)
    for g, t in zip(g_out, t_out):
        assert g.device.type == device, f"an output left {device}"
        _assert_close(g, t, rtol, atol, "forward")
        assert g.requires_grad == t.requires_grad
    g_out, t_out = _differentiable(g_out), _differentiable(t_out)
    rng = np.random.default_rng(1)
    upstream = [rng.standard_normal(tuple(t.shape)).astype(_to_numpy(t).dtype) for t in t_out]
    t_grads = torch.autograd.grad(t_out, t_in, [torch.tensor(u) for u in upstream], allow_unused=True)
    g_grads = glasstorch.autograd.grad(g_out, g_in, [glasstorch.tensor(u, device=device) for u in upstream],
                                       allow_unused=True)
    for i, (g, t) in enumerate(zip(g_grads, t_grads)):
        if t is None:
            assert g is None or not np.any(_to_numpy(g)), f"input {i}: torch gives no gradient"
            continue
        assert g is not None, f"input {i}: no gradient, torch gives one"
        assert g.device.type == device, f"the gradient of input {i} left {device}"
        _assert_close(g, t, rtol, atol, f"gradient of input {i}")


@pytest.mark.parametrize("spec,case", _cases([s for s in SPECS if s.check]))
def test_gradcheck_float64(spec, case):
    arrays = _inputs(spec, case, np.float64)
    inputs = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    floating = lambda *xs: [o for o in _as_tuple(spec.fn(glasstorch, *xs)) if o.dtype.is_floating_point]  # noqa: E731
    assert gradcheck(floating, inputs,
                     eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("spec,case", _cases([s for s in SPECS if s.double]))
def test_double_backward_matches_torch(spec, case):
    """d/dx <v2, d<v1, f(x)>/dx> computed with create_graph=True, against torch."""
    g_in, g_out, t_in, t_out = _run_both(spec, case, "float64")
    g_out, t_out = _differentiable(g_out), _differentiable(t_out)
    rng = np.random.default_rng(2)
    v1 = [rng.standard_normal(tuple(t.shape)) for t in t_out]
    v2 = [rng.standard_normal(tuple(t.shape)) for t in t_in]
    results = []
    for L, xs, outs in ((glasstorch, g_in, g_out), (torch, t_in, t_out)):
        first = L.autograd.grad(outs, xs, [L.tensor(v) for v in v1], create_graph=True, allow_unused=True)
        used = [(g * L.tensor(v)).sum() for g, v in zip(first, v2) if g is not None and g.requires_grad]
        if not used:  # the first gradient does not depend on x (a linear op, or relu's constant mask)
            results.append([np.zeros(x.shape) for x in xs])
            continue
        total = used[0]
        for u in used[1:]:
            total = total + u
        second = L.autograd.grad(total, xs, allow_unused=True)
        results.append([np.zeros(x.shape) if s is None else _to_numpy(s) for s, x in zip(second, xs)])
    g_second, t_second = results
    for i, (g, t) in enumerate(zip(g_second, t_second)):
        np.testing.assert_allclose(g, t, rtol=1e-8, atol=1e-8, err_msg=f"second derivative of input {i}")


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("spec,case", _cases(NO_GRAD_SPECS))
def test_gradient_free_ops_match_torch(spec, case, dtype_name, device):
    _, g_out, _, t_out = _run_both(spec, case, dtype_name, requires_grad=False, device=device)
    for g, t in zip(g_out, t_out):
        assert not g.requires_grad and g.device.type == device
        _assert_close(g, t, 1e-6, 1e-6, "forward")


def test_gelu_of_a_0dim_float64_tensor():
    """erf_array once returned a Python float for a 0-dim float64 array (fixed with erfinv, which needs it)."""
    x = glasstorch.tensor(0.3, dtype=glasstorch.float64)
    expected = F(torch).gelu(torch.tensor(0.3, dtype=torch.float64)).item()
    np.testing.assert_allclose(F(glasstorch).gelu(x).item(), expected, rtol=1e-12)


@pytest.mark.parametrize("spec,case", _cases(SPECS[:20]))
def test_no_grad_records_nothing(spec, case):
    arrays = _inputs(spec, case, np.float32)
    inputs = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    with glasstorch.no_grad():
        outs = _as_tuple(spec.fn(glasstorch, *inputs))
    assert all(o.grad_fn is None and not o.requires_grad for o in outs)


# ----------------------------------------------------------------------------- random shapes (hypothesis)
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

BROADCAST_OPS = {"add": lambda L, a, b: a + b, "sub": lambda L, a, b: a - b, "mul": lambda L, a, b: a * b,
                 "div": lambda L, a, b: a / (b * b + 0.5), "maximum": lambda L, a, b: L.maximum(a, b),
                 "where": lambda L, a, b: L.where(a > b, a, b * 2)}


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: a random result shape (0 to 3 dims, sizes 0-3), each side dropping
    leading dims and setting some dims to 1."""
    shape = draw(st.lists(st.integers(0, 3), min_size=0, max_size=3))
    sides = []
    for _ in range(2):
        lead = draw(st.integers(0, len(shape)))
        sides.append(tuple(1 if draw(st.booleans()) else s for s in shape[lead:]))
    return tuple(sides)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(BROADCAST_OPS)), shapes=broadcast_pair(),
       dtype_name=st.sampled_from(["float32", "float64"]))
def test_random_broadcasting_matches_torch(name, shapes, dtype_name):
    _forward_backward(Spec(name, BROADCAST_OPS[name], [shapes]), shapes, dtype_name)


REDUCTIONS = {"sum": lambda L, x, d, k: x.sum(d, keepdim=k), "mean": lambda L, x, d, k: x.mean(d, keepdim=k),
              "amax": lambda L, x, d, k: x.amax(d, keepdim=k),
              "logsumexp": lambda L, x, d, k: x.logsumexp(d, keepdim=k),
              "var": lambda L, x, d, k: x.var(d, keepdim=k), "norm": lambda L, x, d, k: x.norm(dim=d, keepdim=k)}


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(REDUCTIONS)), shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
       data=st.data(), keepdim=st.booleans())
def test_random_reductions_match_torch(name, shape, data, keepdim):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                              unique_by=lambda d: d % ndim))
    dim = dims[0] if len(dims) == 1 and data.draw(st.booleans()) else tuple(dims)
    assume(not (name == "norm" and isinstance(dim, tuple) and len(dim) > 2))  # torch: a matrix norm takes 2 dims
    fn = REDUCTIONS[name]
    spec = Spec(name, lambda L, x: fn(L, x, dim, keepdim), [(tuple(shape),)])
    _forward_backward(spec, (tuple(shape),), "float64")
