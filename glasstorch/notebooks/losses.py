# %% [markdown]
# # 损失函数 (losses)
#
# - L2 范数 $\|x\|_2 = \sqrt{\sum_i x_i^2}$
# - MAE $= \frac{1}{n}\sum |y - \hat y|$，MSE $= \frac{1}{n}\sum (y - \hat y)^2$
# - 交叉熵 (one-hot 标签，mini-batch)：$E = -\frac{1}{N}\sum_n \sum_k t_{nk} \log y_{nk}$
# - Huber ($\delta = 1$)：$|r| \le 1$ 时 $\frac{1}{2}r^2$，否则 $|r| - \frac{1}{2}$；它的梯度是 $\mathrm{clip}(r, -1, 1)$
#
# 数值与笔记 001 打印的一致。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run (this lesson has one size)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn

data = torch.tensor([[1, 2, 3, 4], [2, 4, 6, 8], [3, 6, 9, 12]], dtype=torch.float32)
res_l2 = torch.norm(data, p=2, dim=1, keepdim=True)
print(f"L2范数：\n{res_l2}")

# %%
y = torch.tensor([2, 3, 4, 5], dtype=torch.float32)
y_hat = torch.tensor([4, 5, 6, 7], dtype=torch.float32)
mae, mse, ce = nn.L1Loss()(y, y_hat).item(), nn.MSELoss()(y, y_hat).item(), nn.CrossEntropyLoss()(y, y_hat).item()
print(f"平均绝对误差MAE损失：{mae}\n均方误差MSE损失：{mse}\n交叉熵CE损失：{ce}")

# %% [markdown]
# ## 交叉熵：单个样本与 mini-batch

# %%
def cross_entropy_error(y, t):
    if y.dim() == 1:
        t, y = t.reshape(1, -1), y.reshape(1, -1)
    return -(t * torch.log(y + 1e-7)).sum() / y.shape[0]

single = cross_entropy_error(torch.tensor([0.8, 0.1, 0.1]), torch.tensor([1.0, 0.0, 0.0])).item()
yb = torch.tensor([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]])
batch = cross_entropy_error(yb, torch.eye(3)).item()
print("Cross Entropy Loss:", single)
print("Cross Entropy Loss (mini-batch):", batch)
print("NLLLoss(log(y), [0, 1, 2]) =", nn.NLLLoss()(torch.log(yb), torch.tensor([0, 1, 2])).item())

p0 = np.linspace(0.01, 0.99, 100)
plt.plot(p0, -np.log(p0), label="Cross Entropy Loss")
plt.xlabel("Predicted probability of the true class (p0)"); plt.legend()
plt.show()

# %% [markdown]
# ## Huber vs L1 vs L2 (值与梯度)

# %%
r = torch.linspace(-3, 3, 61, dtype=torch.float64, requires_grad=True)
huber = nn.HuberLoss(reduction="none", delta=1.0)(r, torch.zeros(61, dtype=torch.float64))
huber.sum().backward()
rn = r.detach().numpy()
huber_grad_error = float(np.abs(r.grad.numpy() - np.clip(rn, -1, 1)).max())

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.plot(rn, 0.5 * rn ** 2, label="L2"); ax1.plot(rn, np.abs(rn), label="L1")
ax1.plot(rn, huber.detach().numpy(), label="Huber (δ=1)", lw=2); ax1.set(title="loss"); ax1.legend()
ax2.plot(rn, rn, label="L2"); ax2.plot(rn, np.sign(rn), label="L1")
ax2.plot(rn, r.grad.numpy(), label="Huber (autograd)", lw=2); ax2.set(title="gradient"); ax2.legend()
plt.show()

# %%
from glasstorch.experiments import losses as notes  # the values the notes print
expected_single = -np.log(0.8 + 1e-7)
expected_batch = -(np.log(0.8 + 1e-7) + np.log(0.7 + 1e-7) + np.log(0.6 + 1e-7)) / 3

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import losses as lesson
results = {"mae": mae, "mse": mse, "ce_error": abs(ce - notes.NOTES_CE),
           "norm_error": float(np.abs(res_l2.numpy().ravel() - notes.NOTES_NORMS).max()),
           "ce_single_error": abs(single - expected_single), "ce_batch_error": abs(batch - expected_batch),
           "huber_grad_error": huber_grad_error}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
