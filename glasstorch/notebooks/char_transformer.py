# %% [markdown]
# # 字符级 Transformer：自注意力写莎士比亚 (transformer)
#
# 和 char-rnn 一样：把 Tiny Shakespeare 变成一串字符编号，每一步读 `CONTEXT` 个字符，预测每个字符的下一个
# (交叉熵，单位 nats/字符)。区别在于模型没有隐藏状态：位置 $t$ 对过去的了解，全靠**自注意力**在窗口里"回头看"：
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}} + M\right) V,
# \qquad M_{tj} = \begin{cases} 0 & j \le t \\ -\infty & j > t \end{cases}$$
#
# 因果掩码 $M$ 让位置 $t$ 看不见未来。注意力本身不知道顺序，所以给每个位置加上正弦位置编码
# $PE_{t,2i} = \sin(t / 10000^{2i/d}),\ PE_{t,2i+1} = \cos(t / 10000^{2i/d})$。
# 模型 = Embedding + PE → 若干层 `nn.TransformerEncoderLayer` (带因果掩码，就是 GPT 的解码器) → LayerNorm → Linear。

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
    D_MODEL, HEADS, LAYERS, FF, CONTEXT, BATCH, STEPS, LR, WARMUP, VAL_CHARS = 48, 4, 2, 96, 32, 16, 80, 1e-2, 10, 2000
    text = shakespeare_excerpt()
else:
    D_MODEL, HEADS, LAYERS, FF, CONTEXT, BATCH, STEPS, LR, WARMUP, VAL_CHARS = 128, 4, 4, 512, 128, 32, 1500, 2e-3, 100, 40000
    text = tiny_shakespeare(DATA_DIR or os.environ.get("GLASSTORCH_DATA", "../shared/data"))
torch.manual_seed(0)

corpus = CharCorpus(text, val_fraction=0.1)
train_data = batchify(corpus.train, BATCH)                 # (rows, BATCH): BATCH parallel columns of the text
val_data = batchify(corpus.val[:VAL_CHARS], min(BATCH, 8))
print(f"{len(text)} characters, vocabulary of {corpus.vocab_size}; train {train_data.shape}, val {val_data.shape}")

# %% [markdown]
# ## 位置编码
#
# 每一对特征以自己的频率旋转：低维转得快，高维转得慢。每个位置有独一无二的花纹；
# 两个位置编码的点积只取决于它们的距离，在 $s = t$ 处最大。

# %%
def positional_encoding(length, d_model):
    position = np.arange(length)[:, None]
    frequency = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((length, d_model), dtype=np.float32)
    pe[:, 0::2] = np.sin(position * frequency)
    pe[:, 1::2] = np.cos(position * frequency)
    return pe

pe = positional_encoding(CONTEXT, D_MODEL)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.imshow(pe.T, aspect="auto", cmap="RdBu", vmin=-1, vmax=1); left.set(xlabel="position t", ylabel="feature")
right.imshow(pe @ pe.T); right.set(xlabel="position", ylabel="position", title="PE[s] · PE[t]")
plt.show()

# %% [markdown]
# ## 从零写一个因果多头自注意力
#
# $Q, K, V$ 三个投影；把特征切成 `HEADS` 份，每个头各自算 $\mathrm{softmax}(QK^\top/\sqrt{d_k} + M)V$；
# 再把各头拼起来，过输出投影。拷贝 `nn.MultiheadAttention` 的权重 (它把 $W_Q, W_K, W_V$ 叠在一个
# `in_proj_weight` 里) 之后，两者的输出和梯度应该一样。

# %%
class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, heads):
        super().__init__()
        self.heads, self.head_dim = heads, d_model // heads
        self.query, self.key, self.value = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def split(self, x):  # (T, N, d_model) -> (N, heads, T, head_dim)
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_dim).permute(1, 2, 0, 3)

    def forward(self, x):
        T, N, d_model = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        future = torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)
        weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        concat = (weights @ v).permute(2, 0, 1, 3).reshape(T, N, d_model)
        return self.out_proj(concat), weights

def copy_from(block, mha):
    with torch.no_grad():
        for linear, w, b in zip((block.query, block.key, block.value), mha.in_proj_weight.chunk(3), mha.in_proj_bias.chunk(3)):
            linear.weight.copy_(w); linear.bias.copy_(b)
        block.out_proj.weight.copy_(mha.out_proj.weight); block.out_proj.bias.copy_(mha.out_proj.bias)
    return block

mha = nn.MultiheadAttention(D_MODEL, HEADS)
with torch.no_grad():
    mha.in_proj_bias.normal_()
block = copy_from(CausalSelfAttention(D_MODEL, HEADS), mha)
x = torch.randn(10, 2, D_MODEL, requires_grad=True)
x2 = x.detach().clone().requires_grad_()
mask = nn.Transformer.generate_square_subsequent_mask(10)
expected = mha(x, x, x, attn_mask=mask)[0]
mine = block(x2)[0]
expected.pow(2).sum().backward(); mine.pow(2).sum().backward()
check_diff = max((mine - expected).abs().max().item(), (x2.grad - x.grad).abs().max().item())
print(f"max |difference| of outputs and input gradients: {check_diff:.2e}")

