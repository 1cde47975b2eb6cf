"""SGD, Momentum, AdaGrad, RMSProp and Adam (000 "7.2 优化器", 001 "梯度下降 vs 随机梯度下降 vs 动量").

1. Paths on f(x, y) = x²/20 + y² from (-7, 2): an elongated bowl where plain SGD zig-zags across the
   steep y direction and crawls along x, while momentum and the adaptive methods head for the minimum.
2. Training curves of the same 784-100-10 MLP on MNIST with each optimizer, from identical initial weights.
"""
import copy
from dataclasses import dataclass, field

import numpy as np

from .common import accuracy, fashion_or_mnist, make_loader

NAME = "optimizers"
NOTE = "000 (SGD/AdaGrad/RMSProp/Adam), 001 (梯度下降, 随机梯度下降, 动量, 学习率)"
SUMMARY = "SGD, Momentum, AdaGrad, RMSProp, Adam: paths on a 2-D function, training curves on MNIST"

# (optimizer class name, keyword arguments) for the 2-D paths: the classic settings of the bowl demo
PATH_SETTINGS = {"SGD": ("SGD", {"lr": 0.95}), "Momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
                 "AdaGrad": ("Adagrad", {"lr": 1.5}), "RMSProp": ("RMSprop", {"lr": 0.1, "alpha": 0.99}),
                 "Adam": ("Adam", {"lr": 0.3})}
TRAIN_SETTINGS = {"SGD": ("SGD", {"lr": 0.1}), "Momentum": ("SGD", {"lr": 0.05, "momentum": 0.9}),
                  "AdaGrad": ("Adagrad", {"lr": 0.05}), "RMSProp": ("RMSprop", {"lr": 1e-3}),
                  "Adam": ("Adam", {"lr": 1e-3})}


@dataclass
class Config:
    path_steps: int = 30
    start: tuple = (-7.0, 2.0)
    epochs: int = 2
    batch_size: int = 128
    train_limit: int = 20000
    test_limit: int = None
    optimizers: list = field(default_factory=lambda: list(TRAIN_SETTINGS))
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(epochs=1, batch_size=64, train_limit=3000, test_limit=500)


# plain SGD is the slowest learner (the point of the experiment), hence the looser floor for the worst
EXPECTED = {"worst_path_final_f": ("<=", 0.15), "best_test_acc": (">=", 0.93), "worst_test_acc": (">=", 0.85)}
QUICK_EXPECTED = {"worst_path_final_f": ("<=", 0.15), "worst_test_acc": (">=", 0.5)}


def bowl(p):
    return p[0] ** 2 / 20.0 + p[1] ** 2


def descend(fw, name, start, steps):
    cls_name, kwargs = PATH_SETTINGS[name]
    p = fw.tensor(start, dtype=fw.float64, requires_grad=True)
    optimizer = getattr(fw.optim, cls_name)([p], **kwargs)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        bowl(p).backward()
        optimizer.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def run(fw, cfg, lab):
    results, paths = {}, {}
    for name in PATH_SETTINGS:
        paths[name] = descend(fw, name, cfg.start, cfg.path_steps)
        final = float(bowl(paths[name][-1]))
        results[f"path_{name.lower()}_final_f"] = final
        lab.say(f"{name:8s} after {cfg.path_steps} steps: ({paths[name][-1][0]:+.4f}, {paths[name][-1][1]:+.4f}), "
                f"f = {final:.2e}")
    results["worst_path_final_f"] = max(v for k, v in results.items() if k.startswith("path_"))
    lab.say(f"start: f = {bowl(cfg.start):.2f}; every optimizer's path ends below {results['worst_path_final_f']:.3f}")
    with lab.figure("paths", "Optimizer paths on f(x, y) = x²/20 + y²", figsize=(15, 3.4), ncols=5) as (_, axes):
        gx, gy = np.meshgrid(np.linspace(-10, 10, 200), np.linspace(-5, 5, 200))
        for ax, (name, path) in zip(axes, paths.items()):
            ax.contour(gx, gy, bowl((gx, gy)), levels=20, cmap="viridis", linewidths=0.7)
            ax.plot(path[:, 0], path[:, 1], "o-", color="red", ms=3, lw=1)
            ax.plot(0, 0, "+", color="k", ms=12)
            ax.set(title=name, xlim=(-10, 10), ylim=(-5, 5))

    X_train, y_train, X_test, y_test = fashion_or_mnist("mnist", cfg, lab)
    train = make_loader(fw, X_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed)
    test = make_loader(fw, X_test, y_test, 1000)
    nn = fw.nn
    fw.manual_seed(cfg.seed)
    initial = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    accuracies = []
    for name in cfg.optimizers:
        model = copy.deepcopy(initial)  # identical starting weights for every optimizer
        cls_name, kwargs = TRAIN_SETTINGS[name]
        optimizer = getattr(fw.optim, cls_name)(model.parameters(), **kwargs)
        for epoch in range(1, cfg.epochs + 1):
            losses = []
            model.train()
            for X, y in lab.progress(train, f"{name} epoch {epoch}", total=len(train)):
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(X), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            test_acc = accuracy(model, test)
            for k in range(0, len(losses), 10):  # one point every 10 steps
                lab.log(step=(epoch - 1) * len(losses) + k, **{f"loss_{name}": float(np.mean(losses[k:k + 10]))})
        accuracies.append(test_acc)
        results[f"test_acc_{name.lower()}"] = test_acc
        lab.say(f"{name:8s} ({cls_name} {kwargs}): test accuracy {test_acc:.4f} after {cfg.epochs} epoch(s)")
    results["worst_test_acc"], results["best_test_acc"] = min(accuracies), max(accuracies)
    return results


