"""PyTorch interop: move weights between glasstorch and PyTorch.

State_dict keys are the same in both frameworks ("0.weight", "conv1.bias"), so a model trained in one
loads into the same architecture built in the other:

    import torch, glasstorch
    from glasstorch import interop
    torch_model.load_state_dict(interop.to_torch_state_dict(gt_model.state_dict()))
    gt_model.load_state_dict(interop.from_torch_state_dict(torch_model.state_dict()))

Or through a file both sides read, without pickle: safetensors.

    interop.save_safetensors(gt_model.state_dict(), "model.safetensors")
    # in PyTorch: safetensors.torch.load_file("model.safetensors")

torch is imported only inside the functions that build torch tensors; glasstorch itself needs NumPy alone.
"""
from collections import OrderedDict

import numpy as np

from .serialization import _array_of, load_safetensors, save_safetensors
from .tensor import Tensor

__all__ = ["to_torch", "from_torch", "to_torch_state_dict", "from_torch_state_dict", "save_safetensors",
           "load_safetensors"]


def _is_tensor_like(value):
    return isinstance(value, (Tensor, np.ndarray)) or (hasattr(value, "detach") and hasattr(value, "numpy"))


def _state_dict_of(obj):
    """A state_dict, or a module's (anything with a `state_dict()` method)."""
    return obj.state_dict() if hasattr(obj, "state_dict") and callable(obj.state_dict) else obj


def to_torch(tensor):
    """A torch.Tensor holding a copy of a glasstorch tensor (or NumPy array); requires_grad is kept."""
    import torch
    out = torch.from_numpy(np.array(_array_of(tensor), copy=True))
    if getattr(tensor, "requires_grad", False):
        out.requires_grad_(True)
    return out


def from_torch(tensor):
    """A glasstorch Tensor holding a copy of a torch tensor (bfloat16 becomes float32: NumPy has no bfloat16)."""
    out = Tensor._make(np.array(_array_of(tensor), copy=True))
    if getattr(tensor, "requires_grad", False) and out.dtype.is_floating_point:
        out.requires_grad_(True)
    return out


def to_torch_state_dict(state_dict):
    """{name: glasstorch tensor} (or a glasstorch module) -> OrderedDict of torch tensors, for
    `torch_model.load_state_dict`. Values that are not tensors pass through unchanged."""
    return OrderedDict((k, to_torch(v).detach() if _is_tensor_like(v) else v)
                       for k, v in _state_dict_of(state_dict).items())


def from_torch_state_dict(state_dict):
    """{name: torch tensor} (or a torch module) -> OrderedDict of glasstorch tensors, for
    `gt_model.load_state_dict`. Values that are not tensors pass through unchanged."""
    return OrderedDict((k, from_torch(v).detach() if _is_tensor_like(v) else v)
                       for k, v in _state_dict_of(state_dict).items())
