"""transforms.v2 classes: deterministic cases exactly, random ones by their distribution (glasstorch's generator)."""
import math

import numpy as np
import pytest

import glasstorch
from glasstorch import nn
from glasstorch.vision.transforms import v2
from glasstorch.vision.transforms.v2 import functional as F


def image(c=3, h=8, w=10, seed=0):
    return glasstorch.tensor(np.random.default_rng(seed).integers(0, 256, (c, h, w)).astype(np.uint8))


def test_pipeline_passes_labels_through_and_keeps_the_structure():
    hwc = np.random.default_rng(1).integers(0, 256, (8, 10, 3)).astype(np.uint8)
    transform = v2.Compose([v2.ToImage(), v2.ToDtype(glasstorch.float32, scale=True),
                            v2.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])])
    out, label = transform(hwc, 7)
    assert label == 7 and out.dtype == glasstorch.float32 and tuple(out.shape) == (3, 8, 10)
    np.testing.assert_allclose(out.numpy(), (hwc.transpose(2, 0, 1) * np.float32(1 / 255) - 0.5) / 0.5, atol=1e-6)
    sample = {"image": hwc, "label": 3, "boxes": [1, 2]}
    result = transform(sample)
    assert set(result) == {"image", "label", "boxes"} and result["label"] == 3 and result["boxes"] == [1, 2]
    assert tuple(result["image"].shape) == (3, 8, 10)
    # only the first tensor is the image; a second tensor (a target) passes through untouched
    target = glasstorch.tensor([1.0, 2.0])
    flipped, same = v2.RandomHorizontalFlip(p=1.0)(image(), target)
    assert same is target
    np.testing.assert_array_equal(flipped.numpy(), image().numpy()[..., ::-1])


def test_transforms_are_modules():
    pipeline = nn.Sequential(v2.RandomHorizontalFlip(p=1.0), v2.ToDtype(glasstorch.float32, scale=True))
    out = pipeline(image())
    assert isinstance(v2.Resize(4), nn.Module) and out.dtype == glasstorch.float32
    np.testing.assert_allclose(out.numpy(), image().numpy()[..., ::-1] / np.float32(255), rtol=1e-6)
    assert "RandomHorizontalFlip(p=1.0)" in repr(v2.Compose([v2.RandomHorizontalFlip(p=1.0)]))


def test_flip_probability_0_and_1_and_its_frequency():
    x = image()
    assert v2.RandomHorizontalFlip(p=0.0)(x) is x
    np.testing.assert_array_equal(v2.RandomVerticalFlip(p=1.0)(x).numpy(), x.numpy()[:, ::-1])
    glasstorch.manual_seed(0)
    flip = v2.RandomHorizontalFlip(p=0.3)
    n = 2000
    flipped = sum(flip(x) is not x for _ in range(n))
    assert abs(flipped / n - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)  # within 4 standard errors


def test_seed_repeats_a_random_pipeline():
    pipeline = v2.Compose([v2.RandomCrop(6, padding=2), v2.RandomHorizontalFlip(), v2.RandomRotation(30),
                           v2.ColorJitter(0.4, 0.4, 0.4, 0.1), v2.RandomErasing(p=1.0)])
    glasstorch.manual_seed(5)
    first = [pipeline(image()).numpy() for _ in range(3)]
    glasstorch.manual_seed(5)
    second = [pipeline(image()).numpy() for _ in range(3)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])


def test_random_crop_windows_are_uniform_over_the_padded_image():
    x = glasstorch.tensor(np.arange(1 * 4 * 5, dtype=np.float32).reshape(1, 4, 5) + 1)
    crop = v2.RandomCrop((3, 3), padding=1)
    padded = np.pad(x.numpy(), ((0, 0), (1, 1), (1, 1)))
    windows = {(r, c): padded[:, r:r + 3, c:c + 3] for r in range(4) for c in range(5)}
    glasstorch.manual_seed(0)
    counts = dict.fromkeys(windows, 0)
    n = 4000
    for _ in range(n):
        out = crop(x).numpy()
        match = [key for key, window in windows.items() if np.array_equal(window, out)]
        assert len(match) == 1
        counts[match[0]] += 1
    expected = n / len(windows)
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 50  # 19 degrees of freedom: P(chi2 > 50) < 1e-4


