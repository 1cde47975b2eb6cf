# %% [markdown]
# # 多层感知机：从零实现与简洁实现 (mlp)
#
# 在 softmax 回归中间加一个 256 个单元的隐藏层和 ReLU：
#
# $$H = \mathrm{ReLU}(X W_1 + b_1), \qquad O = H W_2 + b_2, \qquad \mathrm{ReLU}(x) = \max(x, 0)$$
#
# 没有非线性激活，两层线性变换仍然是一个线性变换；有了 ReLU，网络才能表示非线性的决策边界。
# 损失是交叉熵 (`nn.CrossEntropyLoss`，直接作用在分数 $O$ 上)。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run
DATA_DIR = None  # the folder holding fashion-mnist/ (None: $GLASSTORCH_DATA, else ../shared/data)

# %%
# %matplotlib inline
import os
import numpy as np
import glasstorch as torch
from glasstorch import nn, viz
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.vision import datasets
from tqdm.auto import tqdm

NUM_EPOCHS, BATCH_SIZE, LR = (3, 64, 0.2) if QUICK else (10, 64, 0.1)
TRAIN_LIMIT, TEST_LIMIT = (4000, 1000) if QUICK else (None, None)
DATA_DIR = DATA_DIR or os.environ.get("GLASSTORCH_DATA", "../shared/data")
torch.manual_seed(0)

def fashion_mnist(train, limit):
    data = datasets.FashionMNIST(root=os.path.join(DATA_DIR, "fashion-mnist"), train=train, download=False)
    X, y = data.data.float().unsqueeze(1) / 255, data.targets
    if limit is not None:
        keep = torch.from_numpy(np.random.default_rng(0).permutation(len(y))[:limit])
        X, y = X[keep], y[keep]
    return X, y

X_train, y_train = fashion_mnist(True, TRAIN_LIMIT)
X_test, y_test = fashion_mnist(False, TEST_LIMIT)
train_iter = DataLoader(TensorDataset(X_train, y_train), batch_size=BATCH_SIZE, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
test_iter = DataLoader(TensorDataset(X_test, y_test), batch_size=1000)
text_labels = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]
print(f"{len(y_train)} training and {len(y_test)} test images")
viz.show_images(X_train[:12], y_train[:12], class_names=text_labels, ncols=6)

# %% [markdown]
# ## 训练函数 (d2l 的 train_ch3)：每个 epoch 之后学习率按余弦退火 $\eta_t = \frac{\eta}{2}(1 + \cos\frac{\pi t}{T})$

# %%
def evaluate_accuracy(net, data_iter):
    with torch.no_grad():
        right = sum((net(X).argmax(dim=1) == y).sum().item() for X, y in data_iter)
    return right / len(data_iter.dataset)

def train(net, loss, updater, num_epochs, name):
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(updater, T_max=num_epochs)
    history = []
    for epoch in range(num_epochs):
        total, right = 0.0, 0
        for X, y in tqdm(train_iter, desc=f"{name} epoch {epoch + 1}", leave=False):
            y_hat = net(X)
            l = loss(y_hat, y)
            updater.zero_grad()
            l.backward()
            updater.step()
            total += l.item() * len(y)
            right += (y_hat.argmax(dim=1) == y).sum().item()
        scheduler.step()
        history.append({"epoch": epoch + 1, "train_loss": total / len(y_train), "train_acc": right / len(y_train),
                        "test_acc": evaluate_accuracy(net, test_iter)})
        print(f"epoch {epoch + 1}: loss {history[-1]['train_loss']:.4f}, train acc {history[-1]['train_acc']:.3f}, "
              f"test acc {history[-1]['test_acc']:.3f}")
    return history

# %% [markdown]
# ## 从零实现

# %%
num_inputs, num_outputs, num_hiddens = 784, 10, 256
W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens))
W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs))
params = [W1, b1, W2, b2]

def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)

def net(X):
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)  # 这里 "@" 代表矩阵乘法
    return H @ W2 + b2

scratch_history = train(net, nn.CrossEntropyLoss(), torch.optim.SGD(params, lr=LR), NUM_EPOCHS, "scratch")
scratch_test_acc = evaluate_accuracy(net, test_iter)

# %% [markdown]
# ## 简洁实现

# %%
concise = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))

def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)

concise.apply(init_weights)
concise_history = train(concise, nn.CrossEntropyLoss(), torch.optim.SGD(concise.parameters(), lr=LR), NUM_EPOCHS,
                        "concise")
concise_test_acc = evaluate_accuracy(concise, test_iter)
viz.plot_history(concise_history)

# %%
with torch.no_grad():
    preds = concise(X_test[:12]).argmax(dim=1)
viz.show_images(X_test[:12], y_test[:12], preds, class_names=text_labels, ncols=6)

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import mlp as lesson
results = {"scratch_test_acc": scratch_test_acc, "concise_test_acc": concise_test_acc}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
