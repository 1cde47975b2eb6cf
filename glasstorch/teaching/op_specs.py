"""The op table: every differentiable primitive as data (what to call, on which shapes, over which values).

One list, two users: tests/ops/test_op_table.py checks each spec against torch (forward, backward, double
backward, a float64 gradcheck), and `glasstorch gradcheck` (teaching/gradcheck_sweep.py) sweeps it with
central differences for a student. A spec's `fn(L, *xs)` is written once and run with L = the glasstorch
module or L = the torch module, so both sides execute literally the same program; the oracle is whatever
module the caller passes as L (torch's names are resolved on it at call time: `L.nn.functional.conv2d`),
so this file never imports torch. Constants inside a spec (targets, weights) are made with
`_const(L, x, values)`, on x's device.
"""
import dataclasses
import zlib
from typing import Callable

import numpy as np

from .. import backend, ops
from ..nn import functional as glass_F
from ..tensor import ones


def _is_glass(L):
    return L.__name__ == "glasstorch"


@dataclasses.dataclass
class Spec:
    name: str
    fn: Callable            # fn(L, *tensors) -> Tensor or tuple of Tensors (L is glasstorch or torch)
    shapes: list            # list of cases; each case a tuple of input shapes
    domain: object = "any"  # one of DOMAINS, or a tuple of them (one per input)
    grad: bool = True       # has a gradient
    double: bool = True     # double backward is supported and compared against torch
    check: bool = True      # float64 numerical gradcheck


# shape cases reused by many specs: plain, size-1, 0-dim, empty
UNARY = [((3, 4),), ((2, 1, 3),), ((),), ((0, 3),), ((5,),)]
BINARY = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((3, 1), (1, 4)), ((0, 3), (3,))]
REDUCE_SHAPES = [((3, 4, 2),), ((5,),), ((2, 1, 3),)]
MATMUL = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)),
          ((2, 2, 3), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((4, 3), (2, 3, 1)), ((0, 3), (3, 2))]


def _linear(L):
    """The fused Linear op: glasstorch.ops.linear, torch.nn.functional.linear."""
    return ops.linear if _is_glass(L) else L.nn.functional.linear


def unary(name, fn, domain="any", shapes=UNARY, **kw):
    return Spec(name, fn, shapes, domain, **kw)


def F(L):
    """glasstorch.nn.functional or torch.nn.functional."""
    return L.nn.functional


def _const(L, like, values, dtype=None):
    """A constant tensor (a target, a class weight) on the device of `like`, in its dtype unless told."""
    return L.tensor(values, dtype=like.dtype if dtype is None else dtype, device=like.device)


def _labels(L, like, values):
    return _const(L, like, values, dtype=L.int64)


def _seeded_dropout(name, p):
    """Dropout in training mode with a fixed mask. torch's random stream differs from ours, so torch cannot
    draw the same mask; instead glasstorch draws its mask under manual_seed(0) for the input's shape and
    dtype, and torch applies that mask (x * mask, the mask already scaled by 1/(1-p)). The table then checks
    that our dropout is exactly "multiply by the drawn, scaled mask" in forward and backward; the mask's
    statistics are tested in tests/ops/test_normalization.py. Reseeding makes the op deterministic, so the
    numerical gradcheck applies too."""
    def fn(L, x):
        backend.manual_seed(0)
        if _is_glass(L):
            return getattr(glass_F, name)(x, p, training=True)
        dtype = backend.from_numpy_dtype(np.dtype(str(x.dtype).split(".")[1]))  # torch.float32 -> float32
        mask = getattr(glass_F, name)(ones(tuple(x.shape), dtype=dtype), p, training=True)
        return x * L.tensor(mask.cpu().numpy(), device=x.device)
    return fn


def _loss(name, **kw):
    """A loss spec's fn: the loss of the first input against constant class labels / a constant weight.
    kw: labels=[...] (int64 targets), weight=[...] / pos_weight=[...] (in the input's dtype), the rest as is."""
    def fn(L, x, *rest):
        args = dict(kw)
        for key in ("weight", "pos_weight"):
            if key in args:
                args[key] = _const(L, x, args[key])
        if "labels" in args:
            rest = (_labels(L, x, args.pop("labels")),) + rest
        return getattr(F(L), name)(x, *rest, **args)
    return fn


def _act(name, **kw):
    return lambda L, x: getattr(F(L), name)(x, **kw)


def _batch_norm(training, **kw):
    """batch_norm over C channels, with weight and bias if the spec gives them. The running statistics are
    made inside (every call starts from the same ones; eval mode normalizes with them, training updates them:
    their update is checked in tests/ops/test_normalization.py)."""
    def fn(L, x, *wb):
        c = x.shape[1]
        mean = _const(L, x, [0.1 * (i - 1) for i in range(c)])
        var = _const(L, x, [0.5 + 0.25 * i for i in range(c)])
        return F(L).batch_norm(x, mean, var, *wb, training=training, **kw)
    return fn


CE_LABELS = [0, 3, -100, 1, 2]  # with an ignored sample (the default ignore_index)
CLASS_WEIGHT = [0.3, 1.0, 2.0, 0.7]
ACTIVATION_SHAPES = [((3, 4),), ((2, 1, 3),), ((),), ((0, 3),)]


