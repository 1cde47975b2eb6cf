"""DataLoader: sampler -> lists of indices -> samples -> collate -> batch.

    for images, labels in DataLoader(dataset, batch_size=64, shuffle=True):
        ...

`num_workers > 0` runs the same fetch in worker processes (see worker.py). Imports point one way:
dataloader -> worker -> fetch (what both loaders share).
"""
import numbers
import warnings

from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fetch import draw_base_seed, fetch_map_batch, fetch_stream_batch
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .worker import MultiProcessIterator, fork_available


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: a map-style dataset (`__getitem__`, `__len__`) or an `IterableDataset`.
        batch_size (int or None): samples per batch (default 1); None turns batching off.
        shuffle (bool): a new random order every epoch (drawn from `generator`, or glasstorch's default
            generator, so `manual_seed` makes it reproducible).
        sampler: the indices to read, in order (exclusive with `shuffle`).
        batch_sampler: yields whole lists of indices (exclusive with batch_size/shuffle/sampler/drop_last).
        num_workers (int): 0 loads in this process; n > 0 starts n worker processes per epoch, each seeded
            with `base_seed + worker_id` (glasstorch, NumPy and `random`).
        collate_fn: list of samples -> batch (default `default_collate`).
        pin_memory, timeout, prefetch_factor, persistent_workers: accepted like torch's (memory is not pinned:
            batches are host arrays until `.to(device)`; workers are started afresh each epoch).
        drop_last (bool): drop the last, incomplete batch.
        worker_init_fn: called as `worker_init_fn(worker_id)` in each worker after seeding.
        generator (glasstorch.Generator): the source of the shuffle order and of the workers' base seed.

    Example:
        >>> import glasstorch
        >>> from glasstorch.utils.data import DataLoader, TensorDataset
        >>> ds = TensorDataset(glasstorch.arange(10.0).reshape(5, 2), glasstorch.arange(5))
        >>> [y.tolist() for x, y in DataLoader(ds, batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral):
            hint = f" (call it: num_workers={num_workers.__name__}())" if callable(num_workers) else ""
            raise TypeError(f"num_workers should be a non-negative int, got {num_workers!r}{hint}")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. "
                             "Let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value}")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.persistent_workers = persistent_workers

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (isinstance(self.dataset, IterableDataset)
                                                  and self.batch_size is not None)

    @property
    def _index_sampler(self):
        """What one step of the loader reads: a list of indices (batching on) or a single index."""
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __iter__(self):
        if self.num_workers > 0:
            if fork_available():
                return MultiProcessIterator(self)
            warnings.warn("worker processes need the 'fork' start method, which this platform lacks; "
                          "loading in the main process instead (num_workers=0)")
        return SingleProcessIterator(self)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # raises TypeError when the stream has no length, as in torch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)


class SingleProcessIterator:
    """Loads each batch in this process when asked for it."""

    def __init__(self, loader):
        self._loader = loader
        self._base_seed = draw_base_seed(loader.generator)
        if isinstance(loader.dataset, IterableDataset):
            self._stream = iter(loader.dataset)
        else:
            self._requests = iter(loader._index_sampler)

    def __iter__(self):
        return self

    def __next__(self):
        loader = self._loader
        if isinstance(loader.dataset, IterableDataset):
            return fetch_stream_batch(self._stream, loader._auto_collation, loader.collate_fn, loader.batch_size,
                                      loader.drop_last)
        return fetch_map_batch(loader.dataset, next(self._requests), loader._auto_collation, loader.collate_fn)

    def __len__(self):
        return len(self._loader)
