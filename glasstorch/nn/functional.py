"""glasstorch.nn.functional: the stateless form of every layer, with torch's signatures and defaults.

Each function checks and normalises its arguments (ints to pairs, 'same' padding, legacy
`size_average`/`reduce`), then calls one op from glasstorch.ops, where forward and backward live.
"""
import math
import numbers
import warnings

from .. import autocast_mode, backend
from ..ops import activation as _act
from ..ops import conv_fast as _conv
from ..ops import dropout as _dropout
from ..ops import elementwise as _elementwise
from ..ops import elementwise_fast as _elementwise_fast
from ..ops import embedding as _embedding
from ..ops import loss as _loss
from ..ops import normalization as _norm
from ..ops import padding as _padding
from ..ops import pool as _pool
from ..ops import pool_fast as _pool_fast
from ..ops import shape as _shape
from ..ops.arithmetic import where
from ..ops.common import TORCH_NAMES, as_tensor, autocast_inputs
from ..ops.inplace import inplace as _inplace
from ..ops.matmul import linear  # noqa: F401  (F.linear is the op itself: a wrapper would add a call per layer)
from ..ops.reduce import norm as _vector_norm
from ..tensor import Tensor

xp = backend.xp


# ----------------------------------------------------------------------------- argument helpers
def _tuple(value, n, name="argument"):
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"expected {n} values for {name}, got {len(value)}")
    return value


def _type_name(t):
    return TORCH_NAMES[t.dtype.name]


def _own(t):
    """A result torch computes into new memory that glasstorch gets by squeezing a temporary (conv1d is conv2d on
    a height-1 image): the squeeze is a view of that temporary, which nothing else holds, so the result is made a
    tensor of its own. In-place ops on it then work as in torch (Conv1d followed by ReLU(inplace=True))."""
    t._base = None
    return t


def _with_batch(x, ndim, name, run):
    """Run a batched op on an unbatched input (one dim fewer) by adding and removing the batch dim."""
    if x.ndim == ndim:
        return run(x)
    if x.ndim == ndim - 1:
        out = run(x.unsqueeze(0))
        return tuple(_own(o.squeeze(0)) for o in out) if isinstance(out, tuple) else _own(out.squeeze(0))
    raise RuntimeError(f"Expected {ndim - 1}D (unbatched) or {ndim}D (batched) input to {name}, but got input of "
                       f"size: {list(x.shape)}")


# ----------------------------------------------------------------------------- linear and convolution
# (linear, y = x W^T + b, is imported above from ops.matmul)


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k; weight (out, in1, in2)."""
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    out = ((x1 @ weight) * x2).sum(-1).t()  # (out, N, in2) * (N, in2) -> (N, out)
    if bias is not None:
        out = out + bias
    return out.reshape(tuple(lead) + (weight.shape[0],))


def _conv_padding(padding, kernel, dilation, stride):
    """padding (int, tuple, 'valid' or 'same') as ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in kernel)
        if padding != "same":
            raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        # 'same' needs d*(k-1) in total; an odd total puts the extra row/column at the end (as torch)
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
    return tuple((p, p) for p in _tuple(padding, len(kernel), "padding"))


