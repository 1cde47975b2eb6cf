"""ImageArrayDataset: samples, the batch fast path, and its fallback for transforms that are not batchable."""
import numpy as np

import glasstorch
from glasstorch.utils.data import DataLoader, default_collate
from glasstorch.vision import transforms
from glasstorch.vision.datasets import ImageArrayDataset


def make(transform=None, target_transform=None, n=9):
    rng = np.random.default_rng(n)
    return ImageArrayDataset(rng.integers(0, 256, (n, 5, 6)).astype(np.uint8), rng.integers(0, 3, n),
                             transform, target_transform)


def check_batch_equals_samples(ds, rows):
    fast = ds.__getbatch__(rows)
    slow = default_collate([ds[i] for i in rows])
    assert isinstance(fast, list) and len(fast) == 2
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_batches_equal_collated_samples():
    for transform in [None, transforms.ToTensor(),
                      transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2,), (0.7,))]),
                      transforms.Compose([transforms.Resize((3, 4)), transforms.ToTensor()]),
                      transforms.Compose([transforms.ToTensor(), transforms.Resize(10)])]:
        check_batch_equals_samples(make(transform), [4, 1, 1, 8])


def test_random_transforms_fall_back_to_one_by_one_with_the_same_draws():
    ds = make(transforms.Compose([transforms.RandomCrop(4, padding=1), transforms.ToTensor()]), lambda y: y + 10)
    glasstorch.manual_seed(0)
    fast = ds.__getbatch__([0, 1, 2])
    glasstorch.manual_seed(0)
    slow = default_collate([ds[i] for i in [0, 1, 2]])
    np.testing.assert_array_equal(fast[0].numpy(), slow[0].numpy())
    assert fast[1].tolist() == slow[1].tolist() == [int(ds.targets[i]) + 10 for i in range(3)]


def test_loader_uses_the_whole_dataset():
    ds = make(transforms.ToTensor(), n=23)
    seen = [y for _, labels in DataLoader(ds, batch_size=5, shuffle=True) for y in labels.tolist()]
    assert sorted(seen) == sorted(ds.targets.tolist())
