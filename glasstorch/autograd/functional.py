"""`torch.autograd.functional`: derivatives of a whole function: jacobian, hessian, vjp, jvp, hvp, vhp.

Each is built from `autograd.grad`, one reverse pass per output element (the Jacobian's rows), so it is
exact and simple rather than fast. `create_graph=True` keeps the result differentiable; `strict=True`
raises when an output does not depend on an input; `vectorize` and `strategy` are accepted and give the
same numbers (the rows are computed one by one). This module sits above ops (it stacks the rows).
"""
from ..ops.shape import stack
from ..tensor import Tensor
from .engine import grad


def _as_tuple(x, what):
    if isinstance(x, Tensor):
        return (x,), True
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return tuple(x), False
    raise TypeError(f"The {what} given to the autograd.functional function must be a Tensor or a tuple of "
                    f"Tensors, but got {type(x).__name__}")


def _prepare(inputs, create_graph):
    """Inputs the function is differentiated at: the same values, new leaves (or views, to keep a graph)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                 for t in inputs)


def _finish(t, create_graph):
    return t if create_graph or t is None else t.detach()


def _grads(output, inputs, grad_output, create_graph, strict, out_index):
    gs = grad(output, inputs, grad_outputs=grad_output, retain_graph=True, create_graph=create_graph,
              allow_unused=True)
    result = []
    for k, (g, x) in enumerate(zip(gs, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"Output {out_index} of the user-provided function is independent of input "
                                   f"{k}. This is not allowed in strict mode.")
            g = x.new_zeros(x.shape)
        result.append(g)
    return result


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """J[i][k] = d output_i / d input_k, of shape output_i.shape + input_k.shape (Tensors when func has one of each)."""
    inputs, single_in = _as_tuple(inputs, "inputs")
    inputs = _prepare(inputs, create_graph)
    outputs, single_out = _as_tuple(func(*inputs), "outputs")
    jac = []
    for i, out in enumerate(outputs):
        flat = out.reshape(-1)
        rows = [[] for _ in inputs]
        for j in range(flat.numel()):
            if not flat.requires_grad:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. "
                                       f"The outputs must be computed in a differentiable manner from the input "
                                       f"when running in strict mode.")
                gs = [x.new_zeros(x.shape) for x in inputs]
            else:
                gs = _grads(flat[j], inputs, None, create_graph, strict, i)
            for k, g in enumerate(gs):
                rows[k].append(g)
        per_input = []
        for k, x in enumerate(inputs):
            block = stack(rows[k]) if rows[k] else x.new_zeros((0,) + tuple(x.shape))
            per_input.append(_finish(block.reshape(tuple(out.shape) + tuple(x.shape)), create_graph))
        jac.append(per_input[0] if single_in else tuple(per_input))
    return jac[0] if single_out else tuple(jac)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """H[k][l] = d^2 f / d input_k d input_l for a scalar-valued func (shape input_k.shape + input_l.shape)."""
    inputs_tuple, single_in = _as_tuple(inputs, "inputs")

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
        gs = jacobian(lambda *ys: func(*ys).reshape(()), xs, create_graph=True, strict=strict)
        return gs

    h = jacobian(gradient, inputs_tuple, create_graph=create_graph, strict=strict)
    if single_in:
        return h[0][0] if isinstance(h, tuple) and isinstance(h[0], tuple) else h
    return h


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product (v may be None for a single-element output)."""
    inputs, single_in = _as_tuple(inputs, "inputs")
    inputs = _prepare(inputs, create_graph)
    outputs, single_out = _as_tuple(func(*inputs), "outputs")
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                               "Tensor with a single element.")
        vs = (None,)
    else:
        vs, _ = _as_tuple(v, "v")
        for o, w in zip(outputs, vs):
            if tuple(o.shape) != tuple(w.shape):
                raise RuntimeError(f"Mismatch in shape: v has shape {tuple(w.shape)} but the output has shape "
                                   f"{tuple(o.shape)}.")
    total = [x.new_zeros(x.shape) for x in inputs]
    for i, (o, w) in enumerate(zip(outputs, vs)):
        if o.requires_grad:
            gs = _grads(o, inputs, w, create_graph, strict, i)
            total = [t + g for t, g in zip(total, gs)]
        elif strict:
            raise RuntimeError(f"Output {i} of the user-provided function does not require gradients.")
    outs = tuple(_finish(o, create_graph) for o in outputs)
    res = tuple(_finish(t, create_graph) for t in total)
    return (outs[0] if single_out else outs), (res[0] if single_in else res)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product (forward-mode's quantity, from the Jacobian's rows)."""
    inputs_t, single_in = _as_tuple(inputs, "inputs")
    if v is None:
        if len(inputs_t) != 1 or inputs_t[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        vs = (inputs_t[0].new_ones(inputs_t[0].shape),)
    else:
        vs, _ = _as_tuple(v, "v")
    prepared = _prepare(inputs_t, create_graph)
    outputs, single_out = _as_tuple(func(*prepared), "outputs")
    results = []
    for i, out in enumerate(outputs):
        flat = out.reshape(-1)
        values = []
        for j in range(flat.numel()):
            if not flat.requires_grad:
                values.append(flat[j].detach() * 0)
                continue
            gs = _grads(flat[j], prepared, None, create_graph, strict, i)
            values.append(sum((g * w).sum() for g, w in zip(gs, vs)))
        jv = stack(values).reshape(out.shape) if values else out.new_zeros(out.shape)
        results.append(_finish(jv, create_graph))
    outs = tuple(_finish(o, create_graph) for o in outputs)
    return (outs[0] if single_out else outs), (results[0] if single_out else tuple(results))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar-valued func."""
    inputs_t, single_in = _as_tuple(inputs, "inputs")
    prepared = _prepare(inputs_t, True)
    out = func(*prepared)
    if not isinstance(out, Tensor) or out.numel() != 1:
        raise RuntimeError("The function given to vhp/hvp should return a single Tensor with a single element")
    if v is None:
        if len(inputs_t) != 1 or inputs_t[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        vs = (inputs_t[0].new_ones(inputs_t[0].shape),)
    else:
        vs, _ = _as_tuple(v, "v")
    gs = _grads(out.reshape(()), prepared, None, True, strict, 0)
    dot = sum((g * w).sum() for g, w in zip(gs, vs))
    if dot.requires_grad:
        hv = _grads(dot, prepared, None, create_graph, strict, 0)
    else:
        hv = [x.new_zeros(x.shape) for x in prepared]
    hv = tuple(_finish(h, create_graph) for h in hv)
    return _finish(out, create_graph), (hv[0] if single_in else hv)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar-valued func: the Hessian is symmetric, so H v = (v^T H)^T = vhp's."""
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)
