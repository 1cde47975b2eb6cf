"""Floor 0: the one error type for files glasstorch cannot load.

Every loader (glasstorch's own `.pt`/`.npz`, safetensors, `.npy`, MNIST's IDX files) raises
`FileFormatError` when a file is truncated, corrupt, inconsistent or unsafe, and its message names the
file, the entry when there is one, and what is wrong. It is a `RuntimeError`, the type torch raises for
a bad checkpoint, so `except RuntimeError` written for torch catches it too.
"""


class FileFormatError(RuntimeError):
    """A file that can't be loaded: truncated, corrupt, sizes that don't add up, or unsafe content."""
