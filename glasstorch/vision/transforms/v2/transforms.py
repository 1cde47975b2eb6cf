"""transforms.v2: torchvision's second generation of transforms, as nn.Modules on tensors and PIL images.

    transform = v2.Compose([v2.ToImage(), v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip(),
                            v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])
    image, label = transform(image, label)          # anything besides the image passes through

How v2 decides what to transform: a call takes any structure of inputs (one image; `(image, label)`;
a dict ...). It is flattened; the PIL images in it are transformed, or, when there are none, the first
tensor (the image); everything else passes through unchanged. A random transform draws its parameters
once per call (`make_params`) and applies them with `transform(inpt, params)`, from glasstorch's
generator, so `torch.manual_seed` repeats a pipeline.
"""
import math
import numbers

import numpy as np

from .. import functional as _v1
from ..transforms import _range
from .... import backend
from ....nn.module import Module
from ....tensor import Tensor
from . import functional as F
from .functional import InterpolationMode


# ----------------------------------------------------------------------------- flattening the inputs
def _flatten(tree, leaves):
    """Leaves of nested lists / tuples / dicts, in order, and the spec that `_unflatten` rebuilds them with."""
    if isinstance(tree, (list, tuple)):
        return type(tree), [_flatten(item, leaves) for item in tree]
    if isinstance(tree, dict):
        return dict, {key: _flatten(value, leaves) for key, value in tree.items()}
    leaves.append(tree)
    return None


def _unflatten(spec, leaves):
    if spec is None:
        return next(leaves)
    kind, children = spec
    if kind is dict:
        return {key: _unflatten(child, leaves) for key, child in children.items()}
    values = [_unflatten(child, leaves) for child in children]
    if kind in (list, tuple):
        return kind(values)
    return kind(*values)  # a namedtuple


def _is_image(value):
    return isinstance(value, Tensor) or _v1._is_pil(value)


def _uniform(low, high):
    return float(backend.rng().uniform(low, high))


class Transform(Module):
    """Base class: subclasses define `make_params(flat_inputs)` (random draws) and `transform(inpt, params)`."""

    def _transformed(self, value):
        return _is_image(value)

    def _needs_transform(self, leaves):
        """PIL images if there are any, else the first tensor (v2's rule for inputs without tv_tensors)."""
        pil_present = any(_v1._is_pil(leaf) for leaf in leaves)
        first_tensor_taken = pil_present
        needs = []
        for leaf in leaves:
            need = self._transformed(leaf)
            if need and isinstance(leaf, Tensor):
                need, first_tensor_taken = not first_tensor_taken, True
            needs.append(need)
        return needs

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        leaves = []
        spec = _flatten(inputs, leaves)
        needs = self._needs_transform(leaves)
        params = self.make_params([leaf for leaf, need in zip(leaves, needs) if need])
        out = [self.transform(leaf, params) if need else leaf for leaf, need in zip(leaves, needs)]
        return _unflatten(spec, iter(out))

    def make_params(self, flat_inputs):
        return {}

    def transform(self, inpt, params):
        raise NotImplementedError(f"{type(self).__name__} must define transform(inpt, params)")

    def extra_repr(self):
        return ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k != "training")


