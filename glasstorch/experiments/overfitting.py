"""Under- and overfitting, weight decay and dropout (004 "模型选择, 过拟合和欠拟合, 权重衰退, 丢弃法").

1. d2l's polynomial regression: y = 5 + 1.2x - 3.4x²/2! + 5.6x³/3! + noise, features x^i/i! (20 of them),
   100 train / 100 test; fit with 4 features (right), 2 (underfit) and all 20 on only a few samples (overfit).
2. d2l's weight decay experiment: 20 training samples, 200 features, y = 0.05 + Σ 0.01 x_i + noise;
   λ = 0 overfits (huge ||w||), λ = 3 does not.
3. Dropout on vs off: a wide MLP on a small slice of the 8x8 digits, train vs test accuracy.
"""
import math
from dataclasses import dataclass

import numpy as np

from .common import accuracy, fit_and_log, image_arrays, make_loader, tensor

NAME = "overfitting"
NOTE = "004 (欠拟合/过拟合 polynomial, 权重衰退 λ=0 vs 3 with 20 samples x 200 features, Dropout)"
SUMMARY = "polynomial under/right/over-fit; weight decay λ=0 vs 3; dropout on vs off"

TRUE_POLY = np.array([5, 1.2, -3.4, 5.6])


@dataclass
class Config:
    poly_epochs: int = 400
    wd_epochs: int = 100
    dropout_epochs: int = 60
    dropout_train: int = 200
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(poly_epochs=60, wd_epochs=50, dropout_epochs=15)


EXPECTED = {"poly_right_weight_error": ("<=", 0.2), "poly_under_over_right_test": (">=", 5.0),
            "poly_over_test_over_train": (">=", 2.0), "wd_norm_lambda0": (">=", 5.0), "wd_norm_lambda3": ("<=", 1.0),
            "wd_test_lambda0_over_lambda3": (">=", 2.0)}
QUICK_EXPECTED = {"poly_under_over_right_test": (">=", 2.0), "wd_norm_lambda3": ("<=", 3.0),
                  "wd_test_lambda0_over_lambda3": (">=", 1.5)}


def poly_data(rng, n_train=100, n_test=100, max_degree=20):
    true_w = np.zeros(max_degree)
    true_w[:4] = TRUE_POLY
    features = rng.normal(size=(n_train + n_test, 1))
    rng.shuffle(features)
    poly = np.power(features, np.arange(max_degree).reshape(1, -1))
    for i in range(max_degree):
        poly[:, i] /= math.gamma(i + 1)  # x^i / i!
    labels = poly @ true_w + rng.normal(scale=0.1, size=len(poly))
    return poly.astype(np.float32), labels.reshape(-1, 1).astype(np.float32)


def fit(fw, X_train, y_train, X_test, y_test, epochs, lr, batch_size, weight_decay=0.0, bias=False, seed=0):
    """nn.Linear (no bias for the polynomial: x^0 is the bias) + MSE + SGD; returns (net, train, test loss)."""
    nn = fw.nn
    net = nn.Sequential(nn.Linear(X_train.shape[1], 1, bias=bias))
    nn.init.normal_(net[0].weight)
    if bias:
        nn.init.zeros_(net[0].bias)
    loss = nn.MSELoss()
    params = [{"params": net[0].weight, "weight_decay": weight_decay}]
    if bias:
        params.append({"params": net[0].bias})
    trainer = fw.optim.SGD(params, lr=lr)
    loader = make_loader(fw, X_train, y_train, min(batch_size, len(y_train)), shuffle=True, seed=seed)
    for _ in range(epochs):
        for X, y in loader:
            trainer.zero_grad()
            loss(net(X), y).backward()
            trainer.step()
    with fw.no_grad():
        train_l = loss(net(tensor(fw, X_train)), tensor(fw, y_train)).item()
        test_l = loss(net(tensor(fw, X_test)), tensor(fw, y_test)).item()
    return net, train_l, test_l


