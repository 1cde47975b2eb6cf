"""Linear regression four ways on d2l's synthetic data y = X [2, -3.4]ᵀ + 4.2 + noise (004 "线性回归"),
with the notes' full-batch gradient descent and parameter trajectories (002 "多元函数回归与梯度下降法"):

1. the normal equation w* = (XᵀX)⁻¹ Xᵀ y (the explicit solution);
2. full-batch gradient descent with autograd;
3. minibatch SGD from scratch (d2l: data_iter, linreg, squared_loss, sgd; lr 0.03, batch 10, 3 epochs);
4. the concise version: nn.Linear(2, 1) + nn.MSELoss + optim.SGD over a DataLoader.
Each must recover w = [2, -3.4], b = 4.2 to within 0.01.
"""
from dataclasses import dataclass

import numpy as np

from .common import make_loader, tensor

NAME = "linear-regression"
NOTE = "004 (线性回归从零开始 / 简洁实现, 正规方程), 002 (梯度下降 parameter trajectories), 001 (nn.Linear)"
SUMMARY = "normal equation vs full-batch GD vs minibatch SGD vs nn.Linear + optim.SGD: w=[2,-3.4], b=4.2"

TRUE_W, TRUE_B = np.array([2.0, -3.4]), 4.2


@dataclass
class Config:
    num_examples: int = 1000
    lr: float = 0.03
    batch_size: int = 10
    epochs: int = 3
    gd_lr: float = 0.1
    gd_steps: int = 100
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls()


EXPECTED = {"error_normal_equation": ("<=", 0.01), "error_full_batch_gd": ("<=", 0.01),
            "error_minibatch_sgd": ("<=", 0.01), "error_nn_linear": ("<=", 0.01)}
QUICK_EXPECTED = EXPECTED


def synthetic_data(rng, w, b, num_examples):
    """d2l's synthetic_data: X ~ N(0, 1), y = Xw + b + N(0, 0.01²) (drawn with NumPy so both engines share it)."""
    X = rng.normal(0, 1, (num_examples, len(w))).astype(np.float32)
    y = (X @ w + b + rng.normal(0, 0.01, num_examples)).astype(np.float32)
    return X, y.reshape(-1, 1)


def linreg(fw, X, w, b):
    return fw.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(fw, params, lr, batch_size):
    """d2l's sgd: param -= lr * grad / batch_size, then zero the grad."""
    with fw.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def data_iter(fw, rng, batch_size, features, labels):
    """d2l's data_iter: shuffle the indices, yield minibatches."""
    indices = rng.permutation(len(features))
    for i in range(0, len(indices), batch_size):
        batch = fw.from_numpy(indices[i:i + batch_size])
        yield features[batch], labels[batch]


def error(w, b):
    return float(max(np.abs(np.ravel(w) - TRUE_W).max(), abs(float(np.ravel(b)[0]) - TRUE_B)))


def run(fw, cfg, lab):
    rng = lab.rng(cfg.seed)
    X_np, y_np = synthetic_data(rng, TRUE_W, TRUE_B, cfg.num_examples)
    features, labels = tensor(fw, X_np), tensor(fw, y_np)
    results = {}

    # 1. normal equation, on [X, 1] (the bias folded into the weights): XᵀX and Xᵀy with tensor ops,
    #    the 3x3 solve with NumPy (glasstorch has no linalg module)
    Xb = fw.cat([features, fw.ones(len(features), 1)], dim=1).double()
    theta = np.linalg.solve((Xb.T @ Xb).numpy(), (Xb.T @ labels.double()).numpy()).ravel()
    results["error_normal_equation"] = error(theta[:2], theta[2:])
    lab.say(f"normal equation:       w = {theta[:2]}, b = {theta[2]:.4f}")

    # 2. full-batch gradient descent with autograd; keep the trajectory (the notes plot theta_path)
    w = fw.zeros(2, 1, requires_grad=True)
    b = fw.zeros(1, requires_grad=True)
    trajectory = []
    for step in range(cfg.gd_steps):
        loss = squared_loss(linreg(fw, features, w, b), labels).mean()
        loss.backward()
        sgd(fw, [w, b], cfg.gd_lr, 1)
        trajectory.append([*w.detach().numpy().ravel(), b.item(), loss.item()])
    trajectory = np.array(trajectory)
    results["error_full_batch_gd"] = error(w.detach().numpy(), b.detach().numpy())
    lab.say(f"full-batch GD:         w = {w.detach().numpy().ravel()}, b = {b.item():.4f}")

    # 3. minibatch SGD from scratch (d2l)
    w = fw.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = fw.zeros(1, requires_grad=True)
    for epoch in range(1, cfg.epochs + 1):
        for X, y in data_iter(fw, rng, cfg.batch_size, features, labels):
            loss = squared_loss(linreg(fw, X, w, b), y)
            loss.sum().backward()
            sgd(fw, [w, b], cfg.lr, cfg.batch_size)
        with fw.no_grad():
            train_l = squared_loss(linreg(fw, features, w, b), labels)
        lab.log(epoch=epoch, scratch_loss=float(train_l.mean()))
        lab.say(f"epoch {epoch}, loss {float(train_l.mean()):f}")
    results["error_minibatch_sgd"] = error(w.detach().numpy(), b.detach().numpy())
    lab.say(f"minibatch SGD:         w = {w.detach().numpy().ravel()}, b = {b.item():.4f}")

    # 4. concise: nn.Linear + MSELoss + optim.SGD over a DataLoader
    nn = fw.nn
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = fw.optim.SGD(net.parameters(), lr=cfg.lr)
    loader = make_loader(fw, X_np, y_np, cfg.batch_size, shuffle=True, seed=cfg.seed)
    for epoch in range(1, cfg.epochs + 1):
        for X, y in loader:
            l = loss(net(X), y)  # noqa: E741  (d2l's name)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        with fw.no_grad():
            l = loss(net(features), labels)  # noqa: E741
        lab.log(epoch=epoch, concise_loss=l.item())
    results["error_nn_linear"] = error(net[0].weight.detach().numpy(), net[0].bias.detach().numpy())
    lab.say(f"nn.Linear + optim.SGD: w = {net[0].weight.detach().numpy().ravel()}, b = {net[0].bias.item():.4f}")
    lab.checkpoint(net)

    with lab.figure("trajectories", "Full-batch GD: loss and parameter trajectories (as the notes plot theta_path)",
                    figsize=(12, 3.4), ncols=4) as (_, axes):
        titles = ["w1 (true 2)", "w2 (true -3.4)", "b (true 4.2)", "loss"]
        truths = [TRUE_W[0], TRUE_W[1], TRUE_B, None]
        for k, ax in enumerate(axes):
            ax.plot(trajectory[:, k])
            if truths[k] is not None:
                ax.axhline(truths[k], color="gray", ls="--")
            else:
                ax.set_yscale("log")
            ax.set(title=titles[k], xlabel="step")
    with lab.figure("data", "The synthetic data: feature 2 vs label", figsize=(5, 4)) as (_, ax):
        ax.scatter(X_np[:, 1], y_np[:, 0], s=2)
        ax.set(xlabel="features[:, 1]", ylabel="labels")
    return results
