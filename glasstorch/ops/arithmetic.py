"""Binary arithmetic with broadcasting: + - * / ** max/min where, and the (gradient-free) comparisons.

Backward returns gradients shaped like the broadcast result; the walk sums them back to each
input's shape in one place (`sum_to_shape`), so no op here worries about broadcasting.
Forward computes with ctx.xp: NumPy on the CPU, CuPy on the GPU.
"""
from .. import backend
from ..autograd.function import Function, explain_forward_error
from ..tensor import Tensor
from .common import (NamedFunction, as_tensor, binary_operands, float_operand, same_device, scalar_tensor,
                     to_dtype)

xp = backend.xp


class Add(Function):
    """y = a + b;  dL/da = dL/dy,  dL/db = dL/dy"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Rsub(NamedFunction, Sub):
    """y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy   (a a number: `4.2 - x`)

    Sub itself, named as torch names the node: RsubBackward1."""
    node_name, node_overload = "Rsub", 1


class Mul(Function):
    """y = a * b;  dL/da = dL/dy * b,  dL/db = dL/dy * a"""

    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None)

    def reads_input(self, i):
        return self.needs_input_grad[1 - i]  # a is read only for b's gradient, and b for a's


class Div(Function):
    """y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy * a / b^2"""

    @staticmethod
    def forward(ctx, a, b):
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return (grad / b if ctx.needs_input_grad[0] else None,
                -grad * a / (b * b) if ctx.needs_input_grad[1] else None)


class Neg(Function):
    """y = -x;  dL/dx = -dL/dy"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class PowScalar(NamedFunction):
    """y = x^p (p a number);  dL/dx = dL/dy * p * x^(p-1)"""
    node_name = "Pow"  # the node prints as PowBackward0, as torch's

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        if exponent == 2:
            return x * x
        if isinstance(exponent, int) and exponent >= 0:
            return x ** exponent
        return ctx.xp.power(x, x.dtype.type(exponent))

    @staticmethod
    def backward(ctx, grad):
        x, p = ctx.inputs[0], ctx.exponent
        if p == 0:
            return grad * 0
        if p == 1:
            return grad
        if p == 2:
            return grad * x * 2.0
        return grad * p * pow(x, p - 1)


