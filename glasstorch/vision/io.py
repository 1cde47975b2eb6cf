"""Reading and writing images as uint8 C×H×W tensors (torchvision.io), on Pillow.

    image = read_image("cat.png")                        # uint8, 3×H×W (or 1, 2, 4 channels: as stored)
    image = read_image("cat.png", ImageReadMode.RGB)     # always 3 channels
    write_png(image, "copy.png"); write_jpeg(image, "copy.jpg", quality=90)

Pillow is optional (`pip install 'glasstorch[vision]'`); it is imported when an image is read or written.
Writes go to a temporary file that is renamed onto the target, so a reader never sees half an image.
"""
import enum
import io
import os

import numpy as np

from ..tensor import Tensor


def pil_image_module():
    """PIL.Image, or an ImportError that says how to install it (Pillow is the `vision` extra)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading and writing images needs Pillow, which is not installed: "
                          "pip install 'glasstorch[vision]'  (or: pip install 'Pillow>=10')") from None
    return Image


class ImageReadMode(enum.Enum):
    """How many channels to decode into: UNCHANGED (as stored), GRAY, GRAY_ALPHA, RGB, RGB_ALPHA."""
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4


# ImageReadMode -> the Pillow mode converted to
_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
              ImageReadMode.RGB_ALPHA: "RGBA"}


def _read_mode(mode):
    if isinstance(mode, ImageReadMode):
        return mode
    if isinstance(mode, str) and mode.upper() in ImageReadMode.__members__:  # torchvision accepts "RGB" too
        return ImageReadMode[mode.upper()]
    raise ValueError(f"mode should be an ImageReadMode (UNCHANGED, GRAY, GRAY_ALPHA, RGB, RGB_ALPHA), got {mode!r}")


def _unchanged_mode(image):
    """The Pillow mode that keeps what the file stores, as 8-bit channels (palettes are expanded)."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image.mode
    if image.mode == "1":
        return "L"
    if image.mode == "P":
        return "RGBA" if "transparency" in image.info else "RGB"
    if image.mode == "PA":
        return "RGBA"
    return "RGB"  # CMYK, YCbCr, LAB, HSV ...


def _high_bytes(image):
    """A 16-bit grey image (PNG's 16-bit depth: Pillow's I;16 / I modes) -> 8-bit "L" by its high byte."""
    Image = pil_image_module()
    values = np.asarray(image).astype(np.int64)
    return Image.fromarray(np.clip(values >> 8, 0, 255).astype(np.uint8), mode="L")


def pil_to_chw(image, mode=ImageReadMode.UNCHANGED):
    """A PIL image -> uint8 C×H×W array in `mode`'s channels."""
    if image.mode.startswith("I;16") or image.mode == "I":
        image = _high_bytes(image)
    target = _unchanged_mode(image) if mode is ImageReadMode.UNCHANGED else _PIL_MODES[mode]
    if image.mode != target:
        image = image.convert(target)
    array = np.asarray(image, dtype=np.uint8)
    return np.ascontiguousarray(array[None] if array.ndim == 2 else array.transpose(2, 0, 1))


def read_file(path):
    """The bytes of a file as a 1-D uint8 tensor (what decode_image takes)."""
    with open(os.fspath(path), "rb") as f:
        return Tensor._make(np.frombuffer(f.read(), dtype=np.uint8).copy())


def write_file(filename, data):
    """Write a 1-D uint8 tensor of bytes (as encode_png / encode_jpeg return) to `filename`, atomically."""
    _write_bytes(filename, _bytes_of(data, "data"))


def _bytes_of(data, name):
    if not isinstance(data, Tensor):
        raise TypeError(f"{name} should be a 1-D uint8 tensor of bytes, got {type(data).__name__}")
    if data.dtype.name != "uint8" or data.ndim != 1:
        raise TypeError(f"{name} should be a 1-D uint8 tensor of bytes, got {data.dtype} of shape {tuple(data.shape)}")
    return data.numpy().tobytes()


