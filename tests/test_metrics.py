"""glasstorch.metrics against scikit-learn (the oracle) on random and edge cases."""
import warnings

import numpy as np
import pytest
import torch as real_torch
from sklearn import metrics as skm

import glasstorch
from glasstorch import metrics

AVERAGES = [None, "micro", "macro", "weighted"]


def random_labels(seed, n=None, classes=None):
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(1, 60))
    classes = classes or int(rng.integers(2, 7))
    y_true = rng.integers(0, classes, n)
    # predictions that miss some classes entirely (zero-division cases appear often)
    y_pred = rng.integers(0, max(1, classes - int(rng.integers(0, 3))), n)
    return y_true, y_pred


def run_both(ours, theirs):
    """Call both; return their results and the messages of the warnings each raised."""
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        a = ours()
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        b = theirs()
    return a, b, [str(w.message) for w in ours_w], [str(w.message) for w in theirs_w]


def assert_same(a, b):
    if isinstance(b, tuple):
        for x, y in zip(a, b):
            assert_same(x, y)
    elif b is None:
        assert a is None
    else:
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12, atol=0,
                                   equal_nan=True)
        assert type(a) is type(b) or isinstance(b, np.ndarray)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
def test_prf_matches_sklearn(seed, average, name):
    y_true, y_pred = random_labels(seed)
    ours = getattr(metrics, name)
    theirs = getattr(skm, name)
    a, b, wa, wb = run_both(lambda: ours(y_true, y_pred, average=average),
                            lambda: theirs(y_true, y_pred, average=average))
    assert_same(a, b)
    assert wa == wb


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("zero_division", ["warn", 0, 1, np.nan])
@pytest.mark.parametrize("average", AVERAGES)
def test_prfs_zero_division_and_absent_labels(seed, zero_division, average):
    y_true, y_pred = random_labels(seed, classes=4)
    labels = [0, 1, 2, 3, 7]  # 7 is in neither array: every ratio of it is undefined
    kw = dict(labels=labels, average=average, zero_division=zero_division)
    a, b, wa, wb = run_both(lambda: metrics.precision_recall_fscore_support(y_true, y_pred, **kw),
                            lambda: skm.precision_recall_fscore_support(y_true, y_pred, **kw))
    assert_same(a, b)
    assert wa == wb


def test_warning_category_and_message():
    with pytest.warns(metrics.UndefinedMetricWarning, match="Precision is ill-defined and being set to 0.0 due to "
                                                            "no predicted samples"):
        assert metrics.precision([1, 0, 1], [0, 0, 0]) == 0.0
    with pytest.warns(metrics.UndefinedMetricWarning, match="in labels with no predicted samples"):
        metrics.precision([0, 1, 2], [0, 0, 1], average="macro")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.precision([1, 0, 1], [0, 0, 0], zero_division=1) == 1.0


@pytest.mark.parametrize("seed", range(8))
def test_binary_and_pos_label(seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, 2, 30), rng.integers(0, 2, 30)
    for fn in ("precision_score", "recall_score", "f1_score"):
        for pos_label in (0, 1):
            assert_same(getattr(metrics, fn)(y_true, y_pred, pos_label=pos_label),
                        getattr(skm, fn)(y_true, y_pred, pos_label=pos_label))
    strings = np.array(["cat", "dog"])[y_true], np.array(["cat", "dog"])[y_pred]
    assert_same(metrics.f1_score(*strings, pos_label="dog"), skm.f1_score(*strings, pos_label="dog"))
    assert_same(metrics.fbeta_score(y_true, y_pred, beta=2.0), skm.fbeta_score(y_true, y_pred, beta=2.0))


def test_binary_errors():
    with pytest.raises(ValueError, match="Target is multiclass but average='binary'"):
        metrics.f1_score([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="pos_label=2 is not a valid label"):
        metrics.f1_score([0, 1, 1], [0, 1, 1], pos_label=2)
    with pytest.raises(ValueError, match="average has to be one of"):
        metrics.f1_score([0, 1, 1], [0, 1, 1], average="mean")
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="continuous"):
        metrics.accuracy([0.5, 1.0], [0, 1])