# %% [markdown]
# ## 模型：Embedding + PE → TransformerEncoderLayer × LAYERS (因果掩码) → LayerNorm → Linear

# %%
class CharTransformer(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, D_MODEL)
        self.register_buffer("pe", torch.from_numpy(positional_encoding(CONTEXT, D_MODEL)))
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, activation="gelu", norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, LAYERS, norm=nn.LayerNorm(D_MODEL), enable_nested_tensor=False)
        self.decoder = nn.Linear(D_MODEL, vocab_size)

    def embed(self, ids):  # (T, N) -> (T, N, D_MODEL)
        return self.embedding(ids) + self.pe[:ids.shape[0]].unsqueeze(1)

    def forward(self, ids):
        mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[0])
        return self.decoder(self.encoder(self.embed(ids), mask=mask, is_causal=True))

model = CharTransformer(corpus.vocab_size)
print(f"{sum(p.numel() for p in model.parameters())} parameters")

# %% [markdown]
# ## 训练：AdamW，先线性预热，再余弦衰减到 LR / 10

# %%
def evaluate(source):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(source) - 1, CONTEXT):
            data, target = get_batch(source, i, CONTEXT)
            logits = model(torch.from_numpy(data))
            total += nn.functional.cross_entropy(logits.reshape(-1, corpus.vocab_size), torch.from_numpy(target.reshape(-1)),
                                                 reduction="sum").item()
            count += target.size
    model.train()
    return total / count

def lr_factor(step):
    if step < WARMUP:
        return (step + 1) / WARMUP
    return 0.1 + 0.45 * (1 + math.cos(math.pi * (step - WARMUP) / max(1, STEPS - WARMUP)))

optimizer = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.99), weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
losses, val_losses, i, passes = [], [], 0, 0
for step in tqdm(range(1, STEPS + 1)):
    if i + CONTEXT >= len(train_data):  # a new pass, shifted a little
        passes += 1
        i = (passes * 17) % CONTEXT
    data, target = get_batch(train_data, i, CONTEXT)
    i += CONTEXT
    logits = model(torch.from_numpy(data))
    loss = nn.functional.cross_entropy(logits.reshape(-1, corpus.vocab_size), torch.from_numpy(target.reshape(-1)))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    if step % (STEPS // 4) == 0 or step == STEPS:
        val_losses.append((step, evaluate(val_data)))
        print(f"step {step}: val loss {val_losses[-1][1]:.3f}")

plt.figure(figsize=(8, 4))
plt.plot(losses, alpha=0.5, label="train")
plt.plot(*zip(*val_losses), "o-", label="validation")
plt.xlabel("step"); plt.ylabel("nats/char"); plt.legend()
plt.show()

# %% [markdown]
# ## 让模型写字，再看它把注意力放在哪里
#
# 每个字符都从 $\mathrm{softmax}(\text{logits} / 0.8)$ 里抽。注意力图用上面手写的块画：把每一层训练好的
# `self_attn` 的权重拷进去，输入是这一层 (pre-norm) 的 `norm1(x)`。

# %%
model.eval()
generator = torch.Generator().manual_seed(0)
ids = list(corpus.encode("\n"))
with torch.no_grad():
    for _ in range(120 if QUICK else 400):
        window = torch.from_numpy(np.array(ids[-CONTEXT:], dtype=np.int64)[:, None])
        probs = torch.softmax(model(window)[-1, 0] / 0.8, dim=0)
        ids.append(torch.multinomial(probs, 1, generator=generator).item())
print(corpus.decode(ids))

snippet = corpus.val[:24 if QUICK else 48]
with torch.no_grad():
    x, maps = model.embed(torch.from_numpy(snippet[:, None])), []
    mask = nn.Transformer.generate_square_subsequent_mask(len(snippet))
    for layer in model.encoder.layers:
        maps.append(copy_from(CausalSelfAttention(D_MODEL, HEADS), layer.self_attn)(layer.norm1(x))[1][0].numpy())
        x = layer(x, src_mask=mask, is_causal=True)
labels = [{"\n": "⏎", " ": "␣"}.get(c, c) for c in corpus.decode(snippet)]
fig, axes = plt.subplots(LAYERS, HEADS, figsize=(2.6 * HEADS, 2.6 * LAYERS), squeeze=False)
for l, weights in enumerate(maps):
    for h in range(HEADS):
        axes[l, h].imshow(weights[h], vmin=0, vmax=1)
        axes[l, h].set_xticks(range(len(labels)), labels, fontsize=5)
        axes[l, h].set_yticks(range(len(labels)), labels, fontsize=5)
        axes[l, h].set_title(f"layer {l + 1}, head {h + 1}", fontsize=8)
plt.tight_layout(); plt.show()

# %% [markdown]
# ## 检查：本课的目标 (EXPECTED / QUICK_EXPECTED)

# %%
from glasstorch.experiments import char_transformer as lesson
results = {"val_loss": val_losses[-1][1], "scratch_attention_max_diff": check_diff}
targets = lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED
checks = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
for metric, (op, target) in targets.items():
    print(f"{metric}: {results[metric]:.6g} {op} {target:g}")
    assert checks[op](results[metric], target), f"{metric} = {results[metric]} misses its target {op} {target}"
print("all targets met")
