# %% [markdown]
# # 两层 sigmoid 网络与手写反向传播："钻石"数据 (diamond)
#
# 数据：$[-1, 1]^2$ 上的均匀点，菱形 $|x_0| + |x_1| < 1$ 内为 1。网络 (笔记 002)：
#
# $$z_2 = x W_1,\ a_2 = \sigma(z_2),\ z_3 = a_2 W_2,\ \hat y = \sigma(z_3)$$
#
# 交叉熵损失下，链式法则给出
# $\frac{\partial J}{\partial z_3} = \hat y - y$，
# $\frac{\partial J}{\partial W_2} = a_2^\top(\hat y - y)$，
# $\frac{\partial J}{\partial W_1} = x^\top\big[(\hat y - y) W_2^\top \odot \sigma'(z_2)\big]$，其中 $\sigma' = \sigma(1-\sigma)$。
# 我们同时用 NumPy 手写的梯度和 autograd 训练，每一步比较两者的梯度。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run

# %%
# %matplotlib inline
import numpy as np
import glasstorch as torch
from glasstorch import viz
from tqdm.auto import tqdm

NUM_ITER = 3000 if QUICK else 20000
LR, NUM_OBS = 0.001, 500
rng = np.random.default_rng(0)

x_mat_1 = rng.uniform(-1, 1, size=(NUM_OBS, 2))
x_mat = np.concatenate((x_mat_1, np.ones((NUM_OBS, 1))), axis=1)  # a bias column
y = ((np.abs(x_mat[:, 0]) + np.abs(x_mat[:, 1])) < 1).astype(int)

# %%
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))

def forward_pass(x_mat, y, W_1, W_2):
    z_2 = np.dot(x_mat, W_1)
    a_2 = sigmoid(z_2)
    z_3 = np.dot(a_2, W_2)
    y_pred = sigmoid(z_3).reshape((len(x_mat),))
    J_z_3_grad = -y + y_pred
    J_W_2_grad = np.dot(J_z_3_grad, a_2)
    a_2_z_2_grad = sigmoid(z_2) * (1 - sigmoid(z_2))
    J_W_1_grad = (np.dot((J_z_3_grad).reshape(-1, 1), W_2.reshape(-1, 1).T) * a_2_z_2_grad).T.dot(x_mat).T
    return y_pred, (J_W_1_grad, J_W_2_grad)

W_1 = rng.uniform(-1, 1, size=(3, 4))
W_2 = rng.uniform(-1, 1, size=(4))
X, Y = torch.tensor(x_mat, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
W1 = torch.tensor(W_1, dtype=torch.float64, requires_grad=True)
W2 = torch.tensor(W_2, dtype=torch.float64, requires_grad=True)

# %% [markdown]
# ## 训练：手写梯度与 autograd 并排

# %%
worst = 0.0
for i in tqdm(range(NUM_ITER), desc="train"):
    y_pred, (J_W_1_grad, J_W_2_grad) = forward_pass(x_mat, y, W_1, W_2)
    p = torch.sigmoid(torch.sigmoid(X @ W1) @ W2)
    loss = -(Y * torch.log(p) + (1 - Y) * torch.log(1 - p)).sum()
    loss.backward()
    worst = max(worst, np.abs(W1.grad.numpy() - J_W_1_grad).max(), np.abs(W2.grad.numpy() - J_W_2_grad).max())
    W_1 = W_1 - LR * J_W_1_grad
    W_2 = W_2 - LR * J_W_2_grad
    with torch.no_grad():
        W1 -= LR * W1.grad
        W2 -= LR * W2.grad
    W1.grad.zero_()
    W2.grad.zero_()
    if i % 1000 == 0:
        print(f"iteration {i}, log loss is {np.log(np.sum((y - y_pred) ** 2)):.4f}, "
              f"accuracy is {np.mean((y_pred >= .5) == y)}")

y_pred, _ = forward_pass(x_mat, y, W_1, W_2)
with torch.no_grad():
    p_auto = torch.sigmoid(torch.sigmoid(X @ W1) @ W2).numpy()
accuracy_numpy, accuracy_autograd = float(np.mean((y_pred >= .5) == y)), float(np.mean((p_auto >= .5) == y))
print(f"accuracy: hand-written {accuracy_numpy:.3f}, autograd {accuracy_autograd:.3f}; "
      f"largest gradient difference {worst:.1e}")

# %% [markdown]
# ## Truth vs Prediction

# %%
def network(points):
    x = np.column_stack([points.numpy(), np.ones(len(points))])
    return sigmoid(sigmoid(x @ W_1) @ W_2)

viz.plot_decision_boundary(network, x_mat[:, :2], y, threshold=0.5, padding=0.1)

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import diamond as lesson
results = {"max_grad_difference": float(worst), "accuracy_numpy": accuracy_numpy,
           "accuracy_autograd": accuracy_autograd}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
