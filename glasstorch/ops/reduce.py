"""Reductions along dims (sum, mean, var, max ...), scans (cumsum), and the index-returning ones.

A reduction's backward spreads the gradient back over the reduced dims: reshape it to the
`keepdim` shape, then `expand` (a broadcast view) to the input's shape. The gradient-free ones
(argmax, sort, unique ...) compute with the array module of their input: NumPy, or CuPy on the GPU.
"""
import builtins
import collections

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .common import (as_tensor, autocast_inputs, float_operand, keepdim_shape, reduction_dims, scalar_tensor, to_dtype,
                     wrap_dim)
from .arithmetic import maximum, minimum, where
from .elementwise import abs as abs_
from .elementwise import exp, log, sqrt
from .indexing import gather
from .shape import Expand, Reshape, cat, flip, narrow

xp = backend.xp

def _return_type(name):
    """torch.return_types.<name>: a (values, indices) named tuple that prints like torch's."""
    def __repr__(self):
        return f"glasstorch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    return type(name, (collections.namedtuple(name, ["values", "indices"]),), {"__slots__": (), "__repr__": __repr__})


RETURN_TYPES = {name: _return_type(name) for name in ("max", "min", "sort", "topk", "kthvalue", "median")}


def _keep(keepdim, keepdims):
    """NumPy's `keepdims=` is accepted as an alias of `keepdim=`, as torch does."""
    return keepdim if keepdims is None else keepdims


class Sum(Function):
    """y = sum of x over dims;  dL/dx = dL/dy broadcast back over the summed dims"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        return ctx.xp.add.reduce(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.inputs[0].shape, ctx.dims, ctx.keepdim)


class Mean(Function):
    """y = mean of x over dims;  dL/dx = dL/dy / n broadcast back over the averaged dims"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.count = 1
        for d in dims:
            ctx.count *= x.shape[d]
        # sum / n is what ndarray.mean computes, without its Python-level bookkeeping
        return ctx.xp.add.reduce(x, axis=dims, keepdims=keepdim) / ctx.count

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad / ctx.count, ctx.inputs[0].shape, ctx.dims, ctx.keepdim)


def _spread(grad, shape, dims, keepdim):
    if not keepdim and grad._array.ndim:  # (a 0-dim gradient broadcasts as it is)
        grad = Reshape.apply(grad, shape=keepdim_shape(shape, dims))
    return Expand.apply(grad, shape=tuple(shape))