def run(fw, cfg, lab):
    rng = lab.rng(cfg.seed)
    results = {}
    poly, labels = poly_data(rng)
    n = 100
    fits = {"right (4 features)": (4, n), "underfit (2 features)": (2, n),
            "overfit (20 features, 10 samples)": (20, 10)}
    poly_losses = {}
    for name, (k, n_used) in fits.items():
        net, train_l, test_l = fit(fw, poly[:n_used, :k], labels[:n_used], poly[n:, :k], labels[n:],
                                   cfg.poly_epochs, 0.01, 10, seed=cfg.seed)
        poly_losses[name] = (train_l, test_l)
        lab.say(f"{name:34s} train loss {train_l:.4f}  test loss {test_l:.4f}")
        if k == 4:
            w = net[0].weight.detach().numpy().ravel()
            lab.say(f"  learned weights {np.round(w, 3)} (true {TRUE_POLY})")
            results["poly_right_weight_error"] = float(np.abs(w - TRUE_POLY).max())
    right, under, over = (poly_losses[k] for k in fits)
    results["poly_under_over_right_test"] = under[1] / right[1]
    results["poly_over_test_over_train"] = over[1] / max(over[0], 1e-12)

    # weight decay (d2l): 20 samples, 200 features
    n_train, n_test, num_inputs = 20, 100, 200
    true_w, true_b = np.full(num_inputs, 0.01), 0.05
    X = rng.normal(size=(n_train + n_test, num_inputs)).astype(np.float32)
    y = (X @ true_w + true_b + rng.normal(scale=0.01, size=len(X))).reshape(-1, 1).astype(np.float32)
    for lambd in (0, 3):
        net, train_l, test_l = fit(fw, X[:n_train], y[:n_train], X[n_train:], y[n_train:], cfg.wd_epochs, 0.003, 5,
                                   weight_decay=lambd, bias=True, seed=cfg.seed)
        norm = float(net[0].weight.detach().norm())
        lab.say(f"λ = {lambd}: w的L2范数是：{norm:.4f}; train loss {train_l:.4f}, test loss {test_l:.4f}")
        results[f"wd_norm_lambda{lambd}"] = norm
        results[f"wd_test_lambda{lambd}"] = test_l
    results["wd_test_lambda0_over_lambda3"] = results["wd_test_lambda0"] / results["wd_test_lambda3"]

    # dropout on vs off: few training digits, a wide MLP
    X_train, y_train = image_arrays("digits", train=True, limit=cfg.dropout_train, seed=cfg.seed)
    X_test, y_test = image_arrays("digits", train=False)
    train = make_loader(fw, X_train, y_train, 32, shuffle=True, seed=cfg.seed)
    test = make_loader(fw, X_test, y_test, 500)
    nn = fw.nn
    for p in (0.0, 0.5):
        fw.manual_seed(cfg.seed)
        net = nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Dropout(p), nn.Linear(256, 256),
                            nn.ReLU(), nn.Dropout(p), nn.Linear(256, 10))
        start = len(lab.history)
        fit_and_log(net, nn.CrossEntropyLoss(), fw.optim.SGD(net.parameters(), lr=0.1), train, test,
                    cfg.dropout_epochs, lab.quiet())
        train_acc, test_acc = accuracy(net, train), accuracy(net, test)
        for row in lab.history[start:]:
            for key in [k for k in row if k != "epoch"]:
                row[f"dropout{p:g}_{key}"] = row.pop(key)
        lab.say(f"dropout p = {p}: train acc {train_acc:.3f}, test acc {test_acc:.3f}, gap {train_acc - test_acc:.3f}")
        results[f"dropout{p:g}_gap"] = train_acc - test_acc
        results[f"dropout{p:g}_test_acc"] = test_acc

    with lab.figure("fits", "Polynomial fits and weight decay", figsize=(10, 4), ncols=2) as (_, (ax1, ax2)):
        names = list(poly_losses)
        xs = np.arange(len(names))
        ax1.bar(xs - 0.2, [poly_losses[k][0] for k in names], 0.4, label="train loss")
        ax1.bar(xs + 0.2, [poly_losses[k][1] for k in names], 0.4, label="test loss")
        ax1.set_xticks(xs, [k.split(" (")[0] for k in names])
        ax1.set_yscale("log")
        ax1.set_title("polynomial regression")
        ax1.legend()
        ax2.bar([0, 1], [results["wd_norm_lambda0"], results["wd_norm_lambda3"]], color=["tab:red", "tab:green"])
        ax2.set_xticks([0, 1], ["λ = 0", "λ = 3"])
        ax2.set_title("weight decay: ||w|| after training")
    return results