def _write_bytes(filename, payload):
    """All bytes to a temporary file beside `filename`, then one rename: readers never see half an image."""
    filename = os.fspath(filename)
    tmp = os.path.join(os.path.dirname(os.path.abspath(filename)), f".{os.path.basename(filename)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(payload)
        os.replace(tmp, filename)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Encoded bytes (a 1-D uint8 tensor) or a path -> uint8 C×H×W tensor (PNG, JPEG, GIF, BMP, WebP ...).

    Args:
        mode: ImageReadMode (or its name): the channels to decode into; UNCHANGED keeps the file's
            (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; a palette is expanded to RGB/RGBA).
        apply_exif_orientation: turn the image upright as its EXIF orientation tag says.
    """
    mode = _read_mode(mode)
    Image = pil_image_module()
    if isinstance(input, (str, os.PathLike)):
        with open(os.fspath(input), "rb") as f:
            payload = f.read()
    else:
        payload = _bytes_of(input, "input")
    try:
        image = Image.open(io.BytesIO(payload))
        image.load()
    except Image.UnidentifiedImageError:
        raise RuntimeError("Unsupported image file. Only jpeg, png, gif, bmp and webp (and the other formats Pillow "
                           "reads) are supported.") from None
    if apply_exif_orientation:
        from PIL import ImageOps
        image = ImageOps.exif_transpose(image)
    return Tensor._make(pil_to_chw(image, mode))


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Read an image file into a uint8 C×H×W tensor (see decode_image for `mode`)."""
    mode = _read_mode(mode)  # a bad mode is reported before the file is read
    return decode_image(read_file(path), mode, apply_exif_orientation)


def decode_png(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    return decode_image(input, mode, apply_exif_orientation)


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device="cpu", apply_exif_orientation=False):
    return decode_image(input, mode, apply_exif_orientation)


def _hwc_of(input, allowed_channels, function):
    """Check a uint8 C×H×W tensor and return it as the H×W (1 channel) or H×W×C array Pillow takes."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{function} expects a uint8 C×H×W tensor, got {type(input).__name__}")
    if input.dtype.name != "uint8":
        raise RuntimeError(f"Input tensor dtype should be uint8, got {input.dtype}")
    if input.ndim != 3:
        raise RuntimeError(f"Input data should be a 3 dimensional tensor (C×H×W), got shape {tuple(input.shape)}")
    channels = input.shape[0]
    if channels not in allowed_channels:
        raise RuntimeError(f"The number of channels should be {' or '.join(map(str, allowed_channels))}, "
                           f"got: {channels}")
    array = input.numpy()
    return array[0] if channels == 1 else np.ascontiguousarray(array.transpose(1, 2, 0))


def encode_png(input, compression_level=6):
    """uint8 C×H×W tensor (1 or 3 channels) -> the PNG file's bytes as a 1-D uint8 tensor."""
    if not 0 <= compression_level <= 9:
        raise ValueError(f"Compression level should be between 0 and 9, got {compression_level}")
    Image = pil_image_module()
    buffer = io.BytesIO()
    Image.fromarray(_hwc_of(input, (1, 3), "encode_png")).save(buffer, format="PNG", compress_level=compression_level)
    return Tensor._make(np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy())


def encode_jpeg(input, quality=75):
    """uint8 C×H×W tensor (1 or 3 channels) -> the JPEG file's bytes as a 1-D uint8 tensor."""
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    Image = pil_image_module()
    buffer = io.BytesIO()
    Image.fromarray(_hwc_of(input, (1, 3), "encode_jpeg")).save(buffer, format="JPEG", quality=quality)
    return Tensor._make(np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy())


def write_png(input, filename, compression_level=6):
    """Save a uint8 C×H×W tensor as a PNG file (lossless: read_image gives the same tensor back)."""
    _write_bytes(filename, encode_png(input, compression_level).numpy().tobytes())


def write_jpeg(input, filename, quality=75):
    """Save a uint8 C×H×W tensor (1 or 3 channels) as a JPEG file (lossy: `quality` 1..100)."""
    _write_bytes(filename, encode_jpeg(input, quality).numpy().tobytes())
