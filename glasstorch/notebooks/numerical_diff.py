# %% [markdown]
# # 数值微分 (numerical-diff)
#
# 前向差分 $\frac{f(x+h) - f(x)}{h}$ 的误差是 $O(h)$；中心差分 $\frac{f(x+h) - f(x-h)}{2h}$ 的误差是 $O(h^2)$。
# 但 $h$ 不是越小越好：太小时舍入误差 (float64 约 $10^{-16}$) 被 $1/h$ 放大。
#
# 偏导数：固定其他变量，对一个变量求导。$f(x_0, x_1) = x_0^2 + x_1^2$ 在 $(3, 4)$ 的梯度是 $(6, 8)$；
# autograd 给出同样的结果，而且是精确的。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run (this lesson has one size)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch

def numerical_diff(f, x, h=1e-4):
    return (f(x + h) - f(x - h)) / (2 * h)

def forward_diff(f, x, h=1e-4):
    return (f(x + h) - f(x)) / h

# %% [markdown]
# ## 前向差分 vs 中心差分：$\frac{d}{dx}\log(x + 2)$ 在 $x = 1$

# %%
f, df = (lambda x: np.log(x + 2)), (lambda x: 1 / (x + 2))
hs = 10.0 ** -np.arange(1, 16)
fwd = np.array([abs(forward_diff(f, 1.0, h) - df(1.0)) for h in hs])
cen = np.array([abs(numerical_diff(f, 1.0, h) - df(1.0)) for h in hs])
for h, a, b in zip(hs, fwd, cen):
    print(f" {h:.0e}   forward {a:.3e}   central {b:.3e}")

plt.loglog(hs, fwd, "o-", label="forward (f(x+h)-f(x))/h")
plt.loglog(hs, cen, "s-", label="central (f(x+h)-f(x-h))/2h")
plt.gca().invert_xaxis(); plt.xlabel("h"); plt.ylabel("|error|"); plt.legend(); plt.grid(True, which="both", alpha=0.3)
plt.show()

# %% [markdown]
# ## 偏导数与梯度

# %%
def function_2(x):
    return x[0] ** 2 + x[1] ** 2

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

p0 = numerical_diff(lambda x0: x0 * x0 + 4.0 ** 2.0, 3.0)
p1 = numerical_diff(lambda x1: 3.0 ** 2.0 + x1 * x1, 4.0)
grad = numerical_gradient(function_2, np.array([3.0, 4.0]))
print(p0, p1, grad)

x = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
function_2(x).backward()
x.grad

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import numerical_diff as lesson
results = {"partial_x0_error": abs(p0 - 6.0), "partial_x1_error": abs(p1 - 8.0),
           "gradient_error": float(np.abs(grad - [6.0, 8.0]).max()),
           "autograd_error": float(np.abs(x.grad.numpy() - [6.0, 8.0]).max()),
           "forward_error_h1e-4": float(fwd[3]), "central_error_h1e-4": float(cen[3])}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
