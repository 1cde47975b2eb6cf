"""A small decoder-only Transformer that writes Shakespeare one character at a time (a character-level GPT).

The same text, vocabulary and (seq, batch) windows as `char-rnn` (glasstorch.datasets.text): each step reads
`context` characters per column and predicts each next one (cross-entropy, nats per character). A Transformer
carries no hidden state from window to window: what it knows about the past is what it can attend to inside
the window, and the causal mask keeps position t from looking at positions after t.

Model: Embedding + sinusoidal positional encoding -> nn.TransformerEncoder of nn.TransformerEncoderLayer
(pre-norm, GELU) with the causal mask -> LayerNorm -> Linear to the vocabulary, trained by AdamW with a
warm-up and a cosine decay. "Encoder" is torch's name for a stack of self-attention layers; with the causal
mask it is exactly the decoder of a decoder-only model (GPT).

Beside it, the attention block written out by hand (`build_attention`: q/k/v projections, scores, causal
mask, softmax, weighted sum, heads concatenated, output projection). After training, each layer's
nn.MultiheadAttention weights are copied into it and both are run on the same input: they must agree
(`scratch_attention_max_diff`); its per-head weights are the attention-map figure.

Against char-rnn's LSTM: `val_loss` here and `lstm_val_loss` there are measured on the same validation
characters, in the same unit. The LSTM carries its state through the whole validation stream, while the
Transformer starts every `context`-character window afresh (a character has context/2 predecessors in view on
average), so the Transformer must win by reading its window better, not by seeing more.
"""
import math
from dataclasses import dataclass

import numpy as np

from glasstorch.datasets.text import batchify, get_batch
from .common import shakespeare_corpus

NAME = "transformer"
NOTE = "self-attention, causal mask, positional encoding, nn.TransformerEncoderLayer as a decoder-only model"
SUMMARY = "a character-level GPT on Tiny Shakespeare: causal self-attention, attention maps, positional encoding"


@dataclass
class Config:
    d_model: int = 128
    nhead: int = 4
    layers: int = 4
    dim_feedforward: int = 512
    dropout: float = 0.0
    context: int = 128          # characters per window (the longest the model ever attends over)
    batch_size: int = 32
    steps: int = 1500           # AdamW steps
    lr: float = 2e-3
    warmup: int = 100           # steps of linear warm-up, then cosine decay to lr / 10
    weight_decay: float = 0.01
    clip: float = 1.0           # clip_grad_norm_'s max_norm
    val_fraction: float = 0.1
    val_chars: int = 40000      # validation loss over the first this many validation characters
    eval_every: int = 250
    sample_chars: int = 400
    temperature: float = 0.8
    attention_chars: int = 48   # the validation snippet drawn in the attention maps
    excerpt: bool = False       # the ~12 KB excerpt that ships with glasstorch instead of the whole text
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(d_model=48, nhead=4, layers=2, dim_feedforward=96, context=32, batch_size=16, steps=80,
                   lr=1e-2, warmup=10, val_chars=2000, eval_every=40, sample_chars=120, attention_chars=24,
                   excerpt=True)


EXPECTED = {"val_loss": ("<=", 1.80), "scratch_attention_max_diff": ("<=", 1e-4)}
QUICK_EXPECTED = {"val_loss": ("<=", 2.9), "scratch_attention_max_diff": ("<=", 1e-4)}  # uniform over 58: 4.06


# ----------------------------------------------------------------------------- the model
def positional_encoding(length, d_model):
    """Vaswani et al.'s sinusoids, (length, d_model) float32: PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(...).

    Each pair of features turns at its own frequency, from one turn per 2*pi positions to one per 10000 * 2*pi,
    so every position gets a distinct pattern and PE[t + k] is a fixed rotation of PE[t] (relative offsets are
    easy to read off with a linear map)."""
    position = np.arange(length)[:, None]
    frequency = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((length, d_model), dtype=np.float32)
    pe[:, 0::2] = np.sin(position * frequency)
    pe[:, 1::2] = np.cos(position * frequency)
    return pe


def build(fw, cfg, vocab_size):
    nn = fw.nn

    class CharTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, cfg.d_model)
            self.register_buffer("pe", fw.from_numpy(positional_encoding(cfg.context, cfg.d_model)))
            layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.nhead, cfg.dim_feedforward, cfg.dropout,
                                               activation="gelu", norm_first=True)  # pre-norm, as GPT-2
            self.encoder = nn.TransformerEncoder(layer, cfg.layers, norm=nn.LayerNorm(cfg.d_model),
                                                 enable_nested_tensor=False)
            self.decoder = nn.Linear(cfg.d_model, vocab_size)

        def embed(self, ids):
            """ids (seq, batch) -> token embedding + position encoding (seq, batch, d_model)."""
            return self.embedding(ids) + self.pe[:ids.shape[0]].unsqueeze(1)

        def forward(self, ids):
            """ids (seq, batch) -> logits (seq, batch, vocab); position t sees ids[:t + 1] only."""
            mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[0])  # -inf above the diagonal
            return self.decoder(self.encoder(self.embed(ids), mask=mask, is_causal=True))

    return CharTransformer()


