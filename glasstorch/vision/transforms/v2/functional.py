"""The image math of transforms.v2 (torchvision.transforms.v2.functional): kernels on C×H×W tensors.

An image is a Tensor `(..., C, H, W)` (uint8 0..255 or float 0..1) or a PIL image; each function returns
the kind it was given. The kernels work on the raw array; `_on_array` wraps them for both kinds.

Integer images follow torchvision's rules: a colour kernel computes in float32 and truncates back to uint8
(`.to(torch.uint8)`); a resize rounds. ToDtype(scale=True) maps 0..255 <-> 0..1 as torchvision does.
"""
import numbers

import numpy as np

from ....backend import to_dtype as _glass_dtype
from ....tensor import Tensor
from ..functional import (InterpolationMode, _is_pil, _size_pair, center_crop, crop, get_image_size,  # noqa: F401
                          hflip, pad, resize_planes, rotate, vflip)
from ..functional import normalize as _normalize_v1


# ----------------------------------------------------------------------------- kinds of images
def _on_array(img, kernel):
    """kernel(C×H×W array) -> array, applied to a Tensor or a PIL image (given back as the same kind)."""
    if isinstance(img, Tensor):
        return Tensor._make(kernel(img._array))
    if _is_pil(img):
        from PIL import Image
        mode = img.mode
        out = kernel(_pil_chw(img))
        hwc = out[0] if out.shape[0] == 1 else out.transpose(1, 2, 0)
        return Image.fromarray(np.ascontiguousarray(hwc.astype(np.uint8)), mode=mode)
    raise TypeError(f"Input can either be a plain tensor or a PIL image, but got {type(img).__name__} instead.")


def _pil_chw(img):
    array = np.asarray(img)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _check_channels(array, name):
    if array.ndim < 3 or array.shape[-3] not in (1, 3):
        raise TypeError(f"{name}: input image tensor permitted channel values are 1 or 3, but found "
                        f"{array.shape[-3] if array.ndim >= 3 else 'a tensor of shape ' + str(array.shape)}")


def _max_value(dtype):
    """The value of full intensity: 1.0 for float images, the largest integer for integer ones."""
    return 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max)


def _back_to(values, dtype):
    """float32 results of a colour kernel -> the image's dtype: clipped, and truncated for integers."""
    values = np.clip(values, 0, _max_value(dtype))
    return values.astype(dtype) if dtype.kind != "f" else values.astype(dtype, copy=False)


# ----------------------------------------------------------------------------- conversion
def to_image(inpt):
    """H×W×C / H×W NumPy array, PIL image or tensor -> C×H×W tensor, keeping the dtype (uint8 stays uint8)."""
    if isinstance(inpt, Tensor):
        return inpt
    if _is_pil(inpt):
        return pil_to_tensor(inpt)
    if isinstance(inpt, np.ndarray):
        array = inpt[:, :, None] if inpt.ndim == 2 else inpt
        if array.ndim != 3:
            raise ValueError(f"an image array should be H×W or H×W×C, got shape {inpt.shape}")
        return Tensor._make(np.ascontiguousarray(array.transpose(2, 0, 1)))
    raise TypeError(f"Input can either be a numpy array, a PIL image or a tensor, but got {type(inpt).__name__}")