class _RandomApplyTransform(Transform):
    """Applied with probability p (one draw per call), else the inputs come back as they were."""

    def __init__(self, p=0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        super().__init__()
        self.p = p

    def forward(self, *inputs):
        if backend.rng().random() >= self.p:
            return inputs if len(inputs) > 1 else inputs[0]
        return super().forward(*inputs)


def _image_size(flat_inputs):
    """(C, H, W) of the images being transformed (they must agree)."""
    sizes = set()
    for inpt in flat_inputs:
        if isinstance(inpt, Tensor):
            sizes.add(tuple(inpt.shape[-3:]) if inpt.ndim >= 3 else (1, *inpt.shape[-2:]))
        elif _v1._is_pil(inpt):
            sizes.add((len(inpt.getbands()), inpt.height, inpt.width))
    if not sizes:
        raise TypeError("No image was found in the sample")
    if len(sizes) > 1:
        raise ValueError(f"Found multiple CxHxW dimensions in the sample: {sorted(sizes)}")
    return sizes.pop()


# ----------------------------------------------------------------------------- containers, conversion
class Compose(Transform):
    """Apply transforms one after the other (the structure of the inputs is kept: `(image, label)` stays a pair)."""

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence of callables")
        if not transforms:
            raise ValueError("Pass at least one transform")
        super().__init__()
        self.transforms = list(transforms)

    def forward(self, *inputs):
        unpack = len(inputs) > 1
        for transform in self.transforms:
            outputs = transform(*inputs)
            inputs = outputs if unpack else (outputs,)
        return outputs

    def extra_repr(self):
        return "\n".join(f"    {t!r}" for t in self.transforms)


class ToImage(Transform):
    """NumPy H×W×C array, PIL image or tensor -> C×H×W tensor, dtype kept (a uint8 image stays uint8)."""

    def _transformed(self, value):
        return _is_image(value) or isinstance(value, np.ndarray)

    def transform(self, inpt, params):
        return F.to_image(inpt)


class PILToTensor(Transform):
    """PIL image -> C×H×W tensor of its pixel type (no scaling)."""

    def _transformed(self, value):
        return _v1._is_pil(value)

    def transform(self, inpt, params):
        return F.pil_to_tensor(inpt)


class ToPureTensor(Transform):
    """Kept for torchvision programs: glasstorch's images are plain tensors already."""

    def transform(self, inpt, params):
        return inpt


class ToDtype(Transform):
    """Convert the image tensor to `dtype`; scale=True maps uint8 0..255 to float 0..1 (and back)."""

    def __init__(self, dtype, scale=False):
        super().__init__()
        if isinstance(dtype, dict):
            raise TypeError("ToDtype(dtype={...}) maps tv_tensor types to dtypes; glasstorch has no tv_tensors: "
                            "pass one dtype for the image")
        self.dtype, self.scale = dtype, scale

    def _transformed(self, value):
        return isinstance(value, Tensor)

    def transform(self, inpt, params):
        return F.to_dtype(inpt, self.dtype, self.scale)


class Normalize(Transform):
    """output[c] = (input[c] - mean[c]) / std[c] on a float tensor image."""

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean, self.std, self.inplace = list(mean), list(std), inplace

    def transform(self, inpt, params):
        return F.normalize(inpt, self.mean, self.std, self.inplace)


# ----------------------------------------------------------------------------- geometry
class Resize(Transform):
    """Resize to (h, w), or the shorter side to `size` (an int); bilinear with antialiasing (see F.resize)."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        super().__init__()
        if isinstance(size, numbers.Integral):
            size = [size]
        elif size is not None and not (isinstance(size, (list, tuple)) and len(size) in (1, 2)):
            raise ValueError(f"size can be an integer, a sequence of one or two integers, or None, but got {size}")
        self.size, self.interpolation, self.max_size, self.antialias = size, interpolation, max_size, antialias

    def transform(self, inpt, params):
        return F.resize(inpt, self.size, self.interpolation, self.max_size, self.antialias)


class CenterCrop(Transform):
    """The central (h, w) region (padded with zeros when the image is smaller)."""

    def __init__(self, size):
        super().__init__()
        self.size = _v1._size_pair(size)

    def transform(self, inpt, params):
        return F.center_crop(inpt, self.size)


def _padding_lrtb(padding):
    left, top, right, bottom = _v1._padding_ltrb(padding)
    return [left, right, top, bottom]


class RandomCrop(Transform):
    """A random (h, w) region, after optional `padding` (CIFAR's RandomCrop(32, padding=4))."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        super().__init__()
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.size = _v1._size_pair(size)
        self.padding = _padding_lrtb(padding) if padding is not None else None
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    def make_params(self, flat_inputs):
        _, height, width = _image_size(flat_inputs)
        left, right, top, bottom = self.padding if self.padding is not None else [0, 0, 0, 0]
        height, width = height + top + bottom, width + left + right
        crop_h, crop_w = self.size
        if self.pad_if_needed and height < crop_h:  # torchvision pads the missing rows on both sides
            diff = crop_h - height
            top, bottom, height = top + diff, bottom + diff, height + 2 * diff
        if self.pad_if_needed and width < crop_w:
            diff = crop_w - width
            left, right, width = left + diff, right + diff, width + 2 * diff
        if height < crop_h or width < crop_w:
            raise ValueError(f"Required crop size {(crop_h, crop_w)} is larger than input image size "
                             f"{(height, width)}.")
        rng = backend.rng()
        row = int(rng.integers(0, height - crop_h + 1)) if height > crop_h else 0
        col = int(rng.integers(0, width - crop_w + 1)) if width > crop_w else 0
        return dict(padding=[left, top, right, bottom], top=row, left=col)

    def transform(self, inpt, params):
        if any(params["padding"]):
            inpt = F.pad(inpt, params["padding"], self.fill, self.padding_mode)
        return F.crop(inpt, params["top"], params["left"], *self.size)


class RandomResizedCrop(Transform):
    """A random region (area a fraction `scale` of the image's, aspect ratio w/h log-uniform in `ratio`),
    resized to `size`: ImageNet training's standard augmentation (Inception's "random sized crop").

    10 draws are tried for a region that fits; otherwise the central crop with the nearest allowed ratio.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        super().__init__()
        if not isinstance(scale, (tuple, list)) or not isinstance(ratio, (tuple, list)):
            raise TypeError("Scale and ratio should be sequences of two numbers (min, max)")
        self.size = _v1._size_pair(size)
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation, self.antialias = interpolation, antialias

    def make_params(self, flat_inputs):
        _, height, width = _image_size(flat_inputs)
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        rng = backend.rng()
        for _ in range(10):
            target_area = area * _uniform(self.scale[0], self.scale[1])
            aspect = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            w, h = int(round(math.sqrt(target_area * aspect))), int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return dict(top=int(rng.integers(0, height - h + 1)), left=int(rng.integers(0, width - w + 1)),
                            height=h, width=w)
        in_ratio = width / height  # no fit: the central crop, its ratio clipped into `ratio`
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            w, h = int(round(height * max(self.ratio))), height
        else:
            w, h = width, height
        return dict(top=(height - h) // 2, left=(width - w) // 2, height=h, width=w)

    def transform(self, inpt, params):
        return F.resized_crop(inpt, params["top"], params["left"], params["height"], params["width"], list(self.size),
                              self.interpolation, self.antialias)


class RandomHorizontalFlip(_RandomApplyTransform):
    """Mirror left-right with probability p."""

    def transform(self, inpt, params):
        return F.hflip(inpt)


class RandomVerticalFlip(_RandomApplyTransform):
    """Mirror top-bottom with probability p."""

    def transform(self, inpt, params):
        return F.vflip(inpt)


class RandomRotation(Transform):
    """Rotate counter-clockwise by an angle drawn uniformly from (-degrees, degrees) or (min, max)."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        super().__init__()
        self.degrees = _range(degrees, "degrees")
        self.interpolation, self.expand, self.center, self.fill = interpolation, expand, center, fill

    def make_params(self, flat_inputs):
        return dict(angle=_uniform(self.degrees[0], self.degrees[1]))

    def transform(self, inpt, params):
        return F.rotate(inpt, params["angle"], self.interpolation, self.expand, self.center, self.fill)


# ----------------------------------------------------------------------------- colour
def _jitter_range(value, name, center=1.0, bound=(0.0, float("inf")), clip_first_on_zero=True):
    """A number d -> (center - d, center + d) (the low end kept >= 0 for factors); a pair -> itself; None stays."""
    if value is None:
        return None
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - value, center + value]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        value = [float(v) for v in value]
    else:
        raise TypeError(f"{name}={value} should be a single number or a sequence with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    return None if value[0] == value[1] == center else (float(value[0]), float(value[1]))


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue, applied in a random order.

    Each of brightness / contrast / saturation is a factor drawn from [max(0, 1 - x), 1 + x] (or a given
    (min, max)); hue is drawn from [-x, x] with x <= 0.5. None (the default) leaves that property alone.
    """

    def __init__(self, brightness=None, contrast=None, saturation=None, hue=None):
        super().__init__()
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    def make_params(self, flat_inputs):
        order = backend.rng().permutation(4)
        draw = [None if r is None else _uniform(r[0], r[1])
                for r in (self.brightness, self.contrast, self.saturation, self.hue)]
        return dict(order=order, factors=draw)

    def transform(self, inpt, params):
        kernels = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        for k in params["order"]:
            if params["factors"][k] is not None:
                inpt = kernels[k](inpt, params["factors"][k])
        return inpt


class RandomErasing(_RandomApplyTransform):
    """With probability p, set a random rectangle of a tensor image to `value` (Zhong et al., 2017).

    Its area is a fraction drawn from `scale` of the image's, its aspect ratio h/w log-uniform in `ratio`
    (10 tries to fit; otherwise nothing is erased). value: a number, one per channel, or 'random' (normal noise).
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, inplace=False):
        super().__init__(p=p)
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, (tuple, list)):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, (tuple, list)):
            raise TypeError("Ratio should be a sequence")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        self.scale, self.ratio, self.inplace = tuple(scale), tuple(ratio), inplace
        self.value = None if isinstance(value, str) else (
            [float(value)] if isinstance(value, numbers.Number) else [float(v) for v in value])

    def make_params(self, flat_inputs):
        if any(_v1._is_pil(inpt) for inpt in flat_inputs):
            raise TypeError("RandomErasing does not support PIL images: put it after ToImage / ToDtype")
        channels, height, width = _image_size(flat_inputs)
        if self.value is not None and len(self.value) not in (1, channels):
            raise ValueError(f"If value is a sequence, it should have either a single value or {channels} "
                             "(number of inpt channels)")
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        rng = backend.rng()
        for _ in range(10):
            erase_area = area * _uniform(self.scale[0], self.scale[1])
            aspect = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            h, w = int(round(math.sqrt(erase_area * aspect))), int(round(math.sqrt(erase_area / aspect)))
            if not (h < height and w < width):
                continue
            if self.value is None:
                value = rng.standard_normal((channels, h, w)).astype(np.float32)
            else:
                value = np.asarray(self.value, dtype=np.float32)[:, None, None]
            top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
            return dict(i=top, j=left, h=h, w=w, v=value)
        return dict(i=0, j=0, h=height, w=width, v=None)

    def transform(self, inpt, params):
        if params["v"] is None:
            return inpt
        return F.erase(inpt, params["i"], params["j"], params["h"], params["w"], params["v"], self.inplace)
