"""Floor 3: every differentiable primitive, one family per file, forward and backward side by side.

    common.py         operands -> tensors of torch's result dtype, dims, devices, broadcast_shapes, NamedFunction
    quick_paths.py    NumPy's quick paths for small arrays: a sum of squares as one BLAS dot, the number 1 as a 0-d array
    indexing.py       x[key], gather scatter index_select take
    shape.py          reshape view permute transpose expand repeat flip cat stack split
    arithmetic.py     + - * / ** maximum minimum where, comparisons
    elementwise.py    exp log sqrt trig tanh sigmoid relu clamp softmax log_softmax
    elementwise_fast.py  relu over the threads (backend.parallel_elementwise): what nn.functional runs
    inplace.py        add_ mul_ fill_ copy_ normal_ x[key] = v ... with torch's in-place rules
    reduce.py         sum mean var std prod max min amax logsumexp norm cumsum argmax sort
    matmul.py         matmul mm mv dot bmm linear addmm addmv baddbmm addbmm cov
    einsum.py         einsum, as diagonals, sums and one batched matmul per pair of operands
    activation.py     leaky_relu hardtanh elu gelu softplus logsigmoid
    special.py        lgamma digamma polygamma erfinv (for distributions.Beta and Normal.icdf)
    normalization.py  batch_norm layer_norm group_norm
    dropout.py        dropout (one masked scale)
    embedding.py      embedding (row lookup; scatter-add backward)
    padding.py        pad: constant, reflect, replicate, circular
    loss.py           cross_entropy (softmax - onehot), nll, binary cross-entropy (with logits), mse
    pool.py           max_pool2d avg_pool2d, adaptive pooling
    pool_fast.py      max_pool2d with the batch split over the threads: what nn.functional runs
    conv.py           conv2d conv_transpose2d, the textbook way (im2col + one matmul): read this one
    conv_fast.py      the same, cache-blocked and tuned: what nn.functional runs (tested equal to conv.py)
    rnn.py            the LSTM/GRU/RNN cells (the lesson, fused) and the whole-sequence scan: read this one
    rnn_fast.py       the LSTM scan in place, its batch split over the threads: what nn.LSTM runs
    device.py         to_device

Import order: the files are listed in it. A file imports (at the top, never inside a function) only
files above it in this list; a backward that needs an op from a file below calls a Tensor method
instead (`a.log()`, `c.nonzero()`), which tensor.py forwards to the ops at call time. So there is no
import cycle among the ops.

Op classes are `<TorchName>Function` (`ReLUFunction`, `Conv2dFunction`) so that none shares a name
with a layer (`nn.ReLU`); their graph nodes keep the short names they always printed
(`grad_fn=<ReluBackward0>`, as torch).
"""
from .arithmetic import (add, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, div, eq, equal,
                         floor_divide, fmod, ge, gt, isclose, le, logical_and, logical_not, logical_or,
                         logical_xor, lt, masked_fill, maximum, minimum, mul, ne, neg, pow, remainder, rsub, sub,
                         where)
from . import linalg  # noqa: F401  (torch.linalg's ops; Tensor.inverse/det reach them as ops.linalg)
from .common import to_dtype
from .elementwise import (abs, ceil, clamp, clip, cos, cosh, exp, expm1, floor, isfinite, isinf, isnan, log, log1p,
                          log2, log10, log_softmax, nan_to_num, reciprocal, relu, round, rsqrt, sigmoid, sign, sin,
                          sinh, softmax, sqrt, square, tan, tanh, trunc)
from .indexing import (gather, getitem, index_add, index_put, index_select, masked_select, scatter, scatter_add,
                       take, take_along_dim)
from .inplace import add_, copy_, div_, fill_, fill_random_, index_put_, inplace, mul_, restride_, setitem, sub_
from .matmul import addbmm, addmm, addmv, baddbmm, bmm, dot, inner, linear, matmul, mm, mv, outer
from .matmul import cov
from .einsum import einsum
from .special import digamma, erfinv, lgamma, polygamma
from .reduce import (all, amax, amin, aminmax, any, argmax, argmin, argsort, bincount, count_nonzero, cumprod,
                     cumsum, dist, kthvalue, logsumexp, max, mean, median, min, nonzero, norm, prod, sort, std,
                     std_mean, sum, topk, unique, var, var_mean)
from .shape import (atleast_1d, atleast_2d, broadcast_shapes, broadcast_tensors, broadcast_to, cat, chunk, clone,
                    concat, concatenate, diag, diagonal, expand, flatten, flip, fliplr, flipud, hstack, meshgrid,
                    movedim, narrow, permute, repeat, repeat_interleave, reshape, roll, select, split, squeeze,
                    stack, sum_to_shape, t, tile, transpose, tril, triu, unbind, unflatten, unsqueeze, view, vstack)