@pytest.mark.parametrize("seed", range(8))
def test_accuracy_confusion_matrix(seed):
    y_true, y_pred = random_labels(seed)
    w = np.random.default_rng(seed).random(len(y_true))
    assert_same(metrics.accuracy(y_true, y_pred), skm.accuracy_score(y_true, y_pred))
    assert_same(metrics.accuracy(y_true, y_pred, normalize=False), skm.accuracy_score(y_true, y_pred, normalize=False))
    assert_same(metrics.accuracy(y_true, y_pred, sample_weight=w), skm.accuracy_score(y_true, y_pred, sample_weight=w))
    cm = metrics.confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_true, y_pred))
    assert cm.dtype == np.int64
    for normalize in ("true", "pred", "all"):
        np.testing.assert_allclose(metrics.confusion_matrix(y_true, y_pred, normalize=normalize),
                                   skm.confusion_matrix(y_true, y_pred, normalize=normalize))
    labels = [3, 0, 9, 1]  # unordered, with an absent class; samples of unlisted classes drop out
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred, labels=labels),
                                  skm.confusion_matrix(y_true, y_pred, labels=labels))
    np.testing.assert_allclose(metrics.confusion_matrix(y_true, y_pred, sample_weight=w),
                               skm.confusion_matrix(y_true, y_pred, sample_weight=w))


def test_tensors_and_logits_accepted():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 50)
    logits = rng.standard_normal((50, 4)).astype(np.float32)
    expected = skm.accuracy_score(y_true, logits.argmax(1))
    assert metrics.accuracy(glasstorch.tensor(y_true), glasstorch.tensor(logits, requires_grad=True)) == expected
    assert metrics.accuracy(real_torch.tensor(y_true), real_torch.tensor(logits, requires_grad=True)) == expected
    assert_same(metrics.f1_score(glasstorch.tensor(y_true), glasstorch.tensor(logits), average="macro"),
                skm.f1_score(y_true, logits.argmax(1), average="macro"))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy(seed, k):
    rng = np.random.default_rng(seed)
    n_classes = 5
    y_true = rng.permutation(np.arange(40) % n_classes)
    scores = rng.integers(0, 4, (40, n_classes)).astype(float)  # many ties: tie-breaking must agree
    assert_same(metrics.top_k_accuracy(y_true, scores, k=k), skm.top_k_accuracy_score(y_true, scores, k=k))
    assert_same(metrics.top_k_accuracy(y_true, scores, k=k, normalize=False),
                skm.top_k_accuracy_score(y_true, scores, k=k, normalize=False))
    binary_true, binary_scores = rng.integers(0, 2, 20), rng.random(20)
    a, b, wa, wb = run_both(lambda: metrics.top_k_accuracy(binary_true, binary_scores, k=k),
                            lambda: skm.top_k_accuracy_score(binary_true, binary_scores, k=k))
    assert_same(a, b)
    assert wa == wb
    labels = [0, 1, 2, 3, 4, 5]
    wide = rng.random((40, 6))
    assert_same(metrics.top_k_accuracy(y_true, wide, k=k, labels=labels),
                skm.top_k_accuracy_score(y_true, wide, k=k, labels=labels))


@pytest.mark.parametrize("seed", range(5))
def test_classification_report(seed):
    y_true, y_pred = random_labels(seed, n=40, classes=4)
    kw_list = [{}, {"digits": 4}, {"labels": [0, 1, 2, 3, 5]}, {"labels": [1, 2]},
               {"target_names": ["ant", "bee", "cat", "a much longer class name"], "labels": [0, 1, 2, 3]}]
    for kw in kw_list:
        a, b, wa, wb = run_both(lambda: metrics.classification_report(y_true, y_pred, **kw),
                                lambda: skm.classification_report(y_true, y_pred, **kw))
        assert a == b
        assert wa == wb
        a = metrics.classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kw)
        b = skm.classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kw)
        assert a == b


def test_metric_accumulator():
    acc = metrics.MetricAccumulator(3)
    batches = [(0.9, 3, 4), (0.5, 4, 4), (0.2, 1, 2)]
    for loss, correct, n in batches:
        acc.add(loss * n, correct, n)
    assert acc[2] == 10 and acc[1] == 8
    assert acc[0] == pytest.approx(sum(l * n for l, _, n in batches))
    acc.reset()
    assert list(acc.data) == [0.0, 0.0, 0.0]
    named = metrics.MetricAccumulator("loss", "correct", "count")
    named.add(loss=1.5, count=2)
    named.add(0.5, 1, 2)
    assert (named["loss"], named["correct"], named["count"]) == (2.0, 1.0, 4.0)
    with pytest.raises(ValueError):
        named.add(1, 2)
    with pytest.raises(KeyError):
        named.add(oops=1)
