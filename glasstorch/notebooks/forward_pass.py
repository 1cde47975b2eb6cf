# %% [markdown]
# # 前馈神经网络：向前传播 (forward-pass)
#
# 固定权重的三层网络 (笔记 002)：
#
# $$z_2 = x W_1,\quad a_2 = \sigma(z_2),\quad a_3 = \sigma(a_2 W_2),\quad z_4 = a_3 W_3,\quad y = \mathrm{softmax}(z_4)$$
#
# 先算一个向量，再把 7 个输入堆成一个矩阵一次算完 (batch)：矩阵乘法把每一行独立地送过网络。
# 输出与笔记打印的 8 位小数一致。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run (this lesson has one size)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch

torch.set_printoptions(precision=8)
W_1 = torch.tensor([[2, -1, 1, 4], [-1, 2, -3, 1], [3, -2, -1, 5]], dtype=torch.float64)
W_2 = torch.tensor([[3, 1, -2, 1], [-2, 4, 1, -4], [-1, -3, 2, -5], [3, 1, 1, 1]], dtype=torch.float64)
W_3 = torch.tensor([[-1, 3, -2], [1, -1, -3], [3, -2, 2], [1, 2, 1]], dtype=torch.float64)
W_1

# %%
def forward(x):
    z_2 = torch.matmul(x, W_1)
    a_2 = torch.sigmoid(z_2)
    a_3 = torch.sigmoid(torch.matmul(a_2, W_2))
    z_4 = torch.matmul(a_3, W_3)
    return z_2, a_2, torch.softmax(z_4, dim=-1)

x_in = torch.tensor([.5, .8, .2], dtype=torch.float64)
z_2, a_2, y_out = forward(x_in)
print("z_2 =", z_2)
print("a_2 =", a_2)
print("y_out =", y_out)

# %% [markdown]
# ## batch 矩阵输入

# %%
x_mat_in = torch.tensor([[.5, .8, .2], [.1, .9, .6], [.2, .2, .3], [.6, .1, .9], [.5, .5, .4], [.9, .1, .9],
                         [.1, .8, .7]], dtype=torch.float64)
z_2b, _, y_batch = forward(x_mat_in)
print("z_2 =", z_2b)
y_batch

# %% [markdown]
# ## 与笔记的打印结果比较

# %%
from glasstorch.experiments import forward_pass as notes
max_error_vector = max(np.abs(z_2.numpy() - notes.NOTES_Z2).max(), np.abs(a_2.numpy() - notes.NOTES_A2).max(),
                       np.abs(y_out.numpy() - notes.NOTES_Y_OUT).max())
max_error_batch = max(np.abs(z_2b.numpy() - notes.NOTES_Z2_BATCH).max(),
                      np.abs(y_batch.numpy() - notes.NOTES_Y_BATCH).max())
rows_sum_to_one = int(torch.allclose(y_batch.sum(dim=1), torch.ones(7, dtype=torch.float64)))
print(f"largest difference from the notes: vector {max_error_vector:.1e}, batch {max_error_batch:.1e}")

# %%
probs = y_batch.numpy()
bottom = np.zeros(len(probs))
for k in range(probs.shape[1]):
    plt.bar(range(len(probs)), probs[:, k], bottom=bottom, label=f"class {k}")
    bottom += probs[:, k]
plt.xlabel("input row of x_mat_in"); plt.ylabel("softmax probability"); plt.legend()
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import forward_pass as lesson
results = {"max_error_vector": max_error_vector, "max_error_batch": max_error_batch,
           "rows_sum_to_one": rows_sum_to_one}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
