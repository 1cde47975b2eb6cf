"""`torch.amp`: automatic mixed precision. `autocast` (autocast_mode.py: which ops run in float16) and
`GradScaler` (grad_scaler.py: loss scaling, so that float16 gradients neither underflow nor overflow)."""
from .. import autocast_mode
from ..autocast_mode import autocast, get_autocast_dtype, is_autocast_available, is_autocast_enabled
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "autocast_mode", "get_autocast_dtype", "is_autocast_available",
           "is_autocast_enabled"]
