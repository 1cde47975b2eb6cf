"""Exercises: sigmoid, tanh, relu and softmax, forward and backward in NumPy."""
import numpy as np

from ..tensor import tensor
from .framework import Exercise, check_function, time_against


def away_from_zero(rng, scale=3.0):
    """Random inputs of a random shape, none within 1e-3 of 0 (ReLU's kink)."""
    shape = tuple(int(n) for n in rng.integers(1, 6, size=rng.integers(1, 4)))
    x = rng.standard_normal(shape) * scale
    return np.where(np.abs(x) < 1e-3, 0.5, x)


def timing(module, fn, glass, shape=(256, 256)):
    """Your forward on a (256, 256) array against glasstorch's op `glass(tensor)` on the same values."""
    x = np.random.default_rng(1).standard_normal(shape)
    t = tensor(x)
    return time_against(lambda: getattr(module, fn)(x), lambda: glass(t))


HUGE = [{"x": np.array([-1000.0, -30.0, 0.5, 30.0, 1000.0])}]


def check_sigmoid(module, rng):
    check_function(module, rng, make=lambda r: {"x": away_from_zero(r)}, reference=lambda x: x.sigmoid(),
                   diff=["x"], edge_cases=HUGE, stability=True,
                   variants=lambda case, want, up: {"dx": {"sigmoid_derivative": up["grad_y"] * want[0]}})
    return timing(module, "forward", lambda t: t.sigmoid())


def check_tanh(module, rng):
    check_function(module, rng, make=lambda r: {"x": away_from_zero(r, 1.0)}, reference=lambda x: x.tanh(),
                   diff=["x"], edge_cases=HUGE, stability=True,
                   variants=lambda case, want, up: {"dx": {"tanh_derivative": up["grad_y"] * (1 - want[0])}})
    return timing(module, "forward", lambda t: t.tanh())


def check_relu(module, rng):
    check_function(module, rng, make=lambda r: {"x": away_from_zero(r)}, reference=lambda x: x.relu(), diff=["x"],
                   variants=lambda case, want, up: {"dx": {"relu_mask": up["grad_y"] * (case["x"] < 0)}})
    return timing(module, "forward", lambda t: t.relu())


def rows(rng):
    return {"x": rng.standard_normal((int(rng.integers(2, 6)), int(rng.integers(3, 7)))) * 3}


def check_softmax(module, rng):
    def wrong_axis(case, want, up):
        x = case["x"]
        e = np.exp(x - x.max(axis=0, keepdims=True))
        return {"y": {"axis": e / e.sum(axis=0, keepdims=True)}}
    check_function(module, rng, make=rows, reference=lambda x: x.softmax(-1), diff=["x"], stability=True,
                   edge_cases=[{"x": np.array([[1000.0, 999.0, -1000.0], [0.0, 0.0, 0.0]])}], variants=wrong_axis)
    return timing(module, "forward", lambda t: t.softmax(-1))


SIGMOID = Exercise(
    name="sigmoid", title="the sigmoid activation",
    math="""
        y = sigmoid(x) = 1 / (1 + exp(-x))
        dL/dx = dL/dy * y * (1 - y)            (save the output y: the derivative needs only y)
    Shapes: x, y, grad_y and dL/dx all have the same (any) shape.
    For x = -1000, exp(-x) overflows; exp(-logaddexp(0, -x)) is the same function without overflow.""",
    starter='''
        def forward(x):
            """x: ndarray of any shape -> y = sigmoid(x), same shape."""
            raise NotImplementedError


        def backward(grad_y, y):
            """grad_y: dL/dy, y: forward's output (both x's shape) -> dL/dx."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(x):
            """x: ndarray of any shape -> y = sigmoid(x), same shape."""
            return np.exp(-np.logaddexp(0.0, -x))


        def backward(grad_y, y):
            """grad_y: dL/dy, y: forward's output (both x's shape) -> dL/dx."""
            return grad_y * y * (1.0 - y)
    ''',
    check=check_sigmoid, where=("glasstorch.ops.elementwise", "sigmoid"),
    mistakes={"sign": [("return grad_y * y * (1.0 - y)", "return -grad_y * y * (1.0 - y)")],
              "sigmoid_derivative": [("return grad_y * y * (1.0 - y)", "return grad_y * y")],
              "not_implemented": [("return grad_y * y * (1.0 - y)", "raise NotImplementedError")]})

