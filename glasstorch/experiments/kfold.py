"""K-fold cross-validation to choose hyperparameters (004 "模型选择: 验证数据集, K-折交叉验证").

The training digits are cut into K folds; for each candidate (hidden size, weight decay) the model is trained
K times, each time validated on the fold it did not see; mean ± std of the K validation accuracies picks the
candidate, which is then retrained on all training digits and tested once on the test digits (the test set is
"只用一次的数据集", used once).
"""
import itertools
from dataclasses import dataclass, field

import numpy as np

from glasstorch.train import train_one_epoch

from .common import accuracy, image_arrays, make_loader

NAME = "kfold"
NOTE = "004 (K-折交叉验证, 验证数据集 vs 测试数据集, weight decay / hidden size selection)"
SUMMARY = "K-fold cross-validation choosing weight decay / hidden size on digits, mean ± std"


@dataclass
class Config:
    k: int = 5
    hidden_sizes: list = field(default_factory=lambda: [16, 128])
    weight_decays: list = field(default_factory=lambda: [0.0, 1e-3, 0.1])
    epochs: int = 20
    lr: float = 0.05
    batch_size: int = 64
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(k=3, hidden_sizes=[32], weight_decays=[0.0, 0.1], epochs=4)


EXPECTED = {"best_cv_acc": (">=", 0.93), "test_acc": (">=", 0.90)}
QUICK_EXPECTED = {"best_cv_acc": (">=", 0.6), "test_acc": (">=", 0.55)}


def get_k_fold_data(k, i, X, y):
    """d2l's get_k_fold_data: fold i is the validation part, the other k-1 folds the training part."""
    assert k > 1
    fold_size = X.shape[0] // k
    X_train, y_train = None, None
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        X_part, y_part = X[idx], y[idx]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train, y_train = np.concatenate([X_train, X_part]), np.concatenate([y_train, y_part])
    return X_train, y_train, X_valid, y_valid


def train_and_score(fw, cfg, hidden, weight_decay, X_train, y_train, X_valid, y_valid, lab, desc):
    nn = fw.nn
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    optimizer = fw.optim.SGD(net.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=weight_decay)
    train = make_loader(fw, X_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed)
    for epoch in range(cfg.epochs):
        train_one_epoch(net, nn.CrossEntropyLoss(), optimizer, train)
    return accuracy(net, make_loader(fw, X_valid, y_valid, 1000))


def run(fw, cfg, lab):
    X, y = image_arrays("digits", train=True)
    order = lab.rng(cfg.seed).permutation(len(y))  # shuffle once, so every fold mixes writers
    X, y = X[order], y[order]
    X_test, y_test = image_arrays("digits", train=False)
    scores = {}
    candidates = list(itertools.product(cfg.hidden_sizes, cfg.weight_decays))
    for n, (hidden, wd) in enumerate(lab.progress(candidates, "candidates", total=len(candidates))):
        accs = []
        for i in range(cfg.k):
            fw.manual_seed(cfg.seed + i)
            accs.append(train_and_score(fw, cfg, hidden, wd, *get_k_fold_data(cfg.k, i, X, y), lab,
                                        f"hidden {hidden}, wd {wd:g}, fold {i + 1}"))
        scores[(hidden, wd)] = (float(np.mean(accs)), float(np.std(accs)))
        lab.log(step=n, hidden=hidden, weight_decay=wd, cv_mean=scores[(hidden, wd)][0], cv_std=scores[(hidden, wd)][1])
        lab.say(f"hidden {hidden:4d}, weight decay {wd:<6g}: {cfg.k}-fold validation accuracy "
                f"{scores[(hidden, wd)][0]:.4f} ± {scores[(hidden, wd)][1]:.4f}")
    best = max(scores, key=lambda c: scores[c][0])
    fw.manual_seed(cfg.seed)
    test_acc = train_and_score(fw, cfg, best[0], best[1], X, y, X_test, y_test, lab, "final")
    lab.say(f"chosen: hidden {best[0]}, weight decay {best[1]:g}; retrained on all {len(y)} training digits, "
            f"test accuracy {test_acc:.4f}")

    with lab.figure("cv_scores", f"{cfg.k}-fold validation accuracy, mean ± std", figsize=(7, 4)) as (_, ax):
        labels = [f"h={h}\nwd={w:g}" for h, w in scores]
        ax.bar(range(len(scores)), [m for m, _ in scores.values()], yerr=[s for _, s in scores.values()], capsize=4,
               color=["tab:green" if c == best else "tab:blue" for c in scores])
        ax.set_xticks(range(len(scores)), labels, fontsize=8)
        lo = min(m - s for m, s in scores.values())
        ax.set(ylim=(max(0, lo - 0.05), 1), ylabel="validation accuracy")
    return {"best_cv_acc": scores[best][0], "best_cv_std": scores[best][1], "best_hidden": best[0],
            "best_weight_decay": best[1], "test_acc": test_acc}
