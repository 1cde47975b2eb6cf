# %% [markdown]
# # 多层感知机解决 XOR (xor-mlp)
#
# 单个神经元只能画一条直线 (见 logic-gates)，而 XOR 的四个点不能被一条直线分开。
# 加一个隐藏层：隐藏层的每个单元画一条线，输出层再把它们组合起来。
#
# $$h = \tanh(x W_1^\top + b_1), \qquad \hat y = \sigma(h W_2^\top + b_2)$$
#
# 损失用 `BCEWithLogitsLoss`：$\ell = -[y \log \sigma(z) + (1-y) \log(1-\sigma(z))]$，优化器用 Adam。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run

# %%
# %matplotlib inline
import glasstorch as torch
from glasstorch import nn, viz
from tqdm.auto import tqdm

torch.manual_seed(0)
EPOCHS = 300 if QUICK else 500

# %% [markdown]
# ## 数据：XOR 的真值表

# %%
X = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
y = torch.tensor([[0.], [1.], [1.], [0.]])
X, y

# %% [markdown]
# ## 模型：2 → 8 (tanh) → 1

# %%
model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
model

# %% [markdown]
# ## 训练：整批数据，每步 zero_grad → forward → loss → backward → step

# %%
losses = []
for epoch in tqdm(range(EPOCHS), desc="train"):
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"final loss {losses[-1]:.4f}")

# %%
with torch.no_grad():
    logits = model(X)
    final_loss = criterion(logits, y).item()
    probs = torch.sigmoid(logits)
for (a, b), p in zip(X.tolist(), probs.flatten().tolist()):
    print(f"{int(a)} , {int(b)} : {p:.3f} -> {int(p > 0.5)}")
accuracy = ((probs > 0.5).float() == y).float().mean().item()
print("accuracy", accuracy)

# %% [markdown]
# ## 决策边界：隐藏层画出的两条线

# %%
viz.plot_decision_boundary(model, X, y.flatten(), threshold=0.0, title="XOR: what the 2-layer net learned")

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import xor_mlp as lesson
results = {"accuracy": accuracy, "final_loss": final_loss}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
