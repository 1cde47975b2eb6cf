"""transforms.v2.functional against torch (interpolate, dtype conversion), Pillow and closed forms (colorsys)."""
import colorsys

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.vision.transforms.v2 import functional as F

RNG = np.random.default_rng(0)


def uint8_image(c=3, h=11, w=14):
    return RNG.integers(0, 256, (c, h, w)).astype(np.uint8)


def test_to_image_keeps_dtype_and_moves_channels_first():
    hwc = uint8_image().transpose(1, 2, 0).copy()
    out = F.to_image(hwc)
    assert out.dtype == glasstorch.uint8 and tuple(out.shape) == (3, 11, 14)
    np.testing.assert_array_equal(out.numpy(), hwc.transpose(2, 0, 1))
    assert tuple(F.to_image(hwc[:, :, 0]).shape) == (1, 11, 14)
    Image = pytest.importorskip("PIL.Image")
    np.testing.assert_array_equal(F.to_image(Image.fromarray(hwc)).numpy(), hwc.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="numpy array, a PIL image or a tensor"):
        F.to_image([1, 2, 3])


def test_to_dtype_scales_as_torchvision():
    a = uint8_image()
    ours = F.to_dtype(glasstorch.tensor(a), glasstorch.float32, scale=True)
    theirs = torch.tensor(a).to(torch.float32).mul_(1.0 / 255)  # torchvision's int -> float
    assert ours.dtype == glasstorch.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.numpy().max() <= 1.0
    x = RNG.random((3, 5, 5)).astype(np.float32)
    x[0, 0, 0], x[0, 0, 1] = 1.0, 0.0
    back = F.to_dtype(glasstorch.tensor(x), glasstorch.uint8, scale=True)
    np.testing.assert_array_equal(back.numpy(), torch.tensor(x).mul(255 + 1.0 - 1e-3).to(torch.uint8).numpy())
    assert back.numpy()[0, 0, 0] == 255 and back.numpy()[0, 0, 1] == 0
    np.testing.assert_array_equal(F.to_dtype(glasstorch.tensor(a), glasstorch.float32).numpy(), a.astype(np.float32))
    # uint8 -> float -> uint8 gives every byte back
    np.testing.assert_array_equal(F.to_dtype(ours, glasstorch.uint8, scale=True).numpy(), a)


@pytest.mark.parametrize("in_hw, out_hw", [((37, 53), (10, 17)), ((20, 20), (7, 31)), ((9, 13), (30, 5)),
                                           ((64, 48), (32, 24)), ((16, 16), (16, 9))])
def test_resize_antialias_matches_torch_interpolate(in_hw, out_hw):
    x = RNG.random((2, 3, *in_hw)).astype(np.float32)
    ours = F.resize(glasstorch.tensor(x), list(out_hw)).numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(x), size=out_hw, mode="bilinear", antialias=True,
                                             align_corners=False).numpy()
    np.testing.assert_allclose(ours, theirs, atol=2e-6)
    # uint8: torch's uint8 kernel and Pillow quantise their weights; we round each pass -> at most 1 apart
    a = uint8_image(3, *in_hw)
    ours8 = F.resize(glasstorch.tensor(a), list(out_hw)).numpy().astype(int)
    theirs8 = torch.nn.functional.interpolate(torch.tensor(a)[None], size=out_hw, mode="bilinear", antialias=True,
                                              align_corners=False)[0].numpy().astype(int)
    assert np.abs(ours8 - theirs8).max() <= 1 and (ours8 == theirs8).mean() > 0.9


def test_resize_uint8_shrinking_equals_pillow():
    Image = pytest.importorskip("PIL.Image")
    a = uint8_image(3, 40, 60)
    ours = F.resize(glasstorch.tensor(a), [13, 17]).numpy()
    pil = np.stack([np.asarray(Image.fromarray(c).resize((17, 13), Image.BILINEAR)) for c in a])
    # Pillow's weights are 22-bit fixed point: a value just at .5 may round the other way (DIFFERENCES.md)
    assert np.abs(ours.astype(int) - pil).max() <= 1 and (ours == pil).mean() > 0.99
    # a PIL image goes through PIL itself
    out = F.resize(Image.fromarray(a.transpose(1, 2, 0)), [13, 17])
    assert isinstance(out, Image.Image)
    np.testing.assert_array_equal(np.asarray(out).transpose(2, 0, 1), pil)


def test_resize_sizes_nearest_and_no_antialias():
    x = glasstorch.tensor(RNG.random((3, 20, 30)).astype(np.float32))
    assert tuple(F.resize(x, 10).shape) == (3, 10, 15)  # an int: the shorter side
    assert tuple(F.resize(x, [10]).shape) == (3, 10, 15)
    assert tuple(F.resize(x, 10, max_size=12).shape) == (3, 8, 12)
    assert tuple(F.resize(glasstorch.tensor(RNG.random((1, 30, 20)).astype(np.float32)), 10).shape) == (1, 15, 10)
    with pytest.raises(ValueError, match="max_size"):
        F.resize(x, [10, 10], max_size=20)
    plain = torch.nn.functional.interpolate(torch.tensor(x.numpy())[None], size=(7, 9), mode="bilinear",
                                            align_corners=False)[0].numpy()
    np.testing.assert_allclose(F.resize(x, [7, 9], antialias=False).numpy(), plain, atol=1e-5)
    nearest = torch.nn.functional.interpolate(torch.tensor(x.numpy())[None], size=(7, 9), mode="nearest")[0].numpy()
    np.testing.assert_array_equal(F.resize(x, [7, 9], interpolation="nearest").numpy(), nearest)


