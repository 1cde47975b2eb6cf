"""Exercises: SGD with momentum, Adam, the notes' two-layer network by hand, the numerical gradient."""
import numpy as np

from .. import optim
from ..nn import functional as F
from ..nn.parameter import Parameter
from ..tensor import tensor
from .framework import CheckFailed, Exercise, call, check_function, expect, time_against


def run_optimizer(module, rng, make_optimizer, hyper, steps=6):
    """The learner's `step` against a glasstorch optimizer on the same gradients, step by step: yields
    (t, the learner's new param, the optimizer's new param, the gradient, the param before the step)."""
    shape = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    start = rng.standard_normal(shape)
    param = Parameter(tensor(start.copy()))
    reference = make_optimizer([param], **hyper)
    mine, state = start.copy(), {}
    for t in range(1, steps + 1):
        grad = rng.standard_normal(shape)
        before = param.detach().numpy().copy()
        param.grad = tensor(grad.copy())
        reference.step()
        mine = call(module, "step", param=mine, grad=grad, state=state, **hyper)
        yield t, np.asarray(mine), param.detach().numpy(), grad, before


def check_sgd(module, rng):
    for hyper in ({"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0, "nesterov": False},
                  {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.01, "nesterov": False},
                  {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0, "nesterov": True}):
        for t, mine, want, grad, before in run_optimizer(module, rng, optim.SGD, hyper):
            variants = {"sign": 2 * before - want}
            if t == 1 and not hyper["nesterov"]:  # buf = (1 - momentum) * g on the first step
                g = grad + hyper["weight_decay"] * before
                variants["first_step"] = before - hyper["lr"] * (1 - hyper["momentum"]) * g
            expect(f"step {t} ({hyper})", mine, want, rtol=1e-9, atol=1e-12, variants=variants)
    return "6 steps equal optim.SGD's, with momentum, weight decay and Nesterov"


SGD = Exercise(
    name="sgd-momentum", title="SGD with momentum, weight decay and Nesterov (torch's update)",
    math="""
        g = grad + weight_decay * param
        buf = g on the first step, then buf = momentum * buf + g
        nesterov: g = g + momentum * buf;  otherwise g = buf
        param = param - lr * g
    `state` is a dict that you keep between calls (store buf in it). Shapes: param, grad the same.""",
    starter='''
        def step(param, grad, state, lr, momentum, weight_decay, nesterov):
            """One update -> the new param (return it). `state`: your dict, the same object on every call."""
            raise NotImplementedError
    ''',
    solution='''
        def step(param, grad, state, lr, momentum, weight_decay, nesterov):
            """One update -> the new param (return it). `state`: your dict, the same object on every call."""
            g = grad + weight_decay * param
            if "buf" not in state:
                state["buf"] = g.copy()
            else:
                state["buf"] = momentum * state["buf"] + g
            g = g + momentum * state["buf"] if nesterov else state["buf"]
            return param - lr * g
    ''',
    check=check_sgd, where=("glasstorch.optim.sgd", "SGD"),
    mistakes={"sign": [("return param - lr * g", "return param + lr * g")]})


def check_adam(module, rng):
    for hyper in ({"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
                  {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.01}):
        for t, mine, want, grad, before in run_optimizer(module, rng, optim.Adam, hyper):
            variants = {"sign": 2 * before - want}
            if t == 1:  # the first step without bias correction
                (b1, b2), g = hyper["betas"], grad + hyper["weight_decay"] * before
                variants["bias_correction"] = before - hyper["lr"] * (1 - b1) * g / (np.sqrt((1 - b2) * g * g)
                                                                                    + hyper["eps"])
            expect(f"step {t} ({hyper})", mine, want, rtol=1e-7, atol=1e-10, variants=variants)
    return "6 steps equal optim.Adam's"


ADAM = Exercise(
    name="adam", title="Adam (torch's update, L2 weight decay)",
    math="""
        g = grad + weight_decay * param;  t = t + 1
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2      (both start at 0)
        m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t)                       (bias correction)
        param = param - lr * m_hat / (sqrt(v_hat) + eps)
    `state` is a dict you keep between calls (t, m, v).""",
    starter='''
        def step(param, grad, state, lr, betas, eps, weight_decay):
            """One update -> the new param. `state`: your dict, the same object on every call."""
            raise NotImplementedError
    ''',
    solution='''
        def step(param, grad, state, lr, betas, eps, weight_decay):
            """One update -> the new param. `state`: your dict, the same object on every call."""
            beta1, beta2 = betas
            g = grad + weight_decay * param
            state["t"] = state.get("t", 0) + 1
            state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
            state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
            m_hat = state["m"] / (1 - beta1 ** state["t"])
            v_hat = state["v"] / (1 - beta2 ** state["t"])
            return param - lr * m_hat / (np.sqrt(v_hat) + eps)
    ''',
    check=check_adam, where=("glasstorch.optim.adam", "Adam"),
    mistakes={"bias_correction": [('m_hat = state["m"] / (1 - beta1 ** state["t"])', 'm_hat = state["m"]'),
                                  ('v_hat = state["v"] / (1 - beta2 ** state["t"])', 'v_hat = state["v"]')]})


# ----------------------------------------------------------------------------- the notes' network
def net_case(rng):
    n, d, h, c = int(rng.integers(2, 6)), int(rng.integers(2, 6)), int(rng.integers(2, 5)), int(rng.integers(2, 5))
    return {"x": rng.standard_normal((n, d)), "t": rng.integers(0, c, size=n),
            "W1": rng.standard_normal((d, h)), "b1": rng.standard_normal(h) * 0.1,
            "W2": rng.standard_normal((h, c)), "b2": rng.standard_normal(c) * 0.1}


def net_reference(x, t, W1, b1, W2, b2):
    hidden = (x @ W1 + b1).sigmoid()
    return F.cross_entropy(hidden @ W2 + b2, tensor(t))


def check_two_layer(module, rng):
    check_function(module, rng, make=net_case, reference=net_reference, diff=["W1", "b1", "W2", "b2"],
                   outputs=("loss",), batch_of=lambda case: len(case["t"]))
    return "loss and the four gradients match autograd and central differences"


TWO_LAYER = Exercise(
    name="two-layer-net", title="the notes' TwoLayerNet, back-propagated by hand",
    math="""
        The notes' network (003): affine -> sigmoid -> affine -> softmax -> cross-entropy (mean over the batch)
        a1 = x @ W1 + b1;  z1 = sigmoid(a1);  a2 = z1 @ W2 + b2;  y = softmax(a2)
        loss = -(1/N) sum_n log y[n, t_n]
        backward (the chain rule, layer by layer):
        da2 = (y - onehot(t)) / N;   dW2 = z1.T @ da2;   db2 = sum(da2, axis=0)
        dz1 = da2 @ W2.T;            da1 = dz1 * z1 * (1 - z1)
        dW1 = x.T @ da1;             db1 = sum(da1, axis=0)
    Shapes: x (N, D), t (N,) int, W1 (D, H), b1 (H,), W2 (H, C), b2 (C,) (the notes' layout: x @ W).""",
    starter='''
        def forward(x, t, W1, b1, W2, b2):
            """-> the loss (a float)."""
            raise NotImplementedError


        def backward(grad_loss, x, t, W1, b1, W2, b2):
            """grad_loss: dL/dloss (a scalar) -> (dW1, db1, dW2, db2)."""
            raise NotImplementedError
    ''',
    solution='''
        def sigmoid(a):
            return np.exp(-np.logaddexp(0.0, -a))


        def softmax(a):
            e = np.exp(a - a.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)


        def forward(x, t, W1, b1, W2, b2):
            """-> the loss (a float)."""
            y = softmax(sigmoid(x @ W1 + b1) @ W2 + b2)
            return -np.log(y[np.arange(len(t)), t]).mean()


        def backward(grad_loss, x, t, W1, b1, W2, b2):
            """grad_loss: dL/dloss (a scalar) -> (dW1, db1, dW2, db2)."""
            n = len(t)
            z1 = sigmoid(x @ W1 + b1)
            da2 = softmax(z1 @ W2 + b2)
            da2[np.arange(n), t] -= 1.0
            da2 *= grad_loss / n
            dz1 = da2 @ W2.T
            da1 = dz1 * z1 * (1.0 - z1)
            return x.T @ da1, da1.sum(axis=0), z1.T @ da2, da2.sum(axis=0)
    ''',
    check=check_two_layer, where=("glasstorch.experiments.two_layer_net", "TwoLayerNet"),
    mistakes={"missing_1/N": [("da2 *= grad_loss / n", "da2 *= grad_loss")],
              "sum_batch": [("da1.sum(axis=0), z1.T @ da2, da2.sum(axis=0)", "da1.sum(axis=0), z1.T @ da2, da2")]})


# ----------------------------------------------------------------------------- numerical gradient
FUNCTIONS = [
    ("sum of squares", lambda x: (x ** 2).sum(), lambda x: 2 * x),
    ("sum of sin(x) * x", lambda x: (np.sin(x) * x).sum(), lambda x: np.cos(x) * x + np.sin(x)),
    ("log-sum-exp", lambda x: np.log(np.exp(x).sum()), lambda x: np.exp(x) / np.exp(x).sum()),
]


def check_numerical_gradient(module, rng):
    for name, f, grad in FUNCTIONS:
        x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4))))
        try:
            got = call(module, "numerical_gradient", f=f, x=x)
        except CheckFailed as failure:
            if failure.hint == "inplace":  # probing changes x in place; it must be put back
                raise CheckFailed(f"numerical_gradient({name}): x is not restored after the probes", "restore")
            raise
        one_sided = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            probe = x.copy()
            probe[i] += 1e-4
            one_sided[i] = (f(probe) - f(x)) / 1e-4
        expect(f"numerical_gradient({name})", got, grad(x), rtol=1e-6, atol=1e-8,
               variants={"forward_difference": one_sided})
    return "central differences agree with the analytic gradients to 1e-6"


