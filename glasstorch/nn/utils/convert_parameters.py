"""Flatten a model's parameters into one vector and back (used by second-order methods and tests)."""
from ...ops import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """All parameters, each flattened, concatenated into one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the matching slice of `vec` (shapes restored; memory shared with vec)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for param in parameters:
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
