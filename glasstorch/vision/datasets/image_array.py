"""The common body of MNIST, FashionMNIST and Digits: all images in one uint8 array, all labels in another.

A sample is `(image, label)`: without a transform the image is an H×W uint8 NumPy array (torchvision gives
a PIL image; an array needs no Pillow, shows with `plt.imshow`, and `ToTensor` takes it alike) and the label
a Python int. Batches come from `__getbatch__` by array indexing: the loader's fast path.
"""
import numpy as np

from ...tensor import Tensor
from ...utils.data.collate import default_collate
from ...utils.data.dataset import Dataset


def _collate_through(transform, values, one):
    """The batch of `transform(one(v))` for every v, in one step when the transform is batchable."""
    if transform is None:
        return Tensor._make(values)
    if getattr(transform, "batchable", False):
        return transform.apply_batch(values)
    return default_collate([transform(one(v)) for v in values])


class ImageArrayDataset(Dataset):
    """Images `N×H×W` uint8 and integer labels `N`, with torchvision's transform / target_transform."""
    classes = []

    def __init__(self, images, labels, transform=None, target_transform=None):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self._images = images
        self._labels = labels.astype(np.int64)
        self.transform = transform
        self.target_transform = target_transform

    @property
    def data(self):
        """All images as one uint8 tensor N×H×W (shares memory with the dataset)."""
        return Tensor._make(self._images)

    @property
    def targets(self):
        """All labels as one int64 tensor."""
        return Tensor._make(self._labels)

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self):
        return len(self._images)

    def __getitem__(self, index):
        image, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __getbatch__(self, indices):
        """`default_collate([self[i] for i in indices])`, computed on whole arrays."""
        rows = np.asarray(indices, dtype=np.int64)
        images = _collate_through(self.transform, self._images[rows], lambda image: image)
        targets = _collate_through(self.target_transform, self._labels[rows], int)
        return [images, targets]

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        lines += [f"    {line}" for line in self.extra_repr().splitlines()]
        if self.transform is not None:
            lines.append("    Transform: " + repr(self.transform).replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)
