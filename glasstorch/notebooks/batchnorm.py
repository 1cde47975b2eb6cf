# %% [markdown]
# # 批量归一化 BatchNorm (batchnorm)
#
# 对一个 mini-batch $B$ 的每个通道：
#
# $$\hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad y = \gamma \hat x + \beta$$
#
# 训练时用当前批次的均值方差 (并更新滑动平均 `running_mean` / `running_var`)，评估时用滑动平均。
# d2l 的 LeNet (sigmoid) 收敛很慢；在每个卷积层和全连接层之后加 `BatchNorm2d` / `BatchNorm1d`，第一个 epoch 就好得多。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run
DATA_DIR = None  # the folder holding mnist/ (None: $GLASSTORCH_DATA, else ../shared/data)

# %%
# %matplotlib inline
import os
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn
from glasstorch.train import fit
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.vision import datasets

DATA_DIR = DATA_DIR or os.environ.get("GLASSTORCH_DATA", "../shared/data")
EPOCHS, BATCH_SIZE = (1, 32) if QUICK else (5, 128)
TRAIN_LIMIT, TEST_LIMIT = (2500, 300) if QUICK else (None, None)
TARGET = 0.98

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
test_loader = DataLoader(TensorDataset(X_test, y_test), batch_size=1000)

# %% [markdown]
# ## LeNet，有无 BatchNorm

# %%
def lenet(batch_norm):
    bn2 = (lambda c: [nn.BatchNorm2d(c)]) if batch_norm else (lambda c: [])
    bn1 = (lambda c: [nn.BatchNorm1d(c)]) if batch_norm else (lambda c: [])
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), *bn2(6), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), *bn2(16), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), *bn1(120), nn.Sigmoid(),
        nn.Linear(120, 84), *bn1(84), nn.Sigmoid(), nn.Linear(84, 10))

lenet(batch_norm=True)

# %%
test_acc, epochs_to_target = {}, {}
for kind, batch_norm in (("plain", False), ("bn", True)):
    torch.manual_seed(0)
    model = lenet(batch_norm)
    history = fit(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3), train_loader,
                  test_loader, epochs=EPOCHS)
    test_acc[kind] = history["val_accuracy"]
    epochs_to_target[kind] = next((e for e, acc in enumerate(test_acc[kind], 1) if acc >= TARGET), EPOCHS + 1)
    print(f"{kind}: test accuracy per epoch {[round(a, 4) for a in test_acc[kind]]}")
model[1]  # the trained first BatchNorm2d

# %%
for kind, label, style in (("plain", "LeNet (sigmoid)", "o-"), ("bn", "LeNet + BatchNorm", "s-")):
    plt.plot(range(1, len(test_acc[kind]) + 1), test_acc[kind], style, label=label)
plt.axhline(TARGET, color="gray", ls=":", label=f"{TARGET:.0%} target")
plt.xlabel("epoch"); plt.ylabel("test accuracy"); plt.legend()
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import batchnorm as lesson
results = {"epochs_to_98_bn": epochs_to_target["bn"],
           "bn_speedup_epochs": epochs_to_target["plain"] - epochs_to_target["bn"],
           "bn_minus_plain_first_epoch_acc": test_acc["bn"][0] - test_acc["plain"][0]}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
