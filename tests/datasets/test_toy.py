"""The generated data sets: shapes, dtypes, labels by their defining rule, determinism under seeds."""
import math

import numpy as np
import pytest
from sklearn.datasets import make_circles, make_moons

import glasstorch
from glasstorch.datasets import (circles, diamond, linear_regression, logic_gate, moons, polynomial_regression,
                                 spirals, xor_blobs)
from glasstorch.utils.data import DataLoader, TensorDataset

CLASSIFIERS = [diamond, xor_blobs, moons, circles, spirals]


@pytest.mark.parametrize("make", CLASSIFIERS)
@pytest.mark.parametrize("n", [7, 120])
def test_classification_sets_shapes_and_determinism(make, n):
    glasstorch.manual_seed(0)
    X, y = make(n)
    assert tuple(X.shape) == (n, 2) and X.dtype == glasstorch.float32
    assert tuple(y.shape) == (n,) and y.dtype == glasstorch.int64
    glasstorch.manual_seed(0)
    X2, y2 = make(n)
    np.testing.assert_array_equal(X.numpy(), X2.numpy())
    np.testing.assert_array_equal(y.numpy(), y2.numpy())
    X3, _ = make(n, generator=glasstorch.Generator().manual_seed(1))
    assert not np.array_equal(X.numpy(), X3.numpy())
    assert len(DataLoader(TensorDataset(X, y), batch_size=5)) == math.ceil(n / 5)


def test_diamond_labels_follow_the_rule():
    X, y = diamond(500, generator=glasstorch.Generator().manual_seed(0))
    x = X.numpy()
    assert np.all(np.abs(x) <= 1)
    np.testing.assert_array_equal(y.numpy(), (np.abs(x[:, 0]) + np.abs(x[:, 1]) < 1).astype(np.int64))
    assert 0.4 < y.numpy().mean() < 0.6  # the diamond covers half of the square


def test_xor_blobs_labels_follow_the_quadrant():
    X, y = xor_blobs(400, std=0.1, generator=glasstorch.Generator().manual_seed(0))
    x = X.numpy()
    np.testing.assert_array_equal(y.numpy(), (x[:, 0] * x[:, 1] < 0).astype(np.int64))
    assert np.bincount(y.numpy()).tolist() == [200, 200]


@pytest.mark.parametrize("ours, theirs, kwargs", [(moons, make_moons, {}), (circles, make_circles, {"factor": 0.5})])
def test_noise_free_shapes_equal_scikit_learn(ours, theirs, kwargs):
    X, y = ours(101, noise=0.0, **kwargs)
    ref_X, ref_y = theirs(101, noise=0.0, shuffle=False, **kwargs)
    got = sorted(zip(y.tolist(), np.round(X.numpy(), 5).tolist()))
    want = sorted(zip(ref_y.tolist(), np.round(ref_X.astype(np.float32), 5).tolist()))
    assert got == want


def test_spirals_classes_and_radii():
    X, y = spirals(301, classes=3, noise=0.0)
    assert np.bincount(y.numpy()).tolist() == [101, 100, 100]
    assert np.all(np.linalg.norm(X.numpy(), axis=1) <= 1 + 1e-6)


@pytest.mark.parametrize("name, outputs", [("AND", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("NAND", [1, 1, 1, 0]),
                                           ("NOR", [1, 0, 0, 0]), ("XOR", [0, 1, 1, 0]), ("xnor", [1, 0, 0, 1])])
def test_logic_gates(name, outputs):
    X, y = logic_gate(name)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and X.dtype == glasstorch.float32
    assert y.tolist() == outputs and y.dtype == glasstorch.int64


def test_unknown_gate():
    with pytest.raises(ValueError, match="unknown logic gate"):
        logic_gate("IMPLIES")


def test_linear_regression_recovers_its_parameters():
    w, b = [2.0, -3.4], 4.2
    X, y = linear_regression(glasstorch.tensor(w), b, 2000, noise=0.01, generator=glasstorch.Generator().manual_seed(0))
    assert tuple(X.shape) == (2000, 2) and tuple(y.shape) == (2000, 1) and y.dtype == glasstorch.float32
    design = np.hstack([X.numpy(), np.ones((2000, 1))]).astype(np.float64)
    fit = np.linalg.lstsq(design, y.numpy().astype(np.float64), rcond=None)[0].ravel()
    np.testing.assert_allclose(fit, w + [b], atol=2e-3)
    residual = y.numpy().ravel() - X.numpy() @ np.array(w, np.float32) - b
    assert abs(residual.std() - 0.01) < 0.002


def test_polynomial_regression_features_and_labels():
    X, y = polynomial_regression(n=200, max_degree=20, noise=0.0, generator=glasstorch.Generator().manual_seed(0))
    assert tuple(X.shape) == (200, 20) and tuple(y.shape) == (200, 1)
    features = X.numpy().astype(np.float64)
    x = features[:, 1]
    for i in range(6):
        np.testing.assert_allclose(features[:, i], x ** i / math.factorial(i), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(y.numpy().ravel(), features[:, :4] @ [5.0, 1.2, -3.4, 5.6], rtol=1e-4, atol=1e-4)
