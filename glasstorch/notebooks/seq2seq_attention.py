# %% [markdown]
# # 编码器-解码器与注意力：把数字串倒过来 (seq2seq-attention)
#
# 一个"翻译"任务：输入 1 到 20 个数字，输出同样的数字倒过来，再加一个结束符 `<eos>`，例如 `3 1 4 1 5` → `5 1 4 1 3 <eos>`。
#
# - **编码器**：`nn.Embedding` → 双向 `nn.GRU`，把输入读成每个位置一个向量 $e_1, \dots, e_S$，再把两个方向的最后状态合成解码器的初始状态。
# - **解码器**：`nn.Embedding` → `nn.GRU` → `nn.Linear`，一次写一个词。训练时用 **teacher forcing**：解码器读的是 `<sos>` 加上正确答案右移一位；
#   测试时用 **贪心解码**：每一步读自己上一步的 argmax。只有所有数字和 `<eos>` 都对才算对 (整串准确率)。
# - **没有注意力**：输入只通过一个向量 (编码器的最后状态) 传给解码器，长串装不下。
# - **有注意力** (点积)：解码器每一步的状态 $h_t$ 和每个编码器输出比较，得到分数、权重和上下文：
#
# $$\text{score}_{t,s} = (W h_t)^\top e_s,\qquad a_{t,s} = \operatorname{softmax}_s(\text{score}_{t,s}),\qquad
# c_t = \sum_s a_{t,s}\, e_s,\qquad \text{logits}_t = \text{Linear}(\tanh(\text{Linear}([h_t; c_t])))$$
#
# 倒序时第 $t$ 步应该看第 $L-1-t$ 个输入：注意力热力图应是一条反对角线。每个 batch 里的串一样长，所以不需要填充和掩码。

# %% tags=["parameters"]
QUICK = False  # True: the seconds-long size the tests run

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import glasstorch as torch
from glasstorch import nn
from tqdm.auto import tqdm

if QUICK:
    MAX_LEN, EMBED, HIDDEN, BATCH_SIZE, STEPS, LR, TEST_PER_LENGTH, LONGEST = 6, 16, 32, 32, 250, 5e-3, 20, 2
else:
    MAX_LEN, EMBED, HIDDEN, BATCH_SIZE, STEPS, LR, TEST_PER_LENGTH, LONGEST = 20, 32, 128, 64, 2500, 2e-3, 50, 5
SOS, EOS, VOCAB = 10, 11, 12  # 十个数字之后的两个特殊记号


def reversal_batch(rng, batch_size, length):
    source = rng.integers(0, 10, size=(batch_size, length))
    target = np.concatenate([source[:, ::-1], np.full((batch_size, 1), EOS)], axis=1)
    return source, target


test_rng = np.random.default_rng(1)
lengths = list(range(1, MAX_LEN + 1))
test_set = {n: reversal_batch(test_rng, TEST_PER_LENGTH, n) for n in lengths}
source, target = test_set[5]
print(source[0], "->", target[0])

# %% [markdown]
# ## 编码器和解码器

# %%
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.gru = nn.GRU(EMBED, HIDDEN, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * HIDDEN, HIDDEN)

    def forward(self, source):
        outputs, last = self.gru(self.embedding(source))   # (B, S, 2H); last: (2 个方向, B, H)
        hidden = torch.tanh(self.bridge(torch.cat([last[0], last[1]], dim=1)))
        return outputs, hidden.unsqueeze(0)


