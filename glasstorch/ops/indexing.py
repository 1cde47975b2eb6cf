"""Indexing: x[key] (slices, ints, None, ..., integer/boolean arrays), gather/scatter (x[key] = v: inplace.py).

The backward of reading `x[key]` is writing: a zero tensor shaped like x receives the gradient at
`key`, by scatter-add (`add.at`) when `key` has arrays, because one element may be picked twice
(`y_hat[range(n), y]` with repeated rows): each pick adds its share.

Keys made from Python lists and ranges are host (NumPy) arrays; a forward on the GPU moves them next to
the data once (`_key_on_device_of`), and the node keeps the moved key for backward.
"""
from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .common import as_tensor, broadcast_shapes, scalar_tensor, to_dtype, wrap_dim

xp = backend.xp


class Slice(Function):
    """y = x[key] for basic keys (slices, ints, None, ...): a view;  dL/dx = zeros with dL/dy at key"""
    needs_inputs = False
    is_view = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.key = key
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        return index_put_zeros(grad, tuple(ctx.inputs[0].shape), ctx.key, accumulate=False)


class Index(Function):
    """y = x[key] with integer/boolean arrays (a copy);  dL/dx = scatter-add of dL/dy into zeros"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, key):
        ctx.key = key = _key_on_device_of(x, key)
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        return index_put_zeros(grad, tuple(ctx.inputs[0].shape), ctx.key, accumulate=True)


class IndexPutZeros(Function):
    """y = zeros(shape) with x added at key (indexing's adjoint);  dL/dx = dL/dy[key]"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, shape, key, accumulate):
        ctx.key = key = _key_on_device_of(x, key)
        out = ctx.xp.zeros(shape, dtype=x.dtype)
        if accumulate and ctx.xp is xp and _is_row_index(key, x, shape):  # an embedding's or x[idx]'s gradient
            # (on the host: CuPy has no reduceat, and its add.at is a fast scatter kernel already)
            _add_rows(ctx.xp, out, key[0], x)
        elif accumulate:
            ctx.xp.add.at(out, _bool_to_int(key), x)
        else:
            out[key] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        return getitem(grad, ctx.key)


class IndexPut(Function):
    """y = x with y[key] = v;  dL/dx = dL/dy with zeros at key,  dL/dv = dL/dy[key]"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, value, key, accumulate):
        key = _key_on_device_of(x, key)
        ctx.key, ctx.accumulate = key, accumulate
        out = x.copy()
        if accumulate:
            ctx.xp.add.at(out, _bool_to_int(key), value)
        else:
            out[key] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = grad if ctx.accumulate else IndexPut.apply(grad, scalar_tensor(0, grad.dtype), key=ctx.key,
                                                                accumulate=False)
        return grad_x, (getitem(grad, ctx.key) if ctx.needs_input_grad[1] else None)


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] (along dim);  dL/dx = scatter-add of dL/dy at index"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, index, dim):
        index = backend.like(x, index)  # an index tensor from the host joins x on the GPU
        ctx.index, ctx.dim = index, dim
        return ctx.xp.take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        zeros = Tensor._make(ctx.xp.zeros(tuple(ctx.inputs[0].shape), dtype=grad._array.dtype))
        return ScatterAdd.apply(zeros, grad, index=ctx.index, dim=ctx.dim)


class ScatterAdd(Function):
    """y = x, then y[i][index[i][j]] += src[i][j];  dL/dx = dL/dy,  dL/dsrc = gather(dL/dy, index)"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, src, index, dim):
        index = backend.like(x, index)  # an index tensor from the host joins x on the GPU
        ctx.index, ctx.dim = index, dim
        out = x.copy()
        ctx.xp.add.at(out, _along_axis_key(ctx.xp, index, dim), src[tuple(slice(0, s) for s in index.shape)])
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad, (Gather.apply(grad, index=ctx.index, dim=ctx.dim) if ctx.needs_input_grad[1] else None)


class Scatter(Function):
    """y = x, then y[i][index[i][j]] = src[i][j];  dL/dx = dL/dy zeroed where written,  dL/dsrc = gather"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, src, index, dim):
        index = backend.like(x, index)  # an index tensor from the host joins x on the GPU
        ctx.index, ctx.dim = index, dim
        out = x.copy()
        out[_along_axis_key(ctx.xp, index, dim)] = src[tuple(slice(0, s) for s in index.shape)]
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = None
        if ctx.needs_input_grad[0]:
            zeros = Tensor._make(ctx.xp.zeros(ctx.index.shape, dtype=grad._array.dtype))
            grad_x = Scatter.apply(grad, zeros, index=ctx.index, dim=ctx.dim)
        return grad_x, (Gather.apply(grad, index=ctx.index, dim=ctx.dim) if ctx.needs_input_grad[1] else None)


def _along_axis_key(xp, index, dim):
    """The fancy-index tuple that addresses x[..., index[...], ...] along `dim` (index's own shape)."""
    grids = list(xp.ogrid[tuple(slice(0, s) for s in index.shape)])
    grids[dim] = index
    return tuple(grids)


def _is_row_index(key, rows, shape):
    """key picks whole rows of a 2-D or larger `shape` with one 1-D integer array, one row of `rows` per entry."""
    return (len(key) == 1 and backend.is_array(key[0]) and key[0].ndim == 1 and key[0].dtype.kind in "iu"
            and len(shape) >= 2 and rows.shape == key[0].shape + tuple(shape[1:]) and key[0].size > 0)


def _add_rows(xp, out, index, rows):
    """out[index[k]] += rows[k] for every k, index repeating: what add.at does, at twice its speed for rows.

    The rows are sorted by index (stably: each row's additions keep their order) and every run of equal
    indices is summed by one reduceat (NumPy's add.at loops row by row: 0.59 ms for an LSTM LM's 700 word
    vectors of 128, this 0.28)."""
    if index.min() < 0:  # (-1 and n - 1 are one row: one run)
        index = xp.where(index < 0, index + out.shape[0], index)
    order = xp.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = xp.flatnonzero(xp.concatenate((xp.ones(1, dtype=bool), sorted_index[1:] != sorted_index[:-1])))
    out[sorted_index[starts]] += xp.add.reduceat(rows[order], starts, axis=0)


def _bool_to_int(key):
    """add.at wants integer arrays: a boolean mask becomes the integer coordinates of its True entries."""
    out = []
    for k in key:
        if backend.is_array(k) and k.dtype == xp.bool_ and k.ndim:  # (a 0-dim bool, x[True], add.at takes as is)
            out.extend(k.nonzero())
        else:
            out.append(k)
    return tuple(out)


def _key_on_device_of(x, key):
    """key with its index arrays where x lives (host keys from lists go to the GPU); on the CPU: key itself."""
    if not backend.on_device(x):
        return key
    return tuple(backend.like(x, k) if backend.is_array(k) else k for k in key)


# ----------------------------------------------------------------------------- keys
def normalize_key(key):
    """(key as a tuple NumPy understands, whether it has arrays). Tensors become their arrays.

    Lists, ranges and bools become host arrays here; the op's forward moves them to the data's device.
    """
    if not isinstance(key, tuple):
        key = (key,)
    out, advanced = [], False
    for k in key:
        if isinstance(k, Tensor):
            k = k._array
        if isinstance(k, range):
            k = xp.arange(k.start, k.stop, k.step)
        elif isinstance(k, list):
            k = xp.asarray(k) if k else xp.zeros(0, dtype=xp.int64)
        if backend.is_array(k):
            if k.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if k.dtype == xp.uint8:
                k = k.astype(bool)
            advanced = True
        elif isinstance(k, bool):
            k = xp.asarray(k)
            advanced = True
        elif not (k is None or k is Ellipsis or isinstance(k, (slice, int, xp.integer))):
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             f"valid indices (got {type(k).__name__})")
        if isinstance(k, slice) and k.step is not None and k.step <= 0:
            raise ValueError("step must be greater than zero")
        out.append(k)
    if not advanced and Ellipsis not in out:
        out.append(Ellipsis)  # x[0, 1] then gives a 0-dim view, not a NumPy scalar
    return tuple(out), advanced


def getitem(x, key):
    key, advanced = normalize_key(key)
    try:
        return (Index if advanced else Slice).apply(x, key=key)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(x.shape)})") from None


