# %% [markdown]
# # 优化器：SGD、Momentum、AdaGrad、RMSProp、Adam (optimizers)
#
# - SGD：$w \leftarrow w - \eta g$
# - Momentum：$v \leftarrow \mu v + g,\ w \leftarrow w - \eta v$
# - AdaGrad：$h \leftarrow h + g^2,\ w \leftarrow w - \eta\, g / (\sqrt h + \epsilon)$
# - RMSProp：$h \leftarrow \alpha h + (1-\alpha) g^2$，同上更新
# - Adam：一阶矩 $m$ 与二阶矩 $v$ 的指数平均 (带偏差修正)，$w \leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$
#
# 先在 $f(x, y) = x^2/20 + y^2$ (一个又扁又长的碗) 上画出各自的路径，再在 MNIST 上用同一个初始网络比较训练。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run
DATA_DIR = None  # the folder holding mnist/ (None: $GLASSTORCH_DATA, else ../shared/data)

# %%
# %matplotlib inline
import copy
import os
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.vision import datasets
from tqdm.auto import tqdm

DATA_DIR = DATA_DIR or os.environ.get("GLASSTORCH_DATA", "../shared/data")
EPOCHS, BATCH_SIZE = (1, 64) if QUICK else (2, 128)
TRAIN_LIMIT, TEST_LIMIT = (3000, 500) if QUICK else (20000, None)

# %% [markdown]
# ## 二维函数上的路径

# %%
def f(p):
    return p[0] ** 2 / 20.0 + p[1] ** 2

path_settings = {"SGD": (torch.optim.SGD, {"lr": 0.95}), "Momentum": (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                 "AdaGrad": (torch.optim.Adagrad, {"lr": 1.5}), "RMSProp": (torch.optim.RMSprop, {"lr": 0.1}),
                 "Adam": (torch.optim.Adam, {"lr": 0.3})}
paths = {}
for name, (cls, kwargs) in path_settings.items():
    p = torch.tensor([-7.0, 2.0], dtype=torch.float64, requires_grad=True)
    optimizer = cls([p], **kwargs)
    path = [p.detach().numpy().copy()]
    for _ in range(30):
        optimizer.zero_grad()
        f(p).backward()
        optimizer.step()
        path.append(p.detach().numpy().copy())
    paths[name] = np.array(path)
    print(f"{name:8s} after 30 steps: f = {f(paths[name][-1]):.2e}")
worst_path_final_f = max(float(f(path[-1])) for path in paths.values())

fig, axes = plt.subplots(1, 5, figsize=(15, 3.4))
gx, gy = np.meshgrid(np.linspace(-10, 10, 200), np.linspace(-5, 5, 200))
for ax, (name, path) in zip(axes, paths.items()):
    ax.contour(gx, gy, f((gx, gy)), levels=20, cmap="viridis", linewidths=0.7)
    ax.plot(path[:, 0], path[:, 1], "o-", color="red", ms=3, lw=1)
    ax.set(title=name, xlim=(-10, 10), ylim=(-5, 5))
plt.show()

# %% [markdown]
# ## MNIST：同一个初始网络，五种优化器

# %%
def mnist(train, limit):
    data = datasets.MNIST(root=os.path.join(DATA_DIR, "mnist"), train=train, download=False)
    X, y = data.data.float().unsqueeze(1) / 255, data.targets
    if limit is not None:
        keep = torch.from_numpy(np.random.default_rng(0).permutation(len(y))[:limit])
        X, y = X[keep], y[keep]
    return X, y

X_train, y_train = mnist(True, TRAIN_LIMIT)
X_test, y_test = mnist(False, TEST_LIMIT)
train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=BATCH_SIZE, shuffle=True,
                          generator=torch.Generator().manual_seed(0))
print(f"{len(y_train)} training and {len(y_test)} test images")

torch.manual_seed(0)
initial = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
initial

# %%
train_settings = {"SGD": (torch.optim.SGD, {"lr": 0.1}), "Momentum": (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
                  "AdaGrad": (torch.optim.Adagrad, {"lr": 0.05}), "RMSProp": (torch.optim.RMSprop, {"lr": 1e-3}),
                  "Adam": (torch.optim.Adam, {"lr": 1e-3})}
curves, test_acc = {}, {}
for name, (cls, kwargs) in train_settings.items():
    model = copy.deepcopy(initial)  # identical starting weights for every optimizer
    optimizer = cls(model.parameters(), **kwargs)
    curves[name] = []
    for epoch in range(EPOCHS):
        model.train()
        for X, y in tqdm(train_loader, desc=f"{name} epoch {epoch + 1}"):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(X), y)
            loss.backward()
            optimizer.step()
            curves[name].append(loss.item())
    model.eval()
    with torch.no_grad():
        test_acc[name] = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"{name:8s}: test accuracy {test_acc[name]:.4f}")

for name, losses in curves.items():
    plt.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label=name)
plt.xlabel("step"); plt.ylabel("training loss (mean of 10)"); plt.legend()
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import optimizers as lesson
results = {"worst_path_final_f": worst_path_final_f, "best_test_acc": max(test_acc.values()),
           "worst_test_acc": min(test_acc.values())}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
