"""Floor 0: the one error type for files glasstorch cannot load.

Every loader (glasstorch's own `.pt`/`.npz`, safetensors, `.npy`, MNIST's IDX files) raises
`FileFormatError` when a file is truncated, corrupt, inconsistent or unsafe, and its message names the
file, the entry when there is one, and what is wrong. It is a `RuntimeError`, the type torch raises for
a bad checkpoint, so `except RuntimeError` written for torch catches it too.
"""
import pickle


class FileFormatError(RuntimeError):
    """A file that can't be loaded: truncated, corrupt, sizes that don't add up, or unsafe content."""


class UnsafeLoadError(FileFormatError, pickle.UnpicklingError):
    """The file is a pickle that names something outside the allowlist (or glasstorch's own loader met a
    pickle it never opens): it was not loaded, and nothing from it ran."""