def index_put_zeros(x, shape, key, accumulate=True):
    if not isinstance(key, tuple):
        key, _ = normalize_key(key)
    return IndexPutZeros.apply(x, shape=shape, key=key, accumulate=accumulate)


def index_put(x, indices, values, accumulate=False):
    key, _ = normalize_key(tuple(indices))
    return IndexPut.apply(x, to_dtype(as_tensor(values), x.dtype), key=key, accumulate=accumulate)


def gather(x, dim, index):
    dim = wrap_dim(dim, x.ndim)
    idx = as_tensor(index)._array
    if idx.dtype != xp.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    if idx.ndim != x.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    return Gather.apply(x, index=idx, dim=dim)


def take_along_dim(x, indices, dim=None):
    if dim is None:
        return gather(x.reshape(-1), 0, indices.reshape(-1))
    return gather(x, dim, indices)


def scatter(x, dim, index, src=None, value=None):
    dim = wrap_dim(dim, x.ndim)
    idx = as_tensor(index)._array
    if src is None or not isinstance(src, Tensor):
        fill = value if src is None else src
        src = Tensor._make(backend.array_module(x._array).full(idx.shape, fill, dtype=x._array.dtype))
    return Scatter.apply(x, to_dtype(src, x.dtype), index=idx, dim=dim)


def scatter_add(x, dim, index, src):
    dim = wrap_dim(dim, x.ndim)
    return ScatterAdd.apply(x, to_dtype(src, x.dtype), index=as_tensor(index)._array, dim=dim)


def index_select(x, dim, index):
    dim = wrap_dim(dim, x.ndim)
    idx = as_tensor(index)._array
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    return getitem(x, (slice(None),) * dim + (idx.reshape(-1),))


def index_add(x, dim, index, source, alpha=1):
    dim = wrap_dim(dim, x.ndim)
    key = (slice(None),) * dim + (as_tensor(index)._array,)
    src = source * alpha if alpha != 1 else source
    return IndexPut.apply(x, to_dtype(src, x.dtype), key=key, accumulate=True)


def take(x, index):
    return getitem(x.reshape(-1), as_tensor(index)._array)


def masked_select(x, mask):
    m = as_tensor(mask)._array
    if m.shape != tuple(x.shape):
        shape = broadcast_shapes(x.shape, m.shape)
        x, m = x.expand(shape), backend.array_module(m).broadcast_to(m, shape)
    return getitem(x, m)
