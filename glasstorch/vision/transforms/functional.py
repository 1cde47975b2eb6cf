"""The image math behind the transforms (torchvision.transforms.functional's names and conventions).

Images come in three kinds, and every function returns the kind it was given:
    NumPy array  H×W or H×W×C (what a dataset holds; uint8 0..255 or float)
    PIL image    (when Pillow is installed) treated as its array
    Tensor       ...×C×H×W (after ToTensor)
Inside, an image is a stack of planes `(..., H, W)`; `_planes` and its `back` function convert.

Coordinates follow torchvision: pixel i covers [i, i+1), so the image centre is (W/2, H/2); resizing
maps output pixel centres to input ones (`align_corners=False`); interpolated uint8 results are rounded.
"""
import math
import numbers

import numpy as np

from ...tensor import Tensor


class InterpolationMode:
    """torchvision's names for the sampling methods (plain strings work too)."""
    NEAREST = "nearest"
    BILINEAR = "bilinear"


# ----------------------------------------------------------------------------- image kinds
def _is_pil(img):
    return type(img).__module__.startswith("PIL.")


def _planes(img):
    """(planes (..., H, W), back) where back(planes) rebuilds an image of img's kind and dtype."""
    if isinstance(img, Tensor):
        return img._array, Tensor._make
    if _is_pil(img):
        from PIL import Image
        array, mode = np.asarray(img), img.mode
        planes, back = _planes(array)
        return planes, lambda out: Image.fromarray(back(out).astype(array.dtype), mode=mode)
    if not isinstance(img, np.ndarray):
        raise TypeError(f"img should be a NumPy array, a PIL Image or a Tensor. Got {type(img)}")
    if img.ndim == 2:
        return img, lambda out: out
    if img.ndim == 3:
        return np.moveaxis(img, -1, 0), lambda out: np.ascontiguousarray(np.moveaxis(out, 0, -1))
    raise ValueError(f"an image array should be H×W or H×W×C. Got shape {img.shape}")


def get_image_size(img):
    """[width, height], as torchvision returns it."""
    planes, _ = _planes(img)
    return [planes.shape[-1], planes.shape[-2]]


def _round_like(values, dtype):
    """Interpolated values back to the image's dtype (integers are rounded and clipped to their range)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)


def _size_pair(size, name="size"):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{name} should be an int or a sequence of 1 or 2 ints (h, w). Got {size}")
    return int(size[0]), int(size[1])


# ----------------------------------------------------------------------------- to tensor, normalize
def to_tensor(pic):
    """H×W or H×W×C array (or PIL image) -> C×H×W tensor; uint8 is scaled to float32 in [0, 1]."""
    if _is_pil(pic):
        pic = np.asarray(pic)
    if not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    return Tensor._make(_chw_from_hwc(pic[:, :, None] if pic.ndim == 2 else pic))


def _chw_from_hwc(array):
    """(..., H, W, C) uint8 or float -> (..., C, H, W): uint8 becomes float32 / 255, other dtypes stay."""
    chw = np.moveaxis(array, -1, -3)
    if array.dtype == np.uint8:
        return chw.astype(np.float32) / np.float32(255)
    return np.ascontiguousarray(chw)


def to_tensor_batch(images):
    """ToTensor over N stacked images: N×H×W -> N×1×H×W, N×H×W×C -> N×C×H×W (same values as one by one)."""
    return Tensor._make(_chw_from_hwc(images[..., None] if images.ndim == 3 else images))


def normalize(tensor, mean, std, inplace=False):
    """(x - mean[c]) / std[c] for every channel c of a ...×C×H×W float tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tuple(tensor.shape)}")
    x = tensor._array
    if x.dtype.kind != "f":
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    mean = np.asarray(mean, dtype=x.dtype).reshape(-1, 1, 1)
    std = np.asarray(std, dtype=x.dtype).reshape(-1, 1, 1)
    if np.any(std == 0):
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if mean.shape[0] not in (1, x.shape[-3]) or std.shape[0] not in (1, x.shape[-3]):
        raise ValueError(f"mean and std need 1 or {x.shape[-3]} values (one per channel); got {mean.shape[0]} "
                         f"and {std.shape[0]}")
    if inplace:
        np.subtract(x, mean, out=x)
        np.divide(x, std, out=x)
        return tensor
    return Tensor._make((x - mean) / std)


