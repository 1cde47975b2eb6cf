"""`torch.backends.mkldnn` (oneDNN): glasstorch's CPU kernels are NumPy's BLAS, not oneDNN."""

enabled = False


def is_available():
    return False