NUMERICAL_GRADIENT = Exercise(
    name="numerical-gradient", title="the numerical gradient (the notes' numerical_gradient)",
    math="""
        df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)       (central difference, error O(h^2))
    Probe one element at a time: change x[i], evaluate f, put x[i] back. The notes use h = 1e-4.
    f takes the whole array and returns a float; the result has x's shape.""",
    starter='''
        def numerical_gradient(f, x, h=1e-4):
            """f: array -> float; x: ndarray (changed in place while probing, restored) -> df/dx (x's shape)."""
            raise NotImplementedError
    ''',
    solution='''
        def numerical_gradient(f, x, h=1e-4):
            """f: array -> float; x: ndarray (changed in place while probing, restored) -> df/dx (x's shape)."""
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                up = f(x)
                x[i] = old - h
                down = f(x)
                x[i] = old
                grad[i] = (up - down) / (2 * h)
            return grad
    ''',
    check=check_numerical_gradient, where=("glasstorch.autograd.gradcheck", "numerical_gradient"),
    mistakes={"restore": [("        x[i] = old\n", "")],
              "forward_difference": [("x[i] = old - h\n        down = f(x)", "x[i] = old\n        down = f(x)"),
                                     ("grad[i] = (up - down) / (2 * h)", "grad[i] = (up - down) / h")]})

EXERCISES = [SGD, ADAM, TWO_LAYER, NUMERICAL_GRADIENT]
