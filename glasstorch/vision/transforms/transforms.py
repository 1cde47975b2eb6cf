"""Transforms: callables that turn one image into another (torchvision.transforms' classes).

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

Random transforms draw from glasstorch's default generator, so `glasstorch.manual_seed` repeats them
(in DataLoader workers each worker's generator is seeded separately).

Batches. A deterministic transform whose `batchable` is True also has `apply_batch(images)`, which gives
the same values as calling it on each of the N stacked images. Datasets backed by whole arrays use it
to build a batch in one step (see `glasstorch.utils.data.dataset`); `Compose` is batchable when all its
parts are. Random transforms are not batchable: each sample draws its own parameters.
"""
import numbers

import numpy as np

from ... import backend
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode


class Transform:
    """Base class: `__call__(img)`; `batchable` transforms also define `apply_batch(images)`."""
    batchable = False

    def __call__(self, img):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    @property
    def batchable(self):
        return all(getattr(t, "batchable", False) for t in self.transforms)

    def apply_batch(self, images):
        for t in self.transforms:
            images = t.apply_batch(images)
        return images

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t}\n" for t in self.transforms) + ")"


class ToTensor(Transform):
    """H×W or H×W×C image (uint8 0..255) -> C×H×W float32 tensor in [0, 1]; other dtypes keep theirs."""
    batchable = True

    def __call__(self, pic):
        return F.to_tensor(pic)

    def apply_batch(self, images):
        return F.to_tensor_batch(images)


class Normalize(Transform):
    """output[c] = (input[c] - mean[c]) / std[c] on a C×H×W float tensor."""
    batchable = True

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    apply_batch = __call__  # the channel axis is -3 for one image and for a batch alike


class Lambda(Transform):
    """A user function as a transform: `Lambda(lambda x: x.flatten())`."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class Resize(Transform):
    """Resize to (h, w), or make the shorter side `size` (an int); bilinear by default.

    No antialiasing (`antialias` is accepted and ignored): the values are F.interpolate's with antialias=False,
    which torchvision also gives when enlarging (e.g. d2l's Resize(64) of Fashion-MNIST).
    """
    batchable = True

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        if max_size is not None:
            raise NotImplementedError("Resize(max_size=...) is not supported")
        self.size, self.interpolation = size, interpolation

    def __call__(self, img):
        return F.resize(img, self.size, self.interpolation)

    def apply_batch(self, images):
        """N stacked images: an N×H×W or N×H×W×C array (before ToTensor) or an N×C×H×W tensor (after)."""
        if isinstance(images, Tensor):
            return F.resize(images, self.size, self.interpolation)
        if images.ndim == 4:  # N×H×W×C: channels to the front and back again
            out = F.resize_planes(images.transpose(0, 3, 1, 2), self.size, self.interpolation)
            return np.ascontiguousarray(out.transpose(0, 2, 3, 1))
        return F.resize_planes(images, self.size, self.interpolation)


class CenterCrop(Transform):
    """The central (h, w) region (zero-padded when the image is smaller)."""

    def __init__(self, size):
        self.size = F._size_pair(size)

    def __call__(self, img):
        return F.center_crop(img, self.size)


class Pad(Transform):
    """Pad the borders by `padding` (int, (l/r, t/b) or (l, t, r, b)) with `fill` or edge/reflect/symmetric."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        F._padding_ltrb(padding)  # validates
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)


def _uniform(low, high):
    return float(backend.rng().uniform(low, high))


class RandomCrop(Transform):
    """A random (h, w) region, after optional padding (the classic CIFAR augmentation: size 32, padding 4)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = F._size_pair(size)
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """(top, left, h, w) of a random crop of `output_size`."""
        width, height = F.get_image_size(img)
        th, tw = output_size
        if height < th or width < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(height, width)}")
        if (height, width) == (th, tw):
            return 0, 0, height, width
        rng = backend.rng()
        return int(rng.integers(0, height - th + 1)), int(rng.integers(0, width - tw + 1)), th, tw

    def __call__(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        width, height = F.get_image_size(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        return F.crop(img, *self.get_params(img, self.size))


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        return F.hflip(img) if backend.rng().random() < self.p else img


class RandomVerticalFlip(Transform):
    """Mirror top-bottom with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        return F.vflip(img) if backend.rng().random() < self.p else img


def _range(value, name, centre=0.0):
    """A number d -> (centre - d, centre + d); a pair -> itself."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return (centre - float(value), centre + float(value))
    if len(value) != 2:
        raise ValueError(f"If {name} is a sequence, it must be of len 2.")
    return (float(value[0]), float(value[1]))


class RandomRotation(Transform):
    """Rotate counter-clockwise by an angle drawn uniformly from (-degrees, degrees) or (min, max)."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        self.degrees = _range(degrees, "degrees")
        self.interpolation, self.expand, self.center, self.fill = interpolation, expand, center, fill

    @staticmethod
    def get_params(degrees):
        return _uniform(degrees[0], degrees[1])

    def __call__(self, img):
        return F.rotate(img, self.get_params(self.degrees), self.interpolation, self.expand, self.center, self.fill)


class RandomAffine(Transform):
    """A random rotation, translation, scale and shear, applied in one resampling (torchvision's parameters).

    Args:
        degrees: rotation range, d -> (-d, d).
        translate: (a, b): horizontal shift drawn from (-a*W, a*W), vertical from (-b*H, b*H), rounded to pixels.
        scale: (lo, hi) scale factor range.
        shear: x-shear range (d or (lo, hi)), or (xlo, xhi, ylo, yhi) for both axes, in degrees.
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        self.degrees = _range(degrees, "degrees")
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError("translation values should be between 0 and 1")
        if scale is not None and any(s <= 0 for s in scale):
            raise ValueError("scale values should be positive")
        if shear is not None and not isinstance(shear, numbers.Number) and len(shear) == 4:
            shear = tuple(float(s) for s in shear)
        elif shear is not None:
            shear = _range(shear, "shear")
        self.translate, self.scale, self.shear = translate, scale, shear
        self.interpolation, self.fill, self.center = interpolation, fill, center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """(angle, (tx, ty), scale, (shear_x, shear_y)) drawn in torchvision's order; img_size = [W, H]."""
        angle = _uniform(degrees[0], degrees[1])
        tx = ty = 0
        if translate is not None:
            max_dx, max_dy = translate[0] * img_size[0], translate[1] * img_size[1]
            tx, ty = int(round(_uniform(-max_dx, max_dx))), int(round(_uniform(-max_dy, max_dy)))
        scale = 1.0 if scale_ranges is None else _uniform(scale_ranges[0], scale_ranges[1])
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, (tx, ty), scale, (shear_x, shear_y)

    def __call__(self, img):
        angle, translations, scale, shear = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                                                            F.get_image_size(img))
        return F.affine(img, angle, translations, scale, shear, self.interpolation, self.fill, self.center)
