# %% [markdown]
# # 字符级 RNN：RNN、GRU、LSTM 写莎士比亚 (char-rnn)
#
# 把 Tiny Shakespeare 变成一串字符编号，切成 `BATCH` 列并排读 (PyTorch word_language_model 的排法)。
# 每一步读 `BPTT` 个字符，预测每个字符的下一个，损失是交叉熵 (nats/字符)。隐藏状态从一个窗口传到下一个，
# 但要 `detach()`：梯度只往回流 `BPTT` 步 (截断的 BPTT)。
#
# 三种循环单元：普通 RNN $h_t = \tanh(W x_t + U h_{t-1} + b)$，GRU (更新门、重置门)，LSTM (遗忘门、输入门、输出门
# 和细胞状态 $c_t = f \odot c_{t-1} + i \odot g$)。普通 RNN 的梯度是 `BPTT` 个雅可比矩阵的乘积，会突然爆炸；
# `clip_grad_norm_` 把过长的梯度缩到长度 `CLIP`。最后让 LSTM 按 $\mathrm{softmax}(\text{logits}/T)$ 一个字一个字地写。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run
DATA_DIR = None  # the folder holding tinyshakespeare/input.txt (None: $GLASSTORCH_DATA, else ../shared/data)

# %%
# %matplotlib inline
import math
import os
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn
from glasstorch.datasets.text import CharCorpus, batchify, get_batch, shakespeare_excerpt, tiny_shakespeare
from tqdm.auto import tqdm

if QUICK:  # the ~12 KB excerpt that ships with glasstorch
    EMBED, HIDDEN, BPTT, BATCH, STEPS, LR, VAL_CHARS, EVAL_EVERY = 16, 48, 32, 16, 60, 1e-2, 2000, 30
    EXPLODE_STEPS, EXPLODE_LR = 60, 8.0
    text = shakespeare_excerpt()
else:
    EMBED, HIDDEN, BPTT, BATCH, STEPS, LR, VAL_CHARS, EVAL_EVERY = 64, 256, 64, 64, 1200, 3e-3, 40000, 200
    EXPLODE_STEPS, EXPLODE_LR = 300, 2.0
    text = tiny_shakespeare(DATA_DIR or os.environ.get("GLASSTORCH_DATA", "../shared/data"))
CLIP = 0.25

corpus = CharCorpus(text, val_fraction=0.1)
train_data = batchify(corpus.train, BATCH)               # (rows, BATCH)
val_data = batchify(corpus.val[:VAL_CHARS], min(BATCH, 8))
data, target = get_batch(train_data, 0, BPTT)
print(f"{len(text)} characters, vocabulary of {corpus.vocab_size}; train {train_data.shape}")
print(repr(corpus.decode(data[:, 0])), "->", repr(corpus.decode(target[:, 0])))

# %% [markdown]
# ## 模型：Embedding → nn.RNN / nn.GRU / nn.LSTM → Linear

# %%
class CharModel(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.embedding = nn.Embedding(corpus.vocab_size, EMBED)
        self.rnn = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell](EMBED, HIDDEN)
        self.decoder = nn.Linear(HIDDEN, corpus.vocab_size)

    def forward(self, ids, hidden=None):  # ids (T, N) -> logits (T, N, vocab), last hidden state
        output, hidden = self.rnn(self.embedding(ids), hidden)
        return self.decoder(output), hidden

def detach(hidden):  # an LSTM's state is a pair (h, c)
    return tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()

def evaluate(model, source):
    model.eval()
    total, count, hidden = 0.0, 0, None
    with torch.no_grad():
        for i in range(0, len(source) - 1, BPTT):
            data, target = get_batch(source, i, BPTT)
            logits, hidden = model(torch.from_numpy(data), hidden)
            total += nn.functional.cross_entropy(logits.reshape(-1, corpus.vocab_size), torch.from_numpy(target.reshape(-1)),
                                                 reduction="sum").item()
            count += target.size
    model.train()
    return total / count

# %% [markdown]
# ## 训练：Adam + 截断 BPTT，记录每一步裁剪前的梯度范数

