"""The one "compare with torch" helper the test files share (imported as `from helpers import ...`;
tests/conftest.py puts tests/ on sys.path, which pytest's --import-mode=importlib does not do).

`run_both` runs the same function in glasstorch and in torch on copies of the same NumPy arrays, pushes one
random upstream gradient back through both, and returns (output, input gradients) for each side;
`assert_match` compares the two; `compare` does both and also checks the output dtype and shape.
"""
import numpy as np
import torch

import glasstorch


def to_numpy(t):
    """A glasstorch or torch tensor (any device, maybe requiring grad), or an array, as a NumPy array."""
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    if isinstance(t, glasstorch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def run_both(fn_gt, fn_torch, inputs, constants=(), seed=1):
    """Forward and the gradient of every `inputs` array, in glasstorch and in torch.

    inputs: float arrays that become tensors requiring grad; constants: arrays (or None) passed after
    them as plain tensors (targets, weights). The upstream gradient is standard normal, drawn from `seed`.
    Returns ((out, [grads]), (out, [grads])) as NumPy arrays, glasstorch first; a missing gradient is None.
    """
    xg = [glasstorch.tensor(a, requires_grad=True) for a in inputs]
    xt = [torch.tensor(a, requires_grad=True) for a in inputs]
    cg = [None if c is None else glasstorch.tensor(c) for c in constants]
    ct = [None if c is None else torch.tensor(c) for c in constants]
    yg, yt = fn_gt(*xg, *cg), fn_torch(*xt, *ct)
    up = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(to_numpy(yt).dtype)
    yg.backward(glasstorch.tensor(up))
    yt.backward(torch.tensor(up))
    grads = [[None if x.grad is None else to_numpy(x.grad) for x in xs] for xs in (xg, xt)]
    return (to_numpy(yg), grads[0]), (to_numpy(yt), grads[1])


def assert_match(ours, theirs, rtol=1e-5, atol=1e-5):
    """ours, theirs: (output, [gradients]) from run_both; same shapes, dtypes and values within tolerance."""
    (out_g, grads_g), (out_t, grads_t) = ours, theirs
    assert out_g.shape == out_t.shape, f"output shape {out_g.shape} != torch's {out_t.shape}"
    assert out_g.dtype == out_t.dtype, f"output dtype {out_g.dtype} != torch's {out_t.dtype}"
    np.testing.assert_allclose(out_g, out_t, rtol=rtol, atol=atol, err_msg="output")
    assert len(grads_g) == len(grads_t)
    for i, (g, t) in enumerate(zip(grads_g, grads_t)):
        assert (g is None) == (t is None), f"input {i}: gradient {'missing' if g is None else 'unexpected'}"
        if g is not None:
            assert g.shape == t.shape and g.dtype == t.dtype, \
                f"input {i}: gradient {g.shape} {g.dtype} != torch's {t.shape} {t.dtype}"
            np.testing.assert_allclose(g, t, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def compare(fn_gt, fn_torch, inputs, constants=(), rtol=1e-5, atol=1e-5, seed=1):
    """Assert that fn_gt and fn_torch agree in output (value, shape, dtype) and in every input gradient."""
    assert_match(*run_both(fn_gt, fn_torch, inputs, constants, seed), rtol=rtol, atol=atol)
