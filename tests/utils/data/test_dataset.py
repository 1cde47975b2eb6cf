"""Dataset, TensorDataset, ConcatDataset, Subset, ChainDataset and random_split."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.utils.data import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,
                                   default_collate, random_split)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Count(IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def test_tensor_dataset_items_and_batches():
    rng = np.random.default_rng(0)
    n = int(rng.integers(5, 20))
    x, y = glasstorch.tensor(rng.standard_normal((n, 3)).astype(np.float32)), glasstorch.arange(n)
    ds = TensorDataset(x, y)
    assert len(ds) == n
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.numpy(), x.numpy()[2])
    assert yi.item() == 2
    rows = rng.permutation(n)[:4].tolist()
    fast = ds.__getbatch__(rows)
    slow = default_collate([ds[i] for i in rows])
    assert isinstance(fast, list) and len(fast) == 2
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_tensor_dataset_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(glasstorch.zeros(3, 2), glasstorch.zeros(4))
    with pytest.raises(TypeError):
        TensorDataset(np.zeros(3))


def test_concat_dataset_indexes_across_parts():
    ds = ConcatDataset([Squares(3), Squares(2), Squares(4)])
    assert len(ds) == 9
    assert [ds[i] for i in range(9)] == [0, 1, 4, 0, 1, 0, 1, 4, 9]
    assert ds[-1] == 9
    assert ds.cumulative_sizes == [3, 5, 9]
    assert len(Squares(2) + Squares(3)) == 5
    with pytest.raises(AssertionError, match="IterableDataset"):
        ConcatDataset([Count(0, 2)])


def test_subset_and_its_batch_path():
    base = TensorDataset(glasstorch.arange(10) * 10)
    sub = Subset(base, [9, 0, 5])
    assert len(sub) == 3 and sub[0][0].item() == 90
    assert sub.__getbatch__([2, 0])[0].tolist() == [50, 90]
    plain = Subset(Squares(5), [4, 1])          # no __getbatch__ below: falls back to samples + collate
    assert plain.__getbatch__([0, 1]).tolist() == [16, 1]


def test_chain_dataset():
    chained = Count(0, 2) + Count(5, 7)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 5, 6] and len(chained) == 4


@pytest.mark.filterwarnings("ignore:Length of split")
@pytest.mark.parametrize("n, fractions", [(10, [0.8, 0.2]), (7, [0.5, 0.5]), (11, [0.3, 0.3, 0.4]),
                                          (5, [0.1, 0.1, 0.8]), (100, [1 / 3, 1 / 3, 1 / 3])])
def test_random_split_fraction_lengths_match_torch(n, fractions):
    ours = [len(s) for s in random_split(range(n), fractions, generator=glasstorch.Generator().manual_seed(0))]
    theirs = [len(s) for s in torch.utils.data.random_split(range(n), fractions,
                                                             generator=torch.Generator().manual_seed(0))]
    assert ours == theirs


def test_random_split_partitions_and_is_reproducible():
    n = 23
    parts = random_split(range(n), [10, 8, 5], generator=glasstorch.Generator().manual_seed(3))
    indices = [i for p in parts for i in p.indices]
    assert sorted(indices) == list(range(n))
    again = random_split(range(n), [10, 8, 5], generator=glasstorch.Generator().manual_seed(3))
    assert [p.indices for p in parts] == [p.indices for p in again]
    glasstorch.manual_seed(1)
    a = random_split(range(n), [10, 13])[0].indices
    glasstorch.manual_seed(1)
    b = random_split(range(n), [10, 13])[0].indices
    assert a == b and a != list(range(10))


def test_random_split_rejects_wrong_lengths():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
