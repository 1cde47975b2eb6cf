# %% [markdown]
# # 钩子 (hooks)、显著图与白盒攻击 FGSM (hooks-and-attacks)
#
# - `register_forward_hook`：每层前向之后看到它的输出 (可视化中间特征)；
# - 张量的 `register_hook` / `retain_grad()`：拿到非叶子张量的梯度；`register_full_backward_hook`：层的 `grad_output`；
# - 显著图：$|\partial s_y / \partial x|$，哪些像素最影响正确类别的分数；
# - FGSM (白盒攻击)：沿输入梯度的符号走一步 $x' = \mathrm{clip}(x + \epsilon\, \mathrm{sign}(\nabla_x \ell), 0, 1)$，
#   很小的扰动就能让准确率大跌。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import glasstorch as torch
from glasstorch import nn
from glasstorch.train import fit
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.vision import datasets

EPOCHS, EPSILONS = (1, [0.0, 0.1, 0.3]) if QUICK else (10, [0.0, 0.05, 0.1, 0.15, 0.2, 0.3])
torch.manual_seed(0)
train_set, test_set = datasets.Digits(train=True), datasets.Digits(train=False)
X_train, y_train = train_set.data.float().unsqueeze(1) / 255, train_set.targets
X_test, y_test = test_set.data.float().unsqueeze(1) / 255, test_set.targets
train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True,
                          generator=torch.Generator().manual_seed(0))
test_loader = DataLoader(TensorDataset(X_test, y_test), batch_size=500)

model = nn.Sequential(
    nn.Conv2d(1, 32, 3, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
    nn.Flatten(1), nn.Linear(64 * 2 * 2, 128), nn.ReLU(), nn.Linear(128, 10), nn.LogSoftmax(dim=1))
history = fit(model, nn.NLLLoss(), torch.optim.Adam(model.parameters(), lr=2e-3), train_loader, test_loader,
              epochs=EPOCHS)
model.eval()
with torch.no_grad():
    clean_acc = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
print("clean test accuracy", clean_acc)

# %% [markdown]
# ## 前向钩子：每一层的输出

# %%
captured = {}
handles = [layer.register_forward_hook(lambda m, inp, out, name=name: captured.__setitem__(name, out.detach()))
           for name, layer in model.named_children()]
X, y = X_test[:8], y_test[:8]
model(X)
for h in handles:
    h.remove()
for name, layer in model.named_children():
    print(f"layer {name} ({type(layer).__name__}): output {tuple(captured[name].shape)}")

# %% [markdown]
# ## 非叶子张量的梯度，与层的反向钩子

# %%
grads, seen = {}, {}
conv_out = model[1](model[0](X))  # the first ReLU's output: not a leaf
conv_out.retain_grad()
conv_out.register_hook(lambda g: grads.__setitem__("hook", g.detach().clone()))
handle = model[2].register_full_backward_hook(lambda m, gin, gout: seen.__setitem__("out", gout[0].detach()))
rest = conv_out
for layer in list(model)[2:]:
    rest = layer(rest)
nn.functional.nll_loss(rest, y).backward()
handle.remove()
nonleaf_grad_error = (grads["hook"] - conv_out.grad).abs().max().item()

x2 = model[2](conv_out.detach()).detach().requires_grad_(True)  # conv2's output, as a leaf
rest = x2
for layer in list(model)[3:]:
    rest = layer(rest)
nn.functional.nll_loss(rest, y).backward()
backward_hook_error = (seen["out"] - x2.grad).abs().max().item()
print(f"tensor hook vs retain_grad: {nonleaf_grad_error:.1e}; backward hook vs recomputed: {backward_hook_error:.1e}")

# %% [markdown]
# ## 显著图与 FGSM

# %%
def fgsm(model, X, y, eps):
    X = X.clone().requires_grad_(True)
    nn.functional.nll_loss(model(X), y).backward()
    with torch.no_grad():
        return (X + eps * X.grad.sign()).clamp(0, 1)

Xs = X.clone().requires_grad_(True)
model(Xs).gather(1, y.reshape(-1, 1)).sum().backward()
saliency = Xs.grad.abs()

accs = []
for eps in EPSILONS:
    X_adv = fgsm(model, X_test, y_test, eps)  # needs the graph: not under no_grad
    with torch.no_grad():
        accs.append((model(X_adv).argmax(dim=1) == y_test).float().mean().item())
    print(f"FGSM ε = {eps:<5g}: test accuracy {accs[-1]:.4f}")
X_adv = fgsm(model, X, y, EPSILONS[-1])
with torch.no_grad():
    adv_pred = model(X_adv).argmax(dim=1)

fig, axes = plt.subplots(3, 8, figsize=(12, 5))
for i in range(8):
    axes[0, i].imshow(X[i, 0].numpy(), cmap="gray"); axes[0, i].set_title(f"label {y[i].item()}", fontsize=8)
    axes[1, i].imshow(saliency[i, 0].numpy(), cmap="hot")
    axes[2, i].imshow(X_adv[i, 0].numpy(), cmap="gray"); axes[2, i].set_title(f"adv -> {adv_pred[i].item()}", fontsize=8)
    for r in range(3):
        axes[r, i].axis("off")
plt.show()
plt.plot(EPSILONS, accs, "o-"); plt.xlabel("ε"); plt.ylabel("test accuracy"); plt.ylim(0, 1)
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import hooks_and_attacks as lesson
results = {"clean_acc": clean_acc, "acc_at_max_eps_over_clean": accs[-1] / clean_acc,
           "layers_hooked": len(captured), "nonleaf_grad_error": nonleaf_grad_error,
           "backward_hook_error": backward_hook_error}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
