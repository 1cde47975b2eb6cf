"""Classification metrics: arrays or tensors in, plain numbers out (the same numbers scikit-learn gives).

    from glasstorch import metrics
    metrics.accuracy(y_true, y_pred)                        # fraction of correct predictions
    metrics.f1_score(y_true, y_pred, average="macro")       # per-class F1, then their mean

Arguments follow scikit-learn's `(y_true, y_pred)` order. Labels may be NumPy arrays, lists or tensors
(glasstorch's or torch's). As a convenience for the training loop, `y_pred` may also be a `(N, C)` array of
scores or logits: its argmax along dim 1 is taken as the predicted class.

Every count comes from three per-class sums over the confusion matrix:
    tp   (true positives: predicted c and truly c)
    pred (predicted c)  = tp + fp
    true (truly c)      = tp + fn
    precision = tp / pred      recall = tp / true      F1 = 2 tp / (pred + true)
When a denominator is 0 the ratio is undefined: like scikit-learn, the value becomes `zero_division`
(0.0 by default, with an `UndefinedMetricWarning`).
"""
import warnings

import numpy as np

_AVERAGES = (None, "micro", "macro", "weighted", "binary")


class UndefinedMetricWarning(UserWarning):
    """A metric was undefined (e.g. precision of a class never predicted) and was set to `zero_division`."""


# ----------------------------------------------------------------------------- inputs
def as_numpy(x):
    """A NumPy array from a list, an array, or a (glasstorch or torch) tensor, detached and on the CPU."""
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu"):
        x = x.cpu()
    return np.asarray(x)


def _as_labels(y, name):
    """1-D class labels; a (N, C) score matrix becomes its argmax, a (N, 1) column is flattened."""
    y = as_numpy(y)
    if y.ndim == 2 and y.shape[1] > 1 and name == "y_pred":
        return y.argmax(axis=1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D class labels (or y_pred a (N, C) score matrix), got shape {y.shape}")
    if y.dtype.kind == "f" and y.size and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise ValueError(f"Classification metrics can't handle continuous {name}: pass class labels, "
                         "or scores of shape (N, C) as y_pred")
    return y


def _check_pair(y_true, y_pred, sample_weight=None):
    y_true, y_pred = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{len(y_true)}, {len(y_pred)}]")
    if sample_weight is not None:
        sample_weight = as_numpy(sample_weight).astype(np.float64).reshape(-1)
        if len(sample_weight) != len(y_true):
            raise ValueError(f"sample_weight has {len(sample_weight)} entries for {len(y_true)} samples")
    return y_true, y_pred, sample_weight


def _unique_labels(*arrays):
    try:
        return np.unique(np.concatenate(arrays))
    except TypeError:
        raise ValueError("Mix of label input types (string and number)") from None


# ----------------------------------------------------------------------------- accuracy
def accuracy(y_true, y_pred, normalize=True, sample_weight=None):
    """Fraction (or, with `normalize=False`, number) of samples whose predicted class is the true one.

    Same as `sklearn.metrics.accuracy_score`.

    Example:
        >>> accuracy([0, 1, 2, 1], [0, 2, 2, 1])
        0.75
    """
    y_true, y_pred, sample_weight = _check_pair(y_true, y_pred, sample_weight)
    correct = y_true == y_pred
    if normalize:
        return float(np.average(correct, weights=sample_weight)) if len(correct) else float("nan")
    return float(correct.sum() if sample_weight is None else np.dot(correct, sample_weight))


