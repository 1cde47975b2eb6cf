"""Shape ops: reshape/view, transpose/permute, (un)squeeze, expand, repeat, flip, cat/stack/split.

Most are views (`is_view = True`): the output shares the input's memory, as in torch, so a write
through one is seen by the other. Their backward is the inverse shape change applied to the gradient.
"""
from .. import backend
from ..autograd.function import Function
from ..autograd import engine
from ..tensor import Tensor
from .common import NamedFunction, as_tensor, broadcast_shapes, wrap_dim
from .indexing import getitem, index_put_zeros, index_select

xp = backend.xp


class Reshape(NamedFunction):
    """y = x with a new shape (a view when the memory layout allows);  dL/dx = dL/dy reshaped back"""
    node_name = "View"  # torch's names: ViewBackward0, or UnsafeViewBackward0 when the reshape has to copy
    needs_inputs = False
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        out = x.reshape(shape)
        if out.size and not ctx.xp.may_share_memory(out, x):  # (a copy: its memory is new; 0.2 us, a bounds test)
            ctx.node_name = "UnsafeView"
        return out

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, tuple(ctx.inputs[0].shape))


class Squeeze(Reshape):
    """y = x without dims of size 1;  dL/dx = dL/dy reshaped back"""
    node_name = "Squeeze"  # torch's overloads: squeeze() 0, squeeze(dim) 1, squeeze(dims) 2

    @staticmethod
    def forward(ctx, x, shape, overload):
        ctx.node_overload = overload
        return x.reshape(shape)


class Unsqueeze(Reshape):
    """y = x with a dim of size 1 inserted;  dL/dx = dL/dy reshaped back"""
    node_name = "Unsqueeze"

    @staticmethod
    def forward(ctx, x, shape):
        return x.reshape(shape)


class View(Function):
    """y = x with a new shape, never a copy (like torch.view: fails on incompatible strides)"""
    needs_inputs = False
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        out = x.reshape(shape)
        if out.size and backend.data_pointer(out) != backend.data_pointer(x):  # reshape had to copy: no view
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
        return out

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, tuple(ctx.inputs[0].shape))


class Permute(Function):
    """y = x with dims reordered;  dL/dx = dL/dy with the inverse order"""
    needs_inputs = False
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return permute(grad, tuple(inverse))


class Expand(Function):
    """y = x broadcast to a larger shape (a read-only view);  dL/dx = dL/dy summed over the new dims"""
    needs_inputs = False
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to_shape(grad, tuple(ctx.inputs[0].shape))


class SumToShape(Function):
    """y = x summed down to `shape` (broadcasting's adjoint);  dL/dx = dL/dy expanded back"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, shape):
        return engine.sum_to_shape(x, shape)  # the plain backward walk's reduction, the same code

    @staticmethod
    def backward(ctx, grad):
        return expand(grad, tuple(ctx.inputs[0].shape))


class Repeat(Function):
    """y = x tiled `repeats` times along each dim;  dL/dx = sum of dL/dy over the tiles"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.repeats = repeats
        x = x.reshape((1,) * (len(repeats) - x.ndim) + x.shape)
        return ctx.xp.tile(x, repeats)

    @staticmethod
    def backward(ctx, grad):
        shape = tuple(ctx.inputs[0].shape)
        padded = (1,) * (len(ctx.repeats) - len(shape)) + shape
        split = []
        for r, s in zip(ctx.repeats, padded):
            split += [r, s]
        g = reshape(grad, tuple(split))
        g = g.sum(tuple(range(0, len(split), 2)))
        return reshape(g, shape)


class Flip(Function):
    """y = x reversed along dims;  dL/dx = dL/dy reversed along the same dims"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return ctx.xp.flip(x, dims).copy()  # torch's flip copies

    @staticmethod
    def backward(ctx, grad):
        return flip(grad, ctx.dims)


class Roll(Function):
    """y = x rolled by shifts;  dL/dx = dL/dy rolled back"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return ctx.xp.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return roll(grad, back, ctx.dims)


