# %% [markdown]
# # 逻辑门与感知机 (logic-gates)
#
# 一个 sigmoid 神经元 $y = \sigma(w_1 x_1 + w_2 x_2 + b)$ 就是一条直线 $w_1 x_1 + w_2 x_2 + b = 0$ 两边的判断。
# 选好权重，它就能实现 OR、NAND、AND；XOR 不是线性可分的，要把三个神经元组合起来：
# $\mathrm{XOR}(a, b) = \mathrm{AND}(\mathrm{OR}(a, b), \mathrm{NAND}(a, b))$。
#
# 感知机 (d2l)：标签 $y \in \{-1, 1\}$，当 $y(\langle w, x\rangle + b) \le 0$ 时更新 $w \leftarrow w + y x,\ b \leftarrow b + y$。
# AND 上它会收敛；XOR 上它永远学不会 (第一次 AI 寒冬)。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch

PERCEPTRON_EPOCHS = 20 if QUICK else 100

# %% [markdown]
# ## sigmoid 逻辑门

# %%
def logic_gate(w1, w2, b):
    return lambda x1, x2: torch.sigmoid(w1 * x1 + w2 * x2 + b)

or_gate = logic_gate(20, 20, -10)
nand_gate = logic_gate(-10, -10, 14)
and_gate = logic_gate(10, 10, -19)

def xor_gate(a, b):
    return and_gate(or_gate(a, b), nand_gate(a, b))

x1 = torch.tensor([0., 0., 1., 1.])
x2 = torch.tensor([0., 1., 0., 1.])
truth = {"or": [0, 1, 1, 1], "nand": [1, 1, 1, 0], "and": [0, 0, 0, 1], "xor": [0, 1, 1, 0]}
correct = {}
for name, gate in {"or": or_gate, "nand": nand_gate, "and": and_gate, "xor": xor_gate}.items():
    out = torch.round(gate(x1, x2))
    print(f"{name}:")
    for a, b, v in zip(x1.tolist(), x2.tolist(), out.tolist()):
        print("{} , {} : {}".format(int(a), int(b), v))
    correct[name] = sum(int(v == t) for v, t in zip(out.tolist(), truth[name]))
out

# %% [markdown]
# ## 感知机：AND 可分，XOR 不可分

# %%
def perceptron(X, y, epochs):
    w, b = torch.zeros(X.shape[1]), torch.zeros(())
    best = 0.0
    for _ in range(epochs):
        for xi, yi in zip(X, y):
            if yi * (torch.dot(w, xi) + b) <= 0:
                w, b = w + yi * xi, b + yi
        accuracy = (torch.where(X @ w + b > 0, 1.0, -1.0) == y).float().mean().item()
        best = max(best, accuracy)
        if accuracy == 1.0:
            break
    return w, b, best

X = torch.stack([x1, x2], dim=1)
lines, best = {}, {}
for name in ("and", "xor"):
    y = torch.tensor([1.0 if t else -1.0 for t in truth[name]])
    w, b, best[name] = perceptron(X, y, PERCEPTRON_EPOCHS)
    lines[name] = (w.tolist(), b.item())
    print(f"perceptron on {name.upper()}: best accuracy {best[name]:.2f}, w = {w}, b = {b.item()}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
grid = np.linspace(-0.5, 1.5, 50)
pts = X.numpy()
for ax, name in zip(axes, ("and", "xor")):
    t = np.array(truth[name])
    ax.scatter(pts[t == 1, 0], pts[t == 1, 1], marker="o", s=120, label="1")
    ax.scatter(pts[t == 0, 0], pts[t == 0, 1], marker="x", s=120, label="0")
    (w1, w2), b = lines[name]
    if abs(w2) > 1e-9:
        ax.plot(grid, -(w1 * grid + b) / w2, "k--", label="perceptron line")
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), title=f"{name.upper()}: accuracy {best[name]:.2f}")
    ax.legend(loc="upper right", fontsize=8)
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import logic_gates as lesson
results = {"or_correct": correct["or"], "nand_correct": correct["nand"], "and_correct": correct["and"],
           "xor_composed_correct": correct["xor"], "perceptron_and_accuracy": best["and"],
           "perceptron_xor_accuracy": best["xor"]}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