def top_k_accuracy(y_true, y_score, k=2, normalize=True, sample_weight=None, labels=None):
    """Fraction of samples whose true class is among the `k` highest scores (`sklearn.metrics.top_k_accuracy_score`).

    Args:
        y_true: (N,) class labels.
        y_score: (N, C) scores, logits or probabilities (column j scores class `labels[j]`);
            for two classes also (N,) scores of the positive class.
        k: how many of the best guesses count.
        labels: the sorted classes of the columns; default: the classes present in y_true.

    Ties between scores go to the class with the higher index, as in scikit-learn.
    """
    y_true = _as_labels(y_true, "y_true")
    y_score = as_numpy(y_score)
    sample_weight = None if sample_weight is None else as_numpy(sample_weight).astype(np.float64)
    n_columns = y_score.shape[1] if y_score.ndim == 2 else 2
    classes = np.unique(y_true) if labels is None else np.asarray(as_numpy(labels))
    if labels is not None:
        if len(np.unique(classes)) != len(classes):
            raise ValueError("Parameter 'labels' must be unique.")
        if not np.array_equal(np.unique(classes), classes):
            raise ValueError("Parameter 'labels' must be ordered.")
        if len(np.setdiff1d(y_true, classes)):
            raise ValueError("'y_true' contains labels not in parameter 'labels'.")
    if len(classes) != n_columns:
        raise ValueError(f"Number of classes in 'y_true' ({len(classes)}) not equal to the number of classes in "
                         f"'y_score' ({n_columns}). You can provide a list of all known classes by assigning it to "
                         "the `labels` parameter.")
    if k >= len(classes):
        warnings.warn(f"'k' ({k}) greater than or equal to 'n_classes' ({len(classes)}) will result in a perfect "
                      "score and is therefore meaningless.", UndefinedMetricWarning, stacklevel=2)
    true_index = np.searchsorted(classes, y_true)
    if y_score.ndim == 1:  # binary scores of the positive class: k=1 thresholds them, k>=2 always hits
        if k == 1:
            threshold = 0.5 if y_score.min() >= 0 and y_score.max() <= 1 else 0
            hits = (y_score > threshold).astype(np.int64) == true_index
        else:
            hits = np.ones(len(y_true), dtype=bool)
    else:
        ranked = np.argsort(y_score, axis=1, kind="mergesort")[:, ::-1]  # best first, ties: higher index first
        hits = (ranked[:, :k] == true_index[:, None]).any(axis=1)
    if normalize:
        return float(np.average(hits, weights=sample_weight))
    return float(hits.sum() if sample_weight is None else np.dot(hits, sample_weight))


# ----------------------------------------------------------------------------- confusion matrix
def confusion_matrix(y_true, y_pred, labels=None, sample_weight=None, normalize=None):
    """C[i, j] = number of samples of true class `labels[i]` predicted as `labels[j]` (as scikit-learn's).

    Args:
        labels: the classes, in the order of rows and columns; default: the sorted classes present.
            Samples whose true or predicted class is not listed are left out.
        normalize: None (counts), 'true' (each row sums to 1), 'pred' (each column), or 'all'.
    Returns:
        (K, K) ndarray, int64 counts (float64 with sample weights or normalization).
    """
    y_true, y_pred, sample_weight = _check_pair(y_true, y_pred, sample_weight)
    if normalize not in ("true", "pred", "all", None):
        raise ValueError("normalize must be one of {'true', 'pred', 'all', None}")
    labels = _unique_labels(y_true, y_pred) if labels is None else np.asarray(as_numpy(labels))
    if labels.size == 0:
        raise ValueError("'labels' should contains at least one label.")
    if not np.isin(labels, np.concatenate([y_true, y_pred])).any() and len(y_true):
        raise ValueError("At least one label specified must be in y_true")
    k = len(labels)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]

    def index_of(y):  # position of each value in `labels`, or k when it is not listed
        pos = np.clip(np.searchsorted(sorted_labels, y), 0, k - 1)
        return np.where(sorted_labels[pos] == y, order[pos], k)

    rows, cols = index_of(y_true), index_of(y_pred)
    keep = (rows < k) & (cols < k)
    weights = None if sample_weight is None else sample_weight[keep]
    cm = np.bincount(rows[keep] * k + cols[keep], weights=weights, minlength=k * k).reshape(k, k)
    cm = cm.astype(np.int64) if sample_weight is None else cm
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                cm = cm / cm.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                cm = cm / cm.sum(axis=0, keepdims=True)
            else:
                cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    return cm


