"""MNIST / FashionMNIST: the reference files in ../shared/data, both folder layouts, transforms, batches."""
import os

import numpy as np
import pytest

import glasstorch
from glasstorch.utils.data import DataLoader, default_collate
from glasstorch.vision import datasets, transforms
from glasstorch.vision.datasets import IDXError, write_idx

NOTES_TRANSFORM = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])


@pytest.mark.parametrize("cls, folder, first_labels, mean, std", [
    (datasets.MNIST, "mnist", [5, 0, 4, 1, 9, 2, 1, 3, 1, 4], 0.1307, 0.3081),
    (datasets.FashionMNIST, "fashion-mnist", [9, 0, 0, 3, 0, 2, 7, 2, 5, 5], 0.2860, 0.3530),
])
def test_reference_files(shared_data, cls, folder, first_labels, mean, std):
    train = cls(root=shared_data / folder, train=True)
    test = cls(root=shared_data / folder, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == glasstorch.uint8
    assert train.targets.dtype == glasstorch.int64 and train.targets[:10].tolist() == first_labels
    assert np.bincount(test.targets.numpy()).sum() == 10000 and len(train.classes) == 10
    # pixel histogram, in chunks (bincount widens uint8 to int64 first): exact mean and std, no float copy
    counts = sum(np.bincount(chunk.reshape(-1), minlength=256) for chunk in np.array_split(train.data.numpy(), 30))
    values = np.arange(256) / 255.0
    pixel_mean = (counts * values).sum() / counts.sum()
    pixel_std = np.sqrt((counts * (values - pixel_mean) ** 2).sum() / counts.sum())
    assert round(pixel_mean, 4) == mean and round(pixel_std, 4) == std
    image, label = train[0]
    assert isinstance(image, np.ndarray) and image.shape == (28, 28) and image.dtype == np.uint8
    assert label == first_labels[0] and isinstance(label, int)


def test_the_notes_loading_code(shared_data):
    trainset = datasets.MNIST(root=shared_data / "mnist", train=True, download=True, transform=NOTES_TRANSFORM)
    trainloader = DataLoader(trainset, batch_size=64, shuffle=True)
    assert len(trainloader) == 938
    images, labels = next(iter(trainloader))
    assert images.shape == (64, 1, 28, 28) and images.dtype == glasstorch.float32 and labels.dtype == glasstorch.int64
    assert images.min().item() >= -1 and images.max().item() <= 1
    x, y = trainset[0]
    np.testing.assert_allclose(x.numpy()[0], trainset.data.numpy()[0] / 255 * 2 - 1, atol=1e-6)


def test_torchvision_layout_with_uncompressed_files(shared_data, tmp_path):
    import gzip
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(gzip.decompress((shared_data / "fashion-mnist" / f"{name}.gz").read_bytes()))
    test = datasets.FashionMNIST(root=tmp_path, train=False, download=True)  # valid files: nothing downloaded
    assert len(test) == 10000 and test.targets[:3].tolist() == [9, 2, 1]


# ----------------------------------------------------------------------------- tiny files written here
@pytest.fixture
def tiny_mnist(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, 12).astype(np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels)
    return tmp_path, images, labels


def test_plain_folder_and_sample_types(tiny_mnist):
    root, images, labels = tiny_mnist
    ds = datasets.MNIST(root)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds.targets.tolist() == labels.tolist()
    assert ds.class_to_idx["3 - three"] == 3 and "Number of datapoints: 12" in repr(ds)


def test_transforms_and_batches_agree_with_one_by_one(tiny_mnist):
    root, images, labels = tiny_mnist
    for transform, target_transform in [(None, None), (NOTES_TRANSFORM, None),
                                        (transforms.Compose([transforms.Resize(14), transforms.ToTensor()]), None),
                                        (transforms.Lambda(lambda im: im.astype(np.float32).sum()), lambda y: y * 2)]:
        ds = datasets.MNIST(root, transform=transform, target_transform=target_transform)
        rows = [3, 0, 7, 7]
        fast = ds.__getbatch__(rows)
        slow = default_collate([ds[i] for i in rows])
        for a, b in zip(fast, slow):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_missing_files_error_names_files_and_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSTORCH_DATA", str(tmp_path / "cache"))
    with pytest.raises(RuntimeError) as error:
        datasets.FashionMNIST(root=tmp_path / "data")
    message = str(error.value)
    for part in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", str(tmp_path / "data"),
                 str(tmp_path / "data" / "FashionMNIST" / "raw"), str(tmp_path / "cache"), "download=True"):
        assert part in message


def test_inconsistent_files_are_rejected(tiny_mnist):
    root, images, _ = tiny_mnist
    write_idx(root / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(IDXError, match="12 images but"):
        datasets.MNIST(root)
    write_idx(root / "train-labels-idx1-ubyte.gz", np.full(12, 10, np.uint8))
    with pytest.raises(IDXError, match="out of range"):
        datasets.MNIST(root)
    write_idx(root / "train-images-idx3-ubyte.gz", np.zeros((12, 8, 8), np.uint8))
    with pytest.raises(IDXError, match="expected"):
        datasets.MNIST(root)




def test_root_may_be_the_data_folder_or_come_from_the_cache_variable(shared_data, monkeypatch, tmp_path):
    assert datasets.FashionMNIST(root=shared_data, train=False).targets[:3].tolist() == [9, 2, 1]
    monkeypatch.setenv("GLASSTORCH_DATA", str(shared_data))
    assert len(datasets.MNIST(root=tmp_path / "empty", train=False)) == 10000