class Pow(NamedFunction):
    """y = a^b;  dL/da = dL/dy * b * a^(b-1),  dL/db = dL/dy * y * log(a)"""
    node_name, node_overload = "Pow", 1  # PowBackward1: torch's name for a tensor exponent
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.xp.power(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_a = grad * b * pow(a, b - 1) if ctx.needs_input_grad[0] else None
        # log(a) is -inf/nan at a <= 0; torch masks the gradient to 0 where a == 0 and b >= 0
        grad_b = None
        if ctx.needs_input_grad[1]:
            safe = where(a == 0, scalar_tensor(1, a.dtype), a)
            grad_b = grad * ctx.output * safe.log()
        return grad_a, grad_b


class Maximum(Function):
    """y = max(a, b);  the gradient goes to the larger input (split in half on ties, as torch)"""

    @staticmethod
    def forward(ctx, a, b):
        return ctx.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return _split_by_winner(grad, a, b, ctx.needs_input_grad)


class Minimum(Function):
    """y = min(a, b);  the gradient goes to the smaller input (split in half on ties, as torch)"""

    @staticmethod
    def forward(ctx, a, b):
        return ctx.xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return _split_by_winner(grad, b, a, ctx.needs_input_grad)


def _split_by_winner(grad, first, second, needed):
    dtype = grad._array.dtype
    (first, second), xp = same_device("maximum", first._array, second._array)  # one may be a host number
    share_first = Tensor._make(xp.where(first > second, 1.0, xp.where(first == second, 0.5, 0.0)).astype(dtype))
    return (grad * share_first if needed[0] else None,
            grad * (1 - share_first) if needed[1] else None)


class Where(Function):
    """y = cond ? a : b;  dL/da = dL/dy where cond (else 0),  dL/db = dL/dy where not cond"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = condition = ctx.xp.asarray(condition)  # a host mask (from a list) moves to GPU operands
        return ctx.xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = Tensor._make(ctx.condition)
        zero = scalar_tensor(0, grad.dtype)
        return (where(cond, grad, zero) if ctx.needs_input_grad[0] else None,
                where(cond, zero, grad) if ctx.needs_input_grad[1] else None)


class Remainder(Function):
    """y = a mod b (Python's sign rule);  dL/da = dL/dy,  dL/db = -dL/dy * floor(a / b)"""

    @staticmethod
    def forward(ctx, a, b):
        return ctx.xp.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[1]:
            return grad, None
        (a, b), xp = same_device("remainder", ctx.inputs[0]._array, ctx.inputs[1]._array)
        return grad, -grad * Tensor._make(xp.floor(a / b))


# ----------------------------------------------------------------------------- wrappers
def add(a, b, alpha=1):
    a, b = binary_operands(a, b)
    if alpha != 1:
        b = mul(b, alpha)
    return Add.apply(a, b)


def sub(a, b, alpha=1):
    _refuse_bool_subtraction(a, b)
    a, b = binary_operands(a, b)
    if alpha != 1:
        b = mul(b, alpha)
    return Sub.apply(a, b)


def _refuse_bool_subtraction(a, b):
    """torch refuses `-` with a bool operand, a tensor or a number (`1 - mask`: a mask is inverted with `~`)."""
    a_tensor, b_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    a_bool = a._array.dtype == xp.bool_ if a_tensor else isinstance(a, (bool, xp.bool_))
    b_bool = b._array.dtype == xp.bool_ if b_tensor else isinstance(b, (bool, xp.bool_))
    if a_bool and b_bool and a_tensor and b_tensor:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")


def rsub(input, other, alpha=1):
    """other - alpha * input (torch.rsub). A number `other` (`4.2 - x` runs this) gives torch's RsubBackward1 node."""
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    _refuse_bool_subtraction(other, input)
    a, b = binary_operands(other, input)
    if alpha != 1:
        b = mul(b, alpha)
    return Rsub.apply(a, b)


def mul(a, b):
    a, b = binary_operands(a, b)
    return Mul.apply(a, b)


def div(a, b, rounding_mode=None):
    """True division promotes integers to float32 (7 / 2 = 3.5); rounding_mode 'trunc' or 'floor' rounds."""
    a, b = binary_operands(a, b)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
        return _rounded_division(a, b, rounding_mode)
    if a._array.dtype.kind not in "fc":
        a, b = float_operand(a), float_operand(b)
    return Div.apply(a, b)


def _rounded_division(a, b, mode):
    dtype = a._array.dtype
    (a, b), xp = same_device("div", a._array, b._array)
    if dtype.kind in "iub" and mode == "floor":
        if (b == 0).any():
            raise ZeroDivisionError("integer division by zero")
        return Tensor._make(xp.floor_divide(a, b))
    if dtype.kind in "iub":
        if (b == 0).any():
            raise ZeroDivisionError("integer division by zero")
        q = xp.trunc(a / b).astype(dtype)
        return Tensor._make(q)
    q = xp.floor(a / b) if mode == "floor" else xp.trunc(a / b)
    return Tensor._make(q.astype(dtype))  # piecewise constant: no gradient


def floor_divide(a, b):
    return div(a, b, rounding_mode="floor")


def remainder(a, b):
    a, b = binary_operands(a, b)
    if a._array.dtype.kind in "iub" and (b._array == 0).any():
        raise ZeroDivisionError("ZeroDivisionError: integer modulo by zero")
    return Remainder.apply(a, b)


def fmod(a, b):
    return _no_grad_op(a, b, "fmod")


def neg(x):
    if x._array.dtype == xp.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(x)


def pow(base, exponent):
    """x ** p. A number exponent keeps x's dtype (float32 ** 2.0 is float32); int ** negative int raises."""
    if isinstance(base, Tensor) and not isinstance(exponent, Tensor):
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            exponent = exponent.item() if hasattr(exponent, "item") else float(exponent)
        if base._array.dtype.kind in "iub":
            if isinstance(exponent, float):
                base = float_operand(base)
            elif exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
        return PowScalar.apply(base, exponent=exponent)
    base, exponent = binary_operands(base, exponent)
    return Pow.apply(base, exponent)


def maximum(a, b):
    a, b = binary_operands(a, b)
    return Maximum.apply(a, b)


def minimum(a, b):
    a, b = binary_operands(a, b)
    return Minimum.apply(a, b)


def where(condition, a=None, b=None):
    """Elementwise choice; `where(cond)` alone returns the indices of True elements (like torch)."""
    if a is None and b is None:
        return as_tensor(condition).nonzero(as_tuple=True)  # a Tensor method: reduce.py sits above this file
    cond = condition._array if isinstance(condition, Tensor) else _host_array(condition)
    if cond.dtype != xp.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{backend.from_numpy_dtype(cond.dtype).name}")
    a, b = binary_operands(a, b)
    if backend.on_device(cond) and not (backend.on_device(a._array) or backend.on_device(b._array)):
        b = Tensor._make(backend.like(cond, b._array))  # where(gpu_mask, 1.0, 0.0): the result is on the GPU
    return Where.apply(a, b, condition=cond)


def _host_array(value):
    """A mask given as a list or a bool: a host array (Where's forward moves it next to GPU operands)."""
    return value if backend.is_array(value) else xp.asarray(value)


def masked_fill(x, mask, value):
    """x with `value` where mask is True (the gradient flows to x elsewhere, and to a tensor value)."""
    m = mask._array if isinstance(mask, Tensor) else _host_array(mask)
    if m.dtype != xp.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{backend.from_numpy_dtype(m.dtype).name}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        value = to_dtype(value, x.dtype)
    else:
        value = scalar_tensor(value, x.dtype)
    return Where.apply(value, x, condition=m)


# comparisons, logic, fmod: no gradient, so no graph node
def _no_grad_op(a, b, name, **kwargs):
    """Tensor of xp.<name>(a, b), computed where the operands live."""
    a, b = binary_operands(a, b)
    arrays, xp = same_device(name, a._array, b._array)
    fn = getattr(xp, name)
    try:
        return Tensor._make(fn(*arrays, **kwargs))
    except ValueError as error:
        raise explain_forward_error(fn, arrays, error) from None


def eq(a, b):
    return _no_grad_op(a, b, "equal")


def ne(a, b):
    return _no_grad_op(a, b, "not_equal")


def lt(a, b):
    return _no_grad_op(a, b, "less")


def le(a, b):
    return _no_grad_op(a, b, "less_equal")


def gt(a, b):
    return _no_grad_op(a, b, "greater")


def ge(a, b):
    return _no_grad_op(a, b, "greater_equal")


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _no_grad_op(a, b, "isclose", rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(a, b, rtol, atol, equal_nan)._array.all())


def equal(a, b):
    return a.shape == b.shape and bool((a._array == b._array).all())


def logical_and(a, b):
    return _no_grad_op(a, b, "logical_and")


def logical_or(a, b):
    return _no_grad_op(a, b, "logical_or")


def logical_xor(a, b):
    return _no_grad_op(a, b, "logical_xor")


def logical_not(x):
    x = as_tensor(x)._array
    return Tensor._make(backend.array_module(x).logical_not(x))


def _bitwise(a, b, name):
    a, b = binary_operands(a, b)
    if a._array.dtype.kind == "f":
        raise RuntimeError(f"\"{name}_cpu\" not implemented for 'Float'")
    return _no_grad_op(a, b, name)


def bitwise_and(a, b):
    return _bitwise(a, b, "bitwise_and")


def bitwise_or(a, b):
    return _bitwise(a, b, "bitwise_or")


def bitwise_xor(a, b):
    return _bitwise(a, b, "bitwise_xor")


def bitwise_not(x):
    if x._array.dtype.kind == "f":
        raise RuntimeError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return Tensor._make(backend.array_module(x._array).invert(x._array))
