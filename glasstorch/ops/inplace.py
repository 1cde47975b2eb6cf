"""In-place ops (`add_`, `x[k] = v`, `zero_` ...) with torch's rules.

- Outside autograd (no_grad, or nothing requires grad) they write straight into the array, so
  every view of it sees the change (`Y[:] = X + Y` keeps `id(Y)`).
- A leaf that requires grad refuses in-place changes while grad mode is on (torch's rule).
- On a non-leaf in the graph, the result is computed out of place from a copy of the old values,
  written back into the same memory, and the tensor takes the new node as its grad_fn. Every
  in-place write bumps the version counter, so a backward that needs the overwritten values raises.
- A write into a view in the graph (`X.reshape(-1, n)[~mask] = -1e6`, as d2l's masked_softmax does) also
  changes its base: the base's graph takes the written region from the new values (torch's CopySlices), and
  the view and the base's other views become their region of the new base again (see `_rebase`).
- Values written into a tensor go where it lives: random numbers are drawn on the host (the same numbers
  on the CPU and the GPU) and moved; `copy_` copies between the CPU and the GPU.
"""
from .. import backend
from ..autograd import grad_mode
from ..tensor import Tensor
from .arithmetic import add, div, mul, sub
from .common import (TORCH_NAMES, as_tensor, binary_operands, check_inplace_cast, same_device, scalar_tensor,
                     to_device_of, to_dtype)
from .indexing import IndexPut, index_put, normalize_key

xp = backend.xp


def _check_allowed(target):
    if target._requires_grad and target.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    base = target._base
    if base is not None and (base._requires_grad or target._requires_grad):
        if base._requires_grad and base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if not _is_graph_view(target):  # (detach()ed, or made under no_grad: its base's graph must not change)
            raise RuntimeError("in-place modification of a view made by detach() or under no_grad, of a tensor "
                               "that is part of the autograd graph, is not supported by glasstorch; write it out "
                               "of place (y = x.clone(); y[...] = ...).")


def _is_graph_view(t):
    """A view made by a view op in grad mode (registered with its base, so its base's graph can follow a write)."""
    views = t._base._views if t._base is not None else None
    return views is not None and views.get(id(t)) is t


def _positions_in_base(base, view):
    """Where each element of `view` sits in `base`: flat (C-order) indices into base, in view's shape.

    torch keeps this map as the view's strides and offset; here it is recovered from the two arrays' memory
    layout: the byte address of every element of each, matched by sorting the base's addresses."""
    xp_ = backend.array_module(base)

    def addresses(a):
        grid = xp_.zeros(a.shape, dtype=xp_.int64)
        for k, (n, stride) in enumerate(zip(a.shape, a.strides)):
            grid = grid + xp_.arange(n, dtype=xp_.int64).reshape((-1,) + (1,) * (a.ndim - k - 1)) * stride
        pointer = a.__array_interface__["data"][0] if isinstance(a, xp.ndarray) else a.data.ptr
        return grid + pointer

    base_addresses = addresses(base).reshape(-1)
    order = xp_.argsort(base_addresses)  # (the addresses are distinct: a base with overlapping elements refuses writes)
    view_addresses = addresses(view)
    found = xp_.minimum(xp_.searchsorted(base_addresses[order], view_addresses), base_addresses.size - 1)
    if not bool((base_addresses[order][found] == view_addresses).all()):
        return None  # no longer in base's memory (its .data was replaced)
    return order[found]


