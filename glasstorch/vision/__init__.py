"""glasstorch.vision: torchvision's datasets, transforms and make_grid.

    from glasstorch.vision import datasets, transforms     # replaces: from torchvision import ...
"""
from . import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
