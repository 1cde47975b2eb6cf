"""glasstorch.datasets.text: the char vocabulary round-trips, the split is contiguous, windows shift by one."""
import numpy as np
import pytest

from glasstorch.datasets.text import CharCorpus, batchify, get_batch, shakespeare_excerpt


def test_vocabulary_round_trips_and_split_is_contiguous():
    text = "abcabcxyz" * 10
    corpus = CharCorpus(text, val_fraction=0.2)
    assert corpus.chars == sorted(set(text)) and corpus.vocab_size == 6
    assert corpus.decode(np.concatenate([corpus.train, corpus.val])) == text
    assert len(corpus.val) == 18 and corpus.decode(corpus.val) == text[-18:]
    assert corpus.train.dtype == np.int64
    with pytest.raises(ValueError, match="not in the vocabulary"):
        corpus.encode("abq")
    with pytest.raises(ValueError, match="val_fraction"):
        CharCorpus(text, val_fraction=1.0)


def test_batchify_columns_are_contiguous_runs_and_get_batch_shifts_by_one():
    ids = np.arange(23)
    source = batchify(ids, 4)  # 5 rows, 3 ids dropped
    assert source.shape == (5, 4)
    np.testing.assert_array_equal(source[:, 1], np.arange(5, 10))
    data, target = get_batch(source, 0, 3)
    np.testing.assert_array_equal(target, data + 1)
    data, target = get_batch(source, 3, 3)  # the last window is shorter
    assert data.shape == (1, 4) and target[0, 0] == 4
    with pytest.raises(ValueError, match="too few"):
        batchify(ids, 20)
    with pytest.raises(ValueError, match="no target"):
        get_batch(source, 4, 3)


def test_the_excerpt_ships_and_is_shakespeare():
    text = shakespeare_excerpt()
    assert text.startswith("First Citizen:") and 5_000 < len(text) < 20_000
