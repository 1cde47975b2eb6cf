# %% [markdown]
# # 生成对抗网络画 MNIST 数字 (gan-mnist)
#
# 两个网络对弈 (Goodfellow et al. 2014)：生成器 $G$ 把噪声 $z \sim \mathcal N(0, I)$ 变成一张图；判别器 $D$
# 输出一张图是真图的概率。$D$ 想把真图判成 1、假图判成 0，$G$ 想让 $D$ 把它的假图判成 1：
#
# $$\min_G \max_D\; \mathbb E_x[\log D(x)] + \mathbb E_z[\log(1 - D(G(z)))]$$
#
# 写法照 PyTorch 的 DCGAN 教程：`nn.BCELoss`，真标签 1、假标签 0，训练 $D$ 时用 `fake.detach()`
# (这一步不更新 $G$)，训练 $G$ 时把假图配上真标签 (non-saturating loss：最大化 $\log D(G(z))$)，
# 两个 `Adam(lr=2e-4, betas=(0.5, 0.999))`。网络是一个小 DCGAN (Radford et al. 2015)：
# $G$ 用 `ConvTranspose2d` 把 7×7 的特征图放大到 14×14 再到 28×28，$D$ 用步长 2 的 `Conv2d` 缩回去。
# 最后训练一个小 CNN 当裁判：1000 张生成的数字里，裁判有把握 (softmax 概率 ≥ 0.9) 的要多，
# 每一类都要有 (没有 mode collapse)。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run (the 8x8 digits that ship with glasstorch)
DATA_DIR = None  # the folder holding mnist/ (None: $GLASSTORCH_DATA, else ../shared/data)

# %%
# %matplotlib inline
import os
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn
from glasstorch.train import fit
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.vision import datasets
from glasstorch.vision.utils import make_grid

DATA_DIR = DATA_DIR or os.environ.get("GLASSTORCH_DATA", "../shared/data")
if QUICK:
    EPOCHS, BATCH_SIZE, NZ, LR, JUDGE_EPOCHS = 20, 32, 16, 1e-3, 10
    HIDDEN = 128  # 8x8: MLPs (the networks of the original GAN paper)
else:
    EPOCHS, BATCH_SIZE, NZ, LR, JUDGE_EPOCHS = 12, 64, 64, 2e-4, 2
    NGF, NDF = 32, 32  # feature maps of G and D
torch.manual_seed(0)

def load(train):
    if QUICK:
        data = datasets.Digits(train=train)
        X = data.data.float() / 255
    else:
        data = datasets.MNIST(root=os.path.join(DATA_DIR, "mnist"), train=train, download=False)
        X = data.data.float().unsqueeze(1) / 255
    return X * 2 - 1, data.targets  # pixels in [-1, 1], the range of G's Tanh

X_train, y_train = load(True)
X_test, y_test = load(False)
SIDE = X_train.shape[-1]
PIXELS = SIDE * SIDE
if X_train.dim() == 3:
    X_train, X_test = X_train.unsqueeze(1), X_test.unsqueeze(1)