SPECS = [
    # ---------------------------------------------------------------- binary arithmetic, broadcasting
    Spec("add", lambda L, a, b: a + b, BINARY),
    Spec("add_alpha", lambda L, a, b: L.add(a, b, alpha=2.5), BINARY[:3]),
    Spec("sub", lambda L, a, b: a - b, BINARY),
    Spec("sub_alpha", lambda L, a, b: a.sub(b, alpha=-0.5), BINARY[:3]),
    Spec("mul", lambda L, a, b: a * b, BINARY),
    Spec("div", lambda L, a, b: a / b, BINARY, domain="nonzero"),
    Spec("pow_tensor", lambda L, a, b: a ** b, BINARY[:5], domain="pos"),
    Spec("maximum", lambda L, a, b: L.maximum(a, b), BINARY),
    Spec("minimum", lambda L, a, b: L.minimum(a, b), BINARY),
    Spec("remainder", lambda L, a, b: a % b, BINARY[:3], domain="nonzero", double=False),
    Spec("where", lambda L, a, b: L.where(a > b, a, b), BINARY),
    Spec("where_scalar", lambda L, a: L.where(a > 0, a, 0.5), UNARY),
    Spec("rsub_scalar", lambda L, a: 2.5 - a, UNARY),
    Spec("rdiv_scalar", lambda L, a: 1.5 / a, UNARY, domain="nonzero"),
    Spec("radd_int", lambda L, a: 3 + a * 2, UNARY),
    Spec("lerp", lambda L, a, b: a.lerp(b, 0.3), BINARY[:3]),
    Spec("masked_fill", lambda L, a: a.masked_fill(a > 0.2, -1.0), UNARY),
    # ---------------------------------------------------------------- unary math
    unary("neg", lambda L, x: -x),
    unary("abs", lambda L, x: x.abs(), domain="nonzero"),
    unary("exp", lambda L, x: x.exp()),
    unary("expm1", lambda L, x: L.expm1(x)),
    unary("log", lambda L, x: x.log(), "pos"),
    unary("log2", lambda L, x: x.log2(), "pos"),
    unary("log10", lambda L, x: x.log10(), "pos"),
    unary("log1p", lambda L, x: x.log1p(), "pos"),
    unary("sqrt", lambda L, x: x.sqrt(), "pos"),
    Spec("cov", lambda L, x: L.cov(x), [((3, 5),), ((6,),)]),
    Spec("cov_weighted", lambda L, x: L.cov(x, correction=0, fweights=L.tensor([1, 2, 1, 3, 1], device=x.device),
                                            aweights=_const(L, x, [0.5, 1.0, 2.0, 1.0, 0.25])), [((2, 5),)]),
    unary("lgamma", lambda L, x: L.lgamma(x), "spread"),  # (negative x too: the reflection formula)
    unary("special.gammaln", lambda L, x: L.special.gammaln(x * 3)),
    unary("digamma", lambda L, x: x.digamma(), "pos"),
    unary("erfinv", lambda L, x: x.erfinv(), "unit"),
    unary("special.ndtri", lambda L, x: L.special.ndtri(x), "prob"),
    unary("polygamma1", lambda L, x: L.polygamma(1, x), "pos"),
    unary("special.polygamma2", lambda L, x: L.special.polygamma(2, x * 8)),
    unary("rsqrt", lambda L, x: x.rsqrt(), "pos"),
    unary("reciprocal", lambda L, x: x.reciprocal(), "nonzero"),
    unary("square", lambda L, x: x.square()),
    unary("sin", lambda L, x: x.sin()),
    unary("cos", lambda L, x: x.cos()),
    unary("tan", lambda L, x: x.tan(), "unit"),
    unary("sinh", lambda L, x: x.sinh()),
    unary("cosh", lambda L, x: x.cosh()),
    unary("tanh", lambda L, x: x.tanh()),
    unary("sigmoid", lambda L, x: x.sigmoid()),
    unary("relu", lambda L, x: x.relu(), "nonzero"),
    unary("pow2", lambda L, x: x ** 2),
    unary("pow3", lambda L, x: x ** 3),
    unary("pow_half", lambda L, x: x ** 0.5, "pos"),
    unary("pow_neg", lambda L, x: x.pow(-1.5), "pos"),
    unary("rpow", lambda L, x: 2.0 ** x),
    unary("sign", lambda L, x: x.sign(), "nonzero"),
    unary("floor", lambda L, x: x.floor(), "nonzero"),
    unary("round", lambda L, x: x.round(), "nonzero"),
    unary("clamp", lambda L, x: x.clamp(-0.5, 0.5), "nonzero"),
    unary("clamp_min", lambda L, x: x.clamp(min=0.1), "nonzero"),
    unary("clip_max", lambda L, x: L.clip(x, max=0.3), "nonzero"),
    unary("clamp_tensor", lambda L, x: x.clamp(min=x * 0 - 0.5), "nonzero"),
    unary("softmax", lambda L, x: L.softmax(x, dim=-1), shapes=[((3, 4),), ((2, 3, 4),), ((5,),)]),
    unary("softmax0", lambda L, x: x.softmax(0), shapes=[((3, 4),), ((1, 3),)]),
    unary("log_softmax", lambda L, x: L.log_softmax(x, dim=1), shapes=[((3, 4),), ((2, 3, 2),)]),
    unary("clone", lambda L, x: x.clone()),
    unary("float64_cast", lambda L, x: x.double() * 2),
    # ---------------------------------------------------------------- reductions
    unary("sum_all", lambda L, x: x.sum(), shapes=REDUCE_SHAPES + [((),), ((0, 3),)]),
    unary("sum_dim", lambda L, x: x.sum(1), shapes=[((3, 4, 2),), ((2, 1, 3),), ((0, 3),)]),
    unary("sum_neg_keep", lambda L, x: x.sum(dim=-1, keepdim=True), shapes=REDUCE_SHAPES),
    unary("sum_tuple", lambda L, x: x.sum((0, -1)), shapes=[((3, 4, 2),), ((2, 1, 3),)]),
    unary("sum_tuple_keep", lambda L, x: L.sum(x, (2, 0), keepdim=True), shapes=[((3, 4, 2),)]),
    unary("mean_all", lambda L, x: x.mean(), shapes=REDUCE_SHAPES + [((),)]),
    unary("mean_dim", lambda L, x: x.mean(dim=0), shapes=REDUCE_SHAPES),
    unary("mean_tuple_keep", lambda L, x: x.mean((-1, 1), keepdim=True), shapes=[((3, 4, 2),)]),
    unary("var_all", lambda L, x: x.var(), shapes=REDUCE_SHAPES),
    unary("var_dim", lambda L, x: x.var(1, keepdim=True), shapes=[((3, 4, 2),), ((2, 3),)]),
    unary("var_biased", lambda L, x: x.var(0, unbiased=False), shapes=[((3, 4),)]),
    unary("var_correction", lambda L, x: L.var(x, dim=(0, 1), correction=0), shapes=[((3, 4, 2),)]),
    unary("std_all", lambda L, x: x.std(), shapes=REDUCE_SHAPES),
    unary("std_dim", lambda L, x: x.std(-1), shapes=[((3, 4, 2),), ((2, 3),)]),
    unary("prod_all", lambda L, x: x.prod(), "nonzero", shapes=REDUCE_SHAPES),
    unary("prod_dim", lambda L, x: x.prod(1), "nonzero", shapes=[((3, 4, 2),), ((2, 3),)]),
    unary("prod_keep", lambda L, x: x.prod(-1, keepdim=True), "nonzero", shapes=[((3, 4),)]),
    unary("max_all", lambda L, x: x.max(), shapes=REDUCE_SHAPES + [((),)]),
    unary("min_all", lambda L, x: x.min(), shapes=REDUCE_SHAPES),
    unary("max_dim", lambda L, x: x.max(1), shapes=[((3, 4, 2),), ((2, 3),), ((2, 1),)]),
    unary("max_dim_keep", lambda L, x: x.max(dim=-1, keepdim=True), shapes=[((3, 4, 2),), ((5,),)]),
    unary("min_dim", lambda L, x: L.min(x, 0), shapes=[((3, 4),), ((4,),)]),
    unary("amax", lambda L, x: x.amax(dim=(0, 2)), shapes=[((3, 4, 2),)]),
    unary("amin_keep", lambda L, x: L.amin(x, -1, keepdim=True), shapes=[((3, 4),), ((5,),)]),
    unary("logsumexp", lambda L, x: x.logsumexp(1), shapes=[((3, 4),), ((2, 3, 4),)]),
    unary("logsumexp_keep", lambda L, x: L.logsumexp(x, dim=(0, -1), keepdim=True), shapes=[((3, 4, 2),)]),
    unary("norm", lambda L, x: x.norm(), shapes=REDUCE_SHAPES),
    unary("norm_dim", lambda L, x: L.norm(x, dim=1), shapes=[((3, 4),), ((2, 3, 2),)]),
    unary("norm_p1", lambda L, x: L.norm(x, p=1), "nonzero", shapes=[((3, 4),)]),
    unary("norm_p3", lambda L, x: L.norm(x, p=3, dim=0), "nonzero", shapes=[((3, 4),)]),
    unary("cumsum", lambda L, x: x.cumsum(1), shapes=[((3, 4),), ((2, 3, 2),)]),
    unary("cumsum_neg", lambda L, x: L.cumsum(x, dim=-1), shapes=[((5,),), ((2, 1),)]),
    unary("cumprod", lambda L, x: x.cumprod(0), "nonzero", shapes=[((4, 3),)]),
    unary("sort_values", lambda L, x: x.sort(dim=1, descending=True)[0], shapes=[((3, 4),)]),
    unary("topk", lambda L, x: x.topk(2, dim=-1)[0], shapes=[((3, 4),)]),
    # ---------------------------------------------------------------- shape ops
    unary("reshape", lambda L, x: x.reshape(-1, 2), shapes=[((3, 4),), ((2, 1, 4),), ((0, 2),)]),
    unary("view", lambda L, x: x.view(2, -1), shapes=[((3, 4),), ((2, 3),)]),
    unary("flatten", lambda L, x: x.flatten(1), shapes=[((2, 3, 4),), ((2, 1, 1),)]),
    unary("flatten_all", lambda L, x: L.flatten(x), shapes=[((2, 3),), ((),)]),
    unary("squeeze", lambda L, x: x.squeeze(), shapes=[((2, 1, 3),), ((1, 1),), ((3,),)]),
    unary("squeeze_dim", lambda L, x: x.squeeze(-2), shapes=[((2, 1, 3),), ((2, 3),)]),
    unary("unsqueeze", lambda L, x: x.unsqueeze(-1), shapes=[((2, 3),), ((),)]),
    unary("unsqueeze0", lambda L, x: L.unsqueeze(x, 0), shapes=[((2, 3),)]),
    unary("transpose", lambda L, x: x.transpose(0, -1), shapes=[((2, 3),), ((2, 3, 4),), ((3,),)]),
    unary("permute", lambda L, x: x.permute(2, 0, 1), shapes=[((2, 3, 4),), ((1, 3, 0),)]),
    unary("T", lambda L, x: x.T, shapes=[((2, 3),)]),
    unary("mT", lambda L, x: x.mT, shapes=[((2, 3),), ((2, 3, 4),)]),
    unary("t", lambda L, x: x.t(), shapes=[((2, 3),), ((3,),)]),
    unary("expand", lambda L, x: x.expand(2, 3, 4), shapes=[((3, 1),), ((4,),), ((1, 1, 4),)]),
    unary("expand_neg1", lambda L, x: x.expand(3, -1), shapes=[((1, 4),)]),
    Spec("expand_as", lambda L, a, b: a.expand_as(b) * b, [((3, 1), (2, 3, 4))]),
    unary("repeat", lambda L, x: x.repeat(2, 1, 3), shapes=[((2, 3),), ((1, 2, 2),)]),
    unary("flip", lambda L, x: x.flip(0, -1), shapes=[((2, 3),), ((2, 3, 4),)]),
    unary("roll", lambda L, x: x.roll(1, 0), shapes=[((3, 4),)]),
    unary("movedim", lambda L, x: x.movedim(0, -1), shapes=[((2, 3, 4),)]),
    unary("narrow", lambda L, x: x.narrow(1, 1, 2), shapes=[((3, 4),)]),
    unary("diagonal", lambda L, x: x.diagonal(), shapes=[((3, 4),), ((4, 3),)]),
    unary("diagonal_offset", lambda L, x: x.diagonal(1), shapes=[((3, 4),)]),
    unary("diag", lambda L, x: x.diag(), shapes=[((3, 4),), ((4,),)]),
    unary("diag_offset", lambda L, x: L.diag(x, diagonal=-1), shapes=[((3, 4),), ((3,),)]),
    unary("diag_positional", lambda L, x: L.diag(x, 2), shapes=[((4, 3),), ((2,),)]),
    unary("tril", lambda L, x: x.tril(), shapes=[((3, 4),)]),
    unary("triu", lambda L, x: x.triu(1), shapes=[((3, 3),)]),
    unary("repeat_interleave", lambda L, x: x.repeat_interleave(2, dim=1), shapes=[((3, 4),), ((2, 3, 2),)]),
    unary("repeat_interleave_flat", lambda L, x: L.repeat_interleave(x, 3), shapes=[((2, 3),)]),
    unary("repeat_interleave_tensor", lambda L, x: x.repeat_interleave(L.tensor([1, 0, 3]), dim=0),
          shapes=[((3, 4),)]),
    unary("triu_batched", lambda L, x: L.triu(x, diagonal=-1), shapes=[((2, 3, 4),)]),
    unary("tril_batched", lambda L, x: L.tril(x, diagonal=1), shapes=[((2, 4, 3),)]),
    unary("triu_of_inf", lambda L, x: L.triu(x.masked_fill(x > 0, float("-inf")), diagonal=1).exp(), shapes=[((3, 3),)]),
    unary("split_int", lambda L, x: x.split(2, dim=1), shapes=[((3, 5),), ((2, 4),)]),
    unary("split_sizes", lambda L, x: L.split(x, [1, 3, 1], dim=-1), shapes=[((2, 5),)]),
    unary("chunk", lambda L, x: x.chunk(3, 0), shapes=[((7, 2),), ((3,),)]),
    unary("unbind", lambda L, x: x.unbind(1), shapes=[((2, 3),)]),
    Spec("cat", lambda L, a, b: L.cat([a, b], dim=0), [((2, 3), (4, 3)), ((0, 3), (2, 3)), ((2,), (3,))]),
    Spec("cat_neg", lambda L, a, b: L.cat((a, b, a), dim=-1), [((2, 3), (2, 1)), ((2, 1, 2), (2, 1, 3))]),
    Spec("stack", lambda L, a, b: L.stack([a, b]), [((2, 3), (2, 3)), ((), ())]),
    Spec("stack_neg", lambda L, a, b: L.stack([a, b, a], dim=-1), [((2, 3), (2, 3))]),
    Spec("broadcast_tensors", lambda L, a, b: L.broadcast_tensors(a, b), [((3, 1), (1, 4))]),
    Spec("meshgrid", lambda L, a, b: L.meshgrid(a, b, indexing="ij"), [((3,), (4,))]),
    # ---------------------------------------------------------------- indexing
    unary("index_int", lambda L, x: x[1], shapes=[((3, 4),), ((3,),)]),
    unary("index_neg_int", lambda L, x: x[-1, 2], shapes=[((3, 4),)]),
    unary("index_slice", lambda L, x: x[1:, ::2], shapes=[((3, 4),), ((4, 5, 2),)]),
    unary("index_slice_neg", lambda L, x: x[:-1, -2:], shapes=[((3, 4),)]),
    unary("index_none_ellipsis", lambda L, x: x[None, ..., 1], shapes=[((2, 3, 4),), ((3, 2),)]),
    unary("index_ellipsis_none", lambda L, x: x[..., None, :2], shapes=[((2, 3, 4),)]),
    unary("index_int_array", lambda L, x: x[L.tensor([0, 2, 0, 1])], shapes=[((3, 4),), ((3,),)]),
    unary("index_int_list", lambda L, x: x[[2, 2, 0]], shapes=[((3, 2),)]),
    unary("index_two_arrays", lambda L, x: x[L.tensor([0, 1, 1]), L.tensor([3, 0, 3])], shapes=[((2, 4),)]),
    unary("index_range_y", lambda L, x: x[range(4), L.tensor([1, 0, 1, 2])], shapes=[((4, 3),)]),
    unary("index_slice_array", lambda L, x: x[:, L.tensor([2, 0, 2])], shapes=[((2, 3),), ((2, 3, 2),)]),
    unary("index_bool_mask", lambda L, x: x[x > 0], shapes=[((3, 4),), ((5,),)]),
    unary("index_bool_rows", lambda L, x: x[L.tensor([True, False, True])], shapes=[((3, 2),)]),
    unary("index_true_false", lambda L, x: (x[True] * 2, x[False]), shapes=[((3, 2),), ((),)]),
    unary("index_array_2d", lambda L, x: x[L.tensor([[0, 1], [1, 1]])], shapes=[((2, 3),)]),
    unary("gather", lambda L, x: x.gather(1, L.tensor([[0, 0], [1, 0], [2, 2]])), shapes=[((3, 3),)]),
    unary("index_select", lambda L, x: x.index_select(0, L.tensor([1, 1, 0])), shapes=[((2, 3),)]),
    unary("take", lambda L, x: L.take(x, L.tensor([0, 5, 5])), shapes=[((2, 3),)]),
    unary("masked_select", lambda L, x: x.masked_select(x > 0), shapes=[((3, 4),)]),
    Spec("scatter_add", lambda L, a, b: a.scatter_add(0, L.tensor([[0, 1, 0], [0, 0, 1]]), b),
         [((2, 3), (2, 3))]),
    Spec("scatter", lambda L, a, b: a.scatter(1, L.tensor([[0], [2]]), b), [((2, 3), (2, 1))]),
    Spec("index_put", lambda L, a, b: a.index_put((L.tensor([0, 2]),), b), [((3, 2), (2, 2)), ((3, 2), (2,))]),
    Spec("index_add", lambda L, a, b: a.index_add(0, L.tensor([0, 2, 0]), b), [((3, 2), (3, 2))]),
    # ---------------------------------------------------------------- matrix products
    Spec("matmul", lambda L, a, b: a @ b, MATMUL),
    Spec("mm", lambda L, a, b: L.mm(a, b), [((2, 3), (3, 4)), ((1, 3), (3, 1))]),
    Spec("mv", lambda L, a, b: L.mv(a, b), [((2, 3), (3,))]),
    Spec("dot", lambda L, a, b: L.dot(a, b), [((3,), (3,))]),
    Spec("bmm", lambda L, a, b: L.bmm(a, b), [((2, 2, 3), (2, 3, 4))]),
    Spec("outer", lambda L, a, b: L.outer(a, b), [((3,), (4,))]),
    Spec("addmm", lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2.0), [((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4))]),
    Spec("addmm_default", lambda L, c, a, b: c.addmm(a, b), [((2, 4), (2, 3), (3, 4))]),
    Spec("addmv", lambda L, c, a, b: L.addmv(c, a, b, beta=-1.5, alpha=0.5), [((2,), (2, 3), (3,)), ((1,), (2, 3), (3,))]),
    Spec("baddbmm", lambda L, c, a, b: L.baddbmm(c, a, b, beta=0.5, alpha=2.0), [((2, 2, 4), (2, 2, 3), (2, 3, 4)), ((2, 4), (2, 2, 3), (2, 3, 4))]),
    Spec("baddbmm_beta0", lambda L, c, a, b: L.baddbmm(c * float("nan"), a, b, beta=0), [((2, 2, 4), (2, 2, 3), (2, 3, 4))], check=False),
    Spec("addbmm", lambda L, c, a, b: L.addbmm(c, a, b, alpha=0.5), [((2, 4), (3, 2, 3), (3, 3, 4))]),
    Spec("linear", lambda L, x, w, b: _linear(L)(x, w, b),
         [((4, 3), (2, 3), (2,)), ((2, 4, 3), (5, 3), (5,)), ((3,), (2, 3), (2,)),
          ((4, 3), (2, 3), (1, 2)), ((4, 3), (2, 3), (4, 2)), ((4, 3), (2, 3), (1,))]),
    Spec("linear_nobias", lambda L, x, w: _linear(L)(x, w),
         [((4, 3), (2, 3))]),
    # ---------------------------------------------------------------- convolutions (once-differentiable)
    Spec("conv2d", lambda L, x, w, b: F(L).conv2d(x, w, b), [((2, 3, 5, 6), (4, 3, 3, 2), (4,))], double=False),
    Spec("conv2d_nobias_unbatched", lambda L, x, w: F(L).conv2d(x, w), [((3, 5, 4), (2, 3, 3, 3))], double=False),
    Spec("conv2d_stride_padding", lambda L, x, w, b: F(L).conv2d(x, w, b, stride=(2, 1), padding=(1, 2)),
         [((2, 2, 6, 5), (3, 2, 3, 3), (3,))], double=False),
    Spec("conv2d_dilation", lambda L, x, w, b: F(L).conv2d(x, w, b, padding=1, dilation=(2, 1)),
         [((1, 2, 7, 6), (3, 2, 3, 2), (3,))], double=False),
    Spec("conv2d_groups", lambda L, x, w, b: F(L).conv2d(x, w, b, stride=2, groups=2),
         [((2, 4, 5, 5), (6, 2, 2, 3), (6,))], double=False),
    Spec("conv2d_same", lambda L, x, w: F(L).conv2d(x, w, padding="same", dilation=2),
         [((1, 2, 6, 5), (2, 2, 3, 3))], double=False),
    Spec("conv1d", lambda L, x, w, b: F(L).conv1d(x, w, b, stride=2, padding=1, groups=2),
         [((2, 4, 7), (6, 2, 3), (6,))], double=False),
    Spec("conv_transpose2d", lambda L, x, w, b: F(L).conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
         [((2, 3, 3, 4), (3, 2, 3, 3), (2,))], double=False),
    Spec("conv_transpose2d_groups_dilation", lambda L, x, w, b: F(L).conv_transpose2d(x, w, b, groups=2, dilation=2),
         [((1, 4, 3, 3), (4, 1, 2, 2), (2,))], double=False),
    # ---------------------------------------------------------------- pooling ('distinct': no ties in a window)
    unary("max_pool2d", lambda L, x: F(L).max_pool2d(x, 2), "distinct", [((2, 3, 4, 6),), ((2, 5, 4),)],
          double=False),
    unary("max_pool2d_stride_pad_ceil", lambda L, x: F(L).max_pool2d(x, 3, 2, 1, ceil_mode=True), "distinct",
          [((1, 2, 5, 6),)], double=False),
    unary("max_pool2d_dilation", lambda L, x: F(L).max_pool2d(x, (2, 3), stride=1, dilation=2), "distinct",
          [((1, 2, 5, 6),)], double=False),
    unary("max_pool2d_indices", lambda L, x: F(L).max_pool2d(x, 2, return_indices=True), "distinct",
          [((1, 2, 4, 4),)], double=False),
    unary("max_pool1d", lambda L, x: F(L).max_pool1d(x, 3, 2, padding=1), "distinct", [((2, 3, 7),)],
          double=False),
    unary("avg_pool2d", lambda L, x: F(L).avg_pool2d(x, 2), shapes=[((2, 3, 4, 6),), ((2, 5, 4),)], double=False),
    unary("avg_pool2d_pad_ceil", lambda L, x: F(L).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
          shapes=[((1, 2, 5, 6),)], double=False),
    unary("avg_pool2d_divisor", lambda L, x: F(L).avg_pool2d(x, (2, 3), padding=1, divisor_override=4),
          shapes=[((1, 2, 5, 6),)], double=False),
    unary("avg_pool1d", lambda L, x: F(L).avg_pool1d(x, 2, padding=1), shapes=[((2, 3, 5),)], double=False),
    unary("adaptive_avg_pool2d", lambda L, x: F(L).adaptive_avg_pool2d(x, (3, 4)),
          shapes=[((1, 2, 5, 6),), ((2, 7, 5),)], double=False),
    unary("adaptive_avg_pool1d", lambda L, x: F(L).adaptive_avg_pool1d(x, 3), shapes=[((2, 3, 7),)], double=False),
    unary("adaptive_max_pool2d", lambda L, x: F(L).adaptive_max_pool2d(x, (2, 3)), "distinct",
          [((1, 2, 5, 6),)], double=False),
    unary("adaptive_max_pool1d", lambda L, x: F(L).adaptive_max_pool1d(x, 3), "distinct", [((2, 3, 7),)],
          double=False),
    # ---------------------------------------------------------------- losses
    *[unary(f"cross_entropy_{r}", _loss("cross_entropy", labels=CE_LABELS, reduction=r), shapes=[((5, 4),)])
      for r in ("mean", "sum", "none")],
    *[unary(f"cross_entropy_weight_{r}", _loss("cross_entropy", labels=CE_LABELS, weight=CLASS_WEIGHT, reduction=r),
            shapes=[((5, 4),)]) for r in ("mean", "sum", "none")],
    *[unary(f"cross_entropy_smoothing_{r}", _loss("cross_entropy", labels=CE_LABELS, weight=CLASS_WEIGHT,
                                                  label_smoothing=0.2, reduction=r), shapes=[((5, 4),)])
      for r in ("mean", "none")],
    unary("cross_entropy_spatial_ignore_index",
          _loss("cross_entropy", labels=[[[0, 1], [2, 1]], [[1, 1], [0, 2]]], ignore_index=1, label_smoothing=0.1),
          shapes=[((2, 3, 2, 2),)]),
    unary("cross_entropy_unbatched", _loss("cross_entropy", labels=2), shapes=[((4,),)]),
    Spec("cross_entropy_probabilities", lambda L, x, p: F(L).cross_entropy(x, p, label_smoothing=0.1),
         [((3, 4), (3, 4)), ((2, 3, 2), (2, 3, 2))], ("any", "prob")),
    *[unary(f"nll_loss_{r}", _loss("nll_loss", labels=CE_LABELS, weight=CLASS_WEIGHT, reduction=r),
            shapes=[((5, 4),)]) for r in ("mean", "sum", "none")],
    unary("nll_loss_ignore_index", _loss("nll_loss", labels=[[0, 2], [1, 1], [2, 0]], ignore_index=2),
          shapes=[((3, 3, 2),)]),
    *[Spec(f"binary_cross_entropy_{r}", _loss("binary_cross_entropy", reduction=r), [((4, 3), (4, 3))], "prob")
      for r in ("mean", "sum", "none")],
    Spec("binary_cross_entropy_weight", _loss("binary_cross_entropy", weight=[0.5, 1.0, 2.0]),
         [((4, 3), (4, 3))], "prob"),
    *[Spec(f"bce_with_logits_{r}", _loss("binary_cross_entropy_with_logits", weight=[0.5, 1.0, 2.0],
                                          pos_weight=[2.0, 0.5, 1.0], reduction=r), [((4, 3), (4, 3))], ("any", "prob"))
      for r in ("mean", "sum", "none")],
    Spec("bce_with_logits_plain", _loss("binary_cross_entropy_with_logits"), [((5,), (5,)), ((), ())], ("any", "prob")),
    # ---------------------------------------------------------------- normalization
    Spec("batch_norm_train", _batch_norm(True, momentum=0.3), [((4, 3, 2), (3,), (3,)), ((5, 3, 2, 2), (3,), (3,))]),
    Spec("batch_norm_train_no_affine", _batch_norm(True), [((6, 3),)]),
    Spec("batch_norm_eval", _batch_norm(False), [((4, 3, 2), (3,), (3,)), ((2, 3, 2, 2), (3,), (3,))]),
    Spec("batch_norm_no_stats", lambda L, x, w, b: F(L).batch_norm(x, None, None, w, b, training=True),
         [((4, 2, 3), (2,), (2,))]),
    Spec("layer_norm", lambda L, x, w, b: F(L).layer_norm(x, (4, 5), w, b), [((3, 4, 5), (4, 5), (4, 5))]),
    unary("layer_norm_no_affine", lambda L, x: F(L).layer_norm(x, (5,), eps=1e-3), shapes=[((3, 5),), ((2, 2, 5),)]),
    Spec("group_norm", lambda L, x, w, b: F(L).group_norm(x, 2, w, b), [((2, 4, 3), (4,), (4,))]),
    unary("group_norm_no_affine", lambda L, x: F(L).group_norm(x, 3), shapes=[((2, 6, 2, 2),)]),
    unary("instance_norm", lambda L, x: F(L).instance_norm(x), shapes=[((2, 3, 4),)]),
    # ---------------------------------------------------------------- dropout
    unary("dropout_eval", lambda L, x: F(L).dropout(x, 0.5, training=False) * 2, shapes=[((3, 4),)]),
    unary("dropout_p0", lambda L, x: F(L).dropout(x, 0.0, training=True) * 2, shapes=[((3, 4),)]),
    unary("dropout_p1", lambda L, x: F(L).dropout(x, 1.0, training=True), shapes=[((3, 4),), ((0, 2),)]),
    unary("dropout_seeded_mask", _seeded_dropout("dropout", 0.4), shapes=[((6, 5),), ((2, 3, 4),)]),
    unary("dropout2d_seeded_mask", _seeded_dropout("dropout2d", 0.5), shapes=[((3, 4, 2, 2),)]),
    unary("alpha_dropout_eval", lambda L, x: F(L).alpha_dropout(x, 0.3) + 1, shapes=[((3, 4),)]),
    # ---------------------------------------------------------------- activations ('spread' keeps off the kinks)
    unary("F_relu", _act("relu"), "spread", ACTIVATION_SHAPES),
    unary("relu6", _act("relu6"), "spread", ACTIVATION_SHAPES),
    unary("leaky_relu", _act("leaky_relu", negative_slope=0.2), "spread", ACTIVATION_SHAPES),
    unary("leaky_relu_default", _act("leaky_relu"), "spread", [((3, 4),)]),
    unary("elu", _act("elu"), "spread", ACTIVATION_SHAPES),
    unary("elu_alpha", _act("elu", alpha=0.7), "spread", [((3, 4),)]),
    unary("selu", _act("selu"), "spread", ACTIVATION_SHAPES),
    unary("celu", _act("celu", alpha=1.5), "spread", [((3, 4),)]),
    unary("gelu", _act("gelu"), shapes=ACTIVATION_SHAPES),
    unary("gelu_tanh", _act("gelu", approximate="tanh"), shapes=ACTIVATION_SHAPES),
    unary("silu", _act("silu"), shapes=ACTIVATION_SHAPES),
    unary("mish", _act("mish"), shapes=ACTIVATION_SHAPES),
    unary("hardtanh", _act("hardtanh"), "spread", ACTIVATION_SHAPES),
    unary("hardtanh_range", _act("hardtanh", min_val=-2.0, max_val=3.0), "spread", [((3, 4),)]),
    unary("hardsigmoid", _act("hardsigmoid"), "spread", ACTIVATION_SHAPES, double=False),  # torch: no 2nd derivative
    unary("hardswish", _act("hardswish"), "spread", ACTIVATION_SHAPES),
    unary("softplus", _act("softplus"), "spread", ACTIVATION_SHAPES),
    unary("softplus_beta_threshold", _act("softplus", beta=2.0, threshold=4.0), "spread", [((3, 4),)]),
    unary("logsigmoid", _act("logsigmoid"), "spread", ACTIVATION_SHAPES),
    unary("softsign", _act("softsign"), "spread", ACTIVATION_SHAPES),
    unary("tanhshrink", _act("tanhshrink"), shapes=ACTIVATION_SHAPES),
    unary("threshold", _act("threshold", threshold=1.0, value=-3.0), "spread", ACTIVATION_SHAPES),
    unary("F_sigmoid", _act("sigmoid"), shapes=[((3, 4),)]),
    unary("F_tanh", _act("tanh"), shapes=[((3, 4),)]),
    unary("softmin", _act("softmin", dim=1), shapes=[((3, 4),), ((2, 3, 2),)]),
    unary("F_softmax", _act("softmax", dim=0), shapes=[((3, 4),)]),
    unary("F_log_softmax", _act("log_softmax", dim=-1), shapes=[((3, 4),), ((2, 3, 2),)]),
    unary("glu", _act("glu", dim=1), shapes=[((3, 4),), ((2, 6, 2),)]),
    Spec("prelu", lambda L, x, w: F(L).prelu(x, w), [((2, 3, 4), (3,)), ((4, 3), (1,))], "spread"),
]

