"""glasstorch.utils.hooks: the handle every register_*_hook returns (torch.utils.hooks' name for it)."""
from ..tensor import RemovableHandle

__all__ = ["RemovableHandle"]