dataloader = DataLoader(TensorDataset(X_train, y_train), batch_size=BATCH_SIZE, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
print(f"{len(X_train)} training images of {SIDE}x{SIDE}")

def show(images, nrow, title=""):
    grid = make_grid(images.view(-1, 1, SIDE, SIDE), nrow=nrow, padding=1, normalize=True, value_range=(-1, 1),
                     pad_value=1.0)
    plt.figure(figsize=(nrow * 0.6, grid.shape[1] / grid.shape[2] * nrow * 0.6 + 0.4))
    plt.imshow(grid.permute(1, 2, 0).numpy()); plt.axis("off"); plt.title(title)
    plt.show()

show(X_train[:32], 16, "real training digits")

# %% [markdown]
# ## 生成器和判别器 (DCGAN)
#
# $G$：$z$ (长 NZ) → `Linear` → 2·NGF 个 7×7 特征图 → `ConvTranspose2d(4, stride=2, padding=1)` → NGF 个 14×14
# → `ConvTranspose2d(4, 2, 1)` → 1 个 28×28，最后 Tanh 把像素压到 $[-1, 1]$。
#
# - **转置卷积为什么能放大**：输入的每个像素把 4×4 的卷积核 (乘上自己的值) "盖印" 到输出上，印与印之间隔 2 个像素，
#   重叠的地方相加，所以 7×7 变成 14×14。它正是步长 2 的 `Conv2d` (14×14 → 7×7) 的反向传播：$G$ 把 $D$ 的层倒过来用。
#   卷积核在所有位置共享：在一处学会的笔画可以画在任何地方，MLP 却要为每个像素重新学。
# - **BatchNorm 对 $G$ 的作用**：把每个通道在 batch 上归一化成均值 0、方差 1，信号穿过 $G$ 时既不消失也不爆炸；
#   DCGAN 论文发现没有它 $G$ 学不起来。$G$ 的输出层和 $D$ 的第一层不用 BatchNorm。BatchNorm 前的层不要 bias
#   (减去 batch 均值会把它抵消)。
#
# $D$：28×28 → `Conv2d(4, 2, 1)` → NDF 个 14×14 → `Conv2d(4, 2, 1)` → 2·NDF 个 7×7 → `Linear` → Sigmoid 给出
# "是真图"的概率。$D$ 用 LeakyReLU(0.2)：负的输入也有斜率 0.2，梯度能穿过每个单元流回 $G$。
# 权重按教程的 `weights_init` 从 $\mathcal N(0, 0.02)$ 开始 (BatchNorm 的缩放从 $\mathcal N(1, 0.02)$)。
#
# 快速版 (QUICK，8×8 的小数字) 用 MLP：$G$ 要从 2×2 的特征图开始放大，像素太少，卷积的共享核帮不上忙。

# %%
S = SIDE // 4  # G starts from S x S maps: 7 for MNIST


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        if QUICK:
            self.main = nn.Sequential(
                nn.Linear(NZ, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.LeakyReLU(0.2),
                nn.Linear(HIDDEN, 2 * HIDDEN), nn.BatchNorm1d(2 * HIDDEN), nn.LeakyReLU(0.2),
                nn.Linear(2 * HIDDEN, PIXELS), nn.Tanh(), nn.Unflatten(1, (1, SIDE, SIDE)))
        else:
            self.main = nn.Sequential(
                nn.Linear(NZ, 2 * NGF * S * S, bias=False), nn.Unflatten(1, (2 * NGF, S, S)),
                nn.BatchNorm2d(2 * NGF), nn.ReLU(True),
                nn.ConvTranspose2d(2 * NGF, NGF, 4, 2, 1, bias=False),  # 7x7 -> 14x14
                nn.BatchNorm2d(NGF), nn.ReLU(True),
                nn.ConvTranspose2d(NGF, 1, 4, 2, 1, bias=False),  # 14x14 -> 28x28
                nn.Tanh())

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        if QUICK:
            self.main = nn.Sequential(
                nn.Flatten(), nn.Linear(PIXELS, 2 * HIDDEN), nn.LeakyReLU(0.2),
                nn.Linear(2 * HIDDEN, HIDDEN), nn.LeakyReLU(0.2),
                nn.Linear(HIDDEN, 1), nn.Sigmoid())
        else:
            self.main = nn.Sequential(
                nn.Conv2d(1, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),  # 28x28 -> 14x14
                nn.Conv2d(NDF, 2 * NDF, 4, 2, 1, bias=False),  # 14x14 -> 7x7
                nn.BatchNorm2d(2 * NDF), nn.LeakyReLU(0.2, inplace=True),
                nn.Flatten(), nn.Linear(2 * NDF * S * S, 1), nn.Sigmoid())

    def forward(self, x):
        return self.main(x)


def weights_init(m):  # the DCGAN tutorial's initialisation
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


netG, netD = Generator(), Discriminator()
if not QUICK:
    netG.apply(weights_init)
    netD.apply(weights_init)
criterion = nn.BCELoss()
optimizerD = torch.optim.Adam(netD.parameters(), lr=LR, betas=(0.5, 0.999))
optimizerG = torch.optim.Adam(netG.parameters(), lr=LR, betas=(0.5, 0.999))
real_label, fake_label = 1.0, 0.0
fixed_noise = torch.randn(16, NZ)  # the same 16 z every epoch: watch G learn
netG

# %% [markdown]
# ## 训练：每个 batch 先更新 $D$，再更新 $G$
#
# 1. $D$：真 batch 配标签 1，假 batch (`fake.detach()`) 配标签 0，两个 BCE 的梯度累加后走一步。
# 2. $G$：同一批假图重新过一次 (刚更新过的) $D$，配标签 1，梯度经过 $D$ 流回 $G$，只更新 $G$。

# %%
G_losses, D_losses, D_x_list, D_G_z_list, snapshots = [], [], [], [], []
for epoch in range(EPOCHS):
    for real, _ in dataloader:
        b_size = real.shape[0]
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        label = torch.full((b_size,), real_label, dtype=torch.float)
        output = netD(real).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(b_size, NZ)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        # (2) Update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        G_losses.append(errG.item()); D_losses.append(errD.item())
        D_x_list.append(D_x); D_G_z_list.append(D_G_z1)
    with torch.no_grad():
        snapshots.append(netG(fixed_noise))
    n = len(dataloader)
    print(f"[{epoch + 1}/{EPOCHS}] Loss_D: {np.mean(D_losses[-n:]):.4f} Loss_G: {np.mean(G_losses[-n:]):.4f} "
          f"D(x): {np.mean(D_x_list[-n:]):.4f} D(G(z)): {np.mean(D_G_z_list[-n:]):.4f}")

# %% [markdown]
# ## 每个 epoch 的生成结果 (同一组噪声) 和损失曲线
#
# $D$ 和 $G$ 的损失不会一直往下走：这是一场博弈，$D$ 变强 $G$ 的损失就上升。$D(x)$ 和 $D(G(z))$ 向 0.5
# 靠近时，$D$ 越来越难分辨真假。

# %%
rows = np.linspace(0, EPOCHS - 1, min(EPOCHS, 10)).round().astype(int)
show(torch.cat([snapshots[r] for r in rows]), 16, f"G(fixed_noise) after epochs {', '.join(str(r + 1) for r in rows)}")

def smooth(values, window=50):
    window = max(1, min(window, len(values) // 20))
    return np.convolve(values, np.ones(window) / window, mode="valid")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.plot(smooth(D_losses), label="D"); ax1.plot(smooth(G_losses), label="G")
ax1.set(xlabel="iteration", ylabel="BCE", title="Generator and Discriminator Loss"); ax1.legend()
ax2.plot(smooth(D_x_list), label="D(x)"); ax2.plot(smooth(D_G_z_list), label="D(G(z))")
ax2.axhline(0.5, color="gray", linestyle="--"); ax2.set(xlabel="iteration", ylim=(0, 1)); ax2.legend()
plt.show()

# %% [markdown]
# ## 裁判：在真数字上训练一个小 CNN，再给 1000 张生成的数字打分

# %%
if QUICK:  # 8x8: a small MLP is enough
    judge = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10), nn.LogSoftmax(dim=1))
else:
    judge = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Dropout(0.25), nn.Linear(16 * 7 * 7, 10), nn.LogSoftmax(dim=1))
judge_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True,
                          generator=torch.Generator().manual_seed(1))
history = fit(judge, nn.NLLLoss(), torch.optim.Adam(judge.parameters(), lr=2e-3), judge_loader,
              DataLoader(TensorDataset(X_test, y_test), batch_size=1000), epochs=JUDGE_EPOCHS, progress=False)
print(f"judge: {100 * history.records[-1]['val_accuracy']:.2f}% on the real test digits")

netG.eval(); judge.eval()
with torch.no_grad():
    samples = netG(torch.randn(1000, NZ))
    probs = judge(samples).exp()
confidence, classes = probs.max(dim=1)
confident_frac = (confidence >= 0.9).float().mean().item()
shares = torch.bincount(classes, minlength=10).float() / len(classes)
min_class_share = shares.min().item()
print(f"{100 * confident_frac:.1f}% of 1000 samples judged with confidence >= 0.9")
plt.bar(range(10), shares.numpy()); plt.axhline(0.03, color="tab:red", linestyle="--")
plt.xticks(range(10)); plt.xlabel("class the judge gives"); plt.ylabel("share of samples")
plt.show()
show(samples[:64], 16, "64 generated digits")

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import gan_mnist as lesson
results = {"confident_frac": confident_frac, "min_class_share": min_class_share}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
