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
    text = shakespeare_excerpt()
else:
    EMBED, HIDDEN, BPTT, BATCH, STEPS, LR, VAL_CHARS, EVAL_EVERY = 64, 256, 64, 64, 1200, 3e-3, 40000, 200
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
def train(cell, clip):
    torch.manual_seed(0)
    model = CharModel(cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    losses, norms, vals, hidden, i = [], [], [], None, 0
    for step in tqdm(range(1, STEPS + 1), desc=f"{cell} clip={clip}"):
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
        if step % EVAL_EVERY == 0 or step == STEPS:
            vals.append((step, evaluate(model, val_data)))
    print(f"{cell:4s} clip={clip}: val loss {vals[-1][1]:.3f}, grad norm median {np.median(norms):.2f}, max {max(norms):.1f}")
    return model, losses, norms, vals

runs = {(cell, True): train(cell, True) for cell in ("rnn", "gru", "lstm")}
runs[("rnn", False)] = train("rnn", False)

# %%
colors = {"rnn": "tab:red", "gru": "tab:green", "lstm": "tab:blue"}
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
for (cell, clip), (_, losses, norms, vals) in runs.items():
    style, name = ("-", cell) if clip else (":", f"{cell} no clip")
    left.plot(losses, style, color=colors[cell], alpha=0.4, linewidth=0.8)
    left.plot(*zip(*vals), "o" + style, color=colors[cell], label=f"{name} (val {vals[-1][1]:.2f})")
    right.semilogy(norms, style, color=colors[cell], linewidth=0.8, label=name)
right.axhline(CLIP, color="gray", linestyle="--", label=f"clip max_norm {CLIP}")
left.set(xlabel="step", ylabel="cross-entropy (nats/char)"); right.set(xlabel="step", ylabel="‖grad‖₂ before clipping")
left.legend(); right.legend()
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

lstm = runs[("lstm", True)][0]
for temperature in (0.5, 1.0):
    print(f"--- temperature {temperature} ---{sample(lstm, chr(10), 120 if QUICK else 400, temperature)}")

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import char_rnn as lesson
results = {f"{cell}_val_loss": runs[(cell, True)][3][-1][1] for cell in ("rnn", "gru", "lstm")}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
