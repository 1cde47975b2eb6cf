"""glasstorch.vision.transforms.v2: torchvision.transforms.v2 (tensor images, `(image, label)` pass-through).

    from torchvision.transforms import v2
    transform = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
"""
from . import functional
from .functional import InterpolationMode
from .transforms import (CenterCrop, ColorJitter, Compose, Normalize, PILToTensor, RandomCrop, RandomErasing,
                         RandomHorizontalFlip, RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize, ToDtype,
                         ToImage, ToPureTensor, Transform)

__all__ = ["CenterCrop", "ColorJitter", "Compose", "InterpolationMode", "Normalize", "PILToTensor", "RandomCrop",
           "RandomErasing", "RandomHorizontalFlip", "RandomResizedCrop", "RandomRotation", "RandomVerticalFlip",
           "Resize", "ToDtype", "ToImage", "ToPureTensor", "Transform", "functional"]
