"""glasstorch.vision: torchvision's datasets, transforms and make_grid, for `from glasstorch.vision import datasets, transforms`."""
from . import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
