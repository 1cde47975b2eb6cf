"""torch's `out=` forms of the functions it documents with one: `torch.add(a, b, out=c)` writes into c.

Each is the function of its family file and then `write_out` (tensor.py), the one place with torch's
rules (no autograd through out=, resize, dtype casts, (values, indices) pairs). `glasstorch.add` is this
`add`; the family files keep the plain form that Tensor methods call.
"""
from ..tensor import write_out
from . import arithmetic, elementwise, reduce, shape
from .matmul import bmm as _bmm, matmul as _matmul, mm as _mm  # (ops.matmul is also the function's name)


def add(input, other, *, alpha=1, out=None):
    return write_out(arithmetic.add(input, other, alpha=alpha), out, "add")


def sub(input, other, *, alpha=1, out=None):
    return write_out(arithmetic.sub(input, other, alpha=alpha), out, "sub")


def mul(input, other, *, out=None):
    return write_out(arithmetic.mul(input, other), out, "mul")


def div(input, other, *, rounding_mode=None, out=None):
    return write_out(arithmetic.div(input, other, rounding_mode=rounding_mode), out, "div")


def where(condition, input=None, other=None, *, out=None):
    return write_out(arithmetic.where(condition, input, other), out, "where")


def exp(input, *, out=None):
    return write_out(elementwise.exp(input), out, "exp")


def log(input, *, out=None):
    return write_out(elementwise.log(input), out, "log")


def sqrt(input, *, out=None):
    return write_out(elementwise.sqrt(input), out, "sqrt")


def clamp(input, min=None, max=None, *, out=None):
    return write_out(elementwise.clamp(input, min, max), out, "clamp")


def matmul(input, other, *, out=None):
    return write_out(_matmul(input, other), out, "matmul")


def mm(input, mat2, *, out=None):
    return write_out(_mm(input, mat2), out, "mm")


def bmm(input, mat2, *, out=None):
    return write_out(_bmm(input, mat2), out, "bmm")


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None, **kwargs):
    return write_out(reduce.sum(input, dim, keepdim, dtype=dtype, **kwargs), out, "sum")


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None, **kwargs):
    return write_out(reduce.mean(input, dim, keepdim, dtype=dtype, **kwargs), out, "mean")


def max(input, dim=None, keepdim=False, *, out=None, **kwargs):
    """max(x), max(x, dim) -> (values, indices) (out: a pair), max(x, other) -> elementwise maximum."""
    return write_out(reduce.max(input, dim, keepdim, **kwargs), out, "max")


def min(input, dim=None, keepdim=False, *, out=None, **kwargs):
    return write_out(reduce.min(input, dim, keepdim, **kwargs), out, "min")


def cat(tensors, dim=0, *, out=None, axis=None):
    return write_out(shape.cat(tensors, dim, axis=axis), out, "cat")


def stack(tensors, dim=0, *, out=None):
    return write_out(shape.stack(tensors, dim), out, "stack")
