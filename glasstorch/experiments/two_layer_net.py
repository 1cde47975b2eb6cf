"""The TwoLayerNet of 003 ("手动实现一个mini-batch的学习算法"): 784-50-10, sigmoid hidden layer, softmax output,
cross entropy on one-hot labels, weights N(0, 0.01²), minibatches of 100 drawn with np.random.choice.

The notes trained it with numerical gradients and had to interrupt the notebook (two forward passes per
weight: 79,520 passes per step). Here the numerical gradient is computed once, on a tiny batch, and
compared with backprop (autograd) — the check the notes could not afford at scale — and then the net is
trained by backprop, recording train/test accuracy once per epoch as the notes intended.
"""
from dataclasses import dataclass

import numpy as np

from .common import fashion_or_mnist, numerical_gradient

NAME = "two-layer-net"
NOTE = "003 (TwoLayerNet 784-50-10, numerical gradient too slow -> backprop; per-epoch train/test accuracy)"
SUMMARY = "TwoLayerNet 784-50-10: numerical gradient vs backprop, then backprop to >= 96% on MNIST"


@dataclass
class Config:
    hidden: int = 50
    iters: int = 10000
    batch_size: int = 100
    lr: float = 0.5
    check_samples: int = 3
    check_hidden: int = 10
    train_limit: int = None
    test_limit: int = None
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(iters=300, train_limit=3000, test_limit=500)


EXPECTED = {"grad_check_max_error": ("<=", 1e-7), "test_acc": (">=", 0.96)}
QUICK_EXPECTED = {"grad_check_max_error": ("<=", 1e-7), "test_acc": (">=", 0.75)}


class TwoLayerNet:
    """The notes' class, on framework tensors: params W1, b1, W2, b2; predict, loss, accuracy."""

    def __init__(self, fw, input_size, hidden_size, output_size, weight_init_std=0.01, dtype=None, rng=None):
        self.fw = fw
        dtype = dtype or fw.float32
        init = rng.standard_normal
        self.params = {
            "W1": fw.tensor(weight_init_std * init((input_size, hidden_size)), dtype=dtype, requires_grad=True),
            "b1": fw.zeros(hidden_size, dtype=dtype, requires_grad=True),
            "W2": fw.tensor(weight_init_std * init((hidden_size, output_size)), dtype=dtype, requires_grad=True),
            "b2": fw.zeros(output_size, dtype=dtype, requires_grad=True)}

    def predict(self, x):
        p = self.params
        z1 = self.fw.sigmoid(x @ p["W1"] + p["b1"])
        return self.fw.softmax(z1 @ p["W2"] + p["b2"], dim=1)  # row-wise (the notes' softmax used one global max)

    def loss(self, x, t):
        y = self.predict(x)
        return -(t * self.fw.log(y + 1e-7)).sum() / y.shape[0]

    def accuracy(self, x, t):
        with self.fw.no_grad():
            return float((self.predict(x).argmax(dim=1) == t).float().mean())

    def gradient(self, x, t):
        """Backprop: one backward() instead of two forward passes per weight."""
        for p in self.params.values():
            p.grad = None
        self.loss(x, t).backward()
        return {k: p.grad.numpy() for k, p in self.params.items()}

    def numerical_gradient(self, x, t):
        """The notes' numerical_gradient on every parameter (NumPy copies of the weights, float64)."""
        arrays = {k: p.detach().numpy().astype(np.float64) for k, p in self.params.items()}
        xn, tn = x.numpy().astype(np.float64), t.numpy().astype(np.float64)

        def loss_np(_):
            z1 = 1 / (1 + np.exp(-(xn @ arrays["W1"] + arrays["b1"])))
            a2 = z1 @ arrays["W2"] + arrays["b2"]
            e = np.exp(a2 - a2.max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
            return -np.sum(tn * np.log(y + 1e-7)) / y.shape[0]
        return {k: numerical_gradient(loss_np, arrays[k].reshape(-1)).reshape(arrays[k].shape) for k in arrays}


def run(fw, cfg, lab):
    rng = lab.rng(cfg.seed)
    X_train, y_train, X_test, y_test = fashion_or_mnist("mnist", cfg, lab)
    x_train, x_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    eye = np.eye(10, dtype=np.float32)

    # 1. the gradient check, in float64 on a tiny batch and a narrow hidden layer
    small = TwoLayerNet(fw, 784, cfg.check_hidden, 10, weight_init_std=0.1, dtype=fw.float64, rng=rng)
    xb = fw.tensor(x_train[:cfg.check_samples], dtype=fw.float64)
    tb = fw.tensor(eye[y_train[:cfg.check_samples]], dtype=fw.float64)
    grad_backprop = small.gradient(xb, tb)
    grad_numerical = small.numerical_gradient(xb, tb)
    diffs = {k: float(np.abs(grad_backprop[k] - grad_numerical[k]).max()) for k in grad_backprop}
    for k, d in diffs.items():
        lab.say(f"{k}: max |backprop - numerical| = {d:.2e}")
    n_weights = sum(g.size for g in grad_numerical.values())
    lab.say(f"(the numerical gradient took {2 * n_weights} loss evaluations; backprop took one backward pass)")

    # 2. training by backprop, the notes' loop
    network = TwoLayerNet(fw, 784, cfg.hidden, 10, rng=rng)
    train_size = len(x_train)
    iter_per_epoch = max(train_size // cfg.batch_size, 1)
    x_train_t, t_train_t = fw.from_numpy(x_train), fw.from_numpy(y_train)
    x_test_t, t_test_t = fw.from_numpy(x_test), fw.from_numpy(y_test)
    for i in lab.progress(range(cfg.iters), "train", total=cfg.iters):
        batch_mask = fw.from_numpy(rng.choice(train_size, cfg.batch_size))
        x_batch = x_train_t[batch_mask]
        t_batch = fw.from_numpy(eye[y_train[batch_mask.numpy()]])
        network.gradient(x_batch, t_batch)
        with fw.no_grad():
            for key in ("W1", "W2", "b1", "b2"):
                network.params[key] -= cfg.lr * network.params[key].grad
        if i % iter_per_epoch == 0 or i == cfg.iters - 1:
            train_acc = network.accuracy(x_train_t, t_train_t)
            test_acc = network.accuracy(x_test_t, t_test_t)
            lab.log(epoch=i / iter_per_epoch, train_acc=train_acc, test_acc=test_acc)
            lab.say("train acc, test acc | " + str(train_acc) + ", " + str(test_acc))
    test_acc = network.accuracy(x_test_t, t_test_t)
    with lab.figure("accuracy", "Train and test accuracy per epoch (the notes' plot)", figsize=(6, 4)) as (_, ax):
        epochs = [r["epoch"] for r in lab.history]
        ax.plot(epochs, [r["train_acc"] for r in lab.history], "o-", label="train acc")
        ax.plot(epochs, [r["test_acc"] for r in lab.history], "s--", label="test acc")
        ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1))
        ax.legend(loc="lower right")
    return {"grad_check_max_error": max(diffs.values()), "test_acc": test_acc}
