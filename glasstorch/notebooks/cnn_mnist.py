# %% [markdown]
# # SimpleCNN 识别 MNIST (cnn-mnist)
#
# 笔记 000 的完整例子：`transforms.Normalize((0.5,), (0.5,))` 把像素变到 $[-1, 1]$；SimpleCNN
# (conv 32 → conv 64 → max-pool → dropout → fc 9216→128 → fc 10 → log-softmax)；Adam，lr = 0.001，
# 10 个 epoch，笔记得到 98.94% 测试准确率。最后看 precision / recall / F1：
#
# $$P = \frac{TP}{TP + FP},\quad R = \frac{TP}{TP + FN},\quad F_1 = \frac{2PR}{P + R}$$
#
# (每一类算一次，再取平均：macro)。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run
DATA_DIR = None  # the folder holding mnist/ (None: $GLASSTORCH_DATA, else ../shared/data)

# %%
# %matplotlib inline
import os
import numpy as np
import glasstorch as torch
from glasstorch import metrics, nn, viz
from glasstorch.train import fit
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.vision import datasets

DATA_DIR = DATA_DIR or os.environ.get("GLASSTORCH_DATA", "../shared/data")
EPOCHS, BATCH_SIZE = (1, 16) if QUICK else (10, 64)
TRAIN_LIMIT, TEST_LIMIT = (192, 100) if QUICK else (None, None)
torch.manual_seed(0)

def mnist(train, limit):
    data = datasets.MNIST(root=os.path.join(DATA_DIR, "mnist"), train=train, download=False)
    X, y = (data.data.float().unsqueeze(1) / 255 - 0.5) / 0.5, data.targets  # Normalize((0.5,), (0.5,))
    if limit is not None:
        keep = torch.from_numpy(np.random.default_rng(0).permutation(len(y))[:limit])
        X, y = X[keep], y[keep]
    return X, y

X_train, y_train = mnist(True, TRAIN_LIMIT)
X_test, y_test = mnist(False, TEST_LIMIT)
train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=BATCH_SIZE, shuffle=True,
                          generator=torch.Generator().manual_seed(0))
test_loader = DataLoader(TensorDataset(X_test, y_test), batch_size=1000)
print(f"{len(y_train)} training and {len(y_test)} test images")
viz.show_images((X_train[:16] + 1) / 2, y_train[:16], ncols=8)

# %% [markdown]
# ## SimpleCNN (笔记的写法)

# %%
class SimpleCNN(nn.Module):
    def __init__(self):
        super(SimpleCNN, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        x = nn.ReLU()(self.conv1(x))
        x = nn.ReLU()(self.conv2(x))
        x = nn.MaxPool2d(2)(x)
        x = self.dropout(x)
        x = torch.flatten(x, 1)
        x = nn.ReLU()(self.fc1(x))
        x = self.fc2(x)
        return nn.LogSoftmax(dim=1)(x)

model = SimpleCNN()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS)
model

# %% [markdown]
# ## 训练：`glasstorch.train.fit` (train, zero_grad, backward, step；每个 epoch 在测试集上评估)

# %%
history = fit(model, nn.NLLLoss(), optimizer, train_loader, test_loader, epochs=EPOCHS, scheduler=scheduler)
viz.plot_history(history)

# %% [markdown]
# ## 评估：准确率、precision / recall / F1、混淆矩阵

# %%
model.eval()
with torch.no_grad():
    output = model(X_test)
    test_loss = nn.functional.nll_loss(output, y_test).item()
    preds = output.argmax(dim=1)
test_acc = (preds == y_test).float().mean().item()
precision, recall, f1, _ = metrics.precision_recall_fscore_support(y_test, preds, average="macro", zero_division=0)
print(f"Test set: Average loss: {test_loss:.4f}, Accuracy: {int((preds == y_test).sum())}/{len(y_test)} "
      f"({100 * test_acc:.2f}%)")
print(f"Precision: {precision:.4f}, Recall: {recall:.4f}, F1-Score: {f1:.4f}")
viz.plot_confusion_matrix(y_test, preds)

# %%
viz.plot_filters(model.conv1)

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import cnn_mnist as lesson
results = {"test_acc": test_acc, "f1_macro": float(f1)}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
