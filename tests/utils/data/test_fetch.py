"""fetch: one request -> one batch, preferring a dataset's __getbatch__ only with the default collate."""
import pytest

from glasstorch.utils.data import default_collate
from glasstorch.utils.data.fetch import fetch_map_batch, fetch_stream_batch


class Both:
    def __getitem__(self, i):
        return i

    def __getbatch__(self, indices):
        return ("batched", indices)


def test_getbatch_only_with_default_collate():
    assert fetch_map_batch(Both(), [1, 2], True, default_collate) == ("batched", [1, 2])
    assert fetch_map_batch(Both(), [1, 2], True, list) == [1, 2]
    assert fetch_map_batch(Both(), 4, False, lambda x: x + 1) == 5


def test_stream_batches_and_the_end():
    stream = iter(range(5))
    assert fetch_stream_batch(stream, True, list, 2, False) == [0, 1]
    assert fetch_stream_batch(stream, True, list, 2, False) == [2, 3]
    with pytest.raises(StopIteration):
        fetch_stream_batch(stream, True, list, 2, True)  # [4] is incomplete and dropped
    with pytest.raises(StopIteration):
        fetch_stream_batch(iter([]), True, list, 2, False)