def _check_conv(x, weight, bias, groups, pads, dilation):
    if weight.ndim != 4:
        raise RuntimeError(f"weight should have 4 dimensions for conv2d, got {weight.ndim}")
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(x.shape)} to have {weight.shape[1] * groups} channels, but got {x.shape[1]} "
                           f"channels instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size {list(weight.shape)} instead")
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != x.dtype):
        other = weight if x.dtype != weight.dtype else bias
        raise RuntimeError(f"Input type ({_type_name(x)}) and {'weight' if other is weight else 'bias'} type "
                           f"({_type_name(other)}) should be the same")
    padded = [s + a + b for s, (a, b) in zip(x.shape[2:], pads)]
    kernel = [d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation)]
    if any(p < k for p, k in zip(padded, kernel)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                           f"size: ({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual input "
                           f"size")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as torch) of (N, C, H, W) or (C, H, W) input.

    Args: weight (out_channels, in_channels/groups, kh, kw); stride, dilation int or pair;
    padding int, pair, 'valid' or 'same'; groups splits the channels into independent blocks.
    """
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, relu=False)


def _conv2d(input, weight, bias, stride, padding, dilation, groups, relu, avg_pool=None):
    """conv2d; relu=True: relu(conv2d(...)) as one op; avg_pool=(kernel, divisor_override) as well: avg_pool2d of
    that, stride = kernel (nn.Sequential's Conv2d + ReLU (+ AvgPool2d): nn/modules/fusion.py)."""
    stride, dilation = _tuple(stride, 2, "stride"), _tuple(dilation, 2, "dilation")
    pads = _conv_padding(padding, tuple(weight.shape[2:]), dilation, stride)

    def run(x):
        _check_conv(x, weight, bias, groups, pads, dilation)
        return _conv.conv2d(x, weight, bias, stride, pads, dilation, groups, relu, avg_pool)
    return _with_batch(input, 4, "conv2d", run)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of (N, C, L) or (C, L) input: conv2d on a height-1 image."""
    if isinstance(padding, str):
        pad = padding
    else:
        pad = (0, _tuple(padding, 1)[0])
    stride, dilation = (1, _tuple(stride, 1)[0]), (1, _tuple(dilation, 1)[0])

    def run(x):
        return _own(conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, stride, pad, dilation, groups).squeeze(2))
    return _with_batch(input, 3, "conv1d", run)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution (the gradient of conv2d with respect to its input); weight (in, out/groups, kh, kw)."""
    stride, padding = _tuple(stride, 2, "stride"), _tuple(padding, 2, "padding")
    output_padding, dilation = _tuple(output_padding, 2, "output_padding"), _tuple(dilation, 2, "dilation")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                           f"output_padding_height: {output_padding[0]} output_padding_width: {output_padding[1]} "
                           f"stride_height: {stride[0]} stride_width: {stride[1]} dilation_height: {dilation[0]} "
                           f"dilation_width: {dilation[1]}")

    def run(x):
        if x.shape[1] != weight.shape[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                               f"{list(x.shape)} to have {weight.shape[0]} channels, but got {x.shape[1]} channels "
                               f"instead")
        return _conv.conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return _with_batch(input, 4, "conv_transpose2d", run)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    def run(x):
        return _own(conv_transpose2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, _tuple(stride, 1)[0]),
                                     (0, _tuple(padding, 1)[0]), (0, _tuple(output_padding, 1)[0]), groups,
                                     (1, _tuple(dilation, 1)[0])).squeeze(2))
    return _with_batch(input, 3, "conv_transpose1d", run)


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims, pad = (left, right, top, bottom, ...).

    Modes: 'constant' (with `value`), 'reflect', 'replicate', 'circular'.
    """
    if mode == "constant":
        return _padding.pad(input, tuple(pad), "constant", 0.0 if value is None else value)
    if value not in (None, 0, 0.0):
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if mode in ("reflect", "replicate"):
        (input,) = autocast_inputs(f"{mode}ion_pad" if mode == "reflect" else "replication_pad", input)
    return _padding.pad(input, tuple(pad), mode)


# ----------------------------------------------------------------------------- pooling
def _pool_args(x, kernel_size, stride, padding, dilation, n=2):
    kernel = _tuple(kernel_size, n, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _tuple(stride, n)
    padding, dilation = _tuple(padding, n, "padding"), _tuple(dilation, n, "dilation")
    for p, k, d in zip(padding, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    if x.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D or {n + 2}D input for pooling, got input of size {list(x.shape)}")
    return kernel, stride, padding, dilation


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kh x kw windows; stride defaults to the kernel size. return_indices also gives flat argmax indices."""
    kernel, stride, padding, dilation = _pool_args(input, kernel_size, stride, padding, dilation)
    return _pool_fast.max_pool2d(input, kernel, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    kernel, stride, padding, dilation = _pool_args(input, kernel_size, stride, padding, dilation, n=1)
    out = _pool.max_pool2d(input.unsqueeze(-2), (1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation,
                           ceil_mode, return_indices)
    if return_indices:
        return _own(out[0].squeeze(-2)), _own(out[1].squeeze(-2))
    return _own(out.squeeze(-2))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kh x kw windows (zero padding counts unless count_include_pad=False)."""
    kernel, stride, padding, _ = _pool_args(input, kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    return _pool_fast.avg_pool2d(input, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    kernel, stride, padding, _ = _pool_args(input, kernel_size, stride, padding, 1, n=1)
    return _own(_pool.avg_pool2d(input.unsqueeze(-2), (1,) + kernel, (1,) + stride, (0,) + padding, ceil_mode,
                            count_include_pad, None).squeeze(-2))


def _adaptive_size(x, output_size, n):
    single = isinstance(output_size, numbers.Integral) or output_size is None
    size = (output_size,) * n if single else tuple(output_size)
    if len(size) == 1:
        size = size * n
    return tuple(x.shape[-n + i] if s is None else int(s) for i, s in enumerate(size))


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (windows [floor(i*H/out), ceil((i+1)*H/out)))."""
    out = _adaptive_size(input, output_size, 2)
    h, w = input.shape[-2:]
    if h % out[0] == 0 and w % out[1] == 0:
        kernel = (h // out[0], w // out[1])
        return _pool.avg_pool2d(input, kernel, kernel, (0, 0), False, True, None)
    return _pool.adaptive_pool2d(input, out, lambda window: window.mean((-2, -1)))


def adaptive_avg_pool1d(input, output_size):
    return _own(adaptive_avg_pool2d(input.unsqueeze(-2), (1, _adaptive_size(input, output_size, 1)[0])).squeeze(-2))


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size; return_indices gives flat argmax indices into H*W."""
    out = _adaptive_size(input, output_size, 2)
    h, w = input.shape[-2:]
    if h % out[0] == 0 and w % out[1] == 0:
        kernel = (h // out[0], w // out[1])
        return _pool.max_pool2d(input, kernel, kernel, (0, 0), (1, 1), False, return_indices)
    values = _pool.adaptive_pool2d(input, out, lambda window: window.flatten(-2).max(-1).values)
    if not return_indices:
        return values
    return values, Tensor._make(_adaptive_argmax(input._array, out))


def _adaptive_argmax(x, out):
    h, w = x.shape[-2:]
    idx = backend.array_module(x).zeros(x.shape[:-2] + out, dtype=xp.int64)
    for i, (h0, h1) in enumerate(_pool.adaptive_bounds(h, out[0])):
        for j, (w0, w1) in enumerate(_pool.adaptive_bounds(w, out[1])):
            local = x[..., h0:h1, w0:w1].reshape(x.shape[:-2] + (-1,)).argmax(-1)
            idx[..., i, j] = (h0 + local // (w1 - w0)) * w + w0 + local % (w1 - w0)
    return idx


def adaptive_max_pool1d(input, output_size, return_indices=False):
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, _adaptive_size(input, output_size, 1)[0]), return_indices)
    if return_indices:
        return _own(out[0].squeeze(-2)), _own(out[1].squeeze(-2))
    return _own(out.squeeze(-2))


# ----------------------------------------------------------------------------- activations
def _maybe_inplace(x, inplace, fn):
    return _inplace(x, fn) if inplace else fn(x)


def relu(input, inplace=False):
    return _maybe_inplace(input, inplace, _elementwise_fast.relu)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: _elementwise_fast.leaky_relu(x, negative_slope))


def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: _act.elu(x, alpha))


def selu(input, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: _act.elu(x, 1.6732632423543772) * 1.0507009873554805)


def celu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: _act.elu(x / alpha, 1.0) * alpha)


def gelu(input, approximate="none"):
    return _act.gelu(input, approximate)


def silu(input, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: x * _elementwise.sigmoid(x))


def mish(input, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: x * _elementwise.tanh(_act.softplus(x)))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: _act.hardtanh(x, min_val, max_val))


def hardsigmoid(input, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: _act.hardtanh(x + 3.0, 0.0, 6.0) / 6.0)


def hardswish(input, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: x * _act.hardtanh(x + 3.0, 0.0, 6.0) / 6.0)


def threshold(input, threshold, value, inplace=False):
    """y = x where x > threshold, else value."""
    return _maybe_inplace(input, inplace, lambda x: where(x > threshold, x, float(value)))


def prelu(input, weight):
    """y = x where x > 0, else a * x with a learnable slope per channel (dim 1) or a single one."""
    input, weight = autocast_inputs("prelu", input, weight)
    a = weight.reshape((-1,) + (1,) * (input.ndim - 2)) if input.ndim >= 2 and weight.numel() > 1 else weight
    return where(input > 0, input, input * a)


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of input along dim."""
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} is size "
                           f"{input.shape[dim]}")
    a, b = input.chunk(2, dim)
    return a * _elementwise.sigmoid(b)


def tanhshrink(input):
    return input - _elementwise.tanh(input)


sigmoid = _elementwise.sigmoid  # torch.sigmoid itself (one call less for nn.Sigmoid and nn.Tanh)
tanh = _elementwise.tanh


def softplus(input, beta=1.0, threshold=20.0):
    (input,) = autocast_inputs("softplus", input)
    return _act.softplus(input, beta, threshold)


def softsign(input):
    return input / (_elementwise.abs(input) + 1)


def logsigmoid(input):
    return _act.logsigmoid(input)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _elementwise.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _elementwise.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return _elementwise.softmax(-input, dim, dtype)


# ----------------------------------------------------------------------------- dropout and normalization
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p, scale the rest by 1/(1-p); identity when not training."""
    return _dropout.dropout(input, p, training, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) (or unbatched (C, L)) input."""
    return _dropout.dropout(input, p, training, inplace, feature_dims=1 if input.ndim == 2 else 2)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input (3-D input is treated as (N, C, L), as torch does)."""
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      f"result in an error in a future release.", stacklevel=2)
    return _dropout.dropout(input, p, training, inplace, feature_dims=2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _dropout.dropout(input, p, training, inplace, feature_dims=1 if input.ndim == 4 else 2)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units take SELU's negative saturation, mean and variance kept."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha = -1.7580993408473766
    a = ((1 - p) * (1 + p * alpha ** 2)) ** -0.5
    # drawn on the host from glasstorch's generator (the same numbers on the GPU), used where input lives
    keep = (backend.rng().random(tuple(input.shape)) >= p).astype(input._array.dtype)
    keep = Tensor._make(backend.like(input._array, keep))
    out = (input * keep + alpha * (1 - keep)) * a - a * alpha * p
    return input.copy_(out) if inplace else out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Per-channel (dim 1) normalization; training updates running_mean/var in place (unbiased variance)."""
    if input.ndim < 2:
        raise ValueError(f"expected 2D or more input (got {input.ndim}D input)")
    return _norm.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalize every (sample, channel) over its spatial dims."""
    return group_norm(input, input.shape[1], weight, bias, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    input, weight, bias = autocast_inputs("layer_norm", input, weight, bias)
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    return _norm.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    input, weight, bias = autocast_inputs("group_norm", input, weight, bias)
    return _norm.group_norm(input, num_groups, weight, bias, eps)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Look up rows of `weight` (num_embeddings, dim) at integer `input` of any shape."""
    indices = as_tensor(input)._array
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {'torch.' + TORCH_NAMES[as_tensor(input).dtype.name]}Tensor instead "
                           f"(while checking arguments for embedding)")
    n = weight.shape[0]
    if indices.size and (indices.min() < -n or indices.max() >= n):
        raise IndexError("index out of range in self")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= n
    return _embedding.embedding(indices % n if indices.size and indices.min() < 0 else indices, weight, padding_idx,
                           max_norm, norm_type, scale_grad_by_freq)