TANH = Exercise(
    name="tanh", title="the tanh activation",
    math="""
        y = tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))
        dL/dx = dL/dy * (1 - y^2)
    Shapes: all the same (any) shape.""",
    starter='''
        def forward(x):
            """x: ndarray of any shape -> y = tanh(x)."""
            raise NotImplementedError


        def backward(grad_y, y):
            """grad_y: dL/dy, y: forward's output -> dL/dx."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(x):
            """x: ndarray of any shape -> y = tanh(x)."""
            return np.tanh(x)


        def backward(grad_y, y):
            """grad_y: dL/dy, y: forward's output -> dL/dx."""
            return grad_y * (1.0 - y * y)
    ''',
    check=check_tanh, where=("glasstorch.ops.elementwise", "tanh"),
    mistakes={"tanh_derivative": [("return grad_y * (1.0 - y * y)", "return grad_y * (1.0 - y)")],
              "unstable": [("return np.tanh(x)", "return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))")]})

RELU = Exercise(
    name="relu", title="the ReLU activation",
    math="""
        y = max(x, 0)
        dL/dx = dL/dy where x > 0, else 0
    Shapes: all the same (any) shape. Don't change x: the backward needs it as it was.""",
    starter='''
        def forward(x):
            """x: ndarray of any shape -> y = max(x, 0)."""
            raise NotImplementedError


        def backward(grad_y, x):
            """grad_y: dL/dy, x: forward's input -> dL/dx."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(x):
            """x: ndarray of any shape -> y = max(x, 0)."""
            return np.maximum(x, 0.0)


        def backward(grad_y, x):
            """grad_y: dL/dy, x: forward's input -> dL/dx."""
            return grad_y * (x > 0)
    ''',
    check=check_relu, where=("glasstorch.ops.elementwise", "relu"),
    mistakes={"inplace": [("return np.maximum(x, 0.0)", "x[x < 0] = 0.0\n    return x")],
              "relu_mask": [("return grad_y * (x > 0)", "return grad_y * (x < 0)")]})

SOFTMAX = Exercise(
    name="softmax", title="softmax over the last axis",
    math="""
        y_i = exp(x_i) / sum_j exp(x_j)          (over the last axis: each row sums to 1)
        dL/dx = y * (dL/dy - sum_j(dL/dy_j * y_j))
    Subtract each row's max before exp: softmax(x) = softmax(x - max(x)), and exp no longer overflows.
    Shapes: x (N, C), y (N, C).""",
    starter='''
        def forward(x):
            """x: (N, C) scores -> y: (N, C), each row a probability distribution."""
            raise NotImplementedError


        def backward(grad_y, y):
            """grad_y: dL/dy (N, C), y: forward's output -> dL/dx (N, C)."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(x):
            """x: (N, C) scores -> y: (N, C), each row a probability distribution."""
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)


        def backward(grad_y, y):
            """grad_y: dL/dy (N, C), y: forward's output -> dL/dx (N, C)."""
            return y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True))
    ''',
    check=check_softmax, where=("glasstorch.ops.elementwise", "softmax"),
    mistakes={"unstable": [("e = np.exp(x - x.max(axis=-1, keepdims=True))", "e = np.exp(x)")],
              "axis": [("e = np.exp(x - x.max(axis=-1, keepdims=True))", "e = np.exp(x - x.max(axis=0, keepdims=True))"),
                       ("return e / e.sum(axis=-1, keepdims=True)", "return e / e.sum(axis=0, keepdims=True)")]})

EXERCISES = [SIGMOID, TANH, RELU, SOFTMAX]
