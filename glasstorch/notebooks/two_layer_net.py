# %% [markdown]
# # 两层神经网络 TwoLayerNet 识别 MNIST (two-layer-net)
#
# 笔记 003 的 `TwoLayerNet`：$y = \mathrm{softmax}(\sigma(x W_1 + b_1) W_2 + b_2)$，
# 损失是 mini-batch 交叉熵 $E = -\frac{1}{N}\sum_n \sum_k t_{nk}\log y_{nk}$。
#
# 笔记用数值梯度训练：每个权重要算两次损失，太慢 (notebook 被中断了)。
# 反向传播一次 `backward()` 就给出全部梯度。我们先在一个很小的网络上 (float64) 比较两者，再用反向传播训练。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run
DATA_DIR = None  # the folder holding mnist/ (None: $GLASSTORCH_DATA, else ../shared/data)

# %%
# %matplotlib inline
import os
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch.vision import datasets
from tqdm.auto import tqdm

DATA_DIR = DATA_DIR or os.environ.get("GLASSTORCH_DATA", "../shared/data")
ITERS = 300 if QUICK else 10000
TRAIN_LIMIT, TEST_LIMIT = (3000, 500) if QUICK else (None, None)
rng = np.random.default_rng(0)

def mnist(train, limit):
    data = datasets.MNIST(root=os.path.join(DATA_DIR, "mnist"), train=train, download=False)
    X, y = data.data.float().reshape(len(data.targets), -1) / 255, data.targets
    if limit is not None:
        keep = torch.from_numpy(np.random.default_rng(0).permutation(len(y))[:limit])
        X, y = X[keep], y[keep]
    return X, y

x_train, t_train = mnist(True, TRAIN_LIMIT)
x_test, t_test = mnist(False, TEST_LIMIT)
x_train.shape, x_test.shape

# %%
class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, dtype=torch.float32):
        self.params = {
            "W1": torch.tensor(weight_init_std * rng.standard_normal((input_size, hidden_size)), dtype=dtype,
                               requires_grad=True),
            "b1": torch.zeros(hidden_size, dtype=dtype, requires_grad=True),
            "W2": torch.tensor(weight_init_std * rng.standard_normal((hidden_size, output_size)), dtype=dtype,
                               requires_grad=True),
            "b2": torch.zeros(output_size, dtype=dtype, requires_grad=True)}

    def predict(self, x):
        p = self.params
        z1 = torch.sigmoid(x @ p["W1"] + p["b1"])
        return torch.softmax(z1 @ p["W2"] + p["b2"], dim=1)

    def loss(self, x, t):
        y = self.predict(x)
        return -(t * torch.log(y + 1e-7)).sum() / y.shape[0]

    def accuracy(self, x, t):
        with torch.no_grad():
            return (self.predict(x).argmax(dim=1) == t).float().mean().item()

    def gradient(self, x, t):  # backprop: one backward() for all the weights
        for p in self.params.values():
            p.grad = None
        self.loss(x, t).backward()
        return {k: p.grad.numpy() for k, p in self.params.items()}

    def numerical_gradient(self, x, t, h=1e-4):  # the notes' way: two loss evaluations per weight
        grads = {}
        for key, p in self.params.items():
            grad = np.zeros(p.shape)
            flat = p.data.reshape(-1)
            for i in range(flat.shape[0]):
                tmp = flat[i].item()
                with torch.no_grad():
                    flat[i] = tmp + h
                    fxh1 = self.loss(x, t).item()
                    flat[i] = tmp - h
                    fxh2 = self.loss(x, t).item()
                    flat[i] = tmp
                grad.reshape(-1)[i] = (fxh1 - fxh2) / (2 * h)
            grads[key] = grad
        return grads

# %% [markdown]
# ## 梯度确认 (gradient check)：反向传播 vs 数值梯度

# %%
eye = torch.eye(10, dtype=torch.float64)
small = TwoLayerNet(784, 10, 10, weight_init_std=0.1, dtype=torch.float64)
xb, tb = x_train[:3].double(), eye[t_train[:3]]
grad_backprop = small.gradient(xb, tb)
grad_numerical = small.numerical_gradient(xb, tb)
diffs = {k: float(np.abs(grad_backprop[k] - grad_numerical[k]).max()) for k in grad_backprop}
for k, d in diffs.items():
    print(f"{k}: max |backprop - numerical| = {d:.2e}")

# %% [markdown]
# ## 用反向传播训练 (笔记的循环)

# %%
network = TwoLayerNet(784, 50, 10)
train_size, batch_size, learning_rate = len(t_train), 100, 0.5
iter_per_epoch = max(train_size // batch_size, 1)
eye = torch.eye(10)
train_acc_list, test_acc_list = [], []
for i in tqdm(range(ITERS), desc="train"):
    batch_mask = torch.from_numpy(rng.choice(train_size, batch_size))
    x_batch, t_batch = x_train[batch_mask], eye[t_train[batch_mask]]
    network.gradient(x_batch, t_batch)
    with torch.no_grad():
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * network.params[key].grad
    if i % iter_per_epoch == 0 or i == ITERS - 1:
        train_acc_list.append(network.accuracy(x_train, t_train))
        test_acc_list.append(network.accuracy(x_test, t_test))
        print("train acc, test acc | " + str(train_acc_list[-1]) + ", " + str(test_acc_list[-1]))

plt.plot(train_acc_list, "o-", label="train acc")
plt.plot(test_acc_list, "s--", label="test acc")
plt.xlabel("epochs"); plt.ylabel("accuracy"); plt.ylim(0, 1.0); plt.legend(loc="lower right")
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import two_layer_net as lesson
results = {"grad_check_max_error": max(diffs.values()), "test_acc": network.accuracy(x_test, t_test)}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
