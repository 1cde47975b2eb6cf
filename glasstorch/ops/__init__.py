"""Floor 3: every differentiable primitive, one family per file, forward and backward side by side.

    arithmetic.py   + - * / ** maximum minimum where, comparisons
    elementwise.py  exp log sqrt trig tanh sigmoid relu clamp softmax log_softmax
    reduce.py       sum mean var std prod max min amax logsumexp norm cumsum argmax sort
    shape.py        reshape view permute transpose expand repeat flip cat stack split
    indexing.py     x[key], x[key] = v, gather scatter index_select
    matmul.py       matmul mm mv dot bmm linear addmm addmv baddbmm addbmm
    einsum.py       einsum, as diagonals, sums and one batched matmul per pair of operands
    inplace.py      add_ mul_ fill_ copy_ normal_ ... with torch's in-place rules
    conv.py pool.py loss.py normalization.py activation.py   the neural-network primitives behind nn.functional
"""
from .arithmetic import (add, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, div, eq, equal,
                         floor_divide, fmod, ge, gt, isclose, le, logical_and, logical_not, logical_or,
                         logical_xor, lt, masked_fill, maximum, minimum, mul, ne, neg, pow, remainder, sub, where)
from .common import to_dtype
from .elementwise import (abs, ceil, clamp, clip, cos, cosh, exp, expm1, floor, isfinite, isinf, isnan, log, log1p,
                          log2, log10, log_softmax, nan_to_num, reciprocal, relu, round, rsqrt, sigmoid, sign, sin,
                          sinh, softmax, sqrt, square, tan, tanh, trunc)
from .indexing import (gather, getitem, index_add, index_put, index_put_, index_select, masked_select, scatter,
                       scatter_add, setitem, take, take_along_dim)
from .inplace import add_, copy_, div_, fill_, fill_random_, inplace, mul_, sub_
from .einsum import einsum
from .matmul import addbmm, addmm, addmv, baddbmm, bmm, dot, inner, linear, matmul, mm, mv, outer
from .reduce import (all, amax, amin, aminmax, any, argmax, argmin, argsort, bincount, count_nonzero, cumprod,
                     cumsum, dist, kthvalue, logsumexp, max, mean, median, min, nonzero, norm, prod, sort, std,
                     std_mean, sum, topk, unique, var, var_mean)
from .shape import (atleast_1d, atleast_2d, broadcast_shapes, broadcast_tensors, broadcast_to, cat, chunk, clone,
                    concat, concatenate, diag, diagonal, expand, flatten, flip, fliplr, flipud, hstack, meshgrid,
                    movedim, narrow, permute, repeat, repeat_interleave, reshape, roll, select, split, squeeze,
                    stack, sum_to_shape, t, tile, transpose, tril, triu, unbind, unflatten, unsqueeze, view, vstack)