# ----------------------------------------------------------------------------- precision / recall / F
def _class_sums(y_true, y_pred, labels, sample_weight):
    """tp, pred and true counts for each class of `labels` (ordered as `labels`)."""
    all_labels = _unique_labels(y_true, y_pred, labels)
    n = len(all_labels)
    t, p = np.searchsorted(all_labels, y_true), np.searchsorted(all_labels, y_pred)
    hit = t == p
    w = sample_weight
    tp = np.bincount(t[hit], weights=None if w is None else w[hit], minlength=n)
    pred = np.bincount(p, weights=w, minlength=n)
    true = np.bincount(t, weights=w, minlength=n)
    pick = np.searchsorted(all_labels, labels)
    return tp[pick], pred[pick], true[pick]


def _zero_division_value(zero_division):
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, str) and zero_division == "nan" or (
            isinstance(zero_division, float) and np.isnan(zero_division)):
        return np.nan
    if zero_division in (0, 1):
        return float(zero_division)
    raise ValueError(f"zero_division must be 'warn', 0, 1 or np.nan, got {zero_division!r}")


def _divide(numerator, denominator, metric, missing, zero_division, warn):
    """numerator / denominator per class; where the denominator is 0, `zero_division` (and the warning)."""
    undefined = denominator == 0
    result = numerator.astype(np.float64) / np.where(undefined, 1, denominator)
    if undefined.any():
        result[undefined] = _zero_division_value(zero_division)
        if warn and isinstance(zero_division, str) and zero_division == "warn":
            where = "due to" if len(result) == 1 else "in labels with"
            warnings.warn(f"{metric} is ill-defined and being set to 0.0 {where} no {missing} samples. "
                          "Use `zero_division` parameter to control this behavior.", UndefinedMetricWarning,
                          stacklevel=4)
    return result


def _average(values, average, weights):
    """Mean over classes (weighted by support for 'weighted'), skipping NaN (zero_division=np.nan)."""
    if average is None:
        return values
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    values = values[keep]
    if average == "weighted" and weights[keep].sum() > 0:
        return float(np.average(values, weights=weights[keep]))
    return float(values.mean())


def _select_labels(y_true, y_pred, average, labels, pos_label):
    """The classes to score: [pos_label] for a binary average, else the given or present labels."""
    if average not in _AVERAGES:
        raise ValueError(f"average has to be one of {_AVERAGES}")
    present = _unique_labels(y_true, y_pred)
    if average == "binary":
        if len(present) > 2:
            raise ValueError("Target is multiclass but average='binary'. Please choose another average setting, "
                             "one of [None, 'micro', 'macro', 'weighted'].")
        if pos_label not in present and len(present) >= 2:
            raise ValueError(f"pos_label={pos_label} is not a valid label. It should be one of {list(present)}")
        return np.asarray([pos_label])
    if pos_label not in (None, 1):
        warnings.warn(f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
                      f"(got {average!r}). You may use labels=[pos_label] to specify a single positive class.",
                      UserWarning, stacklevel=3)
    return present if labels is None else np.asarray(as_numpy(labels))


