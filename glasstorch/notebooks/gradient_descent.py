# %% [markdown]
# # 梯度下降法 (gradient-descent)
#
# $$x \leftarrow x - \eta \nabla f(x), \qquad f(x_0, x_1) = x_0^2 + x_1^2,\ \nabla f = (2x_0, 2x_1)$$
#
# 每一步 $x$ 乘以 $(1 - 2\eta)$：$\eta = 0.1$ 很快收敛；$\eta = 0.01$ 太小，100 步还远没到；
# $\eta = 1.05$ 太大，$|1 - 2\eta| > 1$，发散。梯度用 autograd (`backward()`) 算，也用数值梯度算，两条路径一致。
# 最后看鞍点 $z = x^2 - y^2$：梯度为零，却不是最小值。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run (this lesson has one size)

# %%
# %matplotlib inline
import numpy as np
import glasstorch as torch
from glasstorch import viz

STEPS = 100
START = (-3.0, 4.0)

def function_2(x):
    return x[0] ** 2 + x[1] ** 2

def gradient_descent(start, lr, steps):
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    path = [x.detach().numpy().copy()]
    for _ in range(steps):
        function_2(x).backward()
        with torch.no_grad():
            x -= lr * x.grad
        x.grad.zero_()
        path.append(x.detach().numpy().copy())
    return np.array(path)

def numerical_gradient(f, x, h=1e-4):
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad

def gradient_descent_numerical(start, lr, steps):
    x = np.array(start, dtype=np.float64)
    path = [x.copy()]
    for _ in range(steps):
        x -= lr * numerical_gradient(function_2, x)
        path.append(x.copy())
    return np.array(path)

# %%
paths, final_norm, worst = {}, {}, 0.0
for lr in [0.01, 0.1, 1.05]:
    path = gradient_descent(START, lr, STEPS)
    numeric = gradient_descent_numerical(START, lr, STEPS)
    worst = max(worst, float((np.abs(path - numeric) / np.maximum(1.0, np.abs(path))).max()))
    paths[lr], final_norm[lr] = path, float(np.linalg.norm(path[-1]))
    print(f"lr = {lr:<5g} after {STEPS} steps: x = {path[-1]}  |x| = {final_norm[lr]:.3g}")
print(f"autograd vs numerical gradient paths: largest relative difference {worst:.1e}")

# %% [markdown]
# ## 下降路径 (等高线图)

# %%
for lr, verdict in zip([0.01, 0.1, 1.05], ["too small", "good", "too large"]):
    shown = paths[lr][np.all(np.abs(paths[lr]) < 5, axis=1)]
    display(viz.plot_function_contour(function_2, trajectories={f"lr = {lr:g}": shown}, minimum=(0.0, 0.0),
                                      levels=15, title=f"lr = {lr:g} ({verdict})"))

# %% [markdown]
# ## 鞍点 $z = x^2 - y^2$

# %%
viz.plot_surface()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import gradient_descent as lesson
results = {"final_norm_lr0.1": final_norm[0.1], "final_norm_lr0.01": final_norm[0.01],
           "final_norm_lr1.05": final_norm[1.05], "max_path_difference": worst}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
