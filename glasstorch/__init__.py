"""glasstorch: a deep-learning framework written from scratch on NumPy, with PyTorch's API.

    import glasstorch as torch

Floors (each imports only from the ones below it): backend -> tensor -> autograd -> ops -> nn, optim,
utils.data -> vision, datasets, metrics -> train, serialization -> viz -> experiments, cli.
"""
from . import accelerator, autograd, backend, backends, cuda, linalg, ops
from . import special
from .autograd import functional as _autograd_functional  # noqa: F401  (torch.autograd.functional.jacobian ...)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_detect_anomaly, set_grad_enabled
from ._tensor_str import set_printoptions
from .backend import (Generator, bool_ as bool, default_generator, device, dtype, finfo, float16, float32, float64,
                      get_default_device, get_default_dtype, iinfo, int8, int16, int32, int64, manual_seed,
                      set_default_device, set_default_dtype, uint8)
from .backends.cuda import get_float32_matmul_precision, set_float32_matmul_precision
from .ops import (abs, add, addbmm, addmm, addmv, all, allclose, amax, amin, aminmax, any, argmax, argmin, argsort,
                  atleast_1d, atleast_2d, baddbmm, bincount, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, bmm,
                  broadcast_shapes,
                  broadcast_tensors, broadcast_to, cat, ceil, chunk, clamp, clip, clone, concat, concatenate, cos,
                  cosh, count_nonzero, cumprod, cumsum, diag, diagonal, dist, div, dot, einsum, eq, equal, exp, expm1,
                  flatten, flip, fliplr, flipud, floor, floor_divide, fmod, gather, ge, gt, hstack, index_select, inner,
                  isclose, isfinite, isinf, isnan, kthvalue, le, log, log1p, log2, log10, log_softmax, logical_and,
                  logical_not, logical_or, logical_xor, logsumexp, lt, masked_fill, masked_select, matmul, max,
                  maximum, mean, median, meshgrid, min, minimum, mm, movedim, mul, mv, nan_to_num, narrow, ne, neg,
                  nonzero, norm, outer, permute, pow, prod, reciprocal, relu, remainder, repeat_interleave, reshape,
                  roll, round, rsqrt, rsub, scatter, scatter_add, select, sigmoid, sign, sin, sinh, softmax, sort, split,
                  sqrt, square, squeeze, stack, std, std_mean, sub, sum, t, take, take_along_dim, tan, tanh, tile,
                  topk, transpose, tril, triu, trunc, unbind, unflatten, unique, unsqueeze, var, var_mean, vstack,
                  where)
from .ops import cov, digamma, erfinv, lgamma, polygamma  # noqa: E402  (torch.cov, the gamma family)
# torch's out= forms (the same functions, writing into out= when it is given)
from .ops.out import (add, bmm, cat, clamp, div, exp, log, matmul, max, mean, min, mm, mul, stack,  # noqa: F811
                      sqrt, sub, sum, where)
from .ops.linalg import det, logdet, slogdet  # noqa: E402
from .tensor import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor,  # noqa: E402
                     IntTensor, LongTensor, ShortTensor)  # (the legacy typed constructors)
from .tensor import (Size, Tensor, arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full, full_like,
                     is_floating_point, is_tensor, linspace, logspace, multinomial, normal, numel, ones, ones_like,
                     rand, rand_like, randint, randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like)

# the floors above the engine (each package owns its own __init__ and exports)
from . import nn, optim, utils  # noqa: E402
from . import distributions  # noqa: E402
from .utils import data as _data  # noqa: E402,F401  (so that glasstorch.utils.data works after `import glasstorch`)
from . import datasets, metrics, vision  # noqa: E402
from . import interop, onnx, train, viz  # noqa: E402
from . import distributed  # noqa: E402  (imports no MPI: init_process_group starts it)
from . import multiprocessing  # noqa: E402  (torch.multiprocessing: Python's, and spawn)
from .nn import parallel as _parallel  # noqa: E402,F401  (glasstorch.nn.parallel, floor 7, after `import glasstorch`)
from .serialization import load, save  # noqa: E402
# mixed precision: torch.amp, torch.autocast, torch.cpu.amp / torch.cuda.amp (their deprecated spellings)
from . import amp, cpu  # noqa: E402
from .autocast_mode import (autocast, get_autocast_dtype, is_autocast_available,  # noqa: E402
                            is_autocast_enabled, set_autocast_dtype, set_autocast_enabled)
from .cpu import amp as _cpu_amp  # noqa: E402,F401  (torch.cpu.amp after `import glasstorch`)
from .cuda import amp as _cuda_amp  # noqa: E402,F401  (torch.cuda.amp after `import glasstorch`)
# torch also offers these functional ops at the top level (same signatures as nn.functional's)
from .nn.functional import (adaptive_avg_pool1d, avg_pool1d, celu, conv1d, conv2d, conv_transpose1d,  # noqa: E402
                            conv_transpose2d, cosine_similarity, group_norm, layer_norm, max_pool1d, max_pool2d,
                            pairwise_distance, prelu, selu)

__version__ = "0.1.0"

# torch's aliases
inverse = linalg.inv
subtract = sub
multiply = mul
divide = div
true_divide = div
negative = neg
absolute = abs
greater = gt
less = lt
float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
strided = "strided"


def get_num_threads():
    """Threads glasstorch computes with: what set_num_threads set, else the BLAS's (matmul, convolution)."""
    if backend._num_threads is not None:
        return backend._num_threads
    count = backend.blas_thread_count()  # NumPy's own BLAS (SciPy's wheels may load another copy)
    return count if count is not None else backend.cpu_count()


def set_num_threads(n):
    """Use n threads: NumPy's BLAS (through threadpoolctl, when installed) and the elementwise thread pool."""
    global _thread_limit
    backend.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the BLAS keeps its own count; the elementwise work still follows n
        return
    _thread_limit = threadpool_limits(limits=n, user_api="blas")


_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded, as torch records it: glasstorch's NumPy and CuPy kernels give the same result every run."""
    _deterministic.update(mode=True if mode else False, warn_only=True if warn_only else False)  # (bool is a dtype here)


def are_deterministic_algorithms_enabled():
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic["warn_only"]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """`torch.compile(model)` runs the model eagerly: the same module or function back, the same results.

    What torch does with backend="eager" (glasstorch has no graph compiler). Also a decorator, bare
    (`@torch.compile`) or with options (`@torch.compile(mode="max-autotune")`). Unlike torch's
    OptimizedModule wrapper, the module itself comes back, so its state_dict keys have no `_orig_mod.` prefix.
    """
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError(f"torch.compile expects a callable (a Module or a function), got {type(model).__name__}")
    return model


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return tensor(default_generator.get_state())


def set_rng_state(state):
    default_generator.set_state(state.numpy() if isinstance(state, Tensor) else state)


def result_type(a, b):
    kinds = []
    for v in (a, b):
        if isinstance(v, Tensor):
            kinds.append((v.dtype, 2 if v.ndim else 1))
        else:
            kinds.append((backend.scalar_dtype(v), 0))
    return backend.result_type(*kinds)


def promote_types(a, b):
    return backend.result_type((a, 2), (b, 2))


def can_cast(from_, to):
    return from_._category <= to._category
