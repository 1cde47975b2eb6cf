"""`torch.accelerator`: the device-agnostic way published code picks its device.

    device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else torch.device("cpu")

glasstorch's one accelerator is an NVIDIA GPU through CuPy (see cuda/__init__.py); without one, `is_available()` is
False and `current_accelerator()` is None, as in torch.
"""
from . import backend, cuda


def is_available():
    return cuda.is_available()


def current_accelerator(check_available=False):
    """device('cuda') when a GPU is usable, else None."""
    return backend.device("cuda") if cuda.is_available() else None


def device_count():
    return cuda.device_count()


def current_device_index():
    return cuda.current_device() if cuda.is_available() else -1


def set_device_index(device):
    cuda.set_device(device)


def synchronize(device=None):
    cuda.synchronize(device)