def one_hot(tensor, num_classes=-1):
    """int64 (..., num_classes) with a 1 at each index (num_classes=-1: max + 1)."""
    idx = tensor._array
    if idx.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if idx.size and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    elif idx.size and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    xp = backend.array_module(idx)  # NumPy, or CuPy for a GPU tensor
    out = xp.zeros(idx.shape + (num_classes,), dtype=xp.int64)
    xp.put_along_axis(out, idx[..., None].astype(xp.int64), 1, axis=-1)
    return Tensor._make(out)


# ----------------------------------------------------------------------------- losses
def _reduction(size_average, reduce, reduction, stacklevel=3):
    """torch's legacy rule: size_average/reduce, when given, override `reduction` (with a deprecation warning)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
                  stacklevel=stacklevel)
    return result


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _pointwise_pair(input, target, name):
    if _shape_tuple(target) != _shape_tuple(input):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      f"This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      f"same size.", stacklevel=3)
    return input, as_tensor(target)


def _shape_tuple(x):
    """x.shape as a plain tuple (a Tensor's from its array: no Size object made on every loss call)."""
    return x._array.shape if isinstance(x, Tensor) else tuple(x.shape)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean((input - target)^2)."""
    # the common case (Tensors of one shape, no autocast, no legacy arguments) calls no helper: every step of a
    # regression comes here
    if autocast_mode._state.active:
        input, target = autocast_inputs("mse_loss", input, target)
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if type(target) is not Tensor or target._array.shape != input._array.shape:
        input, target = _pointwise_pair(input, target, "mse_loss")
    if weight is None:
        if input._array.shape != target._array.shape:  # torch broadcasts (after the warning above)
            from ..ops.shape import broadcast_tensors
            input, target = broadcast_tensors(input, target)
        if input._array.dtype != target._array.dtype:
            target = target.to(input.dtype) if input.dtype.is_floating_point else target
            input = input.to(target.dtype)
        return _loss.mse_loss(input, target, reduction)
    diff = input - target
    return _loss.reduce_loss(diff * diff * weight, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean(|input - target|)."""
    input, target = autocast_inputs("l1_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _pointwise_pair(input, target, "l1_loss")
    loss = _elementwise.abs(input - target)
    return _loss.reduce_loss(loss if weight is None else loss * weight, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - delta/2),  d = input - target."""
    input, target = autocast_inputs("huber_loss", input, target)
    _check_reduction(reduction)
    input, target = _pointwise_pair(input, target, "huber_loss")
    d = input - target
    a = _elementwise.abs(d)
    loss = where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _loss.reduce_loss(loss if weight is None else loss * weight, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - beta/2 (beta = 0: plain L1)."""
    input, target = autocast_inputs("smooth_l1_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _pointwise_pair(input, target, "smooth_l1_loss")
    d = input - target
    a = _elementwise.abs(d)
    if beta == 0:
        return _loss.reduce_loss(a, reduction)
    return _loss.reduce_loss(where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction)


def _class_target(input, target, name):
    """Check (N, C, d...) input against (N, d...) integer targets; unbatched (C,) with a 0-dim target too."""
    if input.ndim == 1:
        if target.ndim != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return input.unsqueeze(0), target.reshape(1), True
    if input.ndim == 0:
        raise RuntimeError("input tensor should be 1D or more")
    if target.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0]}).")
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    return input, target, False


