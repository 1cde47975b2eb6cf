"""Sigmoid neurons as logic gates (002 "单元神经网络与前馈网络"), XOR by composing them, and the perceptron
that cannot learn XOR (004 "感知机": it only draws straight lines, which brought the first AI winter).

gate(x1, x2) = sigmoid(w1*x1 + w2*x2 + b) with the notes' weights: OR (20, 20, -10), NAND (-10, -10, 14),
AND (10, 10, -19); XOR(a, b) = AND(OR(a, b), NAND(a, b)).
"""
from dataclasses import dataclass

import numpy as np

NAME = "logic-gates"
NOTE = "002 (sigmoid 逻辑门 OR/NAND/AND, XOR 问题), 004 (感知机, 第一次 AI 寒冬)"
SUMMARY = "AND/OR/NAND sigmoid neurons, XOR by composition; a perceptron fails on XOR"

GATES = {"or": (20, 20, -10), "nand": (-10, -10, 14), "and": (10, 10, -19)}
TRUTH = {"or": [0, 1, 1, 1], "nand": [1, 1, 1, 0], "and": [0, 0, 0, 1], "xor": [0, 1, 1, 0]}
INPUTS = [(0, 0), (0, 1), (1, 0), (1, 1)]


@dataclass
class Config:
    perceptron_epochs: int = 100
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(perceptron_epochs=20)


EXPECTED = {"or_correct": ("==", 4), "nand_correct": ("==", 4), "and_correct": ("==", 4),
            "xor_composed_correct": ("==", 4), "perceptron_and_accuracy": ("==", 1.0),
            "perceptron_xor_accuracy": ("<=", 0.75)}
QUICK_EXPECTED = EXPECTED


def logic_gate(fw, w1, w2, b):
    """The notes' single sigmoid neuron, on tensors."""
    return lambda x1, x2: fw.sigmoid(w1 * x1 + w2 * x2 + b)


def truth_table(fw, gate, lab, name):
    x1 = fw.tensor([a for a, _ in INPUTS], dtype=fw.float32)
    x2 = fw.tensor([b for _, b in INPUTS], dtype=fw.float32)
    out = fw.round(gate(x1, x2)).tolist()
    lab.say(f"{name}:")
    for (a, b), v in zip(INPUTS, out):
        lab.say("{} , {} : {}".format(a, b, float(v)))  # the notes' format: "0 , 1 : 1.0"
    lab.say("#")
    return sum(int(v == t) for v, t in zip(out, TRUTH[name]))


def perceptron(fw, X, y, epochs):
    """d2l's perceptron: labels in {-1, 1}; on a mistake y*(<w,x>+b) <= 0, w += y*x and b += y.
    Returns (w, b, best accuracy over the epochs)."""
    w, b = fw.zeros(X.shape[1]), fw.zeros(())
    best = 0.0
    for _ in range(epochs):
        for xi, yi in zip(X, y):
            if yi * (fw.dot(w, xi) + b) <= 0:
                w, b = w + yi * xi, b + yi
        predicted = fw.where(X @ w + b > 0, 1.0, -1.0)
        accuracy = (predicted == y).float().mean().item()
        best = max(best, accuracy)
        if accuracy == 1.0:
            break
    return w, b, best


def run(fw, cfg, lab):
    results = {}
    gates = {name: logic_gate(fw, *weights) for name, weights in GATES.items()}
    for name, gate in gates.items():
        results[f"{name}_correct"] = truth_table(fw, gate, lab, name)

    def xor_gate(a, b):  # the notes' composition: two neurons, then a third
        return gates["and"](gates["or"](a, b), gates["nand"](a, b))

    results["xor_composed_correct"] = truth_table(fw, xor_gate, lab, "xor")

    X = fw.tensor(INPUTS, dtype=fw.float32)
    lines = {}
    for name in ("and", "xor"):
        y = fw.tensor([1.0 if t else -1.0 for t in TRUTH[name]])
        w, b, best = perceptron(fw, X, y, cfg.perceptron_epochs)
        results[f"perceptron_{name}_accuracy"] = best
        lines[name] = (w.numpy(), float(b))
        lab.say(f"perceptron on {name.upper()}: best accuracy over {cfg.perceptron_epochs} epochs = {best:.2f}")
    lab.say("A single neuron draws one straight line: XOR needs two (a hidden layer), see `xor-mlp`.")

    with lab.figure("perceptron", "Perceptron: AND is separable, XOR is not", figsize=(9, 4), ncols=2) as (_, axes):
        grid = np.linspace(-0.5, 1.5, 50)
        for ax, name in zip(axes, ("and", "xor")):
            pts = np.array(INPUTS)
            t = np.array(TRUTH[name])
            ax.scatter(pts[t == 1, 0], pts[t == 1, 1], marker="o", s=120, label="1")
            ax.scatter(pts[t == 0, 0], pts[t == 0, 1], marker="x", s=120, label="0")
            (w1, w2), b = lines[name]
            if abs(w2) > 1e-9:
                ax.plot(grid, -(w1 * grid + b) / w2, "k--", label="perceptron line")
            ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), title=f"{name.upper()}: accuracy "
                   f"{results[f'perceptron_{name}_accuracy']:.2f}", xlabel="x1", ylabel="x2")
            ax.legend(loc="upper right", fontsize=8)
    return results
