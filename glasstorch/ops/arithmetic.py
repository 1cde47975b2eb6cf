"""Binary arithmetic with broadcasting: + - * / ** max/min where, and the (gradient-free) comparisons.

Backward returns gradients shaped like the broadcast result; the walk sums them back to each
input's shape in one place (`sum_to_shape`), so no op here worries about broadcasting.
"""
from .. import backend
from ..autograd.function import Function, explain_forward_error
from ..tensor import Tensor
from .common import as_tensor, binary_operands, float_operand, scalar_tensor, to_dtype

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


class PowScalar(Function):
    """y = x^p (p a number);  dL/dx = dL/dy * p * x^(p-1)"""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        if exponent == 2:
            return x * x
        return x ** exponent if isinstance(exponent, int) and exponent >= 0 else xp.power(x, x.dtype.type(exponent))

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


class Pow(Function):
    """y = a^b;  dL/da = dL/dy * b * a^(b-1),  dL/db = dL/dy * y * log(a)"""
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        return xp.power(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        from .elementwise import log
        grad_a = grad * b * pow(a, b - 1) if ctx.needs_input_grad[0] else None
        # log(a) is -inf/nan at a <= 0; torch masks the gradient to 0 where a == 0 and b >= 0
        grad_b = None
        if ctx.needs_input_grad[1]:
            safe = where(a == 0, scalar_tensor(1, a.dtype), a)
            grad_b = grad * ctx.output * log(safe)
        return grad_a, grad_b


class Maximum(Function):
    """y = max(a, b);  the gradient goes to the larger input (split in half on ties, as torch)"""

    @staticmethod
    def forward(ctx, a, b):
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return _split_by_winner(grad, a._array, b._array, ctx.needs_input_grad)


class Minimum(Function):
    """y = min(a, b);  the gradient goes to the smaller input (split in half on ties, as torch)"""

    @staticmethod
    def forward(ctx, a, b):
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return _split_by_winner(grad, b._array, a._array, ctx.needs_input_grad)


def _split_by_winner(grad, first, second, needed):
    dtype = grad._array.dtype
    share_first = Tensor._make(xp.where(first > second, 1.0, xp.where(first == second, 0.5, 0.0)).astype(dtype))
    return (grad * share_first if needed[0] else None,
            grad * (1 - share_first) if needed[1] else None)


class Where(Function):
    """y = cond ? a : b;  dL/da = dL/dy where cond (else 0),  dL/db = dL/dy where not cond"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = condition
        return xp.where(condition, a, b)

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
        return xp.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return grad, (-grad * Tensor._make(xp.floor(a._array / b._array)) if ctx.needs_input_grad[1] else None)


# ----------------------------------------------------------------------------- wrappers
def add(a, b, alpha=1):
    a, b = binary_operands(a, b)
    if alpha != 1:
        b = mul(b, alpha)
    return Add.apply(a, b)


def sub(a, b, alpha=1):
    a, b = binary_operands(a, b)
    if a._array.dtype == xp.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1:
        b = mul(b, alpha)
    return Sub.apply(a, b)


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
    if a._array.dtype.kind in "iub" and mode == "floor":
        if (b._array == 0).any():
            raise ZeroDivisionError("integer division by zero")
        return Tensor._make(xp.floor_divide(a._array, b._array))
    if a._array.dtype.kind in "iub":
        if (b._array == 0).any():
            raise ZeroDivisionError("integer division by zero")
        q = xp.trunc(a._array / b._array).astype(a._array.dtype)
        return Tensor._make(q)
    q = xp.floor(a._array / b._array) if mode == "floor" else xp.trunc(a._array / b._array)
    return Tensor._make(q.astype(a._array.dtype))  # piecewise constant: no gradient


def floor_divide(a, b):
    return div(a, b, rounding_mode="floor")


def remainder(a, b):
    a, b = binary_operands(a, b)
    if a._array.dtype.kind in "iub" and (b._array == 0).any():
        raise ZeroDivisionError("ZeroDivisionError: integer modulo by zero")
    return Remainder.apply(a, b)


def fmod(a, b):
    a, b = binary_operands(a, b)
    return Tensor._make(xp.fmod(a._array, b._array))


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
        from .reduce import nonzero
        return nonzero(as_tensor(condition), as_tuple=True)
    cond = condition._array if isinstance(condition, Tensor) else xp.asarray(condition)
    if cond.dtype != xp.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{backend.from_numpy_dtype(cond.dtype).name}")
    a, b = binary_operands(a, b)
    return Where.apply(a, b, condition=cond)


def masked_fill(x, mask, value):
    """x with `value` where mask is True (the gradient flows to x elsewhere, and to a tensor value)."""
    m = mask._array if isinstance(mask, Tensor) else xp.asarray(mask)
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


# comparisons and logic: results are bool and carry no gradient
def _compare(a, b, fn):
    a, b = binary_operands(a, b)
    try:
        return Tensor._make(fn(a._array, b._array))
    except ValueError as error:
        raise explain_forward_error(fn, (a._array, b._array), error) from None


def eq(a, b):
    return _compare(a, b, xp.equal)


def ne(a, b):
    return _compare(a, b, xp.not_equal)


def lt(a, b):
    return _compare(a, b, xp.less)


def le(a, b):
    return _compare(a, b, xp.less_equal)


def gt(a, b):
    return _compare(a, b, xp.greater)


def ge(a, b):
    return _compare(a, b, xp.greater_equal)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = binary_operands(a, b)
    return Tensor._make(xp.isclose(a._array, b._array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(a, b, rtol, atol, equal_nan)._array.all())


def equal(a, b):
    return a.shape == b.shape and bool((a._array == b._array).all())


def logical_and(a, b):
    return _compare(a, b, lambda x, y: xp.logical_and(x, y))


def logical_or(a, b):
    return _compare(a, b, lambda x, y: xp.logical_or(x, y))


def logical_xor(a, b):
    return _compare(a, b, lambda x, y: xp.logical_xor(x, y))


def logical_not(x):
    return Tensor._make(xp.logical_not(as_tensor(x)._array))


def _bitwise(a, b, fn, name):
    a, b = binary_operands(a, b)
    if a._array.dtype.kind == "f":
        raise RuntimeError(f"\"{name}_cpu\" not implemented for 'Float'")
    return Tensor._make(fn(a._array, b._array))


def bitwise_and(a, b):
    return _bitwise(a, b, xp.bitwise_and, "bitwise_and")


def bitwise_or(a, b):
    return _bitwise(a, b, xp.bitwise_or, "bitwise_or")


def bitwise_xor(a, b):
    return _bitwise(a, b, xp.bitwise_xor, "bitwise_xor")


def bitwise_not(x):
    if x._array.dtype.kind == "f":
        raise RuntimeError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return Tensor._make(xp.invert(x._array))
