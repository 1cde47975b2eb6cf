"""`torch.backends`: the switches published code sets before training, answered for glasstorch's engines.

glasstorch computes with NumPy's BLAS on the CPU and with CuPy on an NVIDIA GPU; it uses neither cuDNN, MPS,
oneDNN (mkldnn) nor OpenMP, so those report `is_available() == False` and their flags are recorded without
effect (NumPy and CuPy's kernels here are deterministic already). `cuda.matmul.allow_tf32` means something:
CuPy then uses TF32 tensor cores for float32 matrix products (see `cuda/__init__.py`).
"""
from . import cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkldnn", "mps", "openmp"]
