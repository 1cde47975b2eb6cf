"""A 2-layer net learns XOR (004 "多层感知机": the hidden layer draws two lines, the output combines them).

nn.Sequential(Linear(2, H), Tanh(), Linear(H, 1)) trained full-batch on the four points with
BCEWithLogitsLoss and Adam; the decision boundary shows the two cuts a single perceptron could not make.
"""
from dataclasses import dataclass

import numpy as np

NAME = "xor-mlp"
NOTE = "004 (多层感知机 solves XOR), 000 (多层网络实现XOR运算)"
SUMMARY = "a 2-layer net learns XOR: 100%, decision boundary"

X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y_XOR = np.array([[0], [1], [1], [0]], dtype=np.float32)


@dataclass
class Config:
    hidden: int = 8
    epochs: int = 500
    lr: float = 0.05
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(epochs=300)


EXPECTED = {"accuracy": ("==", 1.0), "final_loss": ("<=", 0.05)}
QUICK_EXPECTED = {"accuracy": ("==", 1.0), "final_loss": ("<=", 0.2)}


def build(fw, cfg):
    nn = fw.nn
    return nn.Sequential(nn.Linear(2, cfg.hidden), nn.Tanh(), nn.Linear(cfg.hidden, 1))


def data(fw):
    return fw.from_numpy(X_XOR.copy()), fw.from_numpy(Y_XOR.copy())


def loss_fn(fw):
    return fw.nn.BCEWithLogitsLoss()


def make_optimizer(fw, model, cfg):
    return fw.optim.Adam(model.parameters(), lr=cfg.lr)


def run(fw, cfg, lab):
    model = build(fw, cfg)
    X, y = data(fw)
    criterion, optimizer = loss_fn(fw), make_optimizer(fw, model, cfg)
    for epoch in lab.progress(range(1, cfg.epochs + 1), "train", total=cfg.epochs):
        optimizer.zero_grad()
        logits = model(X)
        loss = criterion(logits, y)
        loss.backward()
        optimizer.step()
        accuracy = ((logits > 0).float() == y).float().mean().item()
        if epoch % 10 == 0 or epoch == 1:
            lab.log(epoch=epoch, loss=loss.item(), accuracy=accuracy)
    with fw.no_grad():
        logits = model(X)
        final_loss = criterion(logits, y).item()
        probs = fw.sigmoid(logits).numpy().ravel()
    accuracy = float(((probs > 0.5) == Y_XOR.ravel().astype(bool)).mean())
    for (a, b), p in zip(X_XOR.astype(int), probs):
        lab.say(f"{a} , {b} : {p:.3f} -> {int(p > 0.5)}")
    lab.say(f"accuracy {accuracy:.2f}, loss {final_loss:.4f}")

    with lab.figure("decision_boundary", "XOR decision boundary of the 2-layer net", figsize=(5, 5)) as (_, ax):
        g = np.linspace(-0.5, 1.5, 200, dtype=np.float32)
        gx, gy = np.meshgrid(g, g)
        with fw.no_grad():
            grid = fw.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))
            zz = fw.sigmoid(model(grid)).numpy().reshape(gx.shape)
        ax.contourf(gx, gy, zz, levels=20, cmap="RdBu_r", alpha=0.7)
        ax.contour(gx, gy, zz, levels=[0.5], colors="k")
        t = Y_XOR.ravel()
        ax.scatter(X_XOR[t == 1, 0], X_XOR[t == 1, 1], c="red", s=150, edgecolors="k", label="1")
        ax.scatter(X_XOR[t == 0, 0], X_XOR[t == 0, 1], c="blue", marker="s", s=150, edgecolors="k", label="0")
        ax.set(title="P(XOR = 1)", xlabel="x1", ylabel="x2")
        ax.legend()
    lab.checkpoint(model)
    return {"accuracy": accuracy, "final_loss": final_loss}