def precision_recall_fscore_support(y_true, y_pred, beta=1.0, labels=None, pos_label=1, average=None,
                                    warn_for=("precision", "recall", "f-score"), sample_weight=None,
                                    zero_division="warn"):
    """Precision, recall, F-beta and support per class, or averaged (`sklearn.metrics.precision_recall_fscore_support`).

    Args:
        beta: weight of recall in the F score (1: F1, the harmonic mean of precision and recall).
        labels: classes to score (default: all present), e.g. to include a class absent from both arrays.
        pos_label: the positive class when `average='binary'`.
        average: None (one value per class), 'binary' (pos_label only), 'micro' (pool all counts:
            equals accuracy for single-label data), 'macro' (unweighted mean over classes),
            'weighted' (mean weighted by each class's support).
        zero_division: value of an undefined ratio: 'warn' (0.0 and an UndefinedMetricWarning), 0, 1 or np.nan.
    Returns:
        (precision, recall, fbeta, support): arrays per class, or floats and support None when averaged.
    """
    y_true, y_pred, sample_weight = _check_pair(y_true, y_pred, sample_weight)
    _zero_division_value(zero_division)
    labels = _select_labels(y_true, y_pred, average, labels, pos_label)
    tp, pred, true = _class_sums(y_true, y_pred, labels, sample_weight)
    if average == "micro":
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
    precision = _divide(tp, pred, "Precision", "predicted", zero_division, "precision" in warn_for)
    recall = _divide(tp, true, "Recall", "true", zero_division, "recall" in warn_for)
    # F = (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp) = (1 + b^2) tp / (b^2 true + pred): defined unless both are 0
    beta2 = beta ** 2
    if np.isposinf(beta):
        fscore = recall
    elif beta == 0:
        fscore = precision
    else:
        fscore = _divide((1 + beta2) * tp, beta2 * true + pred, "F-score", "true nor predicted", zero_division,
                         "f-score" in warn_for)
    if average is None:
        return precision, recall, fscore, true.astype(np.int64) if sample_weight is None else true
    return (_average(precision, average, true), _average(recall, average, true),
            _average(fscore, average, true), None)


def precision(y_true, y_pred, labels=None, pos_label=1, average="binary", sample_weight=None, zero_division="warn"):
    """tp / (tp + fp): of the samples predicted as a class, the fraction that truly are (`precision_score`).

    See `precision_recall_fscore_support` for the arguments. Example:
        >>> precision([0, 1, 1, 0], [1, 1, 1, 0])
        0.6666666666666666
    """
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                           warn_for=("precision",), sample_weight=sample_weight,
                                           zero_division=zero_division)[0]


def recall(y_true, y_pred, labels=None, pos_label=1, average="binary", sample_weight=None, zero_division="warn"):
    """tp / (tp + fn): of the samples truly of a class, the fraction found (`recall_score`)."""
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                           warn_for=("recall",), sample_weight=sample_weight,
                                           zero_division=zero_division)[1]


def fbeta_score(y_true, y_pred, beta, labels=None, pos_label=1, average="binary", sample_weight=None,
                zero_division="warn"):
    """(1 + b^2) P R / (b^2 P + R): recall counts b times as much as precision (`fbeta_score`)."""
    return precision_recall_fscore_support(y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label,
                                           average=average, warn_for=("f-score",), sample_weight=sample_weight,
                                           zero_division=zero_division)[2]


def f1_score(y_true, y_pred, labels=None, pos_label=1, average="binary", sample_weight=None, zero_division="warn"):
    """2 P R / (P + R) = 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall (`f1_score`).

    Example:
        >>> f1_score([0, 1, 2, 2], [0, 2, 2, 2], average="macro")
        0.6
    """
    return fbeta_score(y_true, y_pred, 1.0, labels=labels, pos_label=pos_label, average=average,
                       sample_weight=sample_weight, zero_division=zero_division)


# scikit-learn's names, so code written against sklearn.metrics reads the same
accuracy_score = accuracy
top_k_accuracy_score = top_k_accuracy
precision_score = precision
recall_score = recall