def _weight_array(weight, input):
    if weight is None:
        return None
    w = weight._array
    if w.shape != (input.shape[1],):
        raise RuntimeError(f"weight tensor should be defined either for all {input.shape[1]} classes or no classes "
                           f"but got weight tensor of shape: {list(w.shape)}")
    return w.astype(input._array.dtype, copy=False)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of logits (N, C, d...) against class indices (N, d...) or class probabilities (N, C, d...).

    Class indices go through one fused, stable node (log-softmax + NLL; backward softmax - target).
    `weight` rescales classes; 'mean' then divides by the total weight of the non-ignored targets.
    """
    input, target = autocast_inputs("cross_entropy", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = as_tensor(target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target.dtype.is_floating_point:
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    x, t, unbatched = _class_target(input, target, "cross_entropy")
    out = _loss.cross_entropy(x, t._array.astype(xp.int64, copy=False), _weight_array(weight, x), ignore_index,
                              reduction, label_smoothing)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing):
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected input and target to have the same shape when target holds probabilities, got "
                           f"{list(input.shape)} and {list(target.shape)}")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = _elementwise.log_softmax(input, class_dim) * target
    if weight is not None:
        terms = terms * weight.reshape((n_classes,) + (1,) * (input.ndim - class_dim - 1))
    loss = -terms.sum(class_dim)
    if reduction == "mean":
        return loss.sum() / (input.numel() // n_classes if input.numel() else 1)
    return _loss.reduce_loss(loss, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-input[n, target[n]] (input holds log-probabilities), averaged over the target weights."""
    input, target = autocast_inputs("nll_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = as_tensor(target)
    if target.dtype.is_floating_point:
        raise RuntimeError(f"expected scalar type Long but found {TORCH_NAMES[target.dtype.name]}")
    x, t, unbatched = _class_target(input, target, "nll_loss")
    out = _loss.nll_loss(x, t._array.astype(xp.int64, copy=False), _weight_array(weight, x), ignore_index, reduction)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x; the logs are clamped at -100 as torch."""
    input, target = autocast_inputs("binary_cross_entropy", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = as_tensor(target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
                         f"is deprecated. Please ensure they have the same size.")
    a = input._array
    if a.size and (a.min() < 0 or a.max() > 1):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = _loss.binary_cross_entropy(input, target.to(input.dtype))
    return _loss.reduce_loss(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed stably from the logits; pos_weight scales positives."""
    input, target = autocast_inputs("binary_cross_entropy_with_logits", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = as_tensor(target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    loss = _loss.binary_cross_entropy_with_logits(input, target.to(input.dtype), pos_weight)
    return _loss.reduce_loss(loss if weight is None else loss * weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """sum target * (log target - input) with input = log-probabilities ('batchmean' divides by the batch size)."""
    input, target = autocast_inputs("kl_div", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    target = as_tensor(target)
    if log_target:
        loss = _elementwise.exp(target) * (target - input)
    else:
        positive = target > 0
        safe = where(positive, target, 1.0)  # 0 * log 0 = 0 (xlogy), with no NaN in the unused branch
        loss = where(positive, target * _elementwise.log(safe), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    return _loss.reduce_loss(loss, reduction)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) max(||x2||, eps)) along dim."""
    x1, x2 = autocast_inputs("cosine_similarity", x1, x2)
    n1 = _vector_norm(x1, 2, dim, keepdim=True).clamp(min=eps)
    n2 = _vector_norm(x2, 2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along dim."""
    return input / _vector_norm(input, p, dim, keepdim=True).clamp(min=eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    return _vector_norm(x1 - x2 + eps, p, -1, keepdim=keepdim)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -y (x1 - x2) + margin)."""
    input1, input2 = autocast_inputs("margin_ranking_loss", input1, input2)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _loss.reduce_loss(_elementwise.relu(-target * (input1 - input2) + margin), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x))."""
    input, target = autocast_inputs("soft_margin_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _loss.reduce_loss(_act.softplus(-target * input), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where y = 1;  max(0, cos(x1, x2) - margin) where y = -1."""
    input1, input2 = autocast_inputs("cosine_embedding_loss", input1, input2)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    eps = 1e-12
    dim = input1.ndim - 1
    cos = (input1 * input2).sum(dim) / _elementwise.sqrt(((input1 * input1).sum(dim) + eps) *
                                                         ((input2 * input2).sum(dim) + eps))
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, _elementwise.relu(cos - margin), 0.0)
    return _loss.reduce_loss(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(x) - t x (log_input) or x - t log(x + eps); full adds Stirling's t log t - t + log(2 pi t)/2 for t > 1."""
    input, target = autocast_inputs("poisson_nll_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = as_tensor(target)
    if log_input:
        loss = _elementwise.exp(input) - target * input
    else:
        loss = input - target * _elementwise.log(input + eps)
    if full:
        safe = where(target > 1, target, 1.0)
        stirling = safe * _elementwise.log(safe) - safe + 0.5 * _elementwise.log(2 * 3.141592653589793 * safe)
        loss = loss + where(target > 1, stirling, 0.0)
    return _loss.reduce_loss(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """(log(max(var, eps)) + (x - t)^2 / max(var, eps)) / 2 (+ log(2 pi)/2 when full)."""
    _check_reduction(reduction)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if (var._array < 0).any():
        raise ValueError("var has negative entry/entries")
    # torch clamps a copy without recording it: the gradient flows as if var were unclamped
    var = var + Tensor._make(backend.array_module(var._array).maximum(var._array, eps) - var._array)
    diff = input - target
    loss = 0.5 * (_elementwise.log(var) + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _loss.reduce_loss(loss, reduction)


# ----------------------------------------------------------------------------- attention
def _attention_mask_as_scores(attn_mask, query):
    """A mask as a float tensor added to the scores: a bool mask (True = takes part) becomes 0 / -inf."""
    if attn_mask._array.dtype == xp.bool_:
        zeros = Tensor._make(backend.array_module(attn_mask._array).zeros(attn_mask.shape, dtype=query._array.dtype))
        return zeros.masked_fill(attn_mask.logical_not(), float("-inf"))
    if attn_mask._array.dtype != query._array.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_type_name(attn_mask).lower()} and  query.dtype: "
                           f"{_type_name(query).lower()} instead.")
    return attn_mask


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T * scale + mask) V, scale = 1/sqrt(E) by default.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). Written as the ops it is made of,
    so its backward comes from theirs:

        scores  = query @ key^T * scale                       (..., L, S): how well each query matches each key
        scores += mask                                        bool mask: -inf where False; float mask: added
        weights = softmax(scores, dim=-1)                     each query's weights over the keys sum to 1
        weights = dropout(weights, dropout_p)
        out     = weights @ value

    is_causal masks the keys after each query (tril of an L x S matrix of True); giving an attn_mask as well is an
    error, as in torch. A query whose keys are all masked gets weights of 0 (out = 0, as torch's
    scaled_dot_product_attention) rather than nan. enable_gqa: key/value with fewer heads (dim -3) than query
    are repeated to the query's heads (grouped-query attention).
    """
    if query.dtype != key.dtype or query.dtype != value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_type_name(query).lower()} key.dtype: {_type_name(key).lower()} and value.dtype: "
                           f"{_type_name(value).lower()} instead.")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must have at least 2 dimensions")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key and value must have the same sequence length, got "
                           f"{key.shape[-2]} and {value.shape[-2]}")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if heads % kv_heads:
            raise RuntimeError(f"scaled_dot_product_attention: the number of query heads ({heads}) must be a "
                               f"multiple of the number of key/value heads ({kv_heads}) with enable_gqa=True")
        key = key.repeat_interleave(heads // kv_heads, dim=-3)
        value = value.repeat_interleave(heads // kv_heads, dim=-3)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale                      # (..., L, S)
    if is_causal:
        mask = _causal_scores(L, S, query)
    else:
        mask = None if attn_mask is None else _attention_mask_as_scores(attn_mask, query)
    empty_rows = None
    if mask is not None:
        scores = scores + mask
        empty_rows = _fully_masked_rows(mask)
        if empty_rows is not None:  # softmax of a row of -inf would be nan: give it zeros instead
            scores = scores.masked_fill(empty_rows, 0.0)
    weights = scores.softmax(dim=-1)
    if empty_rows is not None:
        weights = weights.masked_fill(empty_rows, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value


def _causal_scores(L, S, query):
    """(L, S) float mask: -inf where key j comes after query i (j > i), 0 elsewhere; where query lives."""
    after = xp.triu(xp.ones((L, S), dtype=bool), 1)
    return Tensor._make(backend.like(query._array, xp.where(after, -math.inf, 0.0).astype(query._array.dtype)))


def _fully_masked_rows(mask):
    """A bool tensor (..., L, 1), True for the queries whose keys are all masked (-inf); None when there are none."""
    mask_xp = backend.array_module(mask._array)
    rows = mask_xp.isneginf(mask._array).all(axis=-1, keepdims=True)
    return Tensor._make(rows) if rows.any() else None


def _canonical_mask(mask, mask_name, other_name, target_type, other_type=None):
    """A key_padding_mask or attn_mask of MultiheadAttention as float scores: bool True (= NOT allowed to
    attend, the opposite of scaled_dot_product_attention's bool mask) becomes -inf, False 0; float as is."""
    if mask is None:
        return None
    if mask._array.dtype == xp.bool_:
        zeros = Tensor._make(backend.array_module(mask._array).zeros(mask.shape, dtype=target_type))
        return zeros.masked_fill(mask, float("-inf"))
    if mask._array.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """nn.MultiheadAttention's math, sequence first: query (L, N, E), key/value (S, N, kdim/vdim); (L, E) unbatched.

        q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v      the in-projections
        split E into num_heads heads of head_dim = E / num_heads               (N*heads, L, head_dim)
        head_i  = softmax(q_i k_i^T / sqrt(head_dim) + masks) v_i              attention in each head
        out     = concat(head_1 ... head_h) W_o^T + b_o                        the out-projection

    Returns (out, weights): weights (N, L, S) averaged over heads (N, heads, L, S with
    average_attn_weights=False), or None when need_weights=False.
    """
    batched = query.ndim == 3
    if not batched:  # unbatched: a batch of one in dim 1
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                             f"{tuple(value.shape[:2])}")
    dtype = query._array.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", "attn_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    attn_mask = _canonical_mask(attn_mask, "attn_mask", None, dtype)
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the mask is known to be causal: scaled_dot_product_attention builds it
    else:
        is_causal = False  # the given mask is applied as it is

    # in-projections: one (3E x E) weight for self-attention of equal dims, or three separate weights
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    if not use_separate_proj_weight:
        if query is key and key is value:
            q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)
            q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    else:
        q, k, v = linear(query, q_proj_weight, b_q), linear(key, k_proj_weight, b_k), linear(value, v_proj_weight, b_v)

    if attn_mask is not None:  # (L, S) or (N*heads, L, S)
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
    if bias_k is not None and bias_v is not None:  # one learned key and value appended to every sequence
        k = _shape.cat([k, bias_k.repeat(1, bsz, 1)])
        v = _shape.cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))

    # split the heads: (len, N, E) -> (N*heads, len, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v
    if add_zero_attn:  # one all-zero key and value appended
        k = pad(k, (0, 0, 0, 1))
        v = pad(v, (0, 0, 0, 1))
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:  # (N, S) -> (N*heads, 1, S), added to the attn_mask
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        key_padding_mask = key_padding_mask.reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = scores.softmax(dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = weights @ v                                                       # (N*heads, L, head_dim)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)              # merge the heads
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else attn_mask.reshape(bsz, num_heads, -1,
                                                                                             src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)   # (N, heads, L, head_dim)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
    return out, None
