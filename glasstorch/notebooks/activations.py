# %% [markdown]
# # 激活函数与梯度消失 (activations)
#
# $$\sigma(x) = \frac{1}{1 + e^{-x}},\ \sigma' = \sigma(1 - \sigma);\qquad
# \tanh' = 1 - \tanh^2;\qquad \mathrm{ReLU}'(x) = [x > 0]$$
#
# $\sigma' \le 1/4$：反向传播每经过一层 sigmoid，梯度至少缩小 4 倍，深网络靠近输入的层几乎学不到东西 (梯度消失)。
# ReLU 的导数在正半轴是 1，梯度能一直传下去。下面先用 autograd 验证导数公式，再比较 10 层网络每层的梯度范数。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn

DEPTH, WIDTH = 10, 64
BATCH = 64 if QUICK else 256

# %% [markdown]
# ## 导数：autograd vs 公式

# %%
x = torch.linspace(-6, 6, 241, dtype=torch.float64, requires_grad=True)
formulas = {"sigmoid": (torch.sigmoid, lambda f, xv: f * (1 - f)),
            "tanh": (torch.tanh, lambda f, xv: 1 - f ** 2),
            "relu": (torch.relu, lambda f, xv: (xv > 0).astype(np.float64))}
curves, derivative_error = {}, 0.0
for name, (fn, derivative) in formulas.items():
    x.grad = None
    y = fn(x)
    y.sum().backward()
    f, xv = y.detach().numpy(), x.detach().numpy()
    err = float(np.abs(x.grad.numpy() - derivative(f, xv)).max())
    derivative_error = max(derivative_error, err)
    curves[name] = (f, x.grad.numpy().copy())
    print(f"{name}: autograd derivative vs formula, max error {err:.1e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for name, (f, d) in curves.items():
    ax1.plot(xv, f, label=name)
    ax2.plot(xv, d, label=f"{name}'")
ax1.set(title="f(x)"); ax2.set(title="f'(x)"); ax1.legend(); ax2.legend()
plt.show()

# %% [markdown]
# ## 10 层网络：每层权重梯度的范数

# %%
def deep_net(activation):
    layers = [nn.Linear(WIDTH, WIDTH), activation()]
    for _ in range(DEPTH - 2):
        layers += [nn.Linear(WIDTH, WIDTH), activation()]
    net = nn.Sequential(*layers, nn.Linear(WIDTH, 10))
    for m in net:  # He init for ReLU, Xavier (Glorot) for sigmoid
        if isinstance(m, nn.Linear):
            if activation is nn.ReLU:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)
    return net

rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((BATCH, WIDTH)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 10, BATCH))
norms = {}
for name, act in (("sigmoid", nn.Sigmoid), ("relu", nn.ReLU)):
    torch.manual_seed(0)
    net = deep_net(act)
    net.zero_grad()
    nn.functional.cross_entropy(net(X), y).backward()
    norms[name] = [m.weight.grad.norm().item() for m in net if isinstance(m, nn.Linear)]
    print(name, " ".join(f"{v:.1e}" for v in norms[name]))
net

# %%
layers = np.arange(1, len(norms["relu"]) + 1)
plt.semilogy(layers, norms["sigmoid"], "o-", label="sigmoid (vanishes toward the input)")
plt.semilogy(layers, norms["relu"], "s-", label="ReLU")
plt.xlabel("layer (1 = next to the input)"); plt.ylabel("||dL/dW||"); plt.legend()
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import activations as lesson
results = {"derivative_error": derivative_error,
           "sigmoid_first_to_last": norms["sigmoid"][0] / norms["sigmoid"][-1],
           "relu_first_to_last": norms["relu"][0] / norms["relu"][-1]}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
