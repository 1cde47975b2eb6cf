"""FakeData: random images with random labels, for trying a pipeline or a model without any data.

Sample i is made from a generator seeded with `i + random_offset`, so it is the same every time it is
read, in any order, in any DataLoader worker, and reading it leaves glasstorch's own generator alone.
"""
import numpy as np

from ... import backend
from ...tensor import Tensor
from ...utils.data.dataset import Dataset


class FakeData(Dataset):
    """`size` samples `(image, label)`: the image random noise of `image_size` (C, H, W), the label in
    0..num_classes-1 (an int64 scalar tensor, as torchvision gives).

    Without a transform the image is a uint8 H×W×C NumPy array (H×W for one channel), what torchvision's
    PIL image holds (the normal noise times 255, wrapped into bytes); `ToTensor()` or `v2.ToImage()` take it.
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        if len(image_size) != 3:
            raise ValueError(f"image_size should be (C, H, W), got {image_size}")
        self.size, self.image_size, self.num_classes = size, tuple(image_size), num_classes
        self.transform, self.target_transform, self.random_offset = transform, target_transform, random_offset

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError(f"{type(self).__name__} index out of range")
        index %= self.size
        rng = backend.Generator().manual_seed(index + self.random_offset).bitgen
        noise = rng.standard_normal(self.image_size, dtype=np.float32)
        target = Tensor._make(np.int64(rng.integers(0, self.num_classes)))
        # float -> byte as torch's .byte() does on CPU: truncate towards zero, then wrap modulo 256
        pixels = (noise * np.float32(255)).astype(np.int64).astype(np.uint8)
        image = pixels[0] if pixels.shape[0] == 1 else np.ascontiguousarray(pixels.transpose(1, 2, 0))
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self):
        return self.size

    def __repr__(self):
        return f"Dataset FakeData\n    Number of datapoints: {self.size}"
