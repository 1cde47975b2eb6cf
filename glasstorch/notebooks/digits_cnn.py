# %% [markdown]
# # SimpleCNN 识别 8x8 手写数字 (digits-cnn)
#
# 笔记 000 的 SimpleCNN (conv 32 → conv 64 → max-pool → dropout 0.25 → fc 128 → fc 10 → log-softmax)，
# 缩小到 sklearn 自带的 8x8 数字上，几秒钟就能训练完。
#
# - 卷积：$y_{c,i,j} = b_c + \sum_{k,u,v} W_{c,k,u,v}\, x_{k, i+u, j+v}$，3x3 卷积让边长减 2：8 → 6 → 4，池化后 2。
# - 损失：`NLLLoss` 接 `LogSoftmax`，合起来就是交叉熵 $-\log p_y$。
# - 优化：Adam + L2 正则化 (`weight_decay`)，学习率余弦退火；数据增强：每个 epoch 随机平移 1 个像素。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run

# %%
# %matplotlib inline
import numpy as np
import glasstorch as torch
from glasstorch import nn, viz
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.vision import datasets
from tqdm.auto import tqdm

EPOCHS = 1 if QUICK else 20
torch.manual_seed(0)
rng = np.random.default_rng(0)

def normalize(images):  # transforms.Normalize((0.5,), (0.5,))
    return (images - 0.5) / 0.5

train_set, test_set = datasets.Digits(train=True), datasets.Digits(train=False)
X_train = train_set.data.float().unsqueeze(1) / 255
y_train = train_set.targets
X_test, y_test = normalize(test_set.data.float().unsqueeze(1) / 255), test_set.targets
print(f"{len(y_train)} training and {len(y_test)} test images of", tuple(X_train.shape[2:]))
viz.show_images(X_train[:16], y_train[:16], ncols=8)

# %% [markdown]
# ## 数据增强：随机平移

# %%
def random_shift(images, pixels=1):
    """Each image moved by a random (dy, dx) in [-pixels, pixels]², zeros shifted in."""
    n, _, h, w = images.shape
    padded = np.pad(images.numpy(), ((0, 0), (0, 0), (pixels, pixels), (pixels, pixels)))
    dy, dx = rng.integers(0, 2 * pixels + 1, n), rng.integers(0, 2 * pixels + 1, n)
    rows = dy[:, None] + np.arange(h)[None, :]
    cols = dx[:, None] + np.arange(w)[None, :]
    return torch.from_numpy(padded[np.arange(n)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None])

# %% [markdown]
# ## 模型

# %%
class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(64 * 2 * 2, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        x = nn.functional.max_pool2d(x, 2)
        x = self.dropout(x)
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        return nn.functional.log_softmax(self.fc2(x), dim=1)

model = SimpleCNN()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS)
criterion = nn.NLLLoss()
model

# %% [markdown]
# ## 训练

# %%
def test_accuracy():
    model.eval()
    with torch.no_grad():
        return (model(X_test).argmax(dim=1) == y_test).float().mean().item()

history = []
for epoch in range(1, EPOCHS + 1):
    model.train()
    loader = DataLoader(TensorDataset(normalize(random_shift(X_train)), y_train), batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(epoch))
    total = 0.0
    for data, target in tqdm(loader, desc=f"Epoch {epoch}/{EPOCHS}", leave=False):
        optimizer.zero_grad()
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(target)
    scheduler.step()
    history.append({"epoch": epoch, "train_loss": total / len(y_train), "test_acc": test_accuracy()})
    print(f"Epoch {epoch}: train loss {history[-1]['train_loss']:.4f}, test accuracy {history[-1]['test_acc']:.4f}")
viz.plot_history(history)

# %% [markdown]
# ## 测试集：预测结果 (红色 = 错)

# %%
model.eval()
with torch.no_grad():
    preds = model(X_test).argmax(dim=1)
test_acc = test_accuracy()
print(f"Test set: Accuracy: {int((preds == y_test).sum())}/{len(y_test)} ({100 * test_acc:.2f}%)")
viz.show_images((X_test[:12] + 1) / 2, y_test[:12], preds[:12], ncols=6)

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import digits_cnn as lesson
results = {"test_acc": test_acc}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
