"""K-fold cross-validation over a dataset (torch has none; the notes teach it).

Split the data into K folds; for i = 1..K train on the other K-1 folds, validate on fold i, and report the
mean of the K validation scores. The folds are the ones scikit-learn's `KFold` / `StratifiedKFold`
produce (identical index sets when `shuffle=False`); here they come back as `Subset` pairs.

    for train_set, val_set in KFold(n_splits=5, shuffle=True, seed=0).split(dataset):
        model = build(); fit(model, DataLoader(train_set, 64, shuffle=True)); scores.append(evaluate(model, val_set))
"""
import numbers

import numpy as np

from ... import backend
from ...tensor import Tensor
from .dataset import Subset


class KFold:
    """K consecutive folds (shuffled first when `shuffle=True`); the first `n % K` folds hold one extra sample.

    Args:
        n_splits (int): K >= 2.
        shuffle (bool): permute the samples before cutting the folds.
        seed (int or None): seed of that permutation; None draws it from glasstorch's default generator.
    """

    def __init__(self, n_splits=5, shuffle=False, seed=None):
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) or n_splits < 2:
            raise ValueError(f"k-fold cross-validation needs n_splits >= 2, got n_splits={n_splits}")
        if seed is not None and not shuffle:
            raise ValueError("seed only has an effect with shuffle=True")
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.seed = seed

    def get_n_splits(self, dataset=None):
        return self.n_splits

    def _rng(self):
        return np.random.Generator(np.random.PCG64(self.seed)) if self.seed is not None else backend.rng()

    def _check_size(self, n):
        if self.n_splits > n:
            raise ValueError(f"Cannot have number of splits n_splits={self.n_splits} greater than the number of "
                             f"samples: n_samples={n}.")

    def _fold_of_each_sample(self, dataset, labels=None):
        """fold[i] = the fold sample i validates in (plain K-fold ignores the labels)."""
        n = len(dataset)
        self._check_size(n)
        order = self._rng().permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[:n % self.n_splits] += 1
        fold = np.empty(n, dtype=np.int64)
        fold[order] = np.repeat(np.arange(self.n_splits), sizes)
        return fold

    def split_indices(self, dataset, labels=None):
        """Yield (train_indices, val_indices) lists, each in increasing order."""
        fold = self._fold_of_each_sample(dataset, labels)
        for k in range(self.n_splits):
            yield np.flatnonzero(fold != k).tolist(), np.flatnonzero(fold == k).tolist()

    def split(self, dataset, labels=None):
        """Yield (train_subset, val_subset) pairs, one per fold."""
        for train, val in self.split_indices(dataset, labels):
            yield Subset(dataset, train), Subset(dataset, val)


def _labels_of(dataset):
    """Class labels: `dataset.targets` when it has them, else the second field of every sample."""
    targets = getattr(dataset, "targets", None)
    if targets is None:
        targets = [dataset[i][1] for i in range(len(dataset))]
    if isinstance(targets, Tensor):
        return targets._array
    return np.asarray([t.item() if isinstance(t, Tensor) else t for t in targets])


class StratifiedKFold(KFold):
    """K folds that each keep the class proportions of the whole dataset (scikit-learn's allocation).

    The labels come from `labels=` in `split`, else `dataset.targets`, else each sample's second field.
    """

    def _fold_of_each_sample(self, dataset, labels=None):
        n = len(dataset)
        self._check_size(n)
        labels = _labels_of(dataset) if labels is None else np.asarray(labels)
        if len(labels) != n:
            raise ValueError(f"got {len(labels)} labels for {n} samples")
        _, first_seen, encoded = np.unique(labels, return_index=True, return_inverse=True)
        encoded = np.argsort(np.argsort(first_seen))[encoded.reshape(-1)]  # classes numbered by first appearance
        counts = np.bincount(encoded)
        if self.n_splits > counts.max():
            raise ValueError(f"n_splits={self.n_splits} cannot be greater than the number of members in each class.")
        # deal the label-sorted samples round-robin to the folds: how many of each class each fold gets
        ordered = np.sort(encoded)
        allocation = np.stack([np.bincount(ordered[k::self.n_splits], minlength=len(counts))
                               for k in range(self.n_splits)])
        rng = self._rng()
        fold = np.empty(n, dtype=np.int64)
        for c in range(len(counts)):
            folds_of_class = np.repeat(np.arange(self.n_splits), allocation[:, c])
            if self.shuffle:
                rng.shuffle(folds_of_class)
            fold[encoded == c] = folds_of_class
        return fold