# ----------------------------------------------------------------------------- flips, padding, crops
def hflip(img):
    planes, back = _planes(img)
    return back(np.ascontiguousarray(planes[..., ::-1]))


def vflip(img):
    planes, back = _planes(img)
    return back(np.ascontiguousarray(planes[..., ::-1, :]))


def _padding_ltrb(padding):
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders: `padding` is one int (all sides), (left/right, top/bottom) or (left, top, right, bottom)."""
    if padding_mode not in _PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _padding_ltrb(padding)
    planes, back = _planes(img)
    widths = [(0, 0)] * (planes.ndim - 2) + [(top, bottom), (left, right)]
    extra = {"constant_values": fill} if padding_mode == "constant" else {}
    return back(np.pad(planes, widths, mode=_PAD_MODES[padding_mode], **extra))


def crop(img, top, left, height, width):
    """The region rows top..top+height, columns left..left+width; parts outside the image are zeros."""
    planes, back = _planes(img)
    h, w = planes.shape[-2:]
    if top < 0 or left < 0 or top + height > h or left + width > w:
        padded = np.pad(planes, [(0, 0)] * (planes.ndim - 2) + [(max(-top, 0), max(top + height - h, 0)),
                                                                 (max(-left, 0), max(left + width - w, 0))])
        planes, top, left = padded, max(top, 0), max(left, 0)
    return back(np.ascontiguousarray(planes[..., top:top + height, left:left + width]))


def center_crop(img, output_size):
    """The centred (h, w) region (torchvision rounds the offset (H - h) / 2); pads with zeros if too small."""
    crop_h, crop_w = _size_pair(output_size, "output_size")
    width, height = get_image_size(img)
    top, left = int(round((height - crop_h) / 2.0)), int(round((width - crop_w) / 2.0))
    if crop_h > height or crop_w > width:  # torchvision pads (smaller half first), then crops the middle
        img = pad(img, [max(crop_w - width, 0) // 2, max(crop_h - height, 0) // 2,
                        (max(crop_w - width, 0) + 1) // 2, (max(crop_h - height, 0) + 1) // 2])
        width, height = get_image_size(img)
        top, left = int(round((height - crop_h) / 2.0)), int(round((width - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


# ----------------------------------------------------------------------------- resampling
def _bilinear_taps(out_size, in_size):
    """For each output index: the two input indices and the weight of the second (align_corners=False)."""
    src = (np.arange(out_size, dtype=np.float64) + 0.5) * (in_size / out_size) - 0.5
    src = np.maximum(src, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    return low, high, (src - low)


def resize(img, size, interpolation=InterpolationMode.BILINEAR):
    """Resize to `size` = (h, w), or an int that the shorter side becomes (the aspect ratio kept).

    Bilinear weights sample at the output pixel centres (F.interpolate's `align_corners=False` without
    antialiasing); `interpolation='nearest'` picks input pixel floor(i * in/out), as torch's 'nearest'.
    """
    planes, back = _planes(img)
    return back(resize_planes(planes, size, interpolation))


def resize_planes(planes, size, interpolation=InterpolationMode.BILINEAR):
    """`resize` on a raw (..., H, W) array (what Resize.apply_batch uses on a stack of images)."""
    h, w = planes.shape[-2:]
    if isinstance(size, numbers.Integral) or len(size) == 1:
        short = int(size if isinstance(size, numbers.Integral) else size[0])
        new_h, new_w = (short, int(short * w / h)) if h <= w else (int(short * h / w), short)
    else:
        new_h, new_w = _size_pair(size)
    if (new_h, new_w) == (h, w):
        return planes.copy()
    if str(interpolation) in ("nearest", "InterpolationMode.NEAREST"):
        rows = np.minimum(np.floor(np.arange(new_h) * (h / new_h)).astype(np.int64), h - 1)
        cols = np.minimum(np.floor(np.arange(new_w) * (w / new_w)).astype(np.int64), w - 1)
        return planes[..., rows[:, None], cols]
    work = planes.astype(np.float32 if planes.dtype != np.float64 else np.float64)
    r0, r1, wr = _bilinear_taps(new_h, h)
    c0, c1, wc = _bilinear_taps(new_w, w)
    wr, wc = wr.astype(work.dtype)[:, None], wc.astype(work.dtype)
    rows = work[..., r0, :] * (1 - wr) + work[..., r1, :] * wr
    out = rows[..., c0] * (1 - wc) + rows[..., c1] * wc
    return _round_like(out, planes.dtype)


def _inverse_affine_matrix(center, angle, translate, scale, shear):
    """torchvision's inverse of  T * C * R(angle) * Shear * Scale * C^-1  (output coords -> input coords).

    `angle` and `shear` in degrees (clockwise, as F.affine); `center` and `translate` in pixels relative to
    the image centre.
    """
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return np.array(m).reshape(2, 3)


def _sample(planes, x, y, interpolation, fill):
    """planes sampled at input index coordinates (x, y) (arrays of the output's H×W); outside -> fill."""
    h, w = planes.shape[-2:]
    if str(interpolation) in ("nearest", "InterpolationMode.NEAREST"):
        xi, yi = np.rint(x).astype(np.int64), np.rint(y).astype(np.int64)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out = planes[..., np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)]
        return np.where(inside, out, np.asarray(fill, dtype=planes.dtype))
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    out = 0.0
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xs, ys = x0 + dx, y0 + dy
            inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
            tap = planes[..., np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)]
            out = out + (wy * wx) * np.where(inside, tap, fill)  # a tap outside the image reads `fill`
    return _round_like(out, planes.dtype)