def test_random_crop_padding_modes_and_errors():
    x = image(h=4, w=4)
    assert tuple(v2.RandomCrop(4)(x).shape) == (3, 4, 4)
    np.testing.assert_array_equal(v2.RandomCrop(4)(x).numpy(), x.numpy())  # crop = image: nothing drawn
    grown = v2.RandomCrop((6, 5), pad_if_needed=True, padding_mode="edge")(x)
    assert tuple(grown.shape) == (3, 6, 5)
    with pytest.raises(ValueError, match="larger than input image size"):
        v2.RandomCrop(5)(x)
    with pytest.raises(ValueError, match="Padding mode"):
        v2.RandomCrop(3, padding_mode="wrap")


def test_rotation_fixed_angle_and_angle_distribution():
    x = image(h=6, w=6)
    quarter = v2.RandomRotation((90, 90))(x)
    np.testing.assert_array_equal(quarter.numpy(), np.rot90(x.numpy(), 1, axes=(1, 2)))  # counter-clockwise
    rotation = v2.RandomRotation(20)
    glasstorch.manual_seed(1)
    angles = np.array([rotation.make_params([x])["angle"] for _ in range(3000)])
    assert angles.min() >= -20 and angles.max() <= 20
    assert abs(angles.mean()) < 4 * 40 / math.sqrt(12 * 3000)
    assert abs(angles.std() - 40 / math.sqrt(12)) < 0.5  # uniform on (-20, 20)


def test_color_jitter_fixed_factors_and_draws():
    x = image()
    fixed = v2.ColorJitter(brightness=(1.5, 1.5))
    np.testing.assert_array_equal(fixed(x).numpy(), F.adjust_brightness(x, 1.5).numpy())
    assert v2.ColorJitter().make_params([x])["factors"] == [None] * 4
    jitter = v2.ColorJitter(brightness=0.5, contrast=(0.2, 0.4), hue=0.1)
    assert jitter.brightness == (0.5, 1.5) and jitter.saturation is None
    glasstorch.manual_seed(2)
    draws = [jitter.make_params([x]) for _ in range(2000)]
    b = np.array([d["factors"][0] for d in draws])
    c = np.array([d["factors"][1] for d in draws])
    h = np.array([d["factors"][3] for d in draws])
    assert 0.5 <= b.min() and b.max() <= 1.5 and abs(b.mean() - 1.0) < 0.03
    assert 0.2 <= c.min() and c.max() <= 0.4 and abs(h.mean()) < 0.01 and np.abs(h).max() <= 0.1
    orders = {tuple(d["order"]) for d in draws}
    assert all(sorted(o) == [0, 1, 2, 3] for o in orders) and len(orders) == 24  # every order occurs
    with pytest.raises(ValueError, match="hue values should be between"):
        v2.ColorJitter(hue=0.7)
    with pytest.raises(TypeError, match="single number or a sequence"):
        v2.ColorJitter(brightness=[1, 2, 3])


