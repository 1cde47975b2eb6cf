# %% [markdown]
# # 欠拟合、过拟合、权重衰退与 Dropout (overfitting)
#
# **多项式回归** (d2l)：$y = 5 + 1.2x - 3.4\frac{x^2}{2!} + 5.6\frac{x^3}{3!} + \epsilon$。
# 用 4 个特征刚好；只用 2 个 (线性) 欠拟合；用 20 个特征却只有 10 个样本，过拟合 (训练误差小，测试误差大)。
#
# **权重衰退**：损失加上 $\frac{\lambda}{2}\|w\|^2$，梯度多一项 $\lambda w$ (即 `weight_decay=λ`)。
# 20 个样本、200 个特征时，$\lambda = 3$ 让 $\|w\|$ 变小，测试误差也变小。
#
# **Dropout**：训练时以概率 $p$ 把隐藏单元置零，其余除以 $1-p$ (期望不变)；评估时不丢弃。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run

# %%
# %matplotlib inline
import math
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.vision import datasets
from tqdm.auto import tqdm

POLY_EPOCHS, WD_EPOCHS, DROPOUT_EPOCHS = (60, 50, 15) if QUICK else (400, 100, 60)
rng = np.random.default_rng(0)

def train_linear(X_train, y_train, X_test, y_test, epochs, lr, batch_size, weight_decay=0.0, bias=False):
    net = nn.Sequential(nn.Linear(X_train.shape[1], 1, bias=bias))
    nn.init.normal_(net[0].weight)
    if bias:
        nn.init.zeros_(net[0].bias)
    loss = nn.MSELoss()
    params = [{"params": net[0].weight, "weight_decay": weight_decay}]  # decay the weight, not the bias
    if bias:
        params.append({"params": net[0].bias})
    trainer = torch.optim.SGD(params, lr=lr)
    X_train, y_train, X_test, y_test = map(torch.from_numpy, (X_train, y_train, X_test, y_test))
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=min(batch_size, len(y_train)), shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    for _ in range(epochs):
        for X, y in loader:
            trainer.zero_grad()
            loss(net(X), y).backward()
            trainer.step()
    with torch.no_grad():
        return net, loss(net(X_train), y_train).item(), loss(net(X_test), y_test).item()

# %% [markdown]
# ## 多项式回归

# %%
true_w = np.zeros(20)
true_w[:4] = [5, 1.2, -3.4, 5.6]
features = rng.normal(size=(200, 1))
rng.shuffle(features)
poly = np.power(features, np.arange(20).reshape(1, -1))
for i in range(20):
    poly[:, i] /= math.gamma(i + 1)  # x^i / i!
labels = (poly @ true_w + rng.normal(scale=0.1, size=len(poly))).reshape(-1, 1).astype(np.float32)
poly = poly.astype(np.float32)

fits = {"right (4 features)": (4, 100), "underfit (2 features)": (2, 100), "overfit (20 features, 10 samples)": (20, 10)}
poly_losses = {}
for name, (k, n) in fits.items():
    net, train_l, test_l = train_linear(poly[:n, :k], labels[:n], poly[100:, :k], labels[100:], POLY_EPOCHS, 0.01, 10)
    poly_losses[name] = (train_l, test_l)
    print(f"{name:34s} train loss {train_l:.4f}  test loss {test_l:.4f}")
    if k == 4:
        w = net[0].weight.detach().numpy().ravel()
        poly_right_weight_error = float(np.abs(w - true_w[:4]).max())
        print("  learned weights", net[0].weight.data)
right, under, over = poly_losses.values()

# %% [markdown]
# ## 权重衰退：$\lambda = 0$ vs $\lambda = 3$

# %%
X = rng.normal(size=(120, 200)).astype(np.float32)
y = (X @ np.full(200, 0.01) + 0.05 + rng.normal(scale=0.01, size=len(X))).reshape(-1, 1).astype(np.float32)
wd_norm, wd_test = {}, {}
for lambd in (0, 3):
    net, train_l, test_l = train_linear(X[:20], y[:20], X[20:], y[20:], WD_EPOCHS, 0.003, 5, weight_decay=lambd,
                                        bias=True)
    wd_norm[lambd], wd_test[lambd] = net[0].weight.detach().norm().item(), test_l
    print(f"λ = {lambd}: w的L2范数是：{wd_norm[lambd]:.4f}; train loss {train_l:.4f}, test loss {test_l:.4f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
xs = np.arange(3)
ax1.bar(xs - 0.2, [v[0] for v in poly_losses.values()], 0.4, label="train loss")
ax1.bar(xs + 0.2, [v[1] for v in poly_losses.values()], 0.4, label="test loss")
ax1.set_xticks(xs, [k.split(" (")[0] for k in poly_losses]); ax1.set_yscale("log"); ax1.legend()
ax2.bar([0, 1], [wd_norm[0], wd_norm[3]], color=["tab:red", "tab:green"]); ax2.set_xticks([0, 1], ["λ = 0", "λ = 3"])
ax2.set_title("weight decay: ||w|| after training")
plt.show()

# %% [markdown]
# ## Dropout：200 张 8x8 数字，一个宽的 MLP

# %%
train_set, test_set = datasets.Digits(train=True), datasets.Digits(train=False)
keep = torch.from_numpy(np.random.default_rng(0).permutation(len(train_set))[:200])
X_train, y_train = train_set.data[keep].float().unsqueeze(1) / 255, train_set.targets[keep]
X_test, y_test = test_set.data.float().unsqueeze(1) / 255, test_set.targets
loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True,
                    generator=torch.Generator().manual_seed(0))

def accuracy(net, X, y):
    net.eval()
    with torch.no_grad():
        return (net(X).argmax(dim=1) == y).float().mean().item()

for p in (0.0, 0.5):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Dropout(p), nn.Linear(256, 256),
                        nn.ReLU(), nn.Dropout(p), nn.Linear(256, 10))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for epoch in tqdm(range(DROPOUT_EPOCHS), desc=f"dropout {p}"):
        net.train()
        for Xb, yb in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(Xb), yb).backward()
            optimizer.step()
    train_acc, test_acc = accuracy(net, X_train, y_train), accuracy(net, X_test, y_test)
    print(f"dropout p = {p}: train acc {train_acc:.3f}, test acc {test_acc:.3f}, gap {train_acc - test_acc:.3f}")
net

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import overfitting as lesson
results = {"poly_right_weight_error": poly_right_weight_error, "poly_under_over_right_test": under[1] / right[1],
           "poly_over_test_over_train": over[1] / max(over[0], 1e-12), "wd_norm_lambda0": wd_norm[0],
           "wd_norm_lambda3": wd_norm[3], "wd_test_lambda0_over_lambda3": wd_test[0] / wd_test[3]}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
