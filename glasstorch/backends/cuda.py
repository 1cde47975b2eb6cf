"""`torch.backends.cuda`: is the GPU backend built (CuPy installed), and float32 matmul on TF32 tensor cores.

`torch.backends.cuda.matmul.allow_tf32 = True` (or `torch.set_float32_matmul_precision("high")`) lets
float32 matrix products on the GPU use TF32 (10-bit mantissa inputs, float32 accumulation), as in torch.
CuPy reads this choice from the CUPY_TF32 environment variable when it is first loaded, so it takes effect
when set before the first GPU tensor is made (CPU results never change).
"""
import os

from .. import backend

_PRECISIONS = ("highest", "high", "medium")


class _Matmul:
    """`torch.backends.cuda.matmul`: the allow_tf32 switch (default False, as torch's)."""

    def __init__(self):
        self._allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self):
        return self._allow_tf32

    @allow_tf32.setter
    def allow_tf32(self, flag):
        self._allow_tf32 = bool(flag)
        if backend._cupy is None:  # not loaded yet: CuPy will read it on load
            os.environ["CUPY_TF32"] = "1" if flag else "0"

    def __repr__(self):
        return f"<torch.backends.cuda.matmul allow_tf32={self._allow_tf32}>"


matmul = _Matmul()


def is_built():
    """True when the GPU backend can be loaded (CuPy installed and seeing a device)."""
    return backend.cupy_module() is not None


def get_float32_matmul_precision():
    """'highest' (float32 throughout) unless TF32 matmuls were allowed ('high')."""
    return _precision[0]


def set_float32_matmul_precision(precision):
    """'highest' keeps float32 matmuls exact; 'high' and 'medium' allow TF32 on the GPU (as torch)."""
    if precision not in _PRECISIONS:
        raise ValueError(f"{precision!r} is not one of 'highest', 'high', or 'medium'")
    _precision[0] = precision
    matmul.allow_tf32 = precision != "highest"


_precision = ["highest"]
