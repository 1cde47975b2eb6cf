"""What every op family shares: turning operands into tensors of torch's result dtype, dim handling, devices.

Python numbers become 0-dim host (NumPy) tensors here, also next to GPU tensors: Function.apply passes them to a
CuPy forward as NumPy scalars, and `same_device` does the same for array code outside a forward.
"""
from .. import autocast_mode, backend
from ..autograd.function import Function
from ..tensor import Tensor, tensor, wrap_dim  # noqa: F401  (wrap_dim: used across ops)

xp = backend.xp


class ToDtype(Function):
    """y = x cast to another dtype;  dL/dx = dL/dy cast back (only float -> float carries a gradient)."""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype.np)

    @staticmethod
    def backward(ctx, grad):
        return to_dtype(grad, ctx.inputs[0].dtype)


def to_dtype(x, dtype):
    if x._array.dtype == dtype.np:
        return x
    return ToDtype.apply(x, dtype=dtype)


def _kind(t):
    return 2 if t._array.ndim else 1


def same_device(op_name, *arrays):
    """(arrays, xp) for array code outside a forward, prepared as Function.apply prepares forward's inputs:
    NumPy on the CPU; CuPy for GPU arrays, with 0-dim host arrays (Python numbers) passed as NumPy scalars."""
    if backend._cupy is None:  # no GPU backend loaded: every array is a NumPy array
        return arrays, xp
    return backend.one_device(op_name, arrays)


def to_device_of(array, values):
    """`values` (an array or a number) where `array` lives: host values (random draws, lists, CPU tensors) onto
    the GPU, GPU values to the host (copy_ between devices). On the CPU: `values` itself."""
    return backend.like(array, values) if backend.on_device(array) else backend.to_host(values)


def scalar_tensor(value, dtype):
    """A Python number as a 0-dim host tensor of `dtype`, on the CPU and next to GPU tensors alike."""
    try:
        return Tensor._make(xp.asarray(value, dtype=dtype.np))
    except OverflowError:  # an out-of-range int wraps around, as in torch (uint8 tensor + 300)
        return Tensor._make(xp.asarray(value).astype(dtype.np))


def binary_operands(a, b):
    """(a, b) as tensors of torch's result dtype: int tensor * 2.5 -> float32, float32 * 2.5 -> float32.

    Arrays (NumPy or CuPy) count as tensors (`np_array + tensor` is a Tensor); Python numbers as scalars.
    """
    if not isinstance(a, Tensor) and backend.is_array(a):
        a = Tensor._make(_checked(a))
    if not isinstance(b, Tensor) and backend.is_array(b):
        b = Tensor._make(_checked(b))
    a_is, b_is = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is and b_is:
        if a._array.dtype == b._array.dtype:
            return a, b
        dtype = backend.result_type((a.dtype, _kind(a)), (b.dtype, _kind(b)))
        return to_dtype(a, dtype), to_dtype(b, dtype)
    if a_is:
        if (type(b) is float or type(b) is int) and a._array.dtype.kind == "f":  # common: the tensor's dtype wins
            return a, Tensor._make(xp.asarray(b, dtype=a._array.dtype))
        b = _unwrap_scalar(b)
        dtype = backend.result_type((a.dtype, _kind(a)), (backend.scalar_dtype(b), 0))
        return to_dtype(a, dtype), scalar_tensor(b, dtype)
    if b_is:
        if (type(a) is float or type(a) is int) and b._array.dtype.kind == "f":
            return Tensor._make(xp.asarray(a, dtype=b._array.dtype)), b
        a = _unwrap_scalar(a)
        dtype = backend.result_type((backend.scalar_dtype(a), 0), (b.dtype, _kind(b)))
        return scalar_tensor(a, dtype), to_dtype(b, dtype)
    return as_tensor(a), as_tensor(b)


def _unwrap_scalar(value):
    """Python numbers pass; NumPy arrays become tensors' arrays' scalars; anything else is a TypeError."""
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (xp.generic,)):
        return value.item()
    if isinstance(value, (list, tuple)):
        raise TypeError(f"unsupported operand type: {type(value).__name__} (wrap it with glasstorch.tensor(...))")
    raise TypeError(f"unsupported operand type for a tensor op: {type(value).__name__}")


def _checked(array):
    backend.from_numpy_dtype(array.dtype)  # raises a TypeError naming unsupported dtypes (object, str ...)
    return array


def as_tensor(value, dtype=None):
    """Any operand as a Tensor (a Tensor itself, an array shared, a Python number as a 0-dim host tensor)."""
    if isinstance(value, Tensor):
        return value if dtype is None else to_dtype(value, dtype)
    if backend.is_array(value):
        return Tensor._make(value if dtype is None else value.astype(dtype.np))
    if dtype is None:
        dtype = backend.scalar_dtype(value) if isinstance(value, (bool, int, float, xp.generic)) else None
    if dtype is None:
        return tensor(value)
    return Tensor._make(xp.asarray(value, dtype=dtype.np))


def float_operand(x, autocast_op=None):
    """Integer/bool inputs of float functions (exp, sqrt, mean ...) are promoted to the default float.
    `autocast_op`: the op's name in the autocast policy (under torch.autocast it may run in float32)."""
    if x._array.dtype.kind not in "fc":
        x = to_dtype(x, backend.get_default_dtype())
    if autocast_op is not None and autocast_mode._state.active:
        (x,) = autocast_inputs(autocast_op, x)
    return x


def autocast_inputs(op_name, *xs):
    """Under torch.autocast: the op's float16/float32 tensors cast to the dtype its policy gives it
    (autocast_mode.POLICY: low precision for products, float32 for the fragile ops); else unchanged."""
    if not autocast_mode._state.active:  # the common path: one attribute read
        return xs
    first = next((x for x in xs if isinstance(x, Tensor)), None)
    if first is None:
        return xs
    target = autocast_mode.target_dtype(op_name, "cuda" if backend.on_device(first._array) else "cpu")
    if target is None:
        return xs
    eligible = (backend.float16, backend.float32)  # (float64 is never cast, as in torch)
    return tuple(to_dtype(x, target) if isinstance(x, Tensor) and x.dtype in eligible else x for x in xs)


def reduction_dims(dim, ndim, axis=None):
    """`dim` (None, int, or tuple; `axis=` is accepted as NumPy's alias) as a sorted tuple of axes."""
    if axis is not None:
        if dim is not None and dim != ():
            raise TypeError("got both dim and axis; use one of them")
        dim = axis
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    dims = tuple(sorted(wrap_dim(d, ndim) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
    return dims


def keepdim_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def check_inplace_cast(target, result_dtype):
    """torch refuses in-place ops that would need a narrowing cast: int_tensor.add_(float) raises."""
    if result_dtype._category > target.dtype._category:
        raise RuntimeError(f"result type {TORCH_NAMES[result_dtype.name]} can't be cast to the desired output "
                           f"type {TORCH_NAMES[target.dtype.name]}")


TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def broadcast_shapes(*shapes):
    try:
        return tuple(xp.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{' and '.join(str(list(s)) for s in shapes)}") from None


class NamedFunction(Function):
    """A Function whose graph node keeps torch's short name: `TanhFunction` prints `grad_fn=<TanhBackward0>`.

    Op classes end in `Function` so that none shares a name with a layer (`nn.Tanh`) or another class;
    `node_name` is the name the graph, `repr` and the graph drawings show.
    """
    node_name = None
    #: torch's overload number: its node for `x ** y` is PowBackward1, for `4.2 - x` RsubBackward1
    node_overload = 0

    def name(self):
        return f"{self.node_name}Backward{self.node_overload}"
