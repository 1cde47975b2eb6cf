"""glasstorch.vision.transforms: torchvision.transforms' image transforms on NumPy arrays, tensors and PIL images."""
from . import functional
from .functional import InterpolationMode
from .transforms import (CenterCrop, Compose, Lambda, Normalize, Pad, RandomAffine, RandomCrop, RandomHorizontalFlip,
                         RandomRotation, RandomVerticalFlip, Resize, ToTensor, Transform)

__all__ = ["CenterCrop", "Compose", "InterpolationMode", "Lambda", "Normalize", "Pad", "RandomAffine", "RandomCrop",
           "RandomHorizontalFlip", "RandomRotation", "RandomVerticalFlip", "Resize", "ToTensor", "Transform",
           "functional"]
