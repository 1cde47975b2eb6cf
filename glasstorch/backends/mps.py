"""`torch.backends.mps`: Apple's Metal GPU backend, which glasstorch does not have."""


def is_available():
    return False


def is_built():
    return False