def classification_report(y_true, y_pred, labels=None, target_names=None, sample_weight=None, digits=2,
                          output_dict=False, zero_division="warn"):
    """A text table of precision, recall, F1 and support per class plus accuracy and the macro and
    weighted averages, laid out exactly as `sklearn.metrics.classification_report` (or a dict with
    `output_dict=True`)."""
    y_true, y_pred, sample_weight = _check_pair(y_true, y_pred, sample_weight)
    present = _unique_labels(y_true, y_pred)
    labels_given = labels is not None
    labels = np.asarray(as_numpy(labels)) if labels_given else present
    micro_is_accuracy = not labels_given or set(labels.tolist()) >= set(present.tolist())
    if target_names is not None and len(labels) != len(target_names):
        if not labels_given:
            raise ValueError(f"Number of classes, {len(labels)}, does not match size of target_names, "
                             f"{len(target_names)}. Try specifying the labels parameter")
        warnings.warn(f"labels size, {len(labels)}, does not match size of target_names, {len(target_names)}",
                      stacklevel=2)
    if target_names is None:
        target_names = [f"{label}" for label in labels]

    headers = ["precision", "recall", "f1-score", "support"]
    per_class = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None,
                                                sample_weight=sample_weight, zero_division=zero_division)
    rows = list(zip(target_names, *per_class))
    averages = []
    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else average + " avg"
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average,
                                                     sample_weight=sample_weight, zero_division=zero_division)
        averages.append((heading, p, r, f, np.sum(per_class[3])))

    if output_dict:
        report = {name: dict(zip(headers, map(float, values))) for name, *values in rows}
        for heading, *values in averages:
            report[heading] = values[2] if heading == "accuracy" else dict(zip(headers, map(float, values)))
        return report

    width = max(max(len(name) for name in target_names), len("weighted avg"), digits)
    text = ("{:>{width}s} " + " {:>9}" * 4).format("", *headers, width=width) + "\n\n"
    row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for row in rows:
        text += row_fmt.format(*row, width=width, digits=digits)
    text += "\n"
    for heading, p, r, f, support in averages:
        if heading == "accuracy":
            text += ("{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f} {:>9}\n").format(
                heading, "", "", f, support, width=width, digits=digits)
        else:
            text += row_fmt.format(heading, p, r, f, support, width=width, digits=digits)
    return text


# ----------------------------------------------------------------------------- streaming sums
class MetricAccumulator:
    """Running sums of a few quantities over batches (d2l's `Accumulator`), e.g. loss sum, correct, count.

    Example:
        >>> acc = MetricAccumulator(3)                     # loss sum, number correct, number seen
        >>> acc.add(0.9 * 4, 3, 4); acc.add(0.5 * 4, 4, 4)
        >>> acc[0] / acc[2], acc[1] / acc[2]               # mean loss, accuracy
        (0.7, 0.875)

    Names may be given instead of a count: `MetricAccumulator("loss", "correct", "count")`, then
    `acc["correct"]` reads a sum and `acc.add(loss=..., correct=..., count=...)` adds by name.
    """

    def __init__(self, *names_or_count):
        if len(names_or_count) == 1 and isinstance(names_or_count[0], int):
            self.names = None
            self.data = [0.0] * names_or_count[0]
        else:
            self.names = list(names_or_count)
            self.data = [0.0] * len(self.names)

    def add(self, *values, **named):
        """Add one value per slot (positionally, or by name)."""
        if named:
            if self.names is None or values:
                raise TypeError("add by name needs an accumulator built with names, and no positional values")
            values = [named.pop(name, 0.0) for name in self.names]
            if named:
                raise KeyError(f"unknown names {sorted(named)}; this accumulator has {self.names}")
        if len(values) != len(self.data):
            raise ValueError(f"expected {len(self.data)} values, got {len(values)}")
        self.data = [a + float(b) for a, b in zip(self.data, values)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, key):
        if isinstance(key, str):
            if self.names is None or key not in self.names:
                raise KeyError(key)
            key = self.names.index(key)
        return self.data[key]

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        if self.names:
            return "MetricAccumulator(" + ", ".join(f"{n}={v:g}" for n, v in zip(self.names, self.data)) + ")"
        return f"MetricAccumulator({self.data})"
