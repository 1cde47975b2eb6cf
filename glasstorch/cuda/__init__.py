"""`glasstorch.cuda`: the GPU, through CuPy (NumPy's API on NVIDIA GPUs), when it is installed.

The notes write `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`; that runs unchanged:
without CuPy or a GPU `is_available()` is False and the program stays on the CPU. With them, tensors moved
with `.to("cuda")` hold CuPy arrays and every op runs the same code with CuPy in place of NumPy.
Random numbers are drawn on the host by glasstorch's one generator and then copied over, so a seeded
program draws the same values on either device (torch's CUDA generator differs from its CPU one).
"""
from .. import backend


def is_available():
    return backend.cupy_module() is not None


def device_count():
    cupy = backend.cupy_module()
    return cupy.cuda.runtime.getDeviceCount() if cupy is not None else 0


def current_device():
    return _cupy_or_raise().cuda.Device().id


def set_device(device):
    index = backend.check_device(device if not isinstance(device, int) else f"cuda:{device}").index
    _cupy_or_raise().cuda.Device(index).use()


def get_device_name(device=None):
    index = current_device() if device is None else backend.check_device(
        device if not isinstance(device, int) else f"cuda:{device}").index
    name = _cupy_or_raise().cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else name


def manual_seed(seed):
    """Accepted for compatibility: GPU tensors draw from the one generator glasstorch.manual_seed seeds."""


def manual_seed_all(seed):
    """Accepted for compatibility (see manual_seed)."""


def synchronize(device=None):
    """Wait for the GPU to finish its queued work (for timing); nothing to wait for without one."""
    cupy = backend.cupy_module()
    if cupy is not None:
        cupy.cuda.Device(backend.check_device(device or "cuda").index).synchronize()


def empty_cache():
    """Give CuPy's cached, unused GPU memory back to the driver."""
    cupy = backend.cupy_module()
    if cupy is not None:
        cupy.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None):
    """Bytes of GPU memory held by tensors (CuPy's memory pool in use); 0 without a GPU."""
    cupy = backend.cupy_module()
    return cupy.get_default_memory_pool().used_bytes() if cupy is not None else 0


def memory_reserved(device=None):
    """Bytes of GPU memory CuPy's pool holds, in use or cached."""
    cupy = backend.cupy_module()
    return cupy.get_default_memory_pool().total_bytes() if cupy is not None else 0


def _cupy_or_raise():
    backend.check_device("cuda")  # raises the explanation when there is no GPU backend
    return backend.cupy_module()
