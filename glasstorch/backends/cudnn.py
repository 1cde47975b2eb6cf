"""`torch.backends.cudnn`: glasstorch's GPU convolutions are CuPy matrix products (im2col), not cuDNN.

`deterministic`, `benchmark` and `allow_tf32` are kept as torch keeps them, so that
`torch.backends.cudnn.deterministic = True` runs; they change nothing (there is no cuDNN autotuner to fix).
"""
deterministic = False
benchmark = False
allow_tf32 = True
enabled = True


def is_available():
    """False: glasstorch never calls cuDNN."""
    return False


def version():
    """None, as torch answers without cuDNN."""
    return None


def is_acceptable(tensor):
    return False

