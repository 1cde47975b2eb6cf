"""`torch.cpu.amp`: the deprecated spelling of torch.amp.autocast("cpu") (it still runs, with torch's
FutureWarning). Its default dtype is float16, not torch's bfloat16 (NumPy has none: docs/DIFFERENCES.md)."""
import warnings

from .. import backend
from ..amp import GradScaler  # noqa: F401  (torch.cpu.amp.GradScaler, as torch)
from ..autocast_mode import autocast as _autocast


class autocast(_autocast):
    """`torch.cpu.amp.autocast(enabled=True, dtype=float16, cache_enabled=True)`."""

    def __init__(self, enabled=True, dtype=backend.float16, cache_enabled=True):
        warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cpu', "
                      "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