class Prod(Function):
    """y = prod of x over one dim (or all);  dL/dx_i = dL/dy * (product of the other elements)"""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.dim, ctx.keepdim = dim, keepdim
        return x.prod(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        dim = ctx.dim
        flat = x if dim is not None else x.reshape(-1)
        axis = dim if dim is not None else 0
        # product of all other elements = exclusive cumprod from the left * from the right (zeros are fine)
        ones = Tensor._make(ctx.xp.ones_like(flat._array.take([0], axis=axis)))
        n = flat.shape[axis]
        left = cat([ones, narrow(cumprod(flat, axis), axis, 0, n - 1)], axis)
        right = flip(cat([ones, narrow(cumprod(flip(flat, (axis,)), axis), axis, 0, n - 1)], axis), (axis,))
        others = (left * right).reshape(x.shape)
        return _spread(grad, x.shape, (dim,) if dim is not None else tuple(range(x.ndim)),
                       ctx.keepdim if dim is not None else False) * others


class Cumsum(Function):
    """y_i = x_0 + ... + x_i;  dL/dx_i = dL/dy_i + ... + dL/dy_n (a reversed cumsum)"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return x.cumsum(axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return flip(cumsum(flip(grad, (ctx.dim,)), ctx.dim), (ctx.dim,))


class Cumprod(Function):
    """y_i = x_0 * ... * x_i;  dL/dx_i = sum_{j>=i} dL/dy_j * y_j / x_i  (x without zeros)"""
    saves_output = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return x.cumprod(axis=dim)

    @staticmethod
    def backward(ctx, grad):
        d = ctx.dim
        return flip(cumsum(flip(grad * ctx.output, (d,)), d), (d,)) / ctx.inputs[0]


class Amax(Function):
    """y = max over dims;  dL/dx = dL/dy shared evenly among the elements equal to the max"""

    @staticmethod
    def forward(ctx, x, dims, keepdim, largest):
        ctx.dims, ctx.keepdim, ctx.largest = dims, keepdim, largest
        return x.max(axis=dims, keepdims=keepdim) if largest else x.min(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]._array
        y = ctx.xp.asarray(x.max(axis=ctx.dims, keepdims=True) if ctx.largest else x.min(axis=ctx.dims, keepdims=True))
        mask = (x == y).astype(grad._array.dtype)
        mask /= mask.sum(axis=ctx.dims, keepdims=True)
        return _spread(grad, x.shape, ctx.dims, ctx.keepdim) * Tensor._make(mask)


class Norm2(Function):
    """y = sqrt(sum x^2);  dL/dx = dL/dy * x / y  (0 where y = 0, as torch)"""
    saves_output = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        return ctx.xp.sqrt((x * x).sum(axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        y = _spread(ctx.output, x.shape, ctx.dims, ctx.keepdim)
        safe = where(y == 0, scalar_tensor(1, y.dtype), y)
        return _spread(grad, x.shape, ctx.dims, ctx.keepdim) * x / safe


# ----------------------------------------------------------------------------- wrappers
def sum(x, dim=None, keepdim=False, keepdims=None, dtype=None, axis=None):
    keepdim = _keep(keepdim, keepdims)
    x = as_tensor(x)
    if dtype is not None:
        x = to_dtype(x, backend.to_dtype(dtype))
    elif x._array.dtype.kind in "biu":  # torch sums bools and integers as int64
        x = to_dtype(x, backend.int64)
    else:
        (x,) = autocast_inputs("sum", x)
    return Sum.apply(x, dims=reduction_dims(dim, x.ndim, axis), keepdim=keepdim)


def mean(x, dim=None, keepdim=False, keepdims=None, dtype=None, axis=None):
    keepdim = _keep(keepdim, keepdims)
    x = as_tensor(x)
    if dtype is not None:
        x = to_dtype(x, backend.to_dtype(dtype))
    if x._array.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {x.dtype.name.capitalize() if x.dtype.name != 'int64' else 'Long'}")
    return Mean.apply(x, dims=reduction_dims(dim, x.ndim, axis), keepdim=keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(x, dim=None, unbiased=None, keepdim=False, keepdims=None, correction=None, axis=None):
    """Variance with Bessel's correction by default (unbiased=True / correction=1), as torch."""
    keepdim = _keep(keepdim, keepdims)
    if isinstance(dim, bool):  # torch.var(x, False): the legacy positional `unbiased`
        dim, unbiased = None, dim
    x = float_operand(as_tensor(x))
    dims = reduction_dims(dim, x.ndim, axis)
    n = 1
    for d in dims:
        n *= x.shape[d]
    centered = x - mean(x, dims, keepdim=True)
    return sum(centered * centered, dims, keepdim) / builtins.max(n - _correction(unbiased, correction), 0)


def std(x, dim=None, unbiased=None, keepdim=False, keepdims=None, correction=None, axis=None):
    keepdim = _keep(keepdim, keepdims)
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction, axis=axis))


def var_mean(x, dim=None, unbiased=None, keepdim=False, keepdims=None, correction=None):
    keepdim = _keep(keepdim, keepdims)
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, keepdims=None, correction=None):
    keepdim = _keep(keepdim, keepdims)
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def prod(x, dim=None, keepdim=False, keepdims=None, dtype=None, axis=None):
    keepdim = _keep(keepdim, keepdims)
    x = as_tensor(x)
    if axis is not None:
        dim = axis
    if dtype is not None:
        x = to_dtype(x, backend.to_dtype(dtype))
    elif x._array.dtype.kind in "biu":
        x = to_dtype(x, backend.int64)
    else:
        (x,) = autocast_inputs("prod", x)
    return Prod.apply(x, dim=wrap_dim(dim, x.ndim) if dim is not None else None, keepdim=keepdim)


def cumsum(x, dim=None, dtype=None, axis=None):
    dim = axis if dim is None else dim
    x = as_tensor(x)
    if dtype is not None:
        x = to_dtype(x, backend.to_dtype(dtype))
    elif x._array.dtype.kind in "biu":
        x = to_dtype(x, backend.int64)
    else:
        (x,) = autocast_inputs("cumsum", x)
    return Cumsum.apply(x, dim=wrap_dim(dim, x.ndim))


def cumprod(x, dim=None, dtype=None, axis=None):
    dim = axis if dim is None else dim
    x = as_tensor(x)
    if dtype is not None:
        x = to_dtype(x, backend.to_dtype(dtype))
    else:
        (x,) = autocast_inputs("cumprod", x)
    return Cumprod.apply(x, dim=wrap_dim(dim, x.ndim))


def _extreme(x, dim, keepdim, axis, largest):
    x = as_tensor(x)
    if axis is not None:
        dim = axis
    if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
        return maximum(x, dim) if largest else minimum(x, dim)
    if x.numel() == 0:
        raise RuntimeError(f"{'max' if largest else 'min'}(): Expected reduction dim to be specified for "
                           f"input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
    if dim is None:
        node = Amax.apply(x, dims=tuple(range(x.ndim)), keepdim=False, largest=largest)
        return node
    dim = wrap_dim(dim, x.ndim)
    idx = (argmax if largest else argmin)(x, dim, keepdim=True)
    values = gather(x, dim, idx)
    if not keepdim:
        values, idx = values.squeeze(dim), idx.squeeze(dim)
    return RETURN_TYPES["max" if largest else "min"](values, idx)


def max(x, dim=None, keepdim=False, keepdims=None, axis=None, other=None):
    """`max(x)` -> the largest value; `max(x, dim)` -> (values, indices); `max(a, b)` -> elementwise."""
    keepdim = _keep(keepdim, keepdims)
    return _extreme(x, dim if other is None else other, keepdim, axis, True)


def min(x, dim=None, keepdim=False, keepdims=None, axis=None, other=None):
    keepdim = _keep(keepdim, keepdims)
    return _extreme(x, dim if other is None else other, keepdim, axis, False)


def amax(x, dim=(), keepdim=False, keepdims=None, axis=None):
    keepdim = _keep(keepdim, keepdims)
    x = as_tensor(x)
    dims = reduction_dims(None if dim == () else dim, x.ndim, axis)
    return Amax.apply(x, dims=dims, keepdim=keepdim, largest=True)


def amin(x, dim=(), keepdim=False, keepdims=None, axis=None):
    keepdim = _keep(keepdim, keepdims)
    x = as_tensor(x)
    dims = reduction_dims(None if dim == () else dim, x.ndim, axis)
    return Amax.apply(x, dims=dims, keepdim=keepdim, largest=False)


def aminmax(x, dim=None, keepdim=False):
    return collections.namedtuple("aminmax", ["min", "max"])(amin(x, () if dim is None else dim, keepdim),
                                                               amax(x, () if dim is None else dim, keepdim))


def logsumexp(x, dim, keepdim=False, keepdims=None):
    """log(sum(exp(x))) along dim, shifted by the max so that large inputs stay finite."""
    keepdim = _keep(keepdim, keepdims)
    x = float_operand(as_tensor(x), "logsumexp")
    dims = reduction_dims(dim, x.ndim)
    m = x._array.max(axis=dims, keepdims=True)  # a constant shift: no gradient needed through it
    xp = backend.array_module(m)
    m = Tensor._make(xp.where(xp.isfinite(m), m, 0))
    out = log(sum(exp(x - m), dims, keepdim=True)) + m
    return out if keepdim else out.squeeze(dims) if dims else out


def norm(x, p="fro", dim=None, keepdim=False, keepdims=None, dtype=None):
    """Vector p-norm (2 by default, 'fro' = 2); p = inf / -inf give max / min of |x|."""
    keepdim = _keep(keepdim, keepdims)
    x = float_operand(as_tensor(x), "norm")
    dims = reduction_dims(dim, x.ndim)
    if p in ("fro", 2, 2.0, None):
        return Norm2.apply(x, dims=dims, keepdim=keepdim)
    if p == float("inf"):
        return amax(abs_(x), dims, keepdim)
    if p == -float("inf"):
        return amin(abs_(x), dims, keepdim)
    if p == 1:
        return sum(abs_(x), dims, keepdim)
    if p == 0:
        return sum(to_dtype(x != 0, x.dtype), dims, keepdim)
    return sum(abs_(x) ** p, dims, keepdim) ** (1.0 / p)


def dist(a, b, p=2):
    return norm(a - b, p)


def _arg_extreme(x, dim, keepdim, axis, name):
    """argmax / argmin: int64 indices (of the flattened tensor when dim is None)."""
    x = as_tensor(x)
    if axis is not None:
        dim = axis
    a = x._array
    if dim is None:
        out = backend.array_module(a).asarray(getattr(a, name)())
        return Tensor._make(out.reshape((1,) * x.ndim) if keepdim else out.astype(xp.int64))
    return Tensor._make(getattr(a, name)(axis=wrap_dim(dim, x.ndim), keepdims=keepdim).astype(xp.int64))


def argmax(x, dim=None, keepdim=False, keepdims=None, axis=None):
    return _arg_extreme(x, dim, _keep(keepdim, keepdims), axis, "argmax")


def argmin(x, dim=None, keepdim=False, keepdims=None, axis=None):
    return _arg_extreme(x, dim, _keep(keepdim, keepdims), axis, "argmin")


def _logical_reduce(x, dim, keepdim, axis, name):
    """all / any: a bool tensor."""
    dim = axis if dim is None else dim
    x = as_tensor(x)
    a = x._array
    out = getattr(a.astype(bool), name)(axis=reduction_dims(dim, x.ndim), keepdims=keepdim)
    return Tensor._make(backend.array_module(a).asarray(out))


def all(x, dim=None, keepdim=False, keepdims=None, axis=None):
    return _logical_reduce(x, dim, _keep(keepdim, keepdims), axis, "all")


def any(x, dim=None, keepdim=False, keepdims=None, axis=None):
    return _logical_reduce(x, dim, _keep(keepdim, keepdims), axis, "any")


def count_nonzero(x, dim=None):
    x = as_tensor(x)
    a = x._array
    xp = backend.array_module(a)
    return Tensor._make(xp.asarray(xp.count_nonzero(a, axis=reduction_dims(dim, x.ndim))).astype(xp.int64))


def nonzero(x, as_tuple=False):
    a = as_tensor(x)._array
    xp = backend.array_module(a)
    idx = xp.nonzero(a)
    if as_tuple:
        return tuple(Tensor._make(i.astype(xp.int64)) for i in idx)
    return Tensor._make(xp.stack(idx, axis=1).astype(xp.int64) if idx else xp.zeros((1, 0), dtype=xp.int64))


def argsort(x, dim=-1, descending=False, stable=False):
    x = as_tensor(x)
    dim = wrap_dim(dim, x.ndim)
    a = x._array
    xp = backend.array_module(a)
    if descending:  # a stable descending order: sort the negated keys (bools/unsigned via int64)
        key = -(a.astype(xp.int64) if a.dtype.kind in "bu" else a)
        idx = xp.argsort(key, axis=dim, kind="stable")
    else:
        idx = xp.argsort(a, axis=dim, kind="stable")
    return Tensor._make(idx.astype(xp.int64))


def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices); the values carry the gradient back to the positions they came from."""
    x = as_tensor(x)
    idx = argsort(x, dim, descending)
    return RETURN_TYPES["sort"](gather(x, wrap_dim(dim, x.ndim) if x.ndim else 0, idx) if x.ndim else x, idx)


def topk(x, k, dim=-1, largest=True, sorted=True):
    x = as_tensor(x)
    dim = wrap_dim(dim, x.ndim)
    if not 0 <= k <= x.shape[dim] if x.ndim else k > 1:
        raise RuntimeError("selected index k out of range")
    idx = narrow(argsort(x, dim, descending=largest), dim, 0, k)
    return RETURN_TYPES["topk"](gather(x, dim, idx), idx)


def kthvalue(x, k, dim=-1, keepdim=False, keepdims=None):
    keepdim = _keep(keepdim, keepdims)
    x = as_tensor(x)
    dim = wrap_dim(dim, x.ndim)
    idx = narrow(argsort(x, dim), dim, k - 1, 1)
    values = gather(x, dim, idx)
    if not keepdim:
        values, idx = values.squeeze(dim), idx.squeeze(dim)
    return RETURN_TYPES["kthvalue"](values, idx)


def median(x, dim=None, keepdim=False, keepdims=None):
    """The lower median (torch's convention), with indices when dim is given."""
    keepdim = _keep(keepdim, keepdims)
    x = as_tensor(x)
    if dim is None:
        flat = x.reshape(-1)
        return kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
    return kthvalue(x, (x.shape[dim] + 1) // 2, dim, keepdim)


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    x = as_tensor(x)
    xp = backend.array_module(x._array)
    out = xp.unique(x._array, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not (return_inverse or return_counts):
        return Tensor._make(out)
    parts = [Tensor._make(out[0])]
    if return_inverse:
        parts.append(Tensor._make(out[1].reshape(x.shape).astype(xp.int64)))
    if return_counts:
        parts.append(Tensor._make(out[-1].astype(xp.int64)))
    return tuple(parts)


def bincount(x, weights=None, minlength=0):
    w = None if weights is None else weights._array
    out = backend.array_module(x._array).bincount(x._array, weights=w, minlength=minlength)
    return Tensor._make(out if w is not None else out.astype(xp.int64))