def _rebase(view, values):
    """After `values` were written into `view` (a view in the graph), give its base and the base's views their
    new place in the graph: new_base = old base with view's region taken from `values` (torch's CopySlices,
    built from index_put), and each view = its region of new_base (a gather), so gradients follow the write."""
    base = view._base
    old = Tensor._make(base._array, base._requires_grad)  # stand-in holding the base's old place in the graph
    old.grad_fn = base.grad_fn
    positions = _positions_in_base(base._array, view._array)
    if positions is None:  # its .data was replaced: no longer a view, it just takes the new node
        view.grad_fn, view._requires_grad = values.grad_fn, values._requires_grad
        return
    flat_positions = Tensor._make(positions.reshape(-1))
    new_base = index_put(old.reshape(-1), (flat_positions,), values.reshape(-1)).reshape(tuple(base.shape))
    base.grad_fn, base._requires_grad = new_base.grad_fn, new_base._requires_grad
    flat = new_base.reshape(-1)
    for other in list(base._views.values()):
        positions = _positions_in_base(base._array, other._array)
        if positions is not None:
            region = flat[Tensor._make(positions)]
            other.grad_fn, other._requires_grad = region.grad_fn, region._requires_grad


def _write(target, values):
    """Copy `values` (an array of either device, or a number) into target's memory."""
    array = target._array
    try:
        backend.array_module(array).copyto(array, to_device_of(array, values), casting="unsafe")
    except ValueError as e:
        if "read-only" in str(e):
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.") from None
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                           f"{_broadcast_shape(target.shape, xp.shape(values))}") from None
    target._version_counter[0] += 1


def inplace(target, compute, *operands):
    """Replace target's values by `compute(target)`, recording the graph when autograd needs it."""
    recording = grad_mode.is_grad_enabled() and (
        target._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in operands))
    if not recording:
        result = compute(target)
        check_inplace_cast(target, result.dtype)
        if result._array is not target._array:
            _write(target, result._array)
        return target
    _check_allowed(target)
    source = Tensor._make(target._array.copy(), target._requires_grad)
    source.grad_fn = target.grad_fn  # the old values keep the old place in the graph
    result = compute(source)
    check_inplace_cast(target, result.dtype)
    if tuple(result.shape) != tuple(target.shape):
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}")
    _write(target, result._array)
    if target._base is not None:
        _rebase(target, result)
    elif result._requires_grad:
        target.grad_fn = result.grad_fn
        target._requires_grad = True
    return target


def _arith_(target, other, ufunc, make, alpha=1):
    """add_/sub_/mul_/div_: target = xp.<ufunc>(target, alpha * other), straight `out=` when no graph is needed.

    The no-graph branch is the optimizer's hot path (`p.data.add_(p.grad, alpha=-lr)`).
    """
    if grad_mode._state.enabled and (target._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        return inplace(target, lambda t: make(t, other, alpha=alpha) if alpha != 1 else make(t, other), other)
    if isinstance(other, Tensor) and other._array.dtype == target._array.dtype:
        operand = other._array  # the common case: same dtype, nothing to promote or check
    else:
        a, b = binary_operands(target, other)
        check_inplace_cast(target, a.dtype)
        operand = b._array
    if target._array.dtype.kind != "f" and (ufunc == "true_divide" or isinstance(alpha, float)):
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{TORCH_NAMES[target.dtype.name]}")
    if alpha != 1:
        operand = operand * alpha  # a Python number keeps the array's dtype (NEP 50)
    (array, operand), xp = same_device(ufunc, target._array, operand)
    try:
        getattr(xp, ufunc)(array, operand, out=array, casting="unsafe")
    except ValueError as e:
        if "read-only" in str(e):
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.") from None
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                           f"{_broadcast_shape(target.shape, operand.shape)}") from None
    target._version_counter[0] += 1
    return target


