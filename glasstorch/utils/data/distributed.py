"""DistributedSampler: each of `num_replicas` processes reads its own share of the dataset, every epoch.

    sampler = DistributedSampler(train_set)                  # rank and world size from the process group
    loader = DataLoader(train_set, batch_size=32, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                            # a new shuffle, the same on every rank

Every rank draws the same permutation (seeded with seed + epoch), pads it by repeating its first indices
so that it divides evenly (or drops the tail with drop_last), then takes every num_replicas-th index
starting at its rank: the shares are disjoint (before padding) and together cover the dataset.
The permutation comes from glasstorch's generator, which is not torch's: see docs/DIFFERENCES.md.
"""
import math

from ... import backend
from ...distributed import process_group
from ...tensor import randperm
from .sampler import Sampler


class DistributedSampler(Sampler):
    """torch.utils.data.distributed.DistributedSampler: this rank's indices of `dataset`.

    Args:
        dataset: anything with a length.
        num_replicas: the number of processes (default: the world size of the process group).
        rank: this process's rank (default: the process group's).
        shuffle: a new permutation every epoch (call `set_epoch`), else 0, 1, 2, ...
        seed: the permutation's seed (the same on every rank); epoch e uses seed + e.
        drop_last: drop the tail so that every rank gets len(dataset) // num_replicas indices, instead of
            padding with the first indices again.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            if not process_group.is_initialized():
                raise RuntimeError("Requires distributed package to be available: call "
                                   "dist.init_process_group first, or pass num_replicas and rank")
        if num_replicas is None:
            num_replicas = process_group.get_world_size()
        if rank is None:
            rank = process_group.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # the largest share all ranks have
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            generator = backend.Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            missing = self.total_size - n
            repeats = math.ceil(missing / n) if n else 0
            indices += (indices * repeats)[:missing]
        assert len(indices) == self.total_size
        mine = indices[self.rank:self.total_size:self.num_replicas]
        assert len(mine) == self.num_samples
        return iter(mine)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Make the next iteration use permutation seed + epoch (call it at the start of every epoch)."""
        self.epoch = epoch
