"""make_grid: many images tiled into one, for looking at a batch; save_image: that grid as a PNG/JPEG file."""
import math

import numpy as np

from ..tensor import Tensor
from .io import pil_image_module


def _as_nchw(tensor):
    """A list of C×H×W tensors or a tensor of 2 to 4 dims -> N×C×H×W float array; 1 channel becomes 3."""
    if isinstance(tensor, (list, tuple)):
        array = np.stack([t._array if isinstance(t, Tensor) else np.asarray(t) for t in tensor])
    elif isinstance(tensor, Tensor):
        array = tensor._array
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if array.ndim == 2:  # H×W
        array = array[None]
    if array.ndim == 3:  # C×H×W: one image
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid expects 2 to 4 dimensions, got shape {array.shape}")
    if array.shape[1] == 1:  # grey -> RGB, as torchvision does
        array = np.concatenate([array] * 3, axis=1)
    return array


def _scale_to_unit(array, value_range):
    low, high = value_range if value_range is not None else (array.min(), array.max())
    return (np.clip(array, low, high) - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile N images (N×C×H×W tensor or list of C×H×W) into one C×H'×W' image, `nrow` images per row.

    Args:
        nrow: images per row; the number of rows is ceil(N / nrow).
        padding: pixels of `pad_value` around and between the images.
        normalize: shift and scale to [0, 1] by `value_range` (default: the min and max of the images;
            per image with `scale_each=True`).

    Example:
        >>> import glasstorch
        >>> make_grid(glasstorch.zeros(10, 1, 28, 28), nrow=5).shape
        glasstorch.Size([3, 62, 152])
    """
    array = _as_nchw(tensor)
    if normalize:
        array = array.astype(np.float32) if array.dtype.kind != "f" else array.copy()
        if scale_each:
            array = np.stack([_scale_to_unit(image, value_range) for image in array])
        else:
            array = _scale_to_unit(array, value_range)
    n, channels, height, width = array.shape
    if n == 1:
        return Tensor._make(array[0].copy())
    columns = min(nrow, n)
    rows = int(math.ceil(n / columns))
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, rows * cell_h + padding, columns * cell_w + padding), pad_value, dtype=array.dtype)
    for k in range(n):
        top, left = (k // columns) * cell_h + padding, (k % columns) * cell_w + padding
        grid[:, top:top + height, left:left + width] = array[k]
    return Tensor._make(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor image, or a batch tiled by make_grid (its keyword arguments pass through), as a file.

    Values in [0, 1] become bytes as torchvision makes them: round(255 * x), clipped to 0..255.
    `fp` is a path or a binary file object; `format` overrides the one the file name implies. Needs Pillow.
    """
    Image = pil_image_module()
    grid = make_grid(tensor, **kwargs)._array.astype(np.float32)
    pixels = np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