# int-valued outputs (argmax ...) carry no gradient but are compared in forward
NO_GRAD_SPECS = [
    unary("argmax", lambda L, x: x.argmax(dim=1), shapes=[((3, 4),)]),
    unary("argmax_axis_keep", lambda L, x: x.argmax(axis=-1, keepdim=True), shapes=[((3, 4),)]),
    unary("argmax_all", lambda L, x: x.argmax(), shapes=[((3, 4),)]),
    unary("argmin", lambda L, x: L.argmin(x, 0), shapes=[((3, 4),)]),
    unary("max_dim_indices", lambda L, x: x.max(1)[1], shapes=[((3, 4),)]),
    unary("min_dim_indices", lambda L, x: x.min(dim=0, keepdim=True).indices, shapes=[((3, 4),)]),
    unary("gt", lambda L, x: x > 0.1), unary("le", lambda L, x: x <= x * 0.5),
    unary("eq", lambda L, x: x == x.round()), unary("ne", lambda L, x: x != 0),
    unary("logical_and", lambda L, x: (x > 0) & (x < 1)), unary("logical_not", lambda L, x: ~(x > 0)),
    unary("floor_divide", lambda L, x: x // 0.3), unary("argsort", lambda L, x: x.argsort(dim=-1), shapes=[((3, 4),)]),
    unary("isnan", lambda L, x: (x.log()).isnan()), unary("all", lambda L, x: (x > -1).all(dim=0), shapes=[((3, 4),)]),
    unary("any", lambda L, x: (x > 1).any()),
]


def inputs(spec, case, np_dtype, seed=0):
    """Random input arrays for a case: deterministic per (spec, case, seed), in the spec's domain."""
    rng = np.random.default_rng(zlib.crc32(f"{spec.name}{case}".encode()) + seed)
    domains = spec.domain if isinstance(spec.domain, tuple) else (spec.domain,) * len(case)
    return [np.asarray(DOMAINS[domain](rng, shape), dtype=np_dtype) for domain, shape in zip(domains, case)]


DOMAINS = {
    "any": lambda rng, shape: rng.standard_normal(shape),
    "pos": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(-0.9, 0.9, shape),
    "nonzero": lambda rng, shape: rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape),
    "prob": lambda rng, shape: rng.uniform(0.05, 0.95, shape),
    # in (-7, 7) but at least 0.2 from every integer: clear of the kinks at 0, +-1, +-3, 6 and chosen thresholds
    "spread": lambda rng, shape: rng.integers(-7, 7, shape) + rng.uniform(0.2, 0.8, shape),
    # all values at least 0.05 apart, shuffled: max-pool windows have no (near-)ties
    "distinct": lambda rng, shape: (rng.permutation(int(np.prod(shape))).reshape(shape) - np.prod(shape) / 2) * 0.05,
}

