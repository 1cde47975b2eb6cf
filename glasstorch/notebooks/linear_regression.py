# %% [markdown]
# # 线性回归：四种做法 (linear-regression)
#
# d2l 的合成数据 $y = X w + b + \epsilon$，$w = [2, -3.4]^\top$，$b = 4.2$，$\epsilon \sim N(0, 0.01^2)$。
#
# 1. 正规方程 (显式解)：$w^* = (X^\top X)^{-1} X^\top y$ (把偏置并入 $X$ 的一列 1)；
# 2. 整批梯度下降 + autograd，记录参数轨迹 (笔记 002 的 theta_path)；
# 3. 小批量随机梯度下降，从零实现 (`data_iter`、`linreg`、`squared_loss`、`sgd`)；
# 4. 简洁实现：`nn.Linear(2, 1)` + `nn.MSELoss` + `optim.SGD` + `DataLoader`。
#
# 平方损失 $\ell = \frac{1}{2}(\hat y - y)^2$；SGD 更新 $w \leftarrow w - \frac{\eta}{|B|}\sum_{i \in B} \nabla_w \ell_i$。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run (this lesson has one size)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn
from glasstorch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
true_w, true_b = torch.tensor([2, -3.4]), 4.2

def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))

features, labels = synthetic_data(true_w, true_b, 1000)
print("features:", features[0], "\nlabel:", labels[0])

def error(w, b):
    return max((w.detach().flatten() - true_w).abs().max().item(), abs(b.detach().flatten()[0].item() - true_b))

# %% [markdown]
# ## 1. 正规方程

# %%
Xb = torch.cat([features, torch.ones(len(features), 1)], dim=1).double()
theta = np.linalg.solve((Xb.T @ Xb).numpy(), (Xb.T @ labels.double()).numpy()).ravel()
error_normal_equation = error(torch.tensor(theta[:2]), torch.tensor(theta[2:]))
print("w =", theta[:2], "b =", theta[2])

# %% [markdown]
# ## 2. 整批梯度下降 (autograd)

# %%
def linreg(X, w, b):
    return torch.matmul(X, w) + b

def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()

w = torch.zeros(2, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
trajectory = []
for step in range(100):
    loss = squared_loss(linreg(features, w, b), labels).mean()
    loss.backward()
    sgd([w, b], 0.1, 1)
    trajectory.append([*w.detach().flatten().tolist(), b.item(), loss.item()])
trajectory = np.array(trajectory)
error_full_batch_gd = error(w, b)
print("w =", w.flatten(), "b =", b)

fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
for k, (ax, title, truth) in enumerate(zip(axes, ["w1", "w2", "b", "loss"], [2, -3.4, 4.2, None])):
    ax.plot(trajectory[:, k])
    if truth is None:
        ax.set_yscale("log")
    else:
        ax.axhline(truth, color="gray", ls="--")
    ax.set(title=title, xlabel="step")
plt.show()

# %% [markdown]
# ## 3. 小批量随机梯度下降 (从零实现)

# %%
def data_iter(batch_size, features, labels):
    indices = torch.randperm(len(features))
    for i in range(0, len(features), batch_size):
        batch = indices[i:i + batch_size]
        yield features[batch], labels[batch]

lr, num_epochs, batch_size = 0.03, 3, 10
w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        l = squared_loss(linreg(X, w, b), y)
        l.sum().backward()
        sgd([w, b], lr, batch_size)
    with torch.no_grad():
        train_l = squared_loss(linreg(features, w, b), labels)
        print(f"epoch {epoch + 1}, loss {float(train_l.mean()):f}")
error_minibatch_sgd = error(w, b)

# %% [markdown]
# ## 4. 简洁实现

# %%
net = nn.Sequential(nn.Linear(2, 1))
net[0].weight.data.normal_(0, 0.01)
net[0].bias.data.fill_(0)
loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.03)
data_iter = DataLoader(TensorDataset(features, labels), batch_size=10, shuffle=True)
for epoch in range(num_epochs):
    for X, y in data_iter:
        l = loss(net(X), y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    print(f"epoch {epoch + 1}, loss {loss(net(features), labels).item():f}")
error_nn_linear = error(net[0].weight, net[0].bias)
net[0].weight.data, net[0].bias.data

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import linear_regression as lesson
results = {"error_normal_equation": error_normal_equation, "error_full_batch_gd": error_full_batch_gd,
           "error_minibatch_sgd": error_minibatch_sgd, "error_nn_linear": error_nn_linear}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