def _broadcast_shape(a, b):
    try:
        return list(xp.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        return f"of {list(a)} and {list(b)} (they cannot be broadcast together)"


def add_(target, other, alpha=1):
    return _arith_(target, other, "add", add, alpha)


def sub_(target, other, alpha=1):
    return _arith_(target, other, "subtract", sub, alpha)


def mul_(target, other):
    return _arith_(target, other, "multiply", mul)


def div_(target, other, rounding_mode=None):
    if rounding_mode is not None:
        return inplace(target, lambda t: div(t, other, rounding_mode=rounding_mode), other)
    return _arith_(target, other, "true_divide", div)


def fill_(target, value):
    if grad_mode.is_grad_enabled() and (target._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
        v = value if isinstance(value, Tensor) else scalar_tensor(value, target.dtype)
        return inplace(target, lambda t: IndexPut.apply(t, v.to(t.dtype), key=(Ellipsis,), accumulate=False), value)
    if isinstance(value, (int, float)) and getattr(target._array.flags, "writeable", True):  # (CuPy: no flag)
        target._array.fill(value)  # zero_() on every .grad each step: the quickest write
        target._version_counter[0] += 1
        return target
    _write(target, value._array if isinstance(value, Tensor) else value)
    return target


def copy_(target, src):
    """Copy src's values (broadcast, cast) into target; the gradient flows to src."""
    src = as_tensor(src)
    if grad_mode.is_grad_enabled() and (target._requires_grad or src._requires_grad):
        return inplace(target, lambda t: IndexPut.apply(t, src.to(t.dtype), key=(Ellipsis,), accumulate=False), src)
    _write(target, src._array)
    return target


def restride_(target, view):
    """unsqueeze_/squeeze_/t_/transpose_: target itself takes the shape of `view(target)`, on the same memory.

    In the graph (a non-leaf), the view's backward becomes target's grad_fn, taken from a stand-in that holds
    the old node (as `inplace` does), so that the node does not point back at itself.
    """
    source = target
    if grad_mode.is_grad_enabled() and target._requires_grad:
        _check_allowed(target)
        source = Tensor._make(target._array, True)
        source.grad_fn = target.grad_fn
    result = view(source)
    target._array = result._array
    if result.grad_fn is not None:
        target.grad_fn = result.grad_fn
    target._version_counter[0] += 1
    return target


def fill_random_(target, kind, a, b, generator):
    """normal_/uniform_/bernoulli_ ...: draw from glasstorch's generator into target's memory.

    The values are drawn on the host, so a GPU tensor gets the same numbers as a CPU one, then moved.
    """
    if grad_mode.is_grad_enabled() and target._requires_grad:
        _check_allowed(target)
    rng = backend.rng(generator)
    shape = target._array.shape
    if kind == "normal":
        values = rng.normal(a, b, size=shape)
    elif kind == "uniform":
        values = rng.uniform(a, b, size=shape)
    elif kind == "bernoulli":
        p = backend.to_host(a._array) if isinstance(a, Tensor) else a
        values = rng.random(size=shape) < p
    elif kind == "exponential":
        values = rng.exponential(1.0 / a, size=shape)
    elif kind == "integers":
        values = rng.integers(a, b if b is not None else 2 ** 24, size=shape)
    else:
        raise ValueError(f"unknown distribution {kind}")
    _write(target, values)
    return target


def setitem(x, key, value):
    """x[key] = value, in place (views of x see it); recorded in the graph when needed."""
    key, _ = normalize_key(key)
    value_t = value if isinstance(value, Tensor) else None
    if not grad_mode.is_grad_enabled() or not (x._requires_grad or (value_t is not None and value_t._requires_grad)):
        array = to_device_of(x._array, value._array if value_t is not None else value)
        try:
            x._array[key] = array
        except ValueError as e:
            if "read-only" in str(e):
                raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to "
                                   "a single memory location. Please clone() the tensor before performing the "
                                   "operation.") from None
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(xp.shape(array))} cannot be broadcast "
                               f"to indexing result of shape {list(x._array[key].shape)}") from None
        x._version_counter[0] += 1
        return x
    value = to_dtype(value_t, x.dtype) if value_t is not None else scalar_tensor(value, x.dtype)
    return inplace(x, lambda t: IndexPut.apply(t, value, key=key, accumulate=False), value)


def index_put_(x, indices, values, accumulate=False):
    return inplace(x, lambda t: index_put(t, indices, values, accumulate), values)
