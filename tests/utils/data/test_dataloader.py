"""DataLoader semantics, compared with torch's DataLoader where both can run the same program."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset, SequentialSampler,
                                   SubsetRandomSampler, TensorDataset, default_collate)


class Records(Dataset):
    """Samples that are nested structures (what default_collate must take apart)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "pair": (i, float(i) / 2), "name": f"r{i}"}

    def __len__(self):
        return self.n


class StreamBody:
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no len")
        return self.n


class Stream(StreamBody, IterableDataset):
    pass


class TorchStream(StreamBody, torch.utils.data.IterableDataset):
    pass


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False), (3, 5, False),
                                                      (3, 5, True), (1, 1, False)])
def test_batches_match_torch(n, batch_size, drop_last):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 2, 3)).astype(np.float32)
    ours = DataLoader(TensorDataset(glasstorch.tensor(x), glasstorch.arange(n)), batch_size=batch_size,
                      drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.arange(n)),
                                         batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for (gx, gy), (wx, wy) in zip(got, want):
        assert tuple(gx.shape) == tuple(wx.shape) and gx.dtype == glasstorch.float32 and gy.dtype == glasstorch.int64
        np.testing.assert_array_equal(gx.numpy(), wx.numpy())
        np.testing.assert_array_equal(gy.numpy(), wy.numpy())


def test_shuffle_visits_every_index_once_and_repeats_under_manual_seed():
    ds = TensorDataset(glasstorch.arange(50))
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    glasstorch.manual_seed(0)
    epoch1 = [i for (b,) in loader for i in b.tolist()]
    epoch2 = [i for (b,) in loader for i in b.tolist()]
    assert sorted(epoch1) == sorted(epoch2) == list(range(50))
    assert epoch1 != epoch2 and epoch1 != list(range(50))
    glasstorch.manual_seed(0)
    assert [i for (b,) in loader for i in b.tolist()] == epoch1


def test_generator_makes_the_shuffle_independent_of_the_global_seed():
    ds = TensorDataset(glasstorch.arange(30))
    order = []
    for global_seed in (1, 2):
        glasstorch.manual_seed(global_seed)
        loader = DataLoader(ds, batch_size=30, shuffle=True, generator=glasstorch.Generator().manual_seed(7))
        order.append(next(iter(loader))[0].tolist())
    assert order[0] == order[1]


def test_nested_samples_are_collated_like_torch():
    ours = next(iter(DataLoader(Records(5), batch_size=3)))
    theirs = next(iter(torch.utils.data.DataLoader(Records(5), batch_size=3)))
    assert ours.keys() == theirs.keys()
    np.testing.assert_array_equal(ours["x"].numpy(), theirs["x"].numpy())
    assert isinstance(ours["pair"], list)
    assert ours["pair"][0].tolist() == theirs["pair"][0].tolist() and ours["pair"][0].dtype == glasstorch.int64
    assert ours["pair"][1].dtype == glasstorch.float64
    assert ours["name"] == theirs["name"] == ["r0", "r1", "r2"]


def test_fast_path_equals_the_sample_by_sample_path():
    x = glasstorch.randn(37, 4)
    y = glasstorch.randint(0, 3, (37,))
    ds = TensorDataset(x, y)
    glasstorch.manual_seed(3)
    fast = list(DataLoader(ds, batch_size=5, shuffle=True))
    glasstorch.manual_seed(3)
    slow = list(DataLoader(ds, batch_size=5, shuffle=True, collate_fn=lambda b: default_collate(b)))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())


def test_fast_path_is_used_for_array_backed_datasets():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, index):
            Counting.calls += 1
            return super().__getitem__(index)

    ds = Counting(glasstorch.arange(100))
    list(DataLoader(ds, batch_size=10))
    assert Counting.calls == 0
    list(DataLoader(ds, batch_size=10, collate_fn=lambda b: default_collate(b)))  # a custom collate: per sample
    assert Counting.calls == 100


def test_custom_collate_fn_and_getitems_protocol():
    class Batched(Dataset):
        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            return [i * 10 for i in indices]

        def __len__(self):
            return 5

    assert [b for b in DataLoader(Batched(), batch_size=2, collate_fn=list)] == [[0, 10], [20, 30], [40]]


def test_batch_size_none_gives_single_samples():
    loader = DataLoader(Records(3), batch_size=None)
    first = next(iter(loader))
    assert isinstance(first["x"], glasstorch.Tensor) and first["x"].shape == (2,)
    assert len(loader) == 3


def test_sampler_and_batch_sampler_arguments():
    ds = TensorDataset(glasstorch.arange(10))
    picked = DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler([1, 3, 5], generator=glasstorch.Generator()))
    assert sorted(i for (b,) in picked for i in b.tolist()) == [1, 3, 5]
    fixed = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(range(4)), 3, False))
    assert [b.tolist() for (b,) in fixed] == [[0, 1, 2], [3]] and len(fixed) == 2


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], shuffle=True), "batch_sampler option is mutually exclusive"),
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
])
def test_argument_errors_match_torch(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(TensorDataset(glasstorch.arange(4)), **kwargs)
    with pytest.raises(ValueError, match=message):
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(4)), **kwargs)


def test_num_workers_given_a_function_says_to_call_it():
    def get_dataloader_workers():  # the notes pass the function itself
        return 4

    with pytest.raises(TypeError, match=r"call it: num_workers=get_dataloader_workers\(\)"):
        DataLoader(TensorDataset(glasstorch.arange(4)), num_workers=get_dataloader_workers)


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 4, False), (10, 4, True), (8, 4, True), (3, None, False)])
def test_iterable_dataset(n, batch_size, drop_last):
    loader = DataLoader(Stream(n), batch_size=batch_size, drop_last=drop_last)
    reference = torch.utils.data.DataLoader(TorchStream(n), batch_size=batch_size, drop_last=drop_last)
    def plain(b):
        return b.tolist() if hasattr(b, "tolist") else b

    assert [plain(b) for b in loader] == [plain(b) for b in reference]
    assert len(loader) == len(reference)


def test_iterable_dataset_rejects_shuffle_and_may_have_no_len():
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(TypeError):
        len(DataLoader(Stream(3, with_len=False)))


def test_pin_memory_and_friends_are_accepted():
    loader = DataLoader(TensorDataset(glasstorch.arange(4)), batch_size=2, pin_memory=True, timeout=0)
    assert [b.tolist() for (b,) in loader] == [[0, 1], [2, 3]]


def test_dataloader_over_a_plain_list():
    batches = list(DataLoader([(1, 2.0), (3, 4.0), (5, 6.0)], batch_size=2))
    assert batches[0][0].tolist() == [1, 3] and batches[1][1].tolist() == [6.0]
