"""The notes' small data sets, generated: regression lines and polynomials, logic gates, 2-D classification shapes.

Every function returns a pair of tensors `(X, y)` (wrap them as `TensorDataset(X, y)` for a DataLoader):
X is float32 `n × features`; y is float32 `n × 1` for regression and int64 `n` class labels for
classification (use `y.float()` for a sigmoid + BCE model). Randomness comes from glasstorch's default
generator, or `generator=` when given, so `glasstorch.manual_seed(0)` makes every data set repeatable.
"""
import math

import numpy as np

from .. import backend
from ..tensor import Tensor


def _tensors(X, y, y_dtype):
    return Tensor._make(np.ascontiguousarray(X, dtype=np.float32)), Tensor._make(np.asarray(y, dtype=y_dtype))


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return X[order], y[order]


def _as_array(value):
    return value._array if isinstance(value, Tensor) else np.asarray(value)


def linear_regression(w, b, n, noise=0.01, generator=None):
    """y = X w + b + ε with X ~ N(0, 1) and ε ~ N(0, noise²): d2l's `synthetic_data(w, b, n)`.

    Returns X (n × len(w)) and y (n × 1), both float32.

    Example:
        >>> import glasstorch
        >>> X, y = linear_regression([2, -3.4], 4.2, 1000)
        >>> tuple(X.shape), tuple(y.shape)
        ((1000, 2), (1000, 1))
    """
    w = _as_array(w).astype(np.float64).reshape(-1)
    rng = backend.rng(generator)
    X = rng.standard_normal((n, len(w)))
    y = X @ w + float(b) + noise * rng.standard_normal(n)
    return _tensors(X, y.reshape(-1, 1), np.float32)


def polynomial_regression(n=200, max_degree=20, true_w=(5.0, 1.2, -3.4, 5.6), noise=0.1, generator=None):
    """d2l's under/over-fitting example: y = Σ_i w_i x^i / i! + ε, x ~ N(0, 1), ε ~ N(0, noise²).

    Returns the features `x^i / i!` for i = 0..max_degree-1 (n × max_degree; dividing by i! keeps large powers
    in range) and y (n × 1). The weights beyond `true_w` are zero: fitting the first len(true_w) features is
    right, fewer underfits, all of them overfits a small training set. d2l uses the first 100 rows to train,
    the rest to test.
    """
    weights = np.zeros(max_degree)
    weights[:len(true_w)] = true_w
    rng = backend.rng(generator)
    x = rng.standard_normal((n, 1))
    features = x ** np.arange(max_degree) / np.array([math.gamma(i + 1) for i in range(max_degree)])
    y = features @ weights + noise * rng.standard_normal(n)
    return _tensors(features, y.reshape(-1, 1), np.float32)


_GATES = {"AND": lambda a, b: a & b, "OR": lambda a, b: a | b, "NAND": lambda a, b: 1 - (a & b),
          "NOR": lambda a, b: 1 - (a | b), "XOR": lambda a, b: a ^ b, "XNOR": lambda a, b: 1 - (a ^ b)}


def logic_gate(name):
    """The truth table of a two-input gate: X = [[0,0],[0,1],[1,0],[1,1]] (float32), y its outputs (int64).

    name: one of AND, OR, NAND, NOR, XOR, XNOR (any case). XOR is the one a single neuron cannot learn.
    """
    gate = _GATES.get(str(name).upper())
    if gate is None:
        raise ValueError(f"unknown logic gate {name!r}; choose one of {', '.join(_GATES)}")
    a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    return _tensors(np.stack([a, b], axis=1), gate(a, b), np.int64)


def diamond(n=500, generator=None):
    """Points uniform in the square [-1, 1]², labelled 1 inside the diamond |x1| + |x2| < 1 (about half of them).

    The data set of the notes' hand-written two-layer network (002_757a622ce0b21dea.txt), without its bias column.
    """
    X = backend.rng(generator).uniform(-1, 1, size=(n, 2))
    return _tensors(X, (np.abs(X[:, 0]) + np.abs(X[:, 1]) < 1), np.int64)


def xor_blobs(n=400, std=0.35, generator=None):
    """Four Gaussian blobs at (±1, ±1); label 1 where the signs differ (the XOR pattern, not linearly separable)."""
    rng = backend.rng(generator)
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float64)
    which = np.arange(n) % 4
    X = corners[which] + std * rng.standard_normal((n, 2))
    y = (corners[which, 0] * corners[which, 1] < 0)
    return _tensors(*_shuffled(X, y, rng), np.int64)


def moons(n=200, noise=0.1, generator=None):
    """Two interleaving half circles (scikit-learn's make_moons: the same curves, class 0 the upper moon)."""
    rng = backend.rng(generator)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    y = np.repeat([0, 1], [n_out, n_in])
    X = X + noise * rng.standard_normal(X.shape)
    return _tensors(*_shuffled(X, y, rng), np.int64)


def circles(n=200, noise=0.05, factor=0.5, generator=None):
    """A circle of radius 1 (class 0) around one of radius `factor` (class 1): scikit-learn's make_circles."""
    if not 0 <= factor < 1:
        raise ValueError("'factor' has to be between 0 and 1.")
    rng = backend.rng(generator)
    n_out, n_in = n // 2, n - n // 2
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    y = np.repeat([0, 1], [n_out, n_in])
    X = X + noise * rng.standard_normal(X.shape)
    return _tensors(*_shuffled(X, y, rng), np.int64)


def spirals(n=300, classes=3, noise=0.2, generator=None):
    """`classes` interleaved spiral arms (the CS231n example): arm k has radius r = 0..1 and angle
    4k .. 4(k+1) radians plus N(0, noise²); point = r (sin angle, cos angle). n is the total, split evenly."""
    rng = backend.rng(generator)
    per_class = np.full(classes, n // classes)
    per_class[:n % classes] += 1
    X, y = [], []
    for k, m in enumerate(per_class):
        r = np.linspace(0.0, 1.0, m)
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), m) + noise * rng.standard_normal(m)
        X.append(np.stack([r * np.sin(angle), r * np.cos(angle)], 1))
        y.append(np.full(m, k))
    return _tensors(*_shuffled(np.concatenate(X), np.concatenate(y), rng), np.int64)