def pil_to_tensor(pic):
    """A PIL image -> C×H×W tensor of its pixel type (uint8 for L, RGB, RGBA ...), without scaling."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    return Tensor._make(np.ascontiguousarray(_pil_chw(pic)))


def to_dtype(inpt, dtype, scale=False):
    """Convert an image tensor to `dtype`; scale=True also maps value ranges (uint8 0..255 <-> float 0..1).

    int -> float multiplies by 1/255 (in the float type); float -> uint8 multiplies by 255.999 and truncates,
    so 1.0 becomes 255 and every byte value gets an equal share of [0, 1]; float -> float only casts.
    """
    if not isinstance(inpt, Tensor):
        raise TypeError(f"to_dtype expects a tensor image, got {type(inpt).__name__}")
    target = _glass_dtype(dtype).np
    array = inpt._array
    if not scale or array.dtype == target:
        return Tensor._make(array.astype(target))
    source_float, target_float = array.dtype.kind == "f", target.kind == "f"
    if source_float and target_float:
        return Tensor._make(array.astype(target))
    if not source_float and target_float:
        return Tensor._make(array.astype(target) * target.type(1.0 / _max_value(array.dtype)))
    if source_float:  # float -> int
        return Tensor._make((array * array.dtype.type(_max_value(target) + 1.0 - 1e-3)).astype(target))
    # int -> int: keep the top bits (torchvision shifts)
    in_bits, out_bits = _value_bits(array.dtype), _value_bits(target)
    if in_bits > out_bits:
        return Tensor._make((array >> (in_bits - out_bits)).astype(target))
    return Tensor._make(array.astype(target) << (out_bits - in_bits))


def _value_bits(dtype):
    return np.iinfo(dtype).bits - (1 if np.iinfo(dtype).min < 0 else 0)


def normalize(inpt, mean, std, inplace=False):
    """(x - mean[c]) / std[c] per channel of a float tensor image (PIL images are refused, as torchvision does)."""
    if _is_pil(inpt):
        raise TypeError("Normalize does not support PIL images: convert first (ToImage, ToDtype(float32, scale=True))")
    return _normalize_v1(inpt, mean, std, inplace)


# ----------------------------------------------------------------------------- resize
def _output_size(height, width, size, max_size):
    """torchvision's rule: (h, w) as given, or an int (or [int]) that the shorter side becomes."""
    if size is None or isinstance(size, numbers.Integral) or len(size) == 1:
        short, long = min(height, width), max(height, width)
        if size is None:
            if max_size is None:
                raise ValueError("size can only be None if max_size is also given")
            new_short, new_long = int(max_size * short / long), max_size
        else:
            requested = int(size if isinstance(size, numbers.Integral) else size[0])
            new_short, new_long = requested, int(requested * long / short)
            if max_size is not None:
                if max_size <= requested:
                    raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for "
                                     f"the smaller edge size = {size}")
                if new_long > max_size:
                    new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if width <= height else (new_short, new_long)
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                         "i.e. size should be an int")
    return _size_pair(size)


def _antialias_weights(in_size, out_size):
    """(out_size, in_size) matrix of the triangle filter, widened by the shrink factor (PIL's and torch's
    antialiased bilinear): each output pixel averages every input pixel its footprint covers."""
    scale = in_size / out_size
    stretch = max(scale, 1.0)  # enlarging keeps the filter 1 pixel wide: plain bilinear
    weights = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = (i + 0.5) * scale
        low = max(int(center - stretch + 0.5), 0)
        high = min(int(center + stretch + 0.5), in_size)
        taps = np.arange(low, high)
        w = np.maximum(0.0, 1.0 - np.abs((taps - center + 0.5) / stretch))
        weights[i, low:high] = w / w.sum()
    return weights


def _resize_antialias(array, new_h, new_w):
    """Separable resampling, widths first then heights (as PIL and torch's uint8 kernel); an integer image
    is rounded to its dtype after each pass, as they do."""
    h, w = array.shape[-2:]
    integer = array.dtype.kind != "f"
    work = array.astype(np.float64 if integer else array.dtype)
    if new_w != w:
        work = work @ _antialias_weights(w, new_w).T.astype(work.dtype)
        if integer:
            work = np.clip(np.floor(work + 0.5), 0, _max_value(array.dtype))
    if new_h != h:
        work = np.swapaxes(np.swapaxes(work, -1, -2) @ _antialias_weights(h, new_h).T.astype(work.dtype), -1, -2)
        if integer:
            work = np.clip(np.floor(work + 0.5), 0, _max_value(array.dtype))
    return np.ascontiguousarray(work.astype(array.dtype))


