"""The image math against NumPy reference formulas and torch (F.interpolate, grid_sample) as the oracle."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glasstorch
from glasstorch.vision.transforms import functional as F


def rng_image(seed, shape, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape).astype(np.uint8)
    return rng.standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------- to_tensor, normalize
@pytest.mark.parametrize("shape", [(5, 7), (4, 6, 3), (1, 1)])
def test_to_tensor_uint8(shape):
    img = rng_image(0, shape)
    out = F.to_tensor(img)
    hwc = img if img.ndim == 3 else img[:, :, None]
    expected = torch.from_numpy(hwc.transpose(2, 0, 1).copy()).float().div(255)
    assert out.dtype == glasstorch.float32 and tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_to_tensor_keeps_other_dtypes_and_checks_input():
    img = rng_image(1, (3, 4, 2), np.float64)
    out = F.to_tensor(img)
    assert out.dtype == glasstorch.float64
    np.testing.assert_array_equal(out.numpy(), img.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        F.to_tensor(glasstorch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional"):
        F.to_tensor(np.zeros((1, 2, 2, 3), np.uint8))


def test_to_tensor_on_pil_images():
    Image = pytest.importorskip("PIL.Image")
    img = rng_image(2, (6, 5, 3))
    np.testing.assert_array_equal(F.to_tensor(Image.fromarray(img)).numpy(), F.to_tensor(img).numpy())


def test_to_tensor_batch_equals_one_by_one():
    for shape in [(4, 5, 6), (3, 5, 6, 3)]:
        images = rng_image(3, shape)
        batch = F.to_tensor_batch(images)
        np.testing.assert_array_equal(batch.numpy(), np.stack([F.to_tensor(im).numpy() for im in images]))


@pytest.mark.parametrize("channels", [1, 3])
def test_normalize_formula(channels):
    x = rng_image(4, (2, channels, 4, 5), np.float32)
    mean = np.linspace(0.1, 0.5, channels)
    std = np.linspace(0.2, 0.9, channels)
    out = F.normalize(glasstorch.tensor(x), mean.tolist(), std.tolist())
    expected = (x - mean.astype(np.float32)[:, None, None]) / std.astype(np.float32)[:, None, None]
    np.testing.assert_array_equal(out.numpy(), expected)
    same = glasstorch.tensor(x)
    assert F.normalize(same, mean, std, inplace=True) is same
    np.testing.assert_array_equal(same.numpy(), expected)


def test_normalize_errors():
    with pytest.raises(TypeError, match="should be a float tensor"):
        F.normalize(glasstorch.zeros(1, 2, 2, dtype=glasstorch.uint8), [0.5], [0.5])
    with pytest.raises(ValueError, match="division by zero"):
        F.normalize(glasstorch.zeros(1, 2, 2), [0.5], [0.0])
    with pytest.raises(ValueError, match="tensor image of size"):
        F.normalize(glasstorch.zeros(2, 2), [0.5], [0.5])
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.normalize(np.zeros((1, 2, 2), np.float32), [0.5], [0.5])


# ----------------------------------------------------------------------------- resize
@pytest.mark.parametrize("in_hw, out_hw", [((7, 9), (14, 5)), ((28, 28), (32, 32)), ((28, 28), (10, 13)),
                                           ((5, 3), (5, 8)), ((1, 4), (3, 2))])
def test_bilinear_resize_matches_torch_interpolate(in_hw, out_hw):
    x = rng_image(5, (2, 3) + in_hw, np.float32)
    ours = F.resize(glasstorch.tensor(x), out_hw)
    theirs = TF.interpolate(torch.tensor(x), size=out_hw, mode="bilinear", align_corners=False, antialias=False)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("in_hw, out_hw", [((7, 9), (14, 5)), ((28, 28), (10, 13))])
def test_nearest_resize_matches_torch_interpolate(in_hw, out_hw):
    x = rng_image(6, (1, 2) + in_hw, np.float32)
    ours = F.resize(glasstorch.tensor(x), out_hw, interpolation="nearest")
    theirs = TF.interpolate(torch.tensor(x), size=out_hw, mode="nearest")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_resize_uint8_arrays_round_and_keep_layout():
    img = rng_image(7, (6, 10, 3))
    out = F.resize(img, (9, 4))
    assert out.dtype == np.uint8 and out.shape == (9, 4, 3)
    as_float = TF.interpolate(torch.tensor(img.transpose(2, 0, 1)[None].astype(np.float32)), size=(9, 4),
                              mode="bilinear", align_corners=False).numpy()[0].transpose(1, 2, 0)
    assert np.abs(out.astype(np.int64) - np.rint(as_float)).max() <= 1  # ties may round either way


@pytest.mark.parametrize("hw, size, expected", [((20, 40), 10, (10, 20)), ((40, 20), 10, (20, 10)),
                                                ((28, 28), [14], (14, 14)), ((30, 45), 20, (20, 30))])
def test_int_size_sets_the_shorter_side(hw, size, expected):
    assert F.resize(np.zeros(hw, np.uint8), size).shape == expected


# ----------------------------------------------------------------------------- flips, pad, crops
def test_flips():
    img = rng_image(8, (4, 5, 3))
    np.testing.assert_array_equal(F.hflip(img), img[:, ::-1])
    np.testing.assert_array_equal(F.vflip(img), img[::-1])
    t = glasstorch.tensor(img.transpose(2, 0, 1).copy())
    np.testing.assert_array_equal(F.hflip(t).numpy(), t.numpy()[:, :, ::-1])


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding, ltrb", [(2, (2, 2, 2, 2)), ((1, 3), (1, 3, 1, 3)), ((1, 0, 2, 3), (1, 0, 2, 3))])
def test_pad_matches_numpy_pad(mode, padding, ltrb):
    img = rng_image(9, (4, 5))
    left, top, right, bottom = ltrb
    extra = {"constant_values": 7} if mode == "constant" else {}
    expected = np.pad(img, ((top, bottom), (left, right)), mode=mode, **extra)
    np.testing.assert_array_equal(F.pad(img, padding, fill=7, padding_mode=mode), expected)
    chw = glasstorch.tensor(np.stack([img, img + 1]))
    assert tuple(F.pad(chw, padding, padding_mode=mode).shape) == (2,) + expected.shape


def test_pad_checks():
    with pytest.raises(ValueError, match="Padding mode"):
        F.pad(np.zeros((2, 2)), 1, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2, or 4 element tuple"):
        F.pad(np.zeros((2, 2)), (1, 2, 3))


def test_crop_and_center_crop():
    img = rng_image(10, (9, 12))
    np.testing.assert_array_equal(F.crop(img, 2, 3, 4, 5), img[2:6, 3:8])
    for h, w in [(4, 4), (5, 8), (9, 12), (3, 7)]:
        top, left = int(round((9 - h) / 2.0)), int(round((12 - w) / 2.0))
        np.testing.assert_array_equal(F.center_crop(img, (h, w)), img[top:top + h, left:left + w])
    big = F.center_crop(img, (13, 14))   # larger than the image: zero border around it
    assert big.shape == (13, 14) and big.sum() == img.sum()
    np.testing.assert_array_equal(big[2:11, 1:13], img)


# ----------------------------------------------------------------------------- rotation and affine maps
def reference_sample(img, src_x, src_y, fill=0.0):
    """Bilinear sampling written out pixel by pixel: the NumPy reference."""
    h, w = img.shape
    out = np.empty(src_x.shape)
    for i in range(src_x.shape[0]):
        for j in range(src_x.shape[1]):
            x, y = src_x[i, j], src_y[i, j]
            x0, y0 = math.floor(x), math.floor(y)
            total = 0.0
            for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
                for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
                    value = img[yy, xx] if 0 <= yy < h and 0 <= xx < w else fill
                    total += wy * wx * value
            out[i, j] = total
    return out


def centred_grid(h, w):
    ys, xs = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2, indexing="ij")
    return xs, ys


@pytest.mark.parametrize("angle", [90.0, 30.0, -45.0, 17.0])
def test_rotation_formula(angle):
    img = rng_image(11, (7, 9), np.float64)
    xs, ys = centred_grid(7, 9)
    t = math.radians(angle)  # counter-clockwise on screen: output (x, y) reads input at R(-angle) (x, y)
    src_x = math.cos(t) * xs - math.sin(t) * ys + 4
    src_y = math.sin(t) * xs + math.cos(t) * ys + 3
    np.testing.assert_allclose(F.rotate(img, angle, interpolation="bilinear"), reference_sample(img, src_x, src_y),
                               atol=1e-9)


def test_rotate_90_is_rot90_and_180_flips_both_axes():
    square = rng_image(12, (6, 6))
    np.testing.assert_array_equal(F.rotate(square, 90), np.rot90(square))
    rect = rng_image(13, (5, 8, 3))
    np.testing.assert_array_equal(F.rotate(rect, 180), rect[::-1, ::-1])


@pytest.mark.parametrize("translate, scale", [((2, -1), 1.0), ((0, 0), 1.7), ((-3, 2), 0.6)])
def test_affine_translate_and_scale_formula(translate, scale):
    img = rng_image(14, (8, 10), np.float64)
    xs, ys = centred_grid(8, 10)
    src_x = (xs - translate[0]) / scale + 4.5
    src_y = (ys - translate[1]) / scale + 3.5
    out = F.affine(img, 0.0, translate, scale, 0.0, interpolation="bilinear", fill=0.5)
    np.testing.assert_allclose(out, reference_sample(img, src_x, src_y, fill=0.5), atol=1e-9)


def test_integer_translation_shifts_pixels():
    img = rng_image(15, (6, 7))
    out = F.affine(img, 0, (2, 1), 1.0, 0)
    expected = np.zeros_like(img)
    expected[1:, 2:] = img[:-1, :-2]
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("angle, translate, scale, shear", [(25.0, (1, -2), 1.2, (10.0, 0.0)),
                                                            (-70.0, (0, 0), 0.8, (-5.0, 12.0))])
def test_affine_sampling_matches_torch_grid_sample(angle, translate, scale, shear):
    x = rng_image(16, (2, 9, 11), np.float64)
    ours = F.affine(glasstorch.tensor(x), angle, translate, scale, shear, interpolation="bilinear").numpy()
    m = F._inverse_affine_matrix([0.0, 0.0], angle, translate, scale, shear)
    h, w = x.shape[-2:]
    theta = torch.tensor([[m[0, 0], m[0, 1] * h / w, m[0, 2] * 2 / w],
                          [m[1, 0] * w / h, m[1, 1], m[1, 2] * 2 / h]], dtype=torch.float64)[None]
    grid = TF.affine_grid(theta, (1, 2, h, w), align_corners=False)
    theirs = TF.grid_sample(torch.tensor(x)[None], grid, mode="bilinear", padding_mode="zeros",
                            align_corners=False)[0].numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_rotate_keeps_kind_and_dtype():
    img = rng_image(17, (5, 5, 3))
    out = F.rotate(img, 33, interpolation="bilinear")
    assert out.dtype == np.uint8 and out.shape == (5, 5, 3)
    t = F.rotate(glasstorch.tensor(img.transpose(2, 0, 1).astype(np.float32)), 33)
    assert isinstance(t, glasstorch.Tensor) and t.dtype == glasstorch.float32


def pil_expanded_size(h, w, angle):
    """PIL's rule (which torchvision copies): rotate the corners about (w/2, h/2), ceil(max) - floor(min)."""
    t = math.radians(angle)
    xs, ys = [], []
    for x, y in ((0, 0), (w, 0), (w, h), (0, h)):
        dx, dy = x - w / 2, y - h / 2
        xs.append(w / 2 + math.cos(t) * dx + math.sin(t) * dy)
        ys.append(h / 2 - math.sin(t) * dx + math.cos(t) * dy)
    tidy = [round(v, 6) for v in xs + ys]  # float noise away, as torchvision's 1e-4 truncation does
    xs, ys = tidy[:4], tidy[4:]
    return math.ceil(max(ys)) - math.floor(min(ys)), math.ceil(max(xs)) - math.floor(min(xs))


@pytest.mark.parametrize("hw, angle", [((6, 6), 90), ((5, 8), 90), ((10, 20), 30), ((7, 9), -45), ((4, 4), 0)])
def test_rotate_expand_holds_the_whole_image(hw, angle):
    img = np.ones(hw, np.float64)
    turned = F.rotate(img, angle, expand=True, interpolation="bilinear")
    assert turned.shape == pil_expanded_size(*hw, angle)
    assert turned.sum() == pytest.approx(img.sum(), rel=0.1)  # nothing cut off


def test_rotate_expand_90_contains_rot90():
    square = rng_image(18, (6, 6))
    np.testing.assert_array_equal(F.rotate(square, 90, expand=True), np.rot90(square))
