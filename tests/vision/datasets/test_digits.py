"""Digits: scikit-learn's 8×8 digits with the fixed 1437 / 360 split, scaled to uint8."""
import numpy as np
import pytest

import glasstorch
from glasstorch.utils.data import DataLoader
from glasstorch.vision import datasets, transforms

sklearn_datasets = pytest.importorskip("sklearn.datasets")


def test_same_images_and_labels_as_scikit_learn():
    reference = sklearn_datasets.load_digits()
    train, test = datasets.Digits(train=True), datasets.Digits(train=False)
    assert len(train) == 1437 and len(test) == 360
    images = np.concatenate([train.data.numpy(), test.data.numpy()])
    assert images.dtype == np.uint8 and images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images, np.rint(reference.images * 255 / 16))
    np.testing.assert_array_equal(np.concatenate([train.targets.numpy(), test.targets.numpy()]), reference.target)


def test_to_tensor_gives_unit_range_and_batches():
    ds = datasets.Digits(root="ignored", transform=transforms.ToTensor(), download=True)
    x, y = ds[5]
    assert x.shape == (1, 8, 8) and x.dtype == glasstorch.float32 and 0 <= x.min().item() <= x.max().item() <= 1
    images, labels = next(iter(DataLoader(ds, batch_size=100)))
    assert images.shape == (100, 1, 8, 8) and labels.dtype == glasstorch.int64
    np.testing.assert_array_equal(images.numpy()[5], x.numpy())