def build_attention(fw, d_model, nhead):
    """Causal multi-head self-attention written out by hand; equal to nn.MultiheadAttention(d_model, nhead) called
    with the causal mask once `copy_attention_weights` has given it the same weights."""
    nn = fw.nn
    if d_model % nhead:
        raise ValueError(f"d_model {d_model} must be divisible by nhead {nhead}")

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.nhead, self.head_dim = nhead, d_model // nhead
            self.query = nn.Linear(d_model, d_model)   # what each position is looking for
            self.key = nn.Linear(d_model, d_model)     # what each position offers to be found by
            self.value = nn.Linear(d_model, d_model)   # what each position hands over when found
            self.out_proj = nn.Linear(d_model, d_model)

        def heads(self, x):
            """(T, N, d_model) -> (N, nhead, T, head_dim): each head works on its own slice of the features."""
            length, batch, _ = x.shape
            return x.reshape(length, batch, self.nhead, self.head_dim).permute(1, 2, 0, 3)

        def forward(self, x):
            """x (T, N, d_model) -> output (T, N, d_model), attention weights (N, nhead, T, T)."""
            length, batch, _ = x.shape
            q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)        # (N, nhead, T, T)
            future = fw.ones(length, length, dtype=fw.bool).triu(diagonal=1)   # True where j > t
            weights = fw.softmax(scores.masked_fill(future, float("-inf")), dim=-1)  # each row sums to 1
            mixed = weights @ v                                                # (N, nhead, T, head_dim)
            concat = mixed.permute(2, 0, 1, 3).reshape(length, batch, d_model)  # heads side by side
            return self.out_proj(concat), weights

    return CausalSelfAttention()


def copy_attention_weights(fw, block, mha):
    """nn.MultiheadAttention keeps W_q, W_k, W_v stacked in one in_proj_weight (3 d_model x d_model)."""
    with fw.no_grad():
        for name, weight, bias in zip(("query", "key", "value"), mha.in_proj_weight.chunk(3), mha.in_proj_bias.chunk(3)):
            getattr(block, name).weight.copy_(weight)
            getattr(block, name).bias.copy_(bias)
        block.out_proj.weight.copy_(mha.out_proj.weight)
        block.out_proj.bias.copy_(mha.out_proj.bias)
    return block


def attention_inputs(fw, model, ids):
    """What each layer's self-attention reads (pre-norm: norm1 of the layer's input), layer by layer."""
    mask = fw.nn.Transformer.generate_square_subsequent_mask(ids.shape[0])
    x, inputs = model.embed(ids), []
    for layer in model.encoder.layers:
        inputs.append(layer.norm1(x))
        x = layer(x, src_mask=mask, is_causal=True)
    return inputs


# ----------------------------------------------------------------------------- training
def evaluate(fw, model, source, context):
    """Mean cross-entropy (nats per character) over consecutive windows of `source` (seq, batch)."""
    model.eval()
    total, count = 0.0, 0
    with fw.no_grad():
        for i in range(0, len(source) - 1, context):
            data, target = get_batch(source, i, context)
            logits = model(fw.from_numpy(data))
            loss = fw.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                  fw.from_numpy(target.reshape(-1)), reduction="sum")
            total, count = total + loss.item(), count + target.size
    model.train()
    return total / count


