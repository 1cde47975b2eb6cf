"""Autocast (automatic mixed precision): inside `with torch.autocast("cuda"):` some ops run in float16.

The ops read this module's state on every call: when autocast is on for their device, their floating
inputs are cast by the POLICY below, torch's op lists: matrix products and convolutions run in the low
precision dtype (fast on a GPU's tensor cores, and half the memory), while the ops that lose too much in
float16 (exponentials, reductions, softmax, norms, losses: on "cuda"; losses and a few others on "cpu") run
in float32. Other ops run in the dtype of their inputs. float64 inputs are never cast. The cast is an op
(`to_dtype`), so gradients flow back to the float32 parameters in float32.

torch's CPU autocast defaults to bfloat16; NumPy has no bfloat16, so glasstorch's CPU default is float16
(with the CPU op lists); on the CPU float16 is emulated by NumPy and slower than float32
(docs/DIFFERENCES.md). Floor 2: imports only the backend.
"""
import functools
import threading
import warnings

from . import backend

DEVICE_TYPES = ("cpu", "cuda")
# the names the ops pass to autocast (mm, bmm reach it as matmul; conv1d as conv2d; a 1-D transposed
# convolution as conv_transpose2d)
LOWER = ("matmul", "linear", "addmm", "baddbmm", "addbmm", "conv2d", "conv_transpose2d", "prelu")
_LOSSES = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy", "kl_div",
           "binary_cross_entropy_with_logits", "margin_ranking_loss", "soft_margin_loss", "cosine_embedding_loss",
           "poisson_nll_loss")
#: device type -> {"lower": ops in the autocast dtype, "fp32": ops in float32}: torch's lists
#: (aten/src/ATen/autocast_mode.cpp), for the ops glasstorch has
POLICY = {
    "cpu": {"lower": frozenset(LOWER),
            "fp32": frozenset(_LOSSES + ("binary_cross_entropy", "prod", "inv", "reflection_pad",
                                         "replication_pad"))},
    "cuda": {"lower": frozenset(LOWER),
             "fp32": frozenset(_LOSSES + ("exp", "expm1", "log", "log2", "log10", "log1p", "reciprocal", "rsqrt",
                                          "sinh", "cosh", "tan", "softplus", "layer_norm", "group_norm", "norm",
                                          "softmax", "log_softmax", "sum", "prod", "cumsum", "cumprod", "logsumexp",
                                          "cosine_similarity"))},
}
#: ops that refuse to run under CUDA autocast (their float16 inputs are unsafe), with torch's message
UNSAFE = {"cuda": {"binary_cross_entropy": (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")}}


class _AutocastState(threading.local):
    active = False  # autocast is on for some device (the one attribute every op reads)

    def __init__(self):
        self.enabled = {d: False for d in DEVICE_TYPES}
        self.dtype = {d: backend.float16 for d in DEVICE_TYPES}


_state = _AutocastState()


def _device_type(device_type):
    if device_type not in DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return device_type


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for `device_type` ("cuda" when not given, as torch)."""
    return _state.enabled[_device_type("cuda" if device_type is None else device_type)]


def set_autocast_enabled(device_type, enabled):
    _state.enabled[_device_type(device_type)] = bool(enabled)
    _state.active = any(_state.enabled.values())


def get_autocast_dtype(device_type):
    return _state.dtype[_device_type(device_type)]


def set_autocast_dtype(device_type, dtype):
    _state.dtype[_device_type(device_type)] = dtype


def is_autocast_available(device_type):
    return device_type in DEVICE_TYPES


def target_dtype(op_name, device_type):
    """The dtype an op's floating inputs take under autocast on `device_type`, or None (left as they are)."""
    if not _state.enabled[device_type]:
        return None
    policy = POLICY[device_type]
    if op_name in policy["lower"]:
        return _state.dtype[device_type]
    if op_name in policy["fp32"]:
        return backend.float32
    message = UNSAFE.get(device_type, {}).get(op_name)
    if message is not None:
        raise RuntimeError(message)
    return None


class autocast:
    """`with torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None):` or as a decorator.

    dtype: the low precision dtype (default float16 on both devices: torch's CPU default bfloat16 does not
    exist in NumPy). Autocast for "cuda" without a GPU warns and stays off, as torch does.
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _device_type(device_type)
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled  # (torch caches casts of weights; glasstorch casts each time)
        if device_type == "cuda" and enabled and backend.cupy_module() is None:
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. Disabling", stacklevel=2)
            self._enabled = False
        if self._enabled and self.fast_dtype not in (backend.float16, backend.float32):
            warnings.warn(f"In {device_type} autocast, but the target dtype is not supported. Disabling autocast.\n"
                          f"{device_type} Autocast only supports dtype of float16 currently.", stacklevel=2)
            self._enabled = False

    def __enter__(self):
        self._previous = (_state.enabled[self.device], _state.dtype[self.device])
        set_autocast_dtype(self.device, self.fast_dtype)
        set_autocast_enabled(self.device, self._enabled)
        return self

    def __exit__(self, *exc):
        enabled, dtype = self._previous
        set_autocast_enabled(self.device, enabled)
        set_autocast_dtype(self.device, dtype)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper
