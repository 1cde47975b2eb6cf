# %% [markdown]
# # Tensor 基础 (tensors)
#
# 张量是多维数组：有形状 `shape`、数据类型 `dtype` (默认 float32，整数下标 int64)、设备 `device`。
# 这一课跟着笔记 002 和 004 走一遍：创建、运算与类型提升、切片与广播、与 NumPy 共享内存、原地操作，最后是 autograd：
#
# $$out = \frac{1}{4}\sum_{ij} 2(x_{ij} + 1), \qquad \frac{\partial\, out}{\partial x_{ij}} = \frac{2}{4} = 0.5$$

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run (this lesson has one size)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch

failed = []
def check(what, ok):
    print(f"  check: {what}: {'ok' if ok else 'FAILED'}")
    if not ok:
        failed.append(what)

# %% [markdown]
# ## 声明与初始化

# %%
x = torch.zeros(5, 3, dtype=torch.long)
check("zeros(5, 3, dtype=long) is int64 zeros", x.dtype == torch.int64 and int(x.sum()) == 0)
x = torch.tensor([5.5, 3])
check("tensor([5.5, 3]) is float32", x.dtype == torch.float32)
y = torch.randn_like(torch.empty(5, 3), dtype=torch.float)
check("randn_like keeps the shape", tuple(y.shape) == (5, 3))
x

# %% [markdown]
# ## 运算：`x + y` 与原地的 `x.add_(y)` (int + float 提升为 float)

# %%
x = torch.rand(5, 3)
y = torch.ones(5, 3, dtype=torch.int)
s = x + y
same = x.add_(y)
check("x + y promotes int32 + float32 to float32", s.dtype == torch.float32)
check("x.add_(y) returns x itself, changed in place", same is x and bool((x == s).all()))
s

# %% [markdown]
# ## 切片与广播

# %%
x[2:] = torch.tensor([1, 2, 3])
check("x[2:] = [1, 2, 3] broadcasts over rows", x[2:].tolist() == [[1.0, 2.0, 3.0]] * 3)
z = x * torch.tensor([0, 1, 2])
check("x * [0, 1, 2] scales the columns", bool((z[:, 0] == 0).all()) and bool((z[:, 2] == 2 * x[:, 2]).all()))
a, b = torch.arange(3).reshape((3, 1)), torch.arange(2).reshape((1, 2))
check("(3,1) + (1,2) broadcasts to [[0,1],[1,2],[2,3]]", (a + b).tolist() == [[0, 1], [1, 2], [2, 3]])
a + b

# %% [markdown]
# ## 与 NumPy 共享内存

# %%
a = torch.ones(5, dtype=torch.int)
b = a.numpy()
b += 1
a[3] = 6
check("a.numpy() shares memory both ways", a.tolist() == [2, 2, 2, 6, 2] and b.tolist() == [2, 2, 2, 6, 2])
b = b + 1.0
check("b = b + 1.0 makes a new float array, a unchanged", b.dtype == np.float64 and a.tolist()[0] == 2)
a

# %% [markdown]
# ## 004：arange、reshape、cat、求和、原地赋值

# %%
X = torch.arange(12, dtype=torch.float32).reshape(3, 4)
Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
check("cat dim=0 gives (6, 4), dim=1 gives (3, 8)",
      tuple(torch.cat((X, Y), dim=0).shape) == (6, 4) and tuple(torch.cat((X, Y), dim=1).shape) == (3, 8))
check("X.sum() == 66", float(X.sum()) == 66.0)
before = id(Y)
Y = Y + X
check("Y = Y + X makes a new object", id(Y) != before)
Z = torch.zeros_like(Y)
before = id(Z)
Z[:] = X + Y
check("Z[:] = X + Y writes in place", id(Z) == before)
A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
check("A.sum(axis=1, keepdims=True) has shape (5, 1)", tuple(A.sum(axis=1, keepdims=True).shape) == (5, 1))
check("cumsum along axis 0", A.cumsum(axis=0)[-1].tolist() == A.sum(axis=0).tolist())
check("torch.norm([3, -4]) == 5", float(torch.norm(torch.tensor([3.0, -4.0]))) == 5.0)
plt.imshow(A.numpy(), cmap="viridis"); plt.colorbar(); plt.title("A = arange(20).reshape(5, 4)")
plt.show()

# %% [markdown]
# ## Autograd

# %%
x = torch.ones(2, 2, requires_grad=True)
y = x + 1
z = y * 2
out = z.mean()
out.backward()
check("y has a grad_fn, x is a leaf", y.grad_fn is not None and x.grad_fn is None and x.is_leaf)
check("x.grad is 0.5 everywhere", bool((x.grad == 0.5).all()))
autograd_out, autograd_grad = out.item(), x.grad.max().item()
print(out)
x.grad

# %%
x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()
check("x.grad == 4 * x", bool((x.grad == 4 * x).all()))
x.grad.zero_()
u = (x * x).detach()
(u * x).sum().backward()
check("d(u * x)/dx == u when u = detach(x * x)", bool((x.grad == u).all()))
print(f"{len(failed)} check(s) failed", failed)

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import tensors as lesson
results = {"checks_failed": len(failed), "autograd_out": autograd_out, "autograd_grad": autograd_grad}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
