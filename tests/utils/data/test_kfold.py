"""KFold and StratifiedKFold: partitions, sizes, stratification, and scikit-learn's folds when not shuffled."""
import numpy as np
import pytest
from sklearn.model_selection import KFold as SkKFold, StratifiedKFold as SkStratifiedKFold

import glasstorch
from glasstorch.utils.data import KFold, StratifiedKFold, Subset, TensorDataset


@pytest.mark.parametrize("n, k", [(10, 5), (11, 3), (7, 7), (100, 10)])
def test_kfold_equals_sklearn_without_shuffle(n, k):
    ours = list(KFold(k).split_indices(range(n)))
    theirs = [(tr.tolist(), te.tolist()) for tr, te in SkKFold(k).split(np.zeros(n))]
    assert ours == theirs


@pytest.mark.parametrize("n, k", [(10, 5), (23, 4)])
def test_shuffled_folds_partition_the_data(n, k):
    folds = list(KFold(k, shuffle=True, seed=0).split(range(n)))
    assert len(folds) == k
    val = [i for _, v in folds for i in v.indices]
    assert sorted(val) == list(range(n))
    for train, v in folds:
        assert isinstance(train, Subset) and sorted(train.indices + v.indices) == list(range(n))
    sizes = sorted(len(v) for _, v in folds)
    assert sizes[-1] - sizes[0] <= 1
    assert [v.indices for _, v in folds] == [v.indices for _, v in KFold(k, shuffle=True, seed=0).split(range(n))]
    assert [v.indices for _, v in folds] != [v.indices for _, v in KFold(k, shuffle=True, seed=1).split(range(n))]


def test_unseeded_shuffle_follows_manual_seed():
    glasstorch.manual_seed(2)
    a = list(KFold(3, shuffle=True).split_indices(range(12)))
    glasstorch.manual_seed(2)
    assert list(KFold(3, shuffle=True).split_indices(range(12))) == a


def test_kfold_checks():
    with pytest.raises(ValueError, match="n_splits >= 2"):
        KFold(1)
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(KFold(5).split(range(3)))
    with pytest.raises(ValueError, match="shuffle=True"):
        KFold(3, seed=1)


@pytest.mark.parametrize("seed", range(3))
def test_stratified_equals_sklearn_without_shuffle(seed):
    labels = np.random.default_rng(seed).integers(0, 3, 40)
    ds = TensorDataset(glasstorch.zeros(40, 2), glasstorch.tensor(labels))
    ours = list(StratifiedKFold(4).split_indices(ds))
    theirs = [(tr.tolist(), te.tolist()) for tr, te in SkStratifiedKFold(4).split(np.zeros(40), labels)]
    assert ours == theirs


def test_stratified_keeps_class_proportions_and_reads_targets():
    class WithTargets:
        targets = glasstorch.tensor([0] * 30 + [1] * 10)

        def __len__(self):
            return 40

    for train, val in StratifiedKFold(5, shuffle=True, seed=0).split(WithTargets()):
        labels = WithTargets.targets.numpy()[val.indices]
        assert np.bincount(labels).tolist() == [6, 2]
        assert len(train) == 32
