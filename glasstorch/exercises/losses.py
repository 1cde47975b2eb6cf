"""Exercises: log-softmax + NLL, cross-entropy from logits, mean squared error."""
import numpy as np

from ..nn import functional as F
from ..tensor import tensor
from .framework import Exercise, check_function, time_against


def classification(rng, scale=3.0):
    n, c = int(rng.integers(2, 7)), int(rng.integers(2, 6))
    return {"logits": rng.standard_normal((n, c)) * scale, "target": rng.integers(0, c, size=n)}


def batch(case):
    return len(case["target"]) if "target" in case else case["y_pred"].size


def cross_entropy_timing(module):
    rng = np.random.default_rng(1)
    logits, target = rng.standard_normal((512, 10)), rng.integers(0, 10, size=512)
    t, tt = tensor(logits), tensor(target)
    return time_against(lambda: module.forward(logits=logits, target=target), lambda: F.cross_entropy(t, tt))


def nll_variants(case, want, up):
    logits, target = case["logits"], case["target"]
    with np.errstate(all="ignore"):
        e = np.exp(logits - logits.max(0, keepdims=True))
        wrong_axis = -np.log(e / e.sum(0, keepdims=True))[np.arange(len(target)), target].mean()
    return {"y": {"axis": wrong_axis}}


def check_log_softmax_nll(module, rng):
    check_function(module, rng, make=classification, diff=["logits"], batch_of=batch, stability=True,
                   reference=lambda logits, target: F.nll_loss(F.log_softmax(logits, dim=1), target),
                   edge_cases=[{"logits": np.array([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]]),
                                "target": np.array([1, 2])}], variants=nll_variants)
    return cross_entropy_timing(module)


def check_cross_entropy(module, rng):
    check_function(module, rng, make=classification, diff=["logits"], batch_of=batch, stability=True,
                   reference=lambda logits, target: F.cross_entropy(logits, target),
                   edge_cases=[{"logits": np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]]),
                                "target": np.array([2, 0])}], variants=nll_variants)
    return cross_entropy_timing(module)


def regression(rng):
    shape = (int(rng.integers(1, 8)), int(rng.integers(1, 4)))
    return {"y_pred": rng.standard_normal(shape), "y_true": rng.standard_normal(shape)}


def check_mse(module, rng):
    check_function(module, rng, make=regression, diff=["y_pred"], batch_of=batch,
                   reference=lambda y_pred, y_true: F.mse_loss(y_pred, y_true))
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((512, 10)), rng.standard_normal((512, 10))
    ta, tb = tensor(a), tensor(b)
    return time_against(lambda: module.forward(y_pred=a, y_true=b), lambda: F.mse_loss(ta, tb))


LOG_SOFTMAX_NLL = Exercise(
    name="log-softmax-nll", title="log-softmax, then the negative log-likelihood",
    math="""
        log_softmax(x)_i = x_i - log(sum_j exp(x_j)) = (x_i - m) - log(sum_j exp(x_j - m)),  m = max_j x_j
        NLL = -(1/N) sum_n log_softmax(x_n)[t_n]        (the mean over the batch)
        dNLL/dx = (softmax(x) - onehot(t)) / N
    Shapes: logits (N, C) float, target (N,) int in 0..C-1, the loss a scalar.""",
    starter='''
        def forward(logits, target):
            """logits: (N, C), target: (N,) class indices -> the mean NLL of log_softmax(logits) (a float)."""
            raise NotImplementedError


        def backward(grad_y, logits, target):
            """grad_y: dL/dloss (a scalar), logits, target -> dL/dlogits (N, C)."""
            raise NotImplementedError
    ''',
    solution='''
        def log_softmax(x):
            shifted = x - x.max(axis=1, keepdims=True)
            return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


        def forward(logits, target):
            """logits: (N, C), target: (N,) class indices -> the mean NLL of log_softmax(logits) (a float)."""
            n = len(target)
            return -log_softmax(logits)[np.arange(n), target].mean()


        def backward(grad_y, logits, target):
            """grad_y: dL/dloss (a scalar), logits, target -> dL/dlogits (N, C)."""
            n = len(target)
            grad = np.exp(log_softmax(logits))
            grad[np.arange(n), target] -= 1.0
            return grad_y * grad / n
    ''',
    check=check_log_softmax_nll, where=("glasstorch.ops.loss", "cross_entropy"),
    mistakes={"missing_1/N": [("return grad_y * grad / n", "return grad_y * grad")],
              "unstable": [("shifted = x - x.max(axis=1, keepdims=True)", "shifted = x")],
              "axis": [("shifted = x - x.max(axis=1, keepdims=True)", "shifted = x - x.max(axis=0, keepdims=True)"),
                       ("np.exp(shifted).sum(axis=1, keepdims=True)", "np.exp(shifted).sum(axis=0, keepdims=True)")]})

