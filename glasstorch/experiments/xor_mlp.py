"""A 2-layer net learns XOR (004 "多层感知机": the hidden layer draws two lines, the output combines them).

No single line separates XOR's four points (see logic-gates); one hidden layer of tanh units is enough.
Trained full-batch with BCEWithLogitsLoss and Adam; the decision boundary shows the two cuts.
"""
from dataclasses import dataclass

import numpy as np

from glasstorch import viz

from .common import on_arrays

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


def run(fw, cfg, lab):
    model = build(fw, cfg)
    X, y = fw.from_numpy(X_XOR.copy()), fw.from_numpy(Y_XOR.copy())
    criterion = fw.nn.BCEWithLogitsLoss()
    optimizer = fw.optim.Adam(model.parameters(), lr=cfg.lr)
    for epoch in lab.progress(range(1, cfg.epochs + 1), "train", total=cfg.epochs):
        optimizer.zero_grad()
        logits = model(X)
        loss = criterion(logits, y)
        loss.backward()
        optimizer.step()
        if epoch % 10 == 0 or epoch == 1:
            lab.log(epoch=epoch, loss=loss.item(), accuracy=((logits > 0).float() == y).float().mean().item())

    with fw.no_grad():
        logits = model(X)
        final_loss = criterion(logits, y).item()
        probs = fw.sigmoid(logits).numpy().ravel()
    accuracy = float(((probs > 0.5) == Y_XOR.ravel().astype(bool)).mean())
    for (a, b), p in zip(X_XOR.astype(int), probs):
        lab.say(f"{a} , {b} : {p:.3f} -> {int(p > 0.5)}")
    lab.say(f"accuracy {accuracy:.2f}, loss {final_loss:.4f}")
    lab.viz("decision_boundary", "XOR decision boundary of the 2-layer net", viz.plot_decision_boundary,
            on_arrays(fw, model), X_XOR, Y_XOR.ravel(), threshold=0.0, title="XOR: what the 2-layer net learned")
    lab.checkpoint(model)
    return {"accuracy": accuracy, "final_loss": final_loss}
