"""FakeData: deterministic per index, independent of the global generator, torchvision's shapes."""
import numpy as np
import pytest

import glasstorch
from glasstorch.utils.data import DataLoader
from glasstorch.vision.datasets import FakeData
from glasstorch.vision.transforms import v2


def test_samples_are_deterministic_per_index_and_leave_the_generator_alone():
    data = FakeData(size=20, image_size=(3, 6, 7), num_classes=4)
    glasstorch.manual_seed(0)
    state = glasstorch.get_rng_state()
    image, label = data[5]
    np.testing.assert_array_equal(glasstorch.get_rng_state().numpy(), state.numpy())
    again, label_again = data[5]
    assert image.shape == (6, 7, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, again)
    assert label.dtype == glasstorch.int64 and label.ndim == 0 and int(label) == int(label_again)
    assert not np.array_equal(data[4][0], image)
    shifted = FakeData(size=20, image_size=(3, 6, 7), num_classes=4, random_offset=1)
    np.testing.assert_array_equal(shifted[4][0], image)  # sample i is seeded by i + random_offset
    assert len(data) == 20


def test_labels_cover_the_classes_and_images_are_noise():
    data = FakeData(size=400, image_size=(1, 5, 5), num_classes=3)
    labels = [int(data[i][1]) for i in range(400)]
    counts = np.bincount(labels, minlength=3)
    assert counts.min() > 100  # uniform over 3 classes: about 133 each
    assert data[0][0].shape == (5, 5)  # one channel: H×W, as a grey PIL image
    pixels = np.concatenate([data[i][0].ravel() for i in range(50)])
    assert len(np.unique(pixels)) > 200


def test_index_errors_and_a_loader_with_transforms():
    data = FakeData(size=6, image_size=(3, 8, 8), num_classes=10,
                    transform=v2.Compose([v2.ToImage(), v2.ToDtype(glasstorch.float32, scale=True)]))
    with pytest.raises(IndexError, match="FakeData index out of range"):
        data[6]
    images, labels = next(iter(DataLoader(data, batch_size=4)))
    assert tuple(images.shape) == (4, 3, 8, 8) and images.dtype == glasstorch.float32
    assert labels.dtype == glasstorch.int64 and tuple(labels.shape) == (4,)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        FakeData(image_size=(8, 8))
