"""glasstorch.vision: torchvision's datasets, transforms (v1 and v2), io, utils and models.

    from glasstorch.vision import datasets, transforms     # replaces: from torchvision import ...
"""
from . import datasets, io, models, transforms, utils
from .transforms import v2 as _v2  # noqa: F401  (makes `torchvision.transforms.v2` an attribute, as in torchvision)

__all__ = ["datasets", "io", "models", "transforms", "utils"]
