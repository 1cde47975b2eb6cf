"""Padding (F.pad): a constant border, or indices that reflect, replicate or wrap the input.

'constant' is one op (the backward crops the border away). The other modes gather: each output
position reads a source index computed on the host, and indexing's backward scatter-adds the border's
gradient back onto the positions it was copied from.
"""
from .. import backend
from ..autograd.function import Function
from .indexing import getitem, index_put_zeros

xp = backend.xp


class ConstantPad(Function):
    """y = x inside a border of `value` (negative pads crop);  dL/dx = dL/dy without the border"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, pads, value):
        # pads: one (before, after) pair per dim of x
        ctx.inner = tuple(slice(max(b, 0), max(b, 0) + s + min(b, 0) + min(a, 0)) for (b, a), s in zip(pads, x.shape))
        src = tuple(slice(-min(b, 0), s + min(a, 0)) for (b, a), s in zip(pads, x.shape))
        shape = tuple(s + b + a for (b, a), s in zip(pads, x.shape))
        if any(s < 0 for s in shape):
            raise RuntimeError(f"The input size {tuple(x.shape)}, plus negative padding resulted in a negative "
                               f"output size {shape}")
        out = ctx.xp.full(shape, value, dtype=x.dtype)
        out[ctx.inner] = x[src]
        ctx.src = src
        return out

    @staticmethod
    def backward(ctx, grad):
        inner = grad[ctx.inner]
        return index_put_zeros(inner, tuple(ctx.inputs[0].shape), ctx.src, accumulate=False)


def pad_indices(size, before, after, mode):
    """Source index of every output position along one dim for 'reflect', 'replicate' or 'circular'.

    A host array (index arithmetic): the indexing op moves it to the data's device.
    """
    pos = xp.arange(-before, size + after)
    if mode == "replicate":
        return xp.clip(pos, 0, size - 1)
    if mode == "circular":
        return pos % size
    period = 2 * (size - 1)  # reflect: ... 2 1 [0 1 2 3] 2 1 0 ...
    pos = xp.abs(pos) % period if period else xp.zeros_like(pos)
    return xp.where(pos >= size, period - pos, pos)


def pad(x, pads, mode="constant", value=0.0):
    """Pad the last dims of x; `pads` is torch's flat (left, right, top, bottom, ...) tuple."""
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    n_dims = len(pads) // 2
    if n_dims > x.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pads)} and input of dimension {x.ndim}")
    pairs = [(0, 0)] * (x.ndim - n_dims) + [(pads[2 * k], pads[2 * k + 1]) for k in reversed(range(n_dims))]
    if mode == "constant":
        return ConstantPad.apply(x, pads=tuple(pairs), value=value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    out = x
    for dim, (before, after) in enumerate(pairs):
        if before == after == 0:
            continue
        size = x.shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({before}, {after}) at dimension {dim} of input {list(x.shape)}")
        # gathering along each padded dim is differentiable: the backward scatter-adds the border back
        out = getitem(out, (slice(None),) * dim + (pad_indices(size, before, after, mode),))
    return out
