"""Gradient descent on f(x0, x1) = x0² + x1² (003 "梯度下降法"), from (-3, 4), for a learning rate that is
too small, one that is good and one that is too large (001 "学习率"); and the saddle z = x² - y² (003 "鞍点").

The notes step with the numerical gradient; here each step is taken both ways, with the notes'
numerical_gradient and with autograd, and the two paths must agree.
"""
from dataclasses import dataclass, field

import numpy as np

from glasstorch import viz

from .common import numerical_gradient

NAME = "gradient-descent"
NOTE = "003 (梯度下降法 path on x0²+x1², 鞍点), 001 (学习率 too small / too large)"
SUMMARY = "descent paths on the contour of x0²+x1² for several learning rates; the saddle surface"


@dataclass
class Config:
    lrs: list = field(default_factory=lambda: [0.01, 0.1, 1.05])  # too small, good (the notes'), too large
    steps: int = 100
    start: tuple = (-3.0, 4.0)
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls()


EXPECTED = {"final_norm_lr0.1": ("<=", 1e-8), "final_norm_lr0.01": (">=", 0.5), "final_norm_lr1.05": (">=", 5.0),
            "max_path_difference": ("<=", 1e-6)}
QUICK_EXPECTED = EXPECTED


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def descend_autograd(fw, start, lr, steps):
    """x <- x - lr * grad, with the gradient from backward(); returns the path (steps + 1, 2)."""
    x = fw.tensor(start, dtype=fw.float64, requires_grad=True)
    path = [x.detach().numpy().copy()]
    for _ in range(steps):
        function_2(x).backward()
        with fw.no_grad():
            x -= lr * x.grad
        x.grad.zero_()
        path.append(x.detach().numpy().copy())
    return np.array(path)


def descend_numerical(start, lr, steps):
    x = np.array(start, dtype=np.float64)
    path = [x.copy()]
    for _ in range(steps):
        x -= lr * numerical_gradient(function_2, x)
        path.append(x.copy())
    return np.array(path)


def run(fw, cfg, lab):
    results, paths = {}, {}
    worst = 0.0
    for lr in cfg.lrs:
        path = descend_autograd(fw, cfg.start, lr, cfg.steps)
        numeric = descend_numerical(cfg.start, lr, cfg.steps)
        scale = np.maximum(1.0, np.abs(path))  # the diverging path grows huge: compare relatively
        worst = max(worst, float((np.abs(path - numeric) / scale).max()))
        paths[lr] = path
        final = float(np.linalg.norm(path[-1]))
        results[f"final_norm_lr{lr:g}"] = final
        lab.say(f"lr = {lr:<5g} after {cfg.steps} steps: x = {path[-1]}  |x| = {final:.3g}")
        for step in range(0, cfg.steps + 1, 5):
            lab.log(step=step, **{f"log10_f_lr{lr:g}": float(np.log10(function_2(path[step]) + 1e-300))})
    results["max_path_difference"] = worst
    lab.say(f"autograd path vs numerical-gradient path: largest relative difference {worst:.1e}")

    for lr, verdict in zip(cfg.lrs, ["too small", "good", "too large"]):
        shown = paths[lr][np.all(np.abs(paths[lr]) < 5, axis=1)]  # a diverging path: while it stays on the plot
        lab.viz(f"path_lr{lr:g}", f"Descent path on the contour of x0² + x1², lr = {lr:g} ({verdict})",
                viz.plot_function_contour, function_2, trajectories={f"lr = {lr:g}": shown}, minimum=(0.0, 0.0),
                levels=15, title=f"lr = {lr:g} ({verdict})")
    lab.viz("saddle", "Saddle point z = x² - y²", viz.plot_surface)
    return results
