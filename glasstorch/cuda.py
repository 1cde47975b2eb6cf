"""`glasstorch.cuda`: the notes' `torch.device("cuda" if torch.cuda.is_available() else "cpu")` works.

glasstorch computes on the CPU with NumPy; the GPU backend (CuPy) is not built yet, so
`is_available()` is False and programs written for both fall back to the CPU.
"""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Accepted for compatibility; the CPU generator is seeded by glasstorch.manual_seed."""


def manual_seed_all(seed):
    """Accepted for compatibility."""


def synchronize(device=None):
    """Nothing to wait for on the CPU."""


def empty_cache():
    """Nothing to free on the CPU."""
