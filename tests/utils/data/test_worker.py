"""DataLoader(num_workers=n): the same batches as in-process loading, per-worker seeds, errors, iterable sharding."""
import numpy as np
import pytest

import glasstorch
from glasstorch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="worker processes need fork")


class RandomNoise(Dataset):
    """Each sample draws from glasstorch's generator (like a random transform) and reports its worker."""

    def __getitem__(self, i):
        info = get_worker_info()
        return i, glasstorch.rand(1).item(), -1 if info is None else info.id

    def __len__(self):
        return 24


class Failing(Dataset):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError("sample 5 is broken")
        return i

    def __len__(self):
        return 8


class Sharded(IterableDataset):
    """Each worker yields its own share of 0..n-1 (the pattern torch documents)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def test_workers_give_the_same_batches_in_the_same_order():
    ds = TensorDataset(glasstorch.arange(50), glasstorch.randn(50, 3))
    glasstorch.manual_seed(4)
    single = [b for b in DataLoader(ds, batch_size=7, shuffle=True)]
    glasstorch.manual_seed(4)
    multi = [b for b in DataLoader(ds, batch_size=7, shuffle=True, num_workers=2)]
    assert len(single) == len(multi) == 8
    for (a, x), (b, y) in zip(single, multi):
        assert a.tolist() == b.tolist()
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_each_worker_is_seeded_differently_and_reproducibly():
    def run(seed):
        glasstorch.manual_seed(seed)
        batches = list(DataLoader(RandomNoise(), batch_size=4, num_workers=2))
        return [(i, v, w) for idx, val, wid in batches for i, v, w in zip(idx.tolist(), val.tolist(), wid.tolist())]

    first, again, other = run(0), run(0), run(1)
    assert first == again and first != other
    assert {w for _, _, w in first} == {0, 1}
    worker0 = [v for _, v, w in first if w == 0]
    worker1 = [v for _, v, w in first if w == 1]
    assert worker0[:3] != worker1[:3]  # not the same random stream in both workers


def test_worker_init_fn_runs_in_each_worker(tmp_path):
    def init(worker_id):
        (tmp_path / f"worker{worker_id}").write_text(str(get_worker_info().num_workers))

    list(DataLoader(TensorDataset(glasstorch.arange(8)), batch_size=2, num_workers=2, worker_init_fn=init))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["worker0", "worker1"]
    assert (tmp_path / "worker0").read_text() == "2"


def test_an_error_in_a_worker_is_raised_in_the_main_process():
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(DataLoader(Failing(), batch_size=2, num_workers=2))


def test_iterable_dataset_with_workers():
    batches = [b.tolist() for b in DataLoader(Sharded(10), batch_size=2, num_workers=2)]
    assert sorted(i for b in batches for i in b) == list(range(10))
    assert batches[0] == [0, 2] and batches[1] == [1, 3]  # workers take turns, as in torch


def test_breaking_out_early_stops_the_workers():
    loader = DataLoader(TensorDataset(glasstorch.arange(100)), batch_size=2, num_workers=2)
    iterator = iter(loader)
    next(iterator)
    workers = list(iterator._workers)
    iterator._shutdown()
    assert all(not w.is_alive() for w in workers)