def resize(inpt, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to `size` = (h, w), or make the shorter side `size` (an int); bilinear with antialiasing by default.

    Bilinear with antialias=True (torchvision's default) is PIL's resampling: when shrinking each output
    pixel averages all the input pixels under it (no aliasing); when enlarging it is plain bilinear.
    PIL images are resized by PIL itself, as torchvision does.
    """
    width, height = get_image_size(inpt)
    new_h, new_w = _output_size(height, width, size, max_size)
    nearest = str(interpolation) in ("nearest", "InterpolationMode.NEAREST")
    if _is_pil(inpt):
        from PIL import Image
        return inpt.resize((new_w, new_h), Image.NEAREST if nearest else Image.BILINEAR)
    if not isinstance(inpt, Tensor):
        raise TypeError(f"resize expects a tensor or a PIL image, got {type(inpt).__name__}")
    if (new_h, new_w) == (height, width):
        return inpt
    if nearest or not antialias:
        return Tensor._make(resize_planes(inpt._array, (new_h, new_w), interpolation))
    return Tensor._make(_resize_antialias(inpt._array, new_h, new_w))


def resized_crop(inpt, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Crop the region (top, left, height, width), then resize it to `size`."""
    return resize(crop(inpt, top, left, height, width), size, interpolation, antialias=antialias)


# ----------------------------------------------------------------------------- colour
def _grayscale(array):
    """Luma 0.2989 R + 0.587 G + 0.114 B of a ...×3×H×W array, as float32 (the image's dtype kept for float)."""
    work = array.astype(np.float32) if array.dtype.kind != "f" else array
    r, g, b = work[..., 0, :, :], work[..., 1, :, :], work[..., 2, :, :]
    return (r * work.dtype.type(0.2989) + g * work.dtype.type(0.587) + b * work.dtype.type(0.114))[..., None, :, :]


def rgb_to_grayscale(inpt, num_output_channels=1):
    """RGB -> grey (ITU-R 601 luma weights); num_output_channels=3 repeats it (still grey, 3 channels)."""
    if num_output_channels not in (1, 3):
        raise ValueError(f"num_output_channels must be 1 or 3, got {num_output_channels}.")

    def kernel(array):
        grey = array.copy() if array.shape[-3] == 1 else _back_to(_grayscale(array), array.dtype)
        return np.repeat(grey, num_output_channels, axis=-3) if num_output_channels == 3 else grey

    return _on_array(inpt, kernel)


def _blend(image, other, ratio):
    """ratio * image + (1 - ratio) * other, clipped to the image's range (float32 maths for integer images)."""
    work = image.astype(np.float32) if image.dtype.kind != "f" else image
    dtype = work.dtype.type
    return _back_to(work * dtype(ratio) + other * dtype(1.0 - ratio), image.dtype)


def adjust_brightness(inpt, brightness_factor):
    """Scale all values: 0 gives black, 1 the image, 2 twice as bright (clipped)."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")

    def kernel(array):
        _check_channels(array, "adjust_brightness")
        return _blend(array, 0.0, brightness_factor)

    return _on_array(inpt, kernel)


def adjust_contrast(inpt, contrast_factor):
    """Blend with the image's mean grey level: 0 gives a flat grey image, 1 the image itself."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")

    def kernel(array):
        _check_channels(array, "adjust_contrast")
        if array.shape[-3] == 3:
            grey = _grayscale(array)
            grey = np.floor(grey) if array.dtype.kind != "f" else grey
        else:
            grey = array.astype(np.float32) if array.dtype.kind != "f" else array
        return _blend(array, grey.mean(axis=(-3, -2, -1), keepdims=True, dtype=grey.dtype), contrast_factor)

    return _on_array(inpt, kernel)


def adjust_saturation(inpt, saturation_factor):
    """Blend with the grey version: 0 gives grey, 1 the image, 2 doubly saturated colours."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")

    def kernel(array):
        _check_channels(array, "adjust_saturation")
        if array.shape[-3] == 1:  # a grey image has no saturation to change
            return array
        grey = _grayscale(array)
        return _blend(array, np.floor(grey) if array.dtype.kind != "f" else grey, saturation_factor)

    return _on_array(inpt, kernel)


def _rgb_to_hsv(rgb):
    """float ...×3×H×W RGB in [0, 1] -> HSV, each in [0, 1] (hue as a fraction of the colour circle)."""
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    grey = maxc == minc  # no hue, no saturation; the divisions below use 1 instead of 0 there
    spread = maxc - minc
    s = spread / np.where(grey, 1, maxc)
    divisor = np.where(grey, 1, spread)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    h = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = np.where(grey, 0, h)
    h = np.mod(h / 6.0 + 1.0, 1.0).astype(rgb.dtype)
    return np.stack([h, s, maxc], axis=-3)


def _hsv_to_rgb(hsv):
    h, s, v = hsv[..., 0, :, :], hsv[..., 1, :, :], hsv[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    # the sector i of the hue circle decides which of v, p, q, t each of R, G, B is
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-3).astype(hsv.dtype)


def adjust_hue(inpt, hue_factor):
    """Turn the hue by `hue_factor` of the colour circle (in [-0.5, 0.5]; 1/3 turns red into green)."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")

    def kernel(array):
        _check_channels(array, "adjust_hue")
        if array.shape[-3] == 1 or array.size == 0:
            return array
        scaled = to_dtype(Tensor._make(array), "float32", scale=True)._array
        hsv = _rgb_to_hsv(scaled)
        hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + np.float32(hue_factor), 1.0)
        rgb = Tensor._make(_hsv_to_rgb(hsv))
        return to_dtype(rgb, _glass_dtype(array.dtype), scale=True)._array

    return _on_array(inpt, kernel)


# ----------------------------------------------------------------------------- erasing
def erase(inpt, i, j, h, w, v, inplace=False):
    """Set the region rows i..i+h, columns j..j+w of a tensor image to `v` (a value, or C×h×w values)."""
    if not isinstance(inpt, Tensor):
        raise TypeError(f"erase supports tensor images only, got {type(inpt).__name__} (use ToImage first)")
    array = inpt._array if inplace else inpt._array.copy()
    array[..., i:i + h, j:j + w] = np.asarray(v.numpy() if isinstance(v, Tensor) else v)
    return inpt if inplace else Tensor._make(array)