def luma(a):
    return a[0] * np.float32(0.2989) + a[1] * np.float32(0.587) + a[2] * np.float32(0.114)


def test_brightness_contrast_saturation_on_uint8_follow_the_blend_rule():
    a = uint8_image()
    t = glasstorch.tensor(a)
    f32 = a.astype(np.float32)
    bright = F.adjust_brightness(t, 1.7).numpy()
    np.testing.assert_array_equal(bright, np.clip(f32 * np.float32(1.7), 0, 255).astype(np.uint8))
    assert bright.dtype == np.uint8
    np.testing.assert_array_equal(F.adjust_brightness(t, 1.0).numpy(), a)
    mean = np.floor(luma(f32)).mean(dtype=np.float32)
    flat = F.adjust_contrast(t, 0.0).numpy()
    np.testing.assert_array_equal(flat, np.full_like(a, int(mean)))  # contrast 0: the mean grey everywhere
    grey = F.adjust_saturation(t, 0.0).numpy()
    np.testing.assert_array_equal(grey, np.broadcast_to(np.floor(luma(f32)).astype(np.uint8), a.shape))
    half = F.adjust_saturation(t, 0.5).numpy()
    expected = np.clip(f32 * np.float32(0.5) + np.floor(luma(f32)) * np.float32(0.5), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(half, expected)


def test_colour_on_float_images_and_grey_images():
    x = RNG.random((3, 6, 7)).astype(np.float32)
    out = F.adjust_contrast(glasstorch.tensor(x), 2.0).numpy()
    np.testing.assert_allclose(out, np.clip(2 * x - luma(x).mean(), 0, 1), atol=1e-6)
    g = glasstorch.tensor(x[:1])
    np.testing.assert_array_equal(F.adjust_saturation(g, 0.3).numpy(), x[:1])  # nothing to desaturate
    with pytest.raises(TypeError, match="1 or 3"):
        F.adjust_brightness(glasstorch.tensor(RNG.random((4, 3, 3)).astype(np.float32)), 1.2)
    with pytest.raises(ValueError, match="not non-negative"):
        F.adjust_contrast(glasstorch.tensor(x), -1)


def test_adjust_hue_equals_colorsys():
    x = RNG.random((3, 5, 6)).astype(np.float32)
    out = F.adjust_hue(glasstorch.tensor(x), 0.23).numpy()
    expected = np.empty_like(x)
    for i in range(5):
        for j in range(6):
            h, s, v = colorsys.rgb_to_hsv(*x[:, i, j])
            expected[:, i, j] = colorsys.hsv_to_rgb((h + 0.23) % 1.0, s, v)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    red = glasstorch.tensor(np.array([255, 0, 0], np.uint8).reshape(3, 1, 1))
    np.testing.assert_array_equal(F.adjust_hue(red, 1 / 3).numpy().ravel(), [0, 255, 0])  # a third of the circle
    a = uint8_image()
    assert np.abs(F.adjust_hue(glasstorch.tensor(a), 0.0).numpy().astype(int) - a).max() <= 1
    with pytest.raises(ValueError, match=r"\[-0.5, 0.5\]"):
        F.adjust_hue(red, 0.7)


def test_colour_kernels_take_pil_images():
    Image = pytest.importorskip("PIL.Image")
    a = uint8_image()
    out = F.adjust_brightness(Image.fromarray(a.transpose(1, 2, 0)), 0.5)
    assert out.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(out).transpose(2, 0, 1), F.adjust_brightness(glasstorch.tensor(a),
                                                                                           0.5).numpy())


def test_erase_and_rgb_to_grayscale():
    x = glasstorch.tensor(RNG.random((3, 6, 7)).astype(np.float32))
    out = F.erase(x, 1, 2, 3, 4, glasstorch.tensor(np.float32(0.5)))
    expected = x.numpy().copy()
    expected[:, 1:4, 2:6] = 0.5
    np.testing.assert_array_equal(out.numpy(), expected)
    assert not np.array_equal(x.numpy(), out.numpy())  # not in place unless asked
    F.erase(x, 0, 0, 1, 1, 0.0, inplace=True)
    assert x.numpy()[0, 0, 0] == 0.0
    grey3 = F.rgb_to_grayscale(x, num_output_channels=3).numpy()
    assert grey3.shape == (3, 6, 7)
    np.testing.assert_allclose(grey3[1], luma(x.numpy()), atol=1e-6)