# %%
def train(cell, clip, sgd_lr=None, steps=STEPS):
    """Adam (or plain SGD at sgd_lr); returns the model, losses, grad norms before clipping, val losses, W_hh radii."""
    torch.manual_seed(0)
    model = CharModel(cell)
    optimizer = torch.optim.SGD(model.parameters(), lr=sgd_lr) if sgd_lr else torch.optim.Adam(model.parameters(), lr=LR)
    losses, norms, vals, radii, hidden, i = [], [], [], [], None, 0
    for step in tqdm(range(1, steps + 1), desc=f"{cell} clip={clip}" + (f" SGD lr={sgd_lr}" if sgd_lr else "")):
        if i >= len(train_data) - 1:
            i, hidden = 0, None
        data, target = get_batch(train_data, i, BPTT)
        i += BPTT
        logits, hidden = model(torch.from_numpy(data), None if hidden is None else detach(hidden))
        loss = nn.functional.cross_entropy(logits.reshape(-1, corpus.vocab_size), torch.from_numpy(target.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        norms.append(math.sqrt(sum((p.grad ** 2).sum().item() for p in model.parameters())))
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        losses.append(loss.item())
        if cell == "rnn" and (step % 10 == 0 or step == 1):  # the largest |eigenvalue| of the recurrent matrix
            radii.append((step, np.abs(np.linalg.eigvals(model.rnn.weight_hh_l0.detach().numpy())).max()))
        if step % EVAL_EVERY == 0 or step == steps:
            vals.append((step, evaluate(model, val_data)))
    print(f"{cell:4s} clip={clip}: val loss {vals[-1][1]:.3f}, grad norm median {np.median(norms):.2f}, max {max(norms):.3g}")
    return model, losses, norms, vals, radii

runs = {cell: train(cell, True) for cell in ("rnn", "gru", "lstm")}

# %%
colors = {"rnn": "tab:red", "gru": "tab:green", "lstm": "tab:blue"}
plt.figure(figsize=(8, 4.5))
for cell, (_, losses, norms, vals, _) in runs.items():
    plt.plot(losses, color=colors[cell], alpha=0.4, linewidth=0.8)
    plt.plot(*zip(*vals), "o-", color=colors[cell], label=f"{cell} (val {vals[-1][1]:.2f})")
plt.xlabel("step"); plt.ylabel("cross-entropy (nats/char)"); plt.legend()
plt.show()

# %% [markdown]
# ## 梯度爆炸：普通 SGD，裁剪与不裁剪
#
# 用 Adam 时梯度范数一直很小，裁不裁剪几乎一样：Adam 用梯度的滑动均方根去除每一步，一个很长的梯度不会变成一大步。
# word_language_model 用的是普通 SGD，每一步就是 lr × 梯度。往回传一个时间步，梯度要乘一次雅可比矩阵
# $\partial h_t / \partial h_{t-1} = \mathrm{diag}(1 - h_t^2)\, W_{hh}$ (的转置)；传 `BPTT` 步就是 `BPTT` 个这样的矩阵相乘。
# $W_{hh}$ 的谱半径 $\rho$ (最大的 |特征值|) 大于 1 时，这个乘积可以像 $\rho^{\text{BPTT}}$ 那样变大。
# 不裁剪时它自己喂自己：梯度长 → 一步大 → $W_{hh}$ 变大 → 下一个乘积更长。同一个起点训练两次，只差裁剪：

# %%
explode = {clip: train("rnn", clip, sgd_lr=EXPLODE_LR, steps=EXPLODE_STEPS) for clip in (True, False)}
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
for clip, (_, losses, norms, _, radii) in explode.items():
    color, label = ("tab:blue", "clipped") if clip else ("tab:red", "not clipped")
    axes[0].semilogy(norms, color=color, linewidth=0.8, label=label)
    axes[1].semilogy(losses, color=color, linewidth=0.8, label=label)
    axes[2].semilogy(*zip(*radii), "o-", color=color, markersize=3, label=label)
axes[0].axhline(CLIP, color="gray", linestyle="--", label=f"clip max_norm {CLIP}")
axes[1].axhline(math.log(corpus.vocab_size), color="gray", linestyle="--", label="uniform guess")
axes[2].axhline(1.0, color="gray", linestyle="--")
for ax, ylabel in zip(axes, ["‖grad‖₂ before clipping", "cross-entropy (nats/char)", "max |eigenvalue| of W_hh"]):
    ax.set(xlabel="step", ylabel=ylabel); ax.legend()
plt.show()

# %% [markdown]
# ## 让 LSTM 写字：温度越低越保守，越高越"有创意"

# %%
def sample(model, prime, length, temperature):
    generator = torch.Generator().manual_seed(0)
    model.eval()
    out, hidden = list(prime), None
    with torch.no_grad():
        ids = torch.from_numpy(corpus.encode(prime)[:, None])
        for _ in range(length):
            logits, hidden = model(ids, hidden)
            next_id = torch.multinomial(torch.softmax(logits[-1, 0] / temperature, dim=0), 1, generator=generator)
            out.append(corpus.chars[next_id.item()])
            ids = next_id.reshape(1, 1)
    return "".join(out)

lstm = runs["lstm"][0]
for temperature in (0.5, 1.0):
    print(f"--- temperature {temperature} ---{sample(lstm, chr(10), 120 if QUICK else 400, temperature)}")

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import char_rnn as lesson
results = {f"{cell}_val_loss": runs[cell][3][-1][1] for cell in ("rnn", "gru", "lstm")}
tail = EXPLODE_STEPS // 10  # the mean training loss of the last 10% steps
results["explosion_ratio"] = max(explode[False][2]) / max(explode[True][2])
results["clipping_gain"] = np.mean(explode[False][1][-tail:]) - np.mean(explode[True][1][-tail:])
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