class Cat(Function):
    """y = [x1, x2, ...] joined along dim;  dL/dxi = the slice of dL/dy that xi filled"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return ctx.xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for t, needed in zip(ctx.inputs, ctx.needs_input_grad):
            n = t.shape[ctx.dim]
            grads.append(narrow(grad, ctx.dim, start, n) if needed else None)
            start += n
        return tuple(grads)


class Stack(Cat):
    """y = [x1, x2, ...] stacked along a new dim (each xi unsqueezed, then joined);  dL/dxi = its slice of dL/dy"""


class Clone(Function):
    """y = a copy of x;  dL/dx = dL/dy"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Diagonal(Function):
    """y = the diagonal of x (a copy);  dL/dx = dL/dy placed on that diagonal"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        return ctx.xp.diagonal(x, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, grad):
        shape = tuple(ctx.inputs[0].shape)
        n1, n2 = shape[ctx.dim1], shape[ctx.dim2]
        idx = ctx.xp.arange(min(n1, n2 - ctx.offset) if ctx.offset >= 0 else min(n1 + ctx.offset, n2))
        rows, cols = (idx, idx + ctx.offset) if ctx.offset >= 0 else (idx - ctx.offset, idx)
        out = ctx.xp.zeros(shape, dtype=grad._array.dtype)
        diag_view = ctx.xp.moveaxis(out, (ctx.dim1, ctx.dim2), (-2, -1))
        diag_view[..., rows, cols] = grad._array
        return Tensor._make(out)


# ----------------------------------------------------------------------------- wrappers
class TriangleFunction(Function):
    """y = triu(x, k) (or tril): x kept on and above (below) the k-th diagonal of its last two dims, 0 elsewhere;
    dL/dx = triu(dL/dy, k) (tril).  Selecting instead of multiplying by a 0/1 mask keeps -inf entries
    (a causal mask) from turning into nan (-inf * 0)."""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        if x.ndim < 2:
            raise RuntimeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions")
        ctx.diagonal, ctx.upper = diagonal, upper
        return ctx.xp.triu(x, diagonal) if upper else ctx.xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return TriangleFunction.apply(grad, diagonal=ctx.diagonal, upper=ctx.upper)


def _infer_shape(shape, numel, source_shape):
    shape = tuple(int(s) for s in shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:unknown[0]] + (numel // known,) + shape[unknown[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def reshape(x, shape):
    shape = _infer_shape(shape, x._array.size, x._array.shape)
    if shape == x._array.shape:
        return x if not x.requires_grad else Reshape.apply(x, shape=shape)
    return Reshape.apply(x, shape=shape)


def view(x, shape):
    return View.apply(x, shape=_infer_shape(shape, x._array.size, x._array.shape))


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = wrap_dim(start_dim, x.ndim), wrap_dim(end_dim, x.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = x.shape
    middle = 1
    for s in shape[start:end + 1]:
        middle *= s
    return reshape(x, tuple(shape[:start]) + (middle,) + tuple(shape[end + 1:]))


def unflatten(x, dim, sizes):
    dim = wrap_dim(dim, x.ndim)
    sizes = _infer_shape(sizes, x.shape[dim], None)
    return reshape(x, tuple(x.shape[:dim]) + tuple(sizes) + tuple(x.shape[dim + 1:]))


def squeeze(x, dim=None):
    if dim is None:
        dims = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(wrap_dim(d, x.ndim) for d in dims if x.ndim)
        dims = tuple(d for d in dims if x.shape[d] == 1)  # torch ignores dims whose size is not 1
    overload = 0 if dim is None else 1 if isinstance(dim, int) else 2  # (the node's name: SqueezeBackward0/1/2)
    if not dims:
        return x if not x.requires_grad else Squeeze.apply(x, shape=tuple(x.shape), overload=overload)
    return Squeeze.apply(x, shape=tuple(s for i, s in enumerate(x.shape) if i not in dims), overload=overload)


def unsqueeze(x, dim):
    dim = wrap_dim(dim, x.ndim + 1)
    shape = tuple(x.shape)
    return Unsqueeze.apply(x, shape=shape[:dim] + (1,) + shape[dim:])


def permute(x, dims):
    dims = tuple(wrap_dim(d, x.ndim) for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           f"of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not equal to "
                           f"len(dims) = {len(dims)}" if len(dims) != x.ndim else f"permute(): duplicate dims are not allowed.")
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    if x.ndim == 0:
        return x
    dims = list(range(x.ndim))
    d0, d1 = wrap_dim(dim0, x.ndim), wrap_dim(dim1, x.ndim)
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, dims=tuple(dims))


def t(x):
    return transpose(x, 0, 1) if x.ndim == 2 else x


def movedim(x, source, destination):
    src = [wrap_dim(d, x.ndim) for d in ((source,) if isinstance(source, int) else source)]
    dst = [wrap_dim(d, x.ndim) for d in ((destination,) if isinstance(destination, int) else destination)]
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, tuple(order))


def expand(x, shape):
    shape = tuple(shape)
    if len(shape) < x.ndim:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(x.shape)}}}, size={list(shape)}): the number of sizes "
                           f"provided ({len(shape)}) must be greater or equal to the number of dimensions in the tensor ({x.ndim})")
    lead = len(shape) - x.ndim
    target = []
    for i, s in enumerate(shape):
        if s == -1:
            if i < lead:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            s = x.shape[i - lead]
        elif i >= lead and x.shape[i - lead] not in (1, s):
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                               f"({x.shape[i - lead]}) at non-singleton dimension {i}.  Target sizes: {list(shape)}.  "
                               f"Tensor sizes: {list(x.shape)}")
        target.append(s)
    target = tuple(target)
    if target == x._array.shape and not x.requires_grad:
        return x
    return Expand.apply(x, shape=target)


def broadcast_to(x, shape):
    return expand(x, shape)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


def sum_to_shape(x, shape):
    """Sum a broadcast gradient back to `shape` (the one place broadcasting is undone)."""
    if tuple(x.shape) == tuple(shape):
        return x
    return SumToShape.apply(x, shape=tuple(shape))


def repeat(x, repeats):
    repeats = tuple(int(r) for r in repeats)
    if len(repeats) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    return Repeat.apply(x, repeats=repeats)


def tile(x, dims):
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def repeat_interleave(x, repeats, dim=None):
    if dim is None:
        x, dim = x.reshape(-1), 0
    dim = wrap_dim(dim, x.ndim)
    counts = backend.to_host(repeats._array) if isinstance(repeats, Tensor) else repeats
    index = xp.repeat(xp.arange(x.shape[dim]), counts)  # built on the host: index_select moves it to x's device
    return index_select(x, dim, Tensor._make(index.astype(xp.int64)))


def flip(x, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip.apply(x, dims=tuple(wrap_dim(d, x.ndim) for d in dims))


def fliplr(x):
    return flip(x, (1,))


def flipud(x):
    return flip(x, (0,))


def roll(x, shifts, dims=None):
    if dims is None:
        return reshape(Roll.apply(reshape(x, (-1,)), shifts=shifts, dims=0), tuple(x.shape))
    shifts = tuple(shifts) if isinstance(shifts, (list, tuple)) else shifts
    dims = tuple(dims) if isinstance(dims, (list, tuple)) else dims
    return Roll.apply(x, shifts=shifts, dims=dims)


def cat(tensors, dim=0, axis=None):
    """Join tensors along an existing dim (dtypes promote like torch's binary ops)."""
    return _join(tensors, dim if axis is None else axis, Cat)


def _join(tensors, dim, op):
    """cat's checks and promotion, then `op` (Cat, or Stack for torch.stack's node name)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]  # legacy: skip empty 1-D
    ref = tensors[0]
    dim = wrap_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}")
        for d in range(ref.ndim):
            if d != dim and t.shape[d] != ref.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size "
                                   f"{ref.shape[d]} but got size {t.shape[d]} for tensor number {i} in the list.")
    dtypes = {t._array.dtype for t in tensors}
    if len(dtypes) > 1:
        dtype = backend.result_type(*[(t.dtype, 2) for t in tensors])
        tensors = [t.to(dtype) for t in tensors]
    return op.apply(*tensors, dim=dim)


concat = cat
concatenate = cat


def stack(tensors, dim=0):
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                               f"{list(t.shape)} at entry {i}")
    dim = wrap_dim(dim, tensors[0].ndim + 1)
    return _join([unsqueeze(t, dim) for t in tensors], dim, Stack)


def hstack(tensors):
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t.reshape(1, -1) if t.ndim == 1 else t for t in tensors], 0)


def narrow(x, dim, start, length):
    dim = wrap_dim(dim, x.ndim)
    if start < 0:
        start += x.shape[dim]
    if not (0 <= start and start + length <= x.shape[dim]):
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({x.shape[dim]}).")
    key = (slice(None),) * dim + (slice(start, start + length),)
    return getitem(x, key)


def select(x, dim, index):
    dim = wrap_dim(dim, x.ndim)
    return getitem(x, (slice(None),) * dim + (index,))


def split(x, split_size_or_sections, dim=0):
    """Views of consecutive pieces: an int gives equal pieces (the last may be smaller), a list the sizes."""
    dim = wrap_dim(dim, x.ndim)
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        sizes = [min(size, n - i) for i in range(0, n, size)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {dim}), but got split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(x, dim, start, s))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    dim = wrap_dim(dim, x.ndim)
    n = x.shape[dim]
    size = -(-n // chunks) if n else 1
    return split(x, size, dim)


def unbind(x, dim=0):
    dim = wrap_dim(dim, x.ndim)
    return tuple(select(x, dim, i) for i in range(x.shape[dim]))


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids; like torch, `indexing` defaults to 'ij' (matrix) — pass 'xy' for NumPy's default."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of 'xy' or 'ij', but received: {indexing}")
    n = len(tensors)
    sizes = [t.numel() for t in tensors]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(tensors):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        shape = [1] * n
        shape[pos] = t.numel()
        out.append(expand(reshape(t, tuple(shape)), tuple(sizes)))
    return tuple(out)


def clone(x, memory_format=None):
    return Clone.apply(x)


def diagonal(x, offset=0, dim1=0, dim2=1):
    return Diagonal.apply(x, offset=offset, dim1=wrap_dim(dim1, x.ndim), dim2=wrap_dim(dim2, x.ndim))


def diag(x, diagonal=0):
    """torch.diag: a 1-D x becomes the square matrix with x on its `diagonal`-th diagonal (0 the main one,
    > 0 above it, < 0 below); a 2-D x gives back that diagonal, as a vector."""
    if x.ndim == 1:
        n = x.shape[0] + abs(diagonal)
        rows = xp.arange(x.shape[0]) + max(-diagonal, 0)  # a host key: the op moves it to x's device
        cols = xp.arange(x.shape[0]) + max(diagonal, 0)
        return index_put_zeros(x, (n, n), (rows, cols))
    if x.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    return Diagonal.apply(x, offset=int(diagonal), dim1=0, dim2=1)


def tril(x, diagonal=0):
    return TriangleFunction.apply(x, diagonal=int(diagonal), upper=False)


def triu(x, diagonal=0):
    return TriangleFunction.apply(x, diagonal=int(diagonal), upper=True)


def atleast_1d(x):
    return reshape(x, (1,)) if x.ndim == 0 else x


def atleast_2d(x):
    return reshape(x, (1,) * (2 - x.ndim) + tuple(x.shape)) if x.ndim < 2 else x