def lr_factor(cfg, step):
    """Linear warm-up to lr over `warmup` steps, then a cosine down to lr / 10 at the last step."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def train(fw, cfg, lab, corpus):
    """AdamW on consecutive windows of the column layout; returns the model, per-step losses, (step, val loss)."""
    fw.manual_seed(cfg.seed)
    model = build(fw, cfg, corpus.vocab_size)
    optimizer = fw.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.99), weight_decay=cfg.weight_decay)
    scheduler = fw.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(cfg, step))
    source = batchify(corpus.train, cfg.batch_size)
    val = batchify(corpus.val[:cfg.val_chars], min(cfg.batch_size, 8))
    losses, vals, i, passes = [], [], 0, 0
    for step in lab.progress(range(1, cfg.steps + 1), "transformer", total=cfg.steps):
        if i + cfg.context >= len(source):
            # a new pass starts a few characters later, so a character meets other positions in the window
            passes += 1
            i = (passes * 17) % cfg.context
        data, target = get_batch(source, i, cfg.context)
        i += cfg.context
        logits = model(fw.from_numpy(data))
        loss = fw.nn.functional.cross_entropy(logits.reshape(-1, corpus.vocab_size), fw.from_numpy(target.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        fw.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        row = {"step": step, "loss": losses[-1], "lr": optimizer.param_groups[0]["lr"]}
        if step % cfg.eval_every == 0 or step == cfg.steps:
            vals.append((step, evaluate(fw, model, val, cfg.context)))
            row["val_loss"] = vals[-1][1]
            lab.say(f"step {step:5d}: train loss {np.mean(losses[-cfg.eval_every:]):.3f}, val loss {vals[-1][1]:.3f} "
                    f"({lab.elapsed():.0f} s)")
        lab.log(**row)
    return model, losses, vals


def sample(fw, model, corpus, prime, length, temperature, seed, context):
    """Text after `prime`: each next char ~ multinomial(softmax(logits / temperature)) given the last `context`."""
    generator = fw.Generator().manual_seed(seed)
    model.eval()
    ids = list(corpus.encode(prime))
    with fw.no_grad():
        for _ in range(length):
            window = fw.from_numpy(np.array(ids[-context:], dtype=np.int64)[:, None])
            probs = fw.softmax(model(window)[-1, 0] / temperature, dim=0)
            ids.append(int(fw.multinomial(probs, 1, generator=generator).item()))
    model.train()
    return corpus.decode(ids)


# ----------------------------------------------------------------------------- the lesson
def run(fw, cfg, lab):
    corpus = shakespeare_corpus(NAME, cfg, lab)
    model, losses, vals = train(fw, cfg, lab, corpus)
    params = sum(p.numel() for p in model.parameters())
    lab.say(f"{params} parameters; val loss {vals[-1][1]:.3f} nats/char after {cfg.steps} steps "
            f"({lab.elapsed():.0f} s)")
    results = {"val_loss": vals[-1][1], "train_loss": float(np.mean(losses[-cfg.eval_every:])), "parameters": params}

    # the hand-written block against the trained nn.MultiheadAttention of every layer, on a validation snippet
    snippet = corpus.val[:cfg.attention_chars]
    model.eval()
    with fw.no_grad():
        inputs = attention_inputs(fw, model, fw.from_numpy(snippet[:, None]))
        mask = fw.nn.Transformer.generate_square_subsequent_mask(len(snippet))
        maps, diff = [], 0.0
        for layer, x in zip(model.encoder.layers, inputs):
            expected = layer.self_attn(x, x, x, attn_mask=mask, need_weights=False)[0]
            block = copy_attention_weights(fw, build_attention(fw, cfg.d_model, cfg.nhead), layer.self_attn)
            out, weights = block(x)
            diff = max(diff, float((out - expected).abs().max()))
            maps.append(weights[0].numpy())
    model.train()
    results["scratch_attention_max_diff"] = diff
    lab.say(f"hand-written attention vs nn.MultiheadAttention, all {cfg.layers} layers: max |difference| {diff:.2e}")

    lab.say(f"--- sample, temperature {cfg.temperature} ---\n"
            f"{sample(fw, model, corpus, chr(10), cfg.sample_chars, cfg.temperature, cfg.seed, cfg.context)}\n---")
    _figures(cfg, lab, losses, vals, maps, corpus.decode(snippet))
    lab.checkpoint(model)
    return results


def _figures(cfg, lab, losses, vals, maps, snippet):
    with lab.figure("loss_curves", "training loss per step and validation loss", figsize=(8, 4.5)) as (_, ax):
        ax.plot(np.arange(1, len(losses) + 1), losses, color="tab:purple", alpha=0.5, linewidth=0.8, label="train")
        ax.plot(*zip(*vals), "o-", color="tab:purple", label=f"validation ({vals[-1][1]:.2f})")
        ax.set(xlabel="step", ylabel="cross-entropy (nats/char)", title="character-level Transformer")
        ax.legend()

    labels = [{"\n": "⏎", " ": "␣"}.get(c, c) for c in snippet]
    with lab.figure("attention_maps", "attention weights of every head (rows: layers; row t = where position t "
                    "looks, causal: nothing right of the diagonal)", figsize=(2.6 * cfg.nhead, 2.6 * cfg.layers),
                    nrows=cfg.layers, ncols=cfg.nhead, squeeze=False) as (_, axes):
        for layer, weights in enumerate(maps):
            for head in range(cfg.nhead):
                ax = axes[layer, head]
                ax.imshow(weights[head], cmap="viridis", vmin=0, vmax=1)
                ax.set_xticks(range(len(labels)), labels, fontsize=5)
                ax.set_yticks(range(len(labels)), labels, fontsize=5)
                ax.set_title(f"layer {layer + 1}, head {head + 1}", fontsize=8)

    pe = positional_encoding(cfg.context, cfg.d_model)
    with lab.figure("positional_encoding", "sinusoidal positional encoding (left) and the dot products of the "
                    "encodings of two positions (right)", figsize=(10, 4), ncols=2) as (_, (left, right)):
        image = left.imshow(pe.T, aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
        left.set(xlabel="position t", ylabel="feature", title="PE[t, feature]")
        left.figure.colorbar(image, ax=left)
        image = right.imshow(pe @ pe.T, cmap="viridis")
        right.set(xlabel="position", ylabel="position", title="PE[s] · PE[t]: peaks where s = t, fades with |s - t|")
        right.figure.colorbar(image, ax=right)
