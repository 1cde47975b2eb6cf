"""Worker processes for `DataLoader(num_workers=n)`.

The main process hands out numbered requests (a list of indices, or "your next batch" for an
iterable dataset) round-robin to n forked workers, keeping `prefetch_factor * n` requests in flight,
and yields the results in request order. Each worker seeds glasstorch's default generator, NumPy's
global generator and `random` with `base_seed + worker_id`, so random transforms differ between
workers yet repeat under `manual_seed`. Tensors are not picklable (by design), so batches travel
between processes as their NumPy arrays and are wrapped again on arrival.
"""
import multiprocessing
import os
import queue
import random
import signal
import time
import traceback
from dataclasses import dataclass

import numpy as np

from ... import backend
from ...tensor import Tensor
from .dataset import IterableDataset
from .fetch import draw_base_seed, fetch_map_batch, fetch_stream_batch

_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """Inside a worker process: its `WorkerInfo(id, num_workers, seed, dataset)`; in the main process: None."""
    return _worker_info


def fork_available():
    return "fork" in multiprocessing.get_all_start_methods()


# ----------------------------------------------------------------------------- batches across processes
class _WireTensor:
    """A tensor's array, on its way between processes."""
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array


def _to_wire(obj):
    if isinstance(obj, Tensor):
        return _WireTensor(obj._array)
    return _map_structure(obj, _to_wire)


def _from_wire(obj):
    if isinstance(obj, _WireTensor):
        return Tensor._make(obj.array)
    return _map_structure(obj, _from_wire)


def _map_structure(obj, fn):
    if isinstance(obj, dict):
        return type(obj)((key, fn(value)) for key, value in obj.items())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(fn(x) for x in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(fn(x) for x in obj)
    return obj


# ----------------------------------------------------------------------------- the worker side
class _Exhausted:
    """Reply of a worker whose iterable dataset has no more batches."""


def _seed_worker(seed):
    backend.manual_seed(seed)
    np.random.seed(seed % 2 ** 32)
    random.seed(seed)


class KeyErrorMessage(str):
    """A KeyError's message that prints as written: `str(KeyError(text))` is the text's repr, whose
    escaped newlines would make a worker's traceback one unreadable line (torch does the same)."""

    def __repr__(self):
        return self


def _worker_loop(loader, info, requests, results):
    global _worker_info
    results.cancel_join_thread()  # exiting must never wait for the main process to read
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle; it stops us
    parent = os.getppid()
    _worker_info = info
    _seed_worker(info.seed)
    if loader.worker_init_fn is not None:
        loader.worker_init_fn(info.id)
    iterable = isinstance(loader.dataset, IterableDataset)
    stream = iter(loader.dataset) if iterable else None
    while True:
        try:
            request = requests.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent:  # the main process died (SIGKILL, OOM): don't linger as an orphan
                return
            continue
        if request is None:
            return
        number, index = request
        try:
            if iterable:
                batch = fetch_stream_batch(stream, loader._auto_collation, loader.collate_fn, loader.batch_size,
                                           loader.drop_last)
            else:
                batch = fetch_map_batch(loader.dataset, index, loader._auto_collation, loader.collate_fn)
            results.put((number, info.id, _to_wire(batch), None))
        except StopIteration:
            results.put((number, info.id, None, _Exhausted))
        except Exception as error:  # sent to the main process and raised there, as torch does
            where = "" if index is None else f" (fetching dataset {_indices_text(index)})"
            message = f"Caught {type(error).__name__} in DataLoader worker process {info.id}{where}.\n" \
                      f"Original {traceback.format_exc()}"
            results.put((number, info.id, None, (type(error), message)))


def _indices_text(index):
    if isinstance(index, (list, tuple)):
        shown = ", ".join(map(str, index[:8])) + (", ..." if len(index) > 8 else "")
        return f"indices [{shown}]"
    return f"index {index}"


# ----------------------------------------------------------------------------- the main side
class MultiProcessIterator:
    """One epoch over the loader with `loader.num_workers` forked worker processes."""

    def __init__(self, loader):
        self._loader = loader
        self._iterable = isinstance(loader.dataset, IterableDataset)
        self._requests_left = None if self._iterable else iter(loader._index_sampler)
        context = multiprocessing.get_context("fork")
        base_seed = draw_base_seed(loader.generator)
        self._results = context.Queue()
        self._queues, self._workers = [], []
        for worker_id in range(loader.num_workers):
            requests = context.Queue()
            info = WorkerInfo(worker_id, loader.num_workers, base_seed + worker_id, loader.dataset)
            worker = context.Process(target=_worker_loop, args=(loader, info, requests, self._results), daemon=True)
            worker.start()
            self._queues.append(requests)
            self._workers.append(worker)
        self._live = [True] * loader.num_workers
        self._next_worker = 0
        self._sent = 0       # requests handed out so far (their numbers are 0 .. sent-1)
        self._yielded = 0    # the number of the next result to yield
        self._arrived = {}   # number -> (worker id, data, error) of results that came early
        for _ in range(loader.prefetch_factor * loader.num_workers):
            self._send_request()

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def _send_request(self):
        live = [i for i, alive in enumerate(self._live) if alive]
        if not live:
            return
        index = None
        if not self._iterable:
            index = next(self._requests_left, None)
            if index is None:
                return
        worker = min((i for i in live if i >= self._next_worker), default=live[0])
        self._next_worker = worker + 1
        self._queues[worker].put((self._sent, index))
        self._sent += 1

    def _receive(self):
        started = time.monotonic()
        while True:
            try:
                number, worker, data, error = self._results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                dead = [w.pid for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown()
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited unexpectedly")
                if self._loader.timeout and time.monotonic() - started > self._loader.timeout:
                    self._shutdown()
                    raise RuntimeError(f"DataLoader timed out after {self._loader.timeout} seconds")
                continue
            if error is _Exhausted:
                self._live[worker] = False
            self._arrived[number] = (data, error)
            return

    def __next__(self):
        while True:
            if self._yielded == self._sent:
                self._shutdown()
                raise StopIteration
            while self._yielded not in self._arrived:
                self._receive()
            data, error = self._arrived.pop(self._yielded)
            self._yielded += 1
            self._send_request()
            if error is _Exhausted:
                continue
            if error is not None:
                self._shutdown()
                error_type, message = error
                if issubclass(error_type, KeyError):
                    message = KeyErrorMessage(message)
                try:
                    raised = error_type(message)
                except Exception:  # an exception type whose constructor wants other arguments
                    raised = RuntimeError(message)
                raise raised
            return _from_wire(data)

    def _shutdown(self):
        workers, self._workers = getattr(self, "_workers", []), []
        for requests in getattr(self, "_queues", []):
            requests.put(None)
        for worker in workers:
            worker.join(timeout=1.0)
            if worker.is_alive():
                worker.terminate()
        self._queues = []

    def __del__(self):
        self._shutdown()
