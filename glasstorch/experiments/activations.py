"""Activation functions and vanishing gradients (000 "梯度消失与激活函数选择", 004 "多层感知机").

1. sigmoid, tanh and ReLU with their derivatives taken by autograd, checked against the notes' formulas
   f' = f(1 - f), 1 - f², and 0/1.
2. A 10-layer network (width 64) with sigmoid vs ReLU: one backward pass, then the gradient norm of every
   layer's weight. With sigmoid the first layer receives a gradient orders of magnitude smaller than the
   last (each layer multiplies it by at most 0.25) even with Xavier init; with ReLU and He init it does not.
"""
from dataclasses import dataclass

import numpy as np

NAME = "activations"
NOTE = "000 (Sigmoid/Tanh/ReLU 及其导数, 梯度消失), 004 (激活函数)"
SUMMARY = "sigmoid/tanh/ReLU and derivatives; per-layer gradient norms of a 10-layer sigmoid vs ReLU net"


@dataclass
class Config:
    depth: int = 10
    width: int = 64
    batch: int = 256
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(batch=64)


EXPECTED = {"derivative_error": ("<=", 1e-6), "sigmoid_first_to_last": ("<=", 1e-3),
            "relu_first_to_last": (">=", 0.1)}
QUICK_EXPECTED = EXPECTED


def deep_net(fw, depth, width, activation):
    nn = fw.nn
    layers = [nn.Linear(width, width), activation()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), activation()]
    layers.append(nn.Linear(width, 10))
    net = nn.Sequential(*layers)
    for m in net:  # each activation gets its best-known init: He for ReLU, Xavier (Glorot) for sigmoid
        if isinstance(m, nn.Linear):
            if activation is nn.ReLU:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def layer_gradient_norms(fw, net, X, y):
    net.zero_grad()
    fw.nn.functional.cross_entropy(net(X), y).backward()
    return [float(m.weight.grad.norm()) for m in net if isinstance(m, fw.nn.Linear)]


def run(fw, cfg, lab):
    x = fw.linspace(-6, 6, 241, dtype=fw.float64, requires_grad=True)
    curves, worst = {}, 0.0
    formulas = {"sigmoid": (fw.sigmoid, lambda f, xv: f * (1 - f)),
                "tanh": (fw.tanh, lambda f, xv: 1 - f ** 2),
                "relu": (fw.relu, lambda f, xv: (xv > 0).astype(np.float64))}
    for name, (fn, derivative) in formulas.items():
        x.grad = None
        y = fn(x)
        y.sum().backward()
        f, xv = y.detach().numpy(), x.detach().numpy()
        err = float(np.abs(x.grad.numpy() - derivative(f, xv)).max())
        worst = max(worst, err)
        curves[name] = (f, x.grad.numpy().copy())
        lab.say(f"{name}: autograd derivative vs formula, max error {err:.1e}")

    rng = lab.rng(cfg.seed)
    X = fw.from_numpy(rng.standard_normal((cfg.batch, cfg.width)).astype(np.float32))
    y = fw.from_numpy(rng.integers(0, 10, cfg.batch))
    norms = {}
    for name, act in (("sigmoid", fw.nn.Sigmoid), ("relu", fw.nn.ReLU)):
        fw.manual_seed(cfg.seed)
        net = deep_net(fw, cfg.depth, cfg.width, act)
        norms[name] = layer_gradient_norms(fw, net, X, y)
        lab.say(f"{name}: weight-gradient norm per layer (first -> last): "
                + " ".join(f"{v:.1e}" for v in norms[name]))
    for layer in range(len(norms["relu"])):
        lab.log(step=layer + 1, sigmoid_grad_norm=norms["sigmoid"][layer], relu_grad_norm=norms["relu"][layer])

    with lab.figure("activations", "Activations and their derivatives (autograd)", figsize=(10, 4), ncols=2) as (
            _, (ax1, ax2)):
        xv = x.detach().numpy()
        for name, (f, d) in curves.items():
            ax1.plot(xv, f, label=name)
            ax2.plot(xv, d, label=f"{name}'")
        ax1.set(title="f(x)", xlabel="x")
        ax2.set(title="f'(x)", xlabel="x")
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3)
            ax.legend()
    with lab.figure("gradient_norms", f"Per-layer gradient norms of a {cfg.depth}-layer net", figsize=(6, 4)) as (
            _, ax):
        layers = np.arange(1, len(norms["relu"]) + 1)
        ax.semilogy(layers, norms["sigmoid"], "o-", label="sigmoid (vanishes toward the input)")
        ax.semilogy(layers, norms["relu"], "s-", label="ReLU")
        ax.set(xlabel="layer (1 = next to the input)", ylabel="||dL/dW||")
        ax.legend()
        ax.grid(alpha=0.3, which="both")
    return {"derivative_error": worst, "sigmoid_first_to_last": norms["sigmoid"][0] / norms["sigmoid"][-1],
            "relu_first_to_last": norms["relu"][0] / norms["relu"][-1]}
