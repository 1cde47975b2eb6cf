"""Transform classes: composition, reproducible randomness under manual_seed, and every image kind."""
import numpy as np
import pytest

import glasstorch
from glasstorch.vision import transforms as T
from glasstorch.vision.transforms import functional as F


def image(seed=0, shape=(8, 10)):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


def test_compose_applies_in_order_and_prints_like_torchvision():
    pipeline = T.Compose([T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 10)])
    assert pipeline(1) == 20
    notes = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    assert repr(notes) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,), inplace=False)\n)"
    out = notes(image())
    np.testing.assert_allclose(out.numpy()[0], image() / 255.0 * 2 - 1, atol=1e-6)


def test_batchable_flags():
    assert T.Compose([T.ToTensor(), T.Normalize((0.1,), (0.3,)), T.Resize(4)]).batchable
    assert not T.Compose([T.ToTensor(), T.RandomHorizontalFlip()]).batchable
    assert not T.Lambda(abs).batchable


def test_lambda_needs_a_callable():
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)


def test_deterministic_classes_call_functional():
    img = image(1, (9, 12))
    np.testing.assert_array_equal(T.Resize((4, 6))(img), F.resize(img, (4, 6)))
    np.testing.assert_array_equal(T.CenterCrop(5)(img), F.center_crop(img, 5))
    np.testing.assert_array_equal(T.Pad((1, 2), fill=9)(img), F.pad(img, (1, 2), fill=9))
    with pytest.raises(ValueError):
        T.Pad(1, padding_mode="circular")


def draws(transform, img, seed, n=5):
    glasstorch.manual_seed(seed)
    return [transform(img) for _ in range(n)]


@pytest.mark.parametrize("transform", [T.RandomCrop(6, padding=2), T.RandomHorizontalFlip(), T.RandomVerticalFlip(),
                                       T.RandomRotation(30), T.RandomAffine(20, translate=(0.2, 0.1), scale=(0.8, 1.2),
                                                                            shear=10)])
def test_random_transforms_repeat_under_manual_seed(transform):
    img = image(2)
    first, again, other = draws(transform, img, 0), draws(transform, img, 0), draws(transform, img, 1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))


def test_random_crop_is_a_crop_of_the_padded_image_at_every_offset():
    img = image(3, (6, 6))
    padded = np.pad(img, 2)
    glasstorch.manual_seed(0)
    offsets = set()
    for _ in range(300):
        out = T.RandomCrop(6, padding=2)(img)
        hits = [(i, j) for i in range(5) for j in range(5) if np.array_equal(padded[i:i + 6, j:j + 6], out)]
        assert hits
        offsets.update(hits)
    assert len(offsets) == 25


def test_random_crop_pad_if_needed_and_too_large():
    small = image(4, (3, 4))
    assert T.RandomCrop((5, 6), pad_if_needed=True)(small).shape == (5, 6)
    with pytest.raises(ValueError, match="Required crop size"):
        T.RandomCrop(5)(small)


def test_flip_probability():
    img = image(5)
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    glasstorch.manual_seed(0)
    flipped = sum(not np.array_equal(T.RandomHorizontalFlip(0.3)(img), img) for _ in range(2000))
    assert abs(flipped / 2000 - 0.3) < 0.04


def test_random_rotation_uses_an_angle_from_its_range():
    img = image(6)
    glasstorch.manual_seed(3)
    angle = T.RandomRotation.get_params((-30.0, 30.0))
    assert -30 <= angle <= 30
    glasstorch.manual_seed(3)
    np.testing.assert_array_equal(T.RandomRotation(30)(img), F.rotate(img, angle))
    assert T.RandomRotation((10, 20)).degrees == (10.0, 20.0)
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-5)


def test_random_affine_parameters_and_result():
    img = image(7, (10, 20))
    transform = T.RandomAffine(15, translate=(0.1, 0.3), scale=(0.9, 1.1), shear=(-5, 5, -2, 2))
    glasstorch.manual_seed(9)
    angle, (tx, ty), scale, (sx, sy) = T.RandomAffine.get_params(transform.degrees, transform.translate,
                                                                 transform.scale, transform.shear, [20, 10])
    assert -15 <= angle <= 15 and abs(tx) <= 2 and abs(ty) <= 3 and 0.9 <= scale <= 1.1
    assert -5 <= sx <= 5 and -2 <= sy <= 2 and isinstance(tx, int)
    glasstorch.manual_seed(9)
    np.testing.assert_array_equal(transform(img), F.affine(img, angle, (tx, ty), scale, (sx, sy)))
    with pytest.raises(ValueError, match="between 0 and 1"):
        T.RandomAffine(0, translate=(1.5, 0))


@pytest.mark.parametrize("transform", [T.RandomCrop(6, padding=1), T.RandomRotation(20), T.CenterCrop(4),
                                       T.Resize((5, 7)), T.RandomAffine(10, scale=(0.9, 1.1)), T.Pad(2)])
def test_every_image_kind_gives_the_same_pixels(transform):
    Image = pytest.importorskip("PIL.Image")
    hwc = image(8, (8, 9, 3))
    chw = glasstorch.tensor(hwc.transpose(2, 0, 1).copy())
    glasstorch.manual_seed(1)
    from_array = transform(hwc)
    glasstorch.manual_seed(1)
    from_tensor = transform(chw)
    glasstorch.manual_seed(1)
    from_pil = transform(Image.fromarray(hwc))
    assert isinstance(from_tensor, glasstorch.Tensor) and isinstance(from_pil, Image.Image)
    np.testing.assert_array_equal(from_tensor.numpy().transpose(1, 2, 0), from_array)
    np.testing.assert_array_equal(np.asarray(from_pil), from_array)


def test_augmentation_pipeline_from_the_notes():
    pipeline = T.Compose([T.RandomHorizontalFlip(), T.RandomRotation(10), T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    out = pipeline(image(9, (28, 28)))
    assert tuple(out.shape) == (1, 28, 28) and out.dtype == glasstorch.float32
    assert -1 <= out.min().item() and out.max().item() <= 1