def test_random_erasing_rectangle_value_and_area():
    x = glasstorch.tensor(np.ones((3, 20, 30), dtype=np.float32))
    assert v2.RandomErasing(p=0.0)(x) is x
    erase = v2.RandomErasing(p=1.0, scale=(0.1, 0.2), value=0)
    glasstorch.manual_seed(3)
    for _ in range(50):
        out = erase(x).numpy()
        rows, cols = np.nonzero(out[0] == 0)
        assert (out[:, rows.min():rows.max() + 1, cols.min():cols.max() + 1] == 0).all()  # one full rectangle
        area = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert 0.1 * 600 * 0.8 <= area <= 0.2 * 600 * 1.2  # rounding h and w moves the area a little
        assert (out != 0).sum() == out.size - 3 * area
    noisy = v2.RandomErasing(p=1.0, value="random")(x).numpy()
    assert (noisy != 1).any() and noisy.std() > 0.1
    per_channel = v2.RandomErasing(p=1.0, value=(2, 3, 4))(x).numpy()
    assert {2.0, 3.0, 4.0} <= set(np.unique(per_channel))
    with pytest.raises(ValueError, match="either a single value or 3"):
        v2.RandomErasing(p=1.0, value=(1, 2))(x)
    with pytest.raises(ValueError, match="'random'"):
        v2.RandomErasing(value="noise")


def test_pil_images_and_what_refuses_them():
    Image = pytest.importorskip("PIL.Image")
    hwc = np.random.default_rng(4).integers(0, 256, (8, 10, 3)).astype(np.uint8)
    pil, mask = Image.fromarray(hwc), Image.fromarray(hwc[:, :, 0])
    out_image, out_mask = v2.RandomHorizontalFlip(p=1.0)(pil, mask)  # every PIL image gets the same flip
    np.testing.assert_array_equal(np.asarray(out_image), hwc[:, ::-1])
    np.testing.assert_array_equal(np.asarray(out_mask), hwc[:, ::-1, 0])
    resized = v2.Resize((4, 5))(pil)
    assert isinstance(resized, Image.Image) and resized.size == (5, 4)
    tensor = v2.Compose([v2.PILToTensor(), v2.ToDtype(glasstorch.float32, scale=True)])(pil)
    assert tensor.dtype == glasstorch.float32 and tuple(tensor.shape) == (3, 8, 10)
    with pytest.raises(TypeError, match="Normalize does not support PIL"):
        v2.Normalize([0.5] * 3, [0.5] * 3)(pil)
    with pytest.raises(TypeError, match="RandomErasing does not support PIL"):
        v2.RandomErasing(p=1.0)(pil)


def test_resize_and_center_crop_transforms():
    x = glasstorch.tensor(np.random.default_rng(5).random((3, 20, 30)).astype(np.float32))
    np.testing.assert_array_equal(v2.Resize(10)(x).numpy(), F.resize(x, [10]).numpy())
    assert tuple(v2.Resize((7, 9), antialias=False)(x).shape) == (3, 7, 9)
    np.testing.assert_array_equal(v2.CenterCrop(10)(x).numpy(), x.numpy()[:, 5:15, 10:20])
    with pytest.raises(ValueError, match="size can be an integer"):
        v2.Resize("big")


def test_random_resized_crop_fixed_case_regions_and_fallback():
    x = glasstorch.tensor(np.random.default_rng(6).random((3, 20, 30)).astype(np.float32))
    whole = v2.RandomResizedCrop((10, 12), scale=(1.0, 1.0), ratio=(1.5, 1.5))  # the only region: the image
    np.testing.assert_array_equal(whole(x).numpy(), F.resize(x, [10, 12]).numpy())
    crop = v2.RandomResizedCrop(8, scale=(0.2, 0.5))
    glasstorch.manual_seed(7)
    for _ in range(300):
        p = crop.make_params([x])
        assert p["top"] >= 0 and p["left"] >= 0 and p["top"] + p["height"] <= 20 and p["left"] + p["width"] <= 30
        assert 0.2 * 600 * 0.8 <= p["height"] * p["width"] <= 0.5 * 600 * 1.2
        assert 3 / 4 * 0.8 <= p["width"] / p["height"] <= 4 / 3 * 1.25
    out = crop(x)
    assert tuple(out.shape) == (3, 8, 8)
    p = v2.RandomResizedCrop(8, scale=(1.0, 1.0), ratio=(1.0, 1.0)).make_params([x])  # cannot fit: centre fallback
    assert p == {"top": 0, "left": 5, "height": 20, "width": 20}