CROSS_ENTROPY = Exercise(
    name="cross-entropy", title="cross-entropy from logits, numerically stable",
    math="""
        p = softmax(x) row by row;  loss = -(1/N) sum_n log p_n[t_n]
        Stable: log p_i = (x_i - m) - log(sum_j exp(x_j - m)) with m the row max; never log(softmax(x)),
        which is log(0) = -inf once a probability underflows.
        dloss/dx = (p - onehot(t)) / N          (the whole backward of softmax + cross-entropy)
    Shapes: logits (N, C), target (N,) int, the loss a scalar.""",
    starter='''
        def forward(logits, target):
            """logits: (N, C), target: (N,) class indices -> mean cross-entropy (a float)."""
            raise NotImplementedError


        def backward(grad_y, logits, target):
            """grad_y: dL/dloss (a scalar) -> dL/dlogits (N, C) = grad_y * (softmax - onehot) / N."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(logits, target):
            """logits: (N, C), target: (N,) class indices -> mean cross-entropy (a float)."""
            m = logits.max(axis=1, keepdims=True)
            log_p = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
            return -log_p[np.arange(len(target)), target].mean()


        def backward(grad_y, logits, target):
            """grad_y: dL/dloss (a scalar) -> dL/dlogits (N, C) = grad_y * (softmax - onehot) / N."""
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            p[np.arange(len(target)), target] -= 1.0
            return grad_y * p / len(target)
    ''',
    check=check_cross_entropy, where=("glasstorch.ops.loss", "cross_entropy"),
    mistakes={"unstable": [("log_p = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))",
                            "log_p = np.log(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))")],
              "missing_1/N": [("return grad_y * p / len(target)", "return grad_y * p")]})

MSE = Exercise(
    name="mse", title="mean squared error",
    math="""
        loss = (1/M) sum (y_pred - y_true)^2      (M = the number of elements: reduction='mean')
        dloss/dy_pred = 2 (y_pred - y_true) / M
    Shapes: y_pred and y_true the same shape, the loss a scalar.""",
    starter='''
        def forward(y_pred, y_true):
            """y_pred, y_true: same shape -> the mean of the squared differences (a float)."""
            raise NotImplementedError


        def backward(grad_y, y_pred, y_true):
            """grad_y: dL/dloss (a scalar) -> dL/dy_pred (y_pred's shape)."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(y_pred, y_true):
            """y_pred, y_true: same shape -> the mean of the squared differences (a float)."""
            return ((y_pred - y_true) ** 2).mean()


        def backward(grad_y, y_pred, y_true):
            """grad_y: dL/dloss (a scalar) -> dL/dy_pred (y_pred's shape)."""
            return grad_y * 2.0 * (y_pred - y_true) / y_pred.size
    ''',
    check=check_mse, where=("glasstorch.ops.loss", "mse_loss"),
    mistakes={"missing_1/N": [("return grad_y * 2.0 * (y_pred - y_true) / y_pred.size",
                               "return grad_y * 2.0 * (y_pred - y_true)")],
              "sign": [("return grad_y * 2.0 * (y_pred - y_true) / y_pred.size",
                        "return grad_y * 2.0 * (y_true - y_pred) / y_pred.size")]})

EXERCISES = [LOG_SOFTMAX_NLL, CROSS_ENTROPY, MSE]
