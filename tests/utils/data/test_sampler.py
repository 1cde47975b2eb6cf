"""Samplers: the indices they give, their lengths, their randomness and their argument checks."""
import numpy as np
import pytest

import glasstorch
from glasstorch.utils.data import (BatchSampler, RandomSampler, SequentialSampler, SubsetRandomSampler,
                                   WeightedRandomSampler)


def test_sequential_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler(range(5))) == 5


@pytest.mark.parametrize("n", [1, 7, 30])
def test_random_sampler_is_a_fresh_permutation_each_epoch(n):
    glasstorch.manual_seed(0)
    sampler = RandomSampler(range(n))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(n))
    if n > 5:
        assert first != second
    glasstorch.manual_seed(0)
    assert list(sampler) == first  # manual_seed repeats the order


def test_random_sampler_num_samples_and_replacement():
    g = glasstorch.Generator().manual_seed(1)
    longer = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert len(longer) == 10
    assert sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3]  # whole permutations, then a part of one
    draws = list(RandomSampler(range(3), replacement=True, num_samples=3000, generator=g))
    counts = np.bincount(draws, minlength=3)
    assert len(draws) == 3000 and np.all(np.abs(counts / 3000 - 1 / 3) < 0.05)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)


def test_generator_decides_the_order():
    orders = [list(RandomSampler(range(20), generator=glasstorch.Generator().manual_seed(s))) for s in (5, 5, 6)]
    assert orders[0] == orders[1] != orders[2]


def test_subset_random_sampler():
    indices = [10, 20, 30, 40]
    drawn = list(SubsetRandomSampler(indices, generator=glasstorch.Generator().manual_seed(0)))
    assert sorted(drawn) == indices and len(SubsetRandomSampler(indices)) == 4


def test_weighted_random_sampler_follows_the_weights():
    weights = glasstorch.tensor([0.1, 0.0, 0.6, 0.3])
    draws = list(WeightedRandomSampler(weights, 20000, generator=glasstorch.Generator().manual_seed(0)))
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.02)
    unique = list(WeightedRandomSampler([1, 1, 5, 1], 4, replacement=False))
    assert sorted(unique) == [0, 1, 2, 3]


@pytest.mark.parametrize("kwargs, error", [
    (dict(weights=[1, 2], num_samples=0), ValueError),
    (dict(weights=[1, 2], num_samples=2, replacement="yes"), ValueError),
    (dict(weights=[[1, 2]], num_samples=2), ValueError),
    (dict(weights=[-1, 2], num_samples=2), RuntimeError),
    (dict(weights=[0, 2], num_samples=2, replacement=False), RuntimeError),
])
def test_weighted_random_sampler_checks(kwargs, error):
    with pytest.raises(error):
        WeightedRandomSampler(**kwargs)


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 5, False),
                                                      (2, 5, True)])
def test_batch_sampler(n, batch_size, drop_last):
    batches = list(BatchSampler(SequentialSampler(range(n)), batch_size, drop_last))
    expected = [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
    if drop_last:
        expected = [b for b in expected if len(b) == batch_size]
    assert batches == expected
    assert len(BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)) == len(expected)


def test_batch_sampler_checks():
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, None)
