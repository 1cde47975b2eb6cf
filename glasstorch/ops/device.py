"""Moving a tensor between host (NumPy) and GPU (CuPy) memory, as an op so gradients flow back across.

    y = x.to('cuda');  dL/dx = (dL/dy).to(x.device)
"""
from .. import backend
from ..autograd.function import Function


class ToDevice(Function):
    """y = a copy of x on another device;  dL/dx = dL/dy copied back to x's device."""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, device):
        ctx.source = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, grad):
        return to_device(grad, ctx.source)


def to_device(x, device):
    """`x` on `device` (a checked backend.device); `x` itself when it is already there."""
    if x.device == device:
        return x
    return ToDevice.apply(x, device=device)
