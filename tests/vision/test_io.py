"""vision.io against Pillow (the reference decoder/encoder) and torchvision's documented conventions."""
import numpy as np
import pytest

import glasstorch
from glasstorch.vision import io
from glasstorch.vision.io import ImageReadMode

Image = pytest.importorskip("PIL.Image")


def pattern(channels, h=9, w=13):
    grid = np.arange(channels * h * w).reshape(channels, h, w)
    return (grid * 37 % 256).astype(np.uint8)


@pytest.mark.parametrize("channels", [1, 3])
def test_png_round_trip_is_exact(tmp_path, channels):
    image = glasstorch.tensor(pattern(channels))
    path = tmp_path / "x.png"
    io.write_png(image, path)
    back = io.read_image(str(path))
    assert back.dtype == glasstorch.uint8 and tuple(back.shape) == (channels, 9, 13)
    np.testing.assert_array_equal(back.numpy(), image.numpy())
    # what Pillow reads from our file is the same picture, H×W×C
    stored = np.asarray(Image.open(path))
    np.testing.assert_array_equal(stored, image.numpy()[0] if channels == 1 else image.numpy().transpose(1, 2, 0))
    assert not [p.name for p in tmp_path.iterdir() if p.name != "x.png"]  # no temporary left behind


def test_read_modes_match_pillow_conversions(tmp_path):
    rgba = np.stack([pattern(1)[0], pattern(1)[0][::-1], pattern(1)[0] // 2,
                     np.full((9, 13), 200, np.uint8)], axis=-1)
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba, mode="RGBA").save(path)
    assert tuple(io.read_image(path).shape) == (4, 9, 13)  # UNCHANGED keeps the alpha channel
    for mode, pil_mode in [(ImageReadMode.GRAY, "L"), (ImageReadMode.GRAY_ALPHA, "LA"), (ImageReadMode.RGB, "RGB"),
                           (ImageReadMode.RGB_ALPHA, "RGBA"), ("RGB", "RGB")]:
        expected = np.asarray(Image.open(path).convert(pil_mode))
        expected = expected[None] if expected.ndim == 2 else expected.transpose(2, 0, 1)
        np.testing.assert_array_equal(io.read_image(path, mode).numpy(), expected)


def test_palette_image_is_expanded_to_rgb(tmp_path):
    path = tmp_path / "p.png"
    Image.fromarray(pattern(3).transpose(1, 2, 0)).convert("P").save(path)
    out = io.read_image(path)
    assert tuple(out.shape) == (3, 9, 13)
    np.testing.assert_array_equal(out.numpy(), np.asarray(Image.open(path).convert("RGB")).transpose(2, 0, 1))


def test_decode_image_from_bytes_and_read_file(tmp_path):
    image = glasstorch.tensor(pattern(3))
    encoded = io.encode_png(image)
    assert encoded.dtype == glasstorch.uint8 and encoded.ndim == 1
    assert bytes(encoded.numpy()[:8]) == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(io.decode_image(encoded).numpy(), image.numpy())
    io.write_file(tmp_path / "y.png", encoded)
    np.testing.assert_array_equal(io.read_file(tmp_path / "y.png").numpy(), encoded.numpy())
    np.testing.assert_array_equal(io.decode_png(io.read_file(tmp_path / "y.png")).numpy(), image.numpy())


def test_jpeg_is_close_and_quality_orders_the_error(tmp_path):
    smooth = np.broadcast_to(np.linspace(0, 255, 32).astype(np.uint8), (3, 32, 32)).copy()
    smooth[1] = smooth[1].T
    errors = []
    for quality in (20, 95):
        io.write_jpeg(glasstorch.tensor(smooth), tmp_path / f"q{quality}.jpg", quality=quality)
        back = io.read_image(tmp_path / f"q{quality}.jpg")
        assert tuple(back.shape) == (3, 32, 32)
        errors.append(np.abs(back.numpy().astype(int) - smooth).mean())
    assert errors[1] < errors[0] and errors[1] < 3
    pil = np.asarray(Image.open(tmp_path / "q95.jpg")).transpose(2, 0, 1)
    np.testing.assert_array_equal(io.read_image(tmp_path / "q95.jpg").numpy(), pil)


def test_bad_inputs_say_what_is_wrong(tmp_path):
    with pytest.raises(RuntimeError, match="dtype should be uint8"):
        io.write_png(glasstorch.zeros(3, 4, 4), tmp_path / "f.png")
    with pytest.raises(RuntimeError, match="3 dimensional"):
        io.write_png(glasstorch.zeros(4, 4, dtype=glasstorch.uint8), tmp_path / "f.png")
    with pytest.raises(RuntimeError, match="number of channels should be 1 or 3, got: 4"):
        io.write_jpeg(glasstorch.zeros(4, 4, 4, dtype=glasstorch.uint8), tmp_path / "f.jpg")
    with pytest.raises(ValueError, match="between 1 and 100"):
        io.encode_jpeg(glasstorch.zeros(3, 4, 4, dtype=glasstorch.uint8), quality=0)
    with pytest.raises(ValueError, match="ImageReadMode"):
        io.read_image(tmp_path / "f.png", mode="CMYK")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(RuntimeError, match="Unsupported image file"):
        io.read_image(tmp_path / "junk.png")
    assert not (tmp_path / "f.png").exists()


def test_missing_pillow_names_the_extra(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match=r"glasstorch\[vision\]"):
        io.encode_png(glasstorch.zeros(3, 2, 2, dtype=glasstorch.uint8))


def test_exif_orientation_is_applied_on_request(tmp_path):
    image = Image.fromarray(pattern(3).transpose(1, 2, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    path = tmp_path / "o.jpg"
    image.save(path, exif=exif, quality=100)
    assert tuple(io.read_image(path).shape) == (3, 9, 13)
    assert tuple(io.read_image(path, apply_exif_orientation=True).shape) == (3, 13, 9)


def test_sixteen_bit_grey_keeps_its_high_byte(tmp_path):
    deep = (np.arange(6 * 7).reshape(6, 7) * 1500).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(deep).save(path)
    out = io.read_image(path)
    assert out.dtype == glasstorch.uint8 and tuple(out.shape) == (1, 6, 7)
    np.testing.assert_array_equal(out.numpy()[0], (deep >> 8).astype(np.uint8))
    assert tuple(io.read_image(path, ImageReadMode.RGB).shape) == (3, 6, 7)