class Decoder(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.attention = attention
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.gru = nn.GRU(EMBED, HIDDEN, batch_first=True)
        if attention:
            self.query = nn.Linear(HIDDEN, 2 * HIDDEN, bias=False)
            self.combine = nn.Linear(3 * HIDDEN, HIDDEN)
        self.out = nn.Linear(HIDDEN, VOCAB)

    def forward(self, inputs, hidden, encoder_outputs):
        states, hidden = self.gru(self.embedding(inputs), hidden)           # (B, T, H)
        if not self.attention:
            return self.out(states), hidden, None
        scores = torch.bmm(self.query(states), encoder_outputs.transpose(1, 2))   # (B, T, S)
        weights = torch.softmax(scores, dim=-1)                                   # 每行对输入位置求和为 1
        context = torch.bmm(weights, encoder_outputs)                             # (B, T, 2H)
        combined = torch.tanh(self.combine(torch.cat([states, context], dim=-1)))
        return self.out(combined), hidden, weights


class Seq2Seq(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.encoder, self.decoder = Encoder(), Decoder(attention)

    def forward(self, source, decoder_inputs):  # teacher forcing
        encoder_outputs, hidden = self.encoder(source)
        return self.decoder(decoder_inputs, hidden, encoder_outputs)[0]

    def greedy(self, source, steps):  # 贪心解码
        encoder_outputs, hidden = self.encoder(source)
        token = torch.full((source.shape[0], 1), SOS, dtype=torch.int64)
        tokens, weights = [], []
        for _ in range(steps):
            logits, hidden, w = self.decoder(token, hidden, encoder_outputs)
            token = logits.argmax(dim=-1)
            tokens.append(token)
            weights.append(w)
        return torch.cat(tokens, dim=1), (torch.cat(weights, dim=1) if self.decoder.attention else None)

# %% [markdown]
# ## 训练 (teacher forcing) 与整串准确率 (贪心解码)

# %%
def accuracy_by_length(model):
    model.eval()
    accuracy = {}
    with torch.no_grad():
        for length, (source, target) in test_set.items():
            tokens, _ = model.greedy(torch.from_numpy(source), length + 1)
            accuracy[length] = float(np.mean(np.all(tokens.numpy() == target, axis=1)))
    model.train()
    return accuracy


def train(attention):
    torch.manual_seed(0)
    model = Seq2Seq(attention)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS)  # lr 沿半个余弦降到 0
    rng = np.random.default_rng(0)  # 两个模型看到同样的 batch
    losses = []
    for step in tqdm(range(STEPS), desc="attention" if attention else "plain"):
        length = int(rng.integers(1, MAX_LEN + 1))
        source, target = reversal_batch(rng, BATCH_SIZE, length)
        decoder_inputs = np.concatenate([np.full((BATCH_SIZE, 1), SOS), target[:, :-1]], axis=1)
        logits = model(torch.from_numpy(source), torch.from_numpy(decoder_inputs))
        loss = nn.functional.cross_entropy(logits.reshape(-1, VOCAB), torch.from_numpy(target.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return model, losses


models, losses, accuracies = {}, {}, {}
for attention, tag in ((False, "plain"), (True, "attention")):
    models[tag], losses[tag] = train(attention)
    accuracies[tag] = accuracy_by_length(models[tag])
    print(f"{tag:9s} exact-sequence accuracy {np.mean(list(accuracies[tag].values())):.3f}")

# %% [markdown]
# ## 按输入长度的准确率：注意力在长串上的收益

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
for tag, style in (("plain", "s--"), ("attention", "o-")):
    ax1.plot(losses[tag], alpha=0.7, label=tag)
    ax2.plot(lengths, [accuracies[tag][n] for n in lengths], style, label=tag)
ax1.set(xlabel="step", ylabel="cross-entropy", yscale="log", title="training loss")
ax2.set(xlabel="input length", ylabel="exact-sequence accuracy", title="reversing digit strings")
ax1.legend(); ax2.legend()
plt.show()
longest = lengths[-LONGEST:]
results = {f"{tag}_accuracy": float(np.mean(list(accuracies[tag].values()))) for tag in accuracies}
for tag in accuracies:
    results[f"{tag}_accuracy_longest"] = float(np.mean([accuracies[tag][n] for n in longest]))
results["attention_gain_longest"] = results["attention_accuracy_longest"] - results["plain_accuracy_longest"]
print(f"lengths {longest[0]}-{longest[-1]}: gain from attention {results['attention_gain_longest']:+.3f}")

# %% [markdown]
# ## 注意力热力图：每个输出看向哪个输入

# %%
source, _ = test_set[MAX_LEN]
with torch.no_grad():
    tokens, weights = models["attention"].greedy(torch.from_numpy(source[:1]), MAX_LEN + 1)
plt.figure(figsize=(6, 6))
plt.imshow(weights.numpy()[0], cmap="viridis", vmin=0, vmax=1)
plt.xticks(range(MAX_LEN), [str(d) for d in source[0]])
plt.yticks(range(MAX_LEN + 1), [str(t) if t < 10 else "<eos>" for t in tokens.numpy()[0]])
plt.xlabel("source digit"); plt.ylabel("output token"); plt.colorbar(shrink=0.8)
plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import seq2seq_attention as lesson
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
