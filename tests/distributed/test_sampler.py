"""DistributedSampler against torch's, in this process (num_replicas and rank given, so no MPI is needed).

Unshuffled, the indices must equal torch's exactly. Shuffled, glasstorch draws its permutation from its own
generator (not bit-compatible with torch's, see docs/DIFFERENCES.md), so the test checks that the indices are
torch's *positions* mapped through glasstorch.randperm(n, generator seeded with seed + epoch): the same
padding, dropping and striding as torch, on glasstorch's permutation.
"""
import itertools

import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchDistributedSampler

import glasstorch
from glasstorch.utils.data import DataLoader, DistributedSampler, TensorDataset
from glasstorch.utils.data.distributed import DistributedSampler as SamplerFromModule

CASES = list(itertools.product([1, 5, 10, 11, 17], [1, 2, 3, 4, 7], [False, True]))


def both(n, world, rank, drop_last, shuffle=False, seed=0, epoch=0):
    ours = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=shuffle, seed=seed,
                              drop_last=drop_last)
    theirs = TorchDistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=shuffle, seed=seed,
                                     drop_last=drop_last)
    ours.set_epoch(epoch)
    theirs.set_epoch(epoch)
    return ours, theirs


def test_exported_where_torch_has_it():
    assert SamplerFromModule is DistributedSampler


@pytest.mark.parametrize("n,world,drop_last", CASES)
def test_unshuffled_indices_equal_torch(n, world, drop_last):
    for rank in range(world):
        ours, theirs = both(n, world, rank, drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


@pytest.mark.parametrize("n,world,drop_last", CASES)
@pytest.mark.parametrize("seed,epoch", [(0, 0), (5, 3)])
def test_shuffled_indices_are_torch_positions_through_glasstorch_randperm(n, world, drop_last, seed, epoch):
    perm = glasstorch.randperm(n, generator=glasstorch.Generator().manual_seed(seed + epoch)).tolist()
    for rank in range(world):
        ours, _ = both(n, world, rank, drop_last, shuffle=True, seed=seed, epoch=epoch)
        _, positions = both(n, world, rank, drop_last, shuffle=False)
        assert list(ours) == [perm[i] for i in positions]


def test_shuffled_shares_are_disjoint_cover_the_dataset_and_change_with_the_epoch():
    n, world = 23, 4
    shares = [list(DistributedSampler(range(n), num_replicas=world, rank=r, seed=1)) for r in range(world)]
    flat = sorted(i for share in shares for i in share)
    assert len(flat) == 24 and set(flat) == set(range(n))  # one index repeated as padding
    assert {len(s) for s in shares} == {6}
    sampler = DistributedSampler(range(n), num_replicas=world, rank=0, seed=1)
    first = list(sampler)
    assert list(sampler) == first  # the same epoch gives the same order
    sampler.set_epoch(1)
    assert list(sampler) != first
    assert list(DistributedSampler(range(n), num_replicas=world, rank=0, seed=2)) != first


def test_padding_longer_than_the_dataset_repeats_it():
    # torch pads by repeating the whole index list as often as needed (n=2 over 7 replicas)
    for rank in range(7):
        ours, theirs = both(2, 7, rank, drop_last=False)
        assert list(ours) == list(theirs) == [rank % 2]


def test_with_a_dataloader():
    data = TensorDataset(glasstorch.arange(10))
    loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, num_replicas=2, rank=1,
                                                                       shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]


def test_bad_rank_and_no_process_group():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=2, rank=-1)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError):
        TorchDistributedSampler(range(4), num_replicas=2, rank=2)  # torch raises the same type
