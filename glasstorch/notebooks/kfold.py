# %% [markdown]
# # K 折交叉验证与模型选择 (kfold)
#
# 把训练集分成 $K$ 份；第 $i$ 次用第 $i$ 份验证、其余 $K-1$ 份训练，验证准确率取平均 (± 标准差)。
# 用它在候选的隐藏层宽度和权重衰退 $\lambda$ 里挑一个，再在整个训练集上重新训练，最后只在测试集上评一次。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run

# %%
# %matplotlib inline
import itertools
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.vision import datasets
from tqdm.auto import tqdm

if QUICK:
    K, HIDDEN_SIZES, WEIGHT_DECAYS, EPOCHS = 3, [32], [0.0, 0.1], 4
else:
    K, HIDDEN_SIZES, WEIGHT_DECAYS, EPOCHS = 5, [16, 128], [0.0, 1e-3, 0.1], 20

train_set, test_set = datasets.Digits(train=True), datasets.Digits(train=False)
order = torch.from_numpy(np.random.default_rng(0).permutation(len(train_set)))  # shuffle once: folds mix writers
X, y = train_set.data[order].float().unsqueeze(1) / 255, train_set.targets[order]
X_test, y_test = test_set.data.float().unsqueeze(1) / 255, test_set.targets

# %% [markdown]
# ## d2l 的 `get_k_fold_data`：第 i 折做验证集，其余拼成训练集

# %%
def get_k_fold_data(k, i, X, y):
    assert k > 1
    fold_size = X.shape[0] // k
    X_train, y_train = None, None
    for j in range(k):
        X_part, y_part = X[j * fold_size:(j + 1) * fold_size], y[j * fold_size:(j + 1) * fold_size]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train, y_train = torch.cat([X_train, X_part], 0), torch.cat([y_train, y_part], 0)
    return X_train, y_train, X_valid, y_valid

def train_and_score(hidden, weight_decay, X_train, y_train, X_valid, y_valid):
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=weight_decay)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    for epoch in range(EPOCHS):
        for Xb, yb in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(Xb), yb).backward()
            optimizer.step()
    with torch.no_grad():
        return (net(X_valid).argmax(dim=1) == y_valid).float().mean().item()

# %% [markdown]
# ## 每个候选做 K 次训练，取验证准确率的均值；最好的那个在全部训练数据上重训，测试一次

# %%
scores = {}
for hidden, wd in tqdm(list(itertools.product(HIDDEN_SIZES, WEIGHT_DECAYS)), desc="candidates"):
    accs = []
    for i in range(K):
        torch.manual_seed(i)
        accs.append(train_and_score(hidden, wd, *get_k_fold_data(K, i, X, y)))
    scores[(hidden, wd)] = (float(np.mean(accs)), float(np.std(accs)))
    print(f"hidden {hidden:4d}, weight decay {wd:<6g}: {K}-fold validation accuracy "
          f"{scores[(hidden, wd)][0]:.4f} ± {scores[(hidden, wd)][1]:.4f}")
best = max(scores, key=lambda c: scores[c][0])
torch.manual_seed(0)
test_acc = train_and_score(best[0], best[1], X, y, X_test, y_test)
print(f"chosen: hidden {best[0]}, weight decay {best[1]:g}; test accuracy {test_acc:.4f}")

plt.bar(range(len(scores)), [m for m, _ in scores.values()], yerr=[s for _, s in scores.values()], capsize=4,
        color=["tab:green" if c == best else "tab:blue" for c in scores])
plt.xticks(range(len(scores)), [f"h={h}\nwd={w:g}" for h, w in scores], fontsize=8)
plt.ylabel("validation accuracy")
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import kfold as lesson
results = {"best_cv_acc": scores[best][0], "test_acc": test_acc}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