def _warp(planes, matrix, out_hw, interpolation, fill):
    """Resample planes through the inverse map `matrix` (output pixel centre -> input pixel centre, both
    relative to their image's centre) onto an output of size out_hw."""
    h, w = planes.shape[-2:]
    out_h, out_w = out_hw
    ys, xs = np.meshgrid(np.arange(out_h) - (out_h - 1) / 2, np.arange(out_w) - (out_w - 1) / 2, indexing="ij")
    src_x = matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2] + (w - 1) / 2
    src_y = matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2] + (h - 1) / 2
    return _sample(planes, src_x, src_y, interpolation, fill)


def _center_offset(center, h, w):
    return [0.0, 0.0] if center is None else [center[0] - w * 0.5, center[1] - h * 0.5]


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=0, center=None):
    """Rotate (clockwise degrees), translate (pixels), scale and shear (degrees) about the centre in one resampling."""
    if scale <= 0:
        raise ValueError("Argument scale should be positive")
    shear = [float(shear), 0.0] if isinstance(shear, numbers.Number) else [float(s) for s in shear] + [0.0] * (
        2 - len(shear))
    planes, back = _planes(img)
    h, w = planes.shape[-2:]
    matrix = _inverse_affine_matrix(_center_offset(center, h, w), angle, translate, scale, shear)
    return back(_warp(planes, matrix, (h, w), interpolation, fill))


def _expanded_size(matrix, h, w):
    """The box that holds the whole rotated image, sized as PIL and torchvision size it: the corners are mapped,
    shifted back by (w/2, h/2), and ceil(max) - floor(min) taken (so an odd side may gain a pixel)."""
    corners = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                        [0.5 * w, -0.5 * h, 1.0]])
    mapped = corners @ matrix.T + [0.5 * w, 0.5 * h]
    tol = 1e-4  # cut float noise first, so that 3.0000000001 does not round up to 4
    high = np.ceil(np.trunc(mapped.max(0) / tol) * tol)
    low = np.floor(np.trunc(mapped.min(0) / tol) * tol)
    size = high - low
    return int(size[1]), int(size[0])


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
    """Rotate counter-clockwise by `angle` degrees about the centre (or `center`, in pixels).

    expand=True enlarges the output to hold the whole rotated image (as if rotating about the centre).
    """
    planes, back = _planes(img)
    h, w = planes.shape[-2:]
    matrix = _inverse_affine_matrix(_center_offset(center, h, w), -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    out_hw = _expanded_size(matrix, h, w) if expand else (h, w)
    return back(_warp(planes, matrix, out_hw, interpolation, fill))
