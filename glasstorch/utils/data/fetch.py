"""What the single-process loader and its worker processes share: one request -> one batch, and each
epoch's seed (dataloader.py and worker.py both import this module; neither imports the other back)."""
import itertools

from ... import backend
from .collate import default_collate


def draw_base_seed(generator):
    """The seed of an epoch's workers (worker i uses base + i), drawn at the start of every epoch, with or
    without workers, so that the shuffle order does not depend on num_workers (as in torch)."""
    return int(backend.rng(generator).integers(0, 2 ** 62))


def fetch_map_batch(dataset, index, auto_collation, collate_fn):
    """A map-style batch: `index` is a list of indices (or one index when batching is off).

    Fast path first: a dataset with `__getbatch__` builds the whole batch by array indexing, which is
    what the default collate would have produced from the samples one by one.
    """
    if not auto_collation:
        return collate_fn(dataset[index])
    if collate_fn is default_collate and hasattr(dataset, "__getbatch__"):
        return dataset.__getbatch__(index)
    if hasattr(dataset, "__getitems__"):  # torch 2.x: a list of samples, collated here
        return collate_fn(dataset.__getitems__(index))
    return collate_fn([dataset[i] for i in index])


def fetch_stream_batch(stream, auto_collation, collate_fn, batch_size, drop_last):
    """The next batch of an iterable dataset's stream; raises StopIteration at its end."""
    if not auto_collation:
        return collate_fn(next(stream))
    batch = list(itertools.islice(stream, batch_size))
    if not batch or (drop_last and len(batch) < batch_size):
        raise StopIteration
    return collate_fn(batch)
