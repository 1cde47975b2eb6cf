"""Numerical gradients (central differences, as in the notes) and `gradcheck` against autograd."""
import numpy as np

from ..tensor import Tensor
from . import engine
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree (the message names input, element and both values)."""


def numerical_gradient(f, x, h=1e-4):
    """df/dx by central differences, element by element: (f(x+h) - f(x-h)) / 2h.

    `f` maps `x` (a NumPy array or a Tensor, changed in place and restored) to a scalar.
    Returns an array (or Tensor) shaped like `x`.
    """
    is_tensor = isinstance(x, Tensor)
    array = x._array if is_tensor else x
    if array.dtype.kind != "f":
        raise TypeError(f"numerical_gradient needs a floating-point x, got {array.dtype}")
    grad = np.zeros_like(array, dtype=np.float64)
    flat = array.reshape(-1)  # a view when x is contiguous; writes go to x
    if array.size and not np.shares_memory(flat, array):
        raise ValueError("numerical_gradient needs a contiguous x (it perturbs x in place)")
    with no_grad():
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + h
            f_plus = float(f(x))
            flat[i] = original - h
            f_minus = float(f(x))
            flat[i] = original
            grad.reshape(-1)[i] = (f_plus - f_minus) / (2 * h)
    grad = grad.astype(array.dtype)
    return Tensor._make(grad) if is_tensor else grad


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Check autograd's gradients of `fn(*inputs)` against central differences, over every element.

    A random upstream gradient v is drawn once; the check compares d<v, fn(x)>/dx computed both ways
    for every input that requires grad (use float64 inputs: float32 is too coarse for eps=1e-6).
    Returns True, or raises GradcheckError naming the input, the element and both values.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    differentiable = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not differentiable:
        raise ValueError("gradcheck expects at least one input tensor with requires_grad=True")
    outputs = fn(*inputs)
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(o.shape).astype(o._array.dtype) for o in outputs]

    def scalar(*args):
        with no_grad():
            outs = fn(*args)
        outs = (outs,) if isinstance(outs, Tensor) else tuple(outs)
        return sum(float((o._array.astype(np.float64) * v).sum()) for o, v in zip(outs, upstream))

    wanted = [inputs[i] for i in differentiable]
    used = [o for o in outputs if o.requires_grad]
    if used:
        analytical = engine.grad(used, wanted, [Tensor._make(v) for o, v in zip(outputs, upstream) if o.requires_grad],
                                 allow_unused=True)
    else:
        analytical = [None] * len(wanted)
    for k, i in enumerate(differentiable):
        t = inputs[i]
        got = np.zeros(t.shape) if analytical[k] is None else analytical[k]._array.astype(np.float64)
        expected = numerical_gradient(lambda _: scalar(*inputs), t, h=eps)._array.astype(np.float64)
        bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
        if bad.any():
            idx = tuple(int(j) for j in np.argwhere(bad)[0])
            msg = (f"Jacobian mismatch for input {i} (shape {tuple(t.shape)}) at index {idx}: "
                   f"analytical {got[idx]:.8g} vs numerical {expected[idx]:.8g} "
                   f"({int(bad.sum())} of {bad.size} elements differ; atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: gradcheck of the (create_graph) gradient of fn."""
    inputs = tuple(inputs)

    def first_derivative(*args):
        with enable_grad():  # gradcheck evaluates under no_grad; this derivative needs a graph
            return _first_derivative(*args)

    def _first_derivative(*args):
        out = fn(*args)
        rng = np.random.default_rng(seed + 1)
        v = Tensor._make(rng.standard_normal(out.shape).astype(out._array.dtype))
        wanted = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        grads = engine.grad([out], wanted, [v], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
