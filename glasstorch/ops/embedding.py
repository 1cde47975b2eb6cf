"""Embedding lookup: y = W[idx], whose backward scatter-adds the gradient rows into the looked-up rows."""
from .. import backend
from ..tensor import Tensor
from .common import NamedFunction
from .indexing import index_put_zeros


class EmbeddingFunction(NamedFunction):
    """y = W[idx];  dL/dW = scatter-add of dL/dy rows into the looked-up rows (padding_idx row gets none)"""
    node_name = "Embedding"  # the node prints as EmbeddingBackward0
    needs_inputs = False

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        indices = backend.like(weight, indices)  # indices from the host join weight on the GPU
        ctx.indices, ctx.padding_idx, ctx.scale = indices, padding_idx, scale_grad_by_freq
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        weight_shape = tuple(ctx.inputs[0].shape)
        flat = ctx.indices.reshape(-1)
        rows = grad.reshape(-1, weight_shape[1])
        factor = None
        if ctx.padding_idx is not None:
            factor = (flat != ctx.padding_idx).astype(grad._array.dtype)
        if ctx.scale:
            counts = ctx.xp.bincount(flat, minlength=weight_shape[0])[flat].astype(grad._array.dtype)
            factor = 1 / counts if factor is None else factor / counts
        if factor is not None:
            rows = rows * Tensor._make(factor[:, None])
        return index_put_zeros(rows, weight_shape, (flat,), accumulate=True)


def embedding(indices, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False):
    """Rows of `weight` picked by the integer array `indices` (any shape): output indices.shape + (dim,)."""
    if max_norm is not None:
        _renorm_rows_(weight, indices, max_norm, norm_type)
    return EmbeddingFunction.apply(weight, indices=indices, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)


def _renorm_rows_(weight, indices, max_norm, norm_type):
    """torch's embedding_renorm_: rows used by `indices` whose norm exceeds max_norm are scaled down, in place."""
    w = weight._array
    xp = backend.array_module(w)
    rows = xp.unique(backend.like(w, indices).reshape(-1))
    norms = (xp.abs(w[rows]) ** norm_type).sum(axis=1) ** (1 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1).astype(w.dtype)
    w[rows] *= scale[:, None]
    weight._version_counter[0] += 1
