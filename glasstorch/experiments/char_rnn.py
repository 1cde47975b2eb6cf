"""A character-level language model of Shakespeare: vanilla RNN vs GRU vs LSTM, with and without gradient clipping.

The text is one stream of character ids cut into `batch_size` parallel columns (PyTorch's word_language_model
layout, glasstorch.datasets.text); each step reads `bptt` characters per column and predicts each next one
(cross-entropy, in nats per character). The hidden state is carried from window to window but detached, so the
gradient flows back `bptt` steps only (truncated backpropagation through time).

Model: Embedding -> nn.RNN / nn.GRU / nn.LSTM -> Linear to the vocabulary, trained by Adam. Every step records the
gradient norm before clipping, and clip_grad_norm_ rescales a longer gradient to length `clip`. The gradient of a
tanh RNN is a product of `bptt` Jacobians and can explode when its recurrent matrix grows past spectral radius 1;
the cells in `no_clip` are trained a second time without clipping to show whether that happens. At the full size
it does not: the RNN's norm stays below 1.5, clipped and unclipped runs end at the same validation loss, and the
norm (and the loss) jump only where a new pass over the text restarts the state from zero (the dotted lines).
Afterwards the LSTM writes text: each character is drawn with torch.multinomial from softmax(logits / temperature).
"""
import math
from dataclasses import dataclass

import numpy as np

from glasstorch.datasets.text import batchify, get_batch
from .common import shakespeare_corpus

NAME = "char-rnn"
NOTE = "recurrent networks (nn.RNN, nn.GRU, nn.LSTM), truncated BPTT, gradient clipping, sampling"
SUMMARY = "RNN vs GRU vs LSTM on Tiny Shakespeare: exploding gradients, clipping, generated text"


@dataclass
class Config:
    cells: tuple = ("rnn", "gru", "lstm")
    no_clip: tuple = ("rnn",)   # cells also trained without clipping
    embed: int = 64
    hidden: int = 256
    layers: int = 1
    bptt: int = 64
    batch_size: int = 64
    steps: int = 1200           # Adam steps per model
    lr: float = 3e-3
    clip: float = 0.25          # clip_grad_norm_'s max_norm (word_language_model's default)
    val_fraction: float = 0.1
    val_chars: int = 40000      # validation loss over the first this many validation characters
    eval_every: int = 200
    sample_chars: int = 400
    temperatures: tuple = (0.5, 1.0)
    excerpt: bool = False       # the ~12 KB excerpt that ships with glasstorch instead of the whole text
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(embed=16, hidden=48, bptt=32, batch_size=16, steps=60, lr=1e-2, val_chars=2000, eval_every=30,
                   sample_chars=120, temperatures=(0.8,), excerpt=True)


EXPECTED = {"lstm_val_loss": ("<=", 1.70)}
QUICK_EXPECTED = {"lstm_val_loss": ("<=", 2.9), "gru_val_loss": ("<=", 2.9)}  # uniform over 58 chars: 4.06


def build(fw, cfg, vocab_size, cell):
    nn = fw.nn
    recurrent = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]

    class CharModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, cfg.embed)
            self.rnn = recurrent(cfg.embed, cfg.hidden, cfg.layers)
            self.decoder = nn.Linear(cfg.hidden, vocab_size)

        def forward(self, ids, hidden=None):
            """ids (seq, batch) -> logits (seq, batch, vocab), the last hidden state."""
            output, hidden = self.rnn(self.embedding(ids), hidden)
            return self.decoder(output), hidden

    return CharModel()


def detach(hidden):
    """Cut the graph at the window boundary (an LSTM's state is a pair)."""
    return tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()


def grad_norm(params):
    return math.sqrt(sum(float((p.grad.detach() ** 2).sum()) for p in params if p.grad is not None))


def evaluate(fw, model, source, bptt):
    """Mean cross-entropy (nats per character) over every window of `source` (seq, batch)."""
    model.eval()
    total, count, hidden = 0.0, 0, None
    with fw.no_grad():
        for i in range(0, len(source) - 1, bptt):
            data, target = get_batch(source, i, bptt)
            logits, hidden = model(fw.from_numpy(data), hidden)
            loss = fw.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                  fw.from_numpy(target.reshape(-1)), reduction="sum")
            total, count = total + loss.item(), count + target.size
    model.train()
    return total / count


def train_one(fw, cfg, lab, corpus, cell, clip):
    """Adam on contiguous windows; returns the model and per-step (loss, grad norm) and (step, val loss) lists."""
    fw.manual_seed(cfg.seed)
    model = build(fw, cfg, corpus.vocab_size, cell)
    params = list(model.parameters())
    optimizer = fw.optim.Adam(params, lr=cfg.lr)
    train = batchify(corpus.train, cfg.batch_size)
    val = batchify(corpus.val[:cfg.val_chars], min(cfg.batch_size, 8))
    tag = cell if clip else f"{cell}_noclip"
    losses, norms, vals, hidden, i = [], [], [], None, 0
    for step in lab.progress(range(1, cfg.steps + 1), tag, total=cfg.steps):
        if i >= len(train) - 1:
            i, hidden = 0, None  # a new pass over the text starts from a zero state
        data, target = get_batch(train, i, cfg.bptt)
        i += cfg.bptt
        hidden = detach(hidden) if hidden is not None else None
        logits, hidden = model(fw.from_numpy(data), hidden)
        loss = fw.nn.functional.cross_entropy(logits.reshape(-1, corpus.vocab_size), fw.from_numpy(target.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        norm = grad_norm(params)
        if clip:
            fw.nn.utils.clip_grad_norm_(params, cfg.clip)
        optimizer.step()
        losses.append(loss.item())
        norms.append(norm)
        row = {"step": step, f"{tag}_loss": losses[-1], f"{tag}_grad_norm": norm}
        if step % cfg.eval_every == 0 or step == cfg.steps:
            vals.append((step, evaluate(fw, model, val, cfg.bptt)))
            row[f"{tag}_val_loss"] = vals[-1][1]
        lab.log(**row)
    lab.say(f"{tag:12s} val loss {vals[-1][1]:.3f} nats/char; grad norm median {np.median(norms):.2f}, "
            f"max {max(norms):.1f} ({lab.elapsed():.0f} s so far)")
    return model, losses, norms, vals


def sample(fw, model, corpus, prime, length, temperature, seed):
    """Text that `model` writes after `prime`: each next char ~ multinomial(softmax(logits / temperature))."""
    generator = fw.Generator().manual_seed(seed)
    model.eval()
    out, hidden = list(prime), None
    with fw.no_grad():
        ids = fw.from_numpy(corpus.encode(prime)[:, None])
        for _ in range(length):
            logits, hidden = model(ids, hidden)
            probs = fw.softmax(logits[-1, 0] / temperature, dim=0)
            next_id = fw.multinomial(probs, 1, generator=generator)
            out.append(corpus.chars[int(next_id.item())])
            ids = next_id.reshape(1, 1)
    model.train()
    return "".join(out)


def run(fw, cfg, lab):
    corpus = shakespeare_corpus(NAME, cfg, lab)
    lab.say(f"{len(corpus.train) + len(corpus.val)} characters, {corpus.vocab_size} distinct; {len(corpus.train)} train, "
            f"{min(len(corpus.val), cfg.val_chars)} validation characters used")
    runs = [(cell, True) for cell in cfg.cells] + [(cell, False) for cell in cfg.no_clip]
    results, curves, models = {}, {}, {}
    for cell, clip in runs:
        model, losses, norms, vals = train_one(fw, cfg, lab, corpus, cell, clip)
        tag = cell if clip else f"{cell}_noclip"
        curves[tag] = (losses, norms, vals)
        results[f"{tag}_val_loss"] = vals[-1][1]
        results[f"{tag}_max_grad_norm"] = max(norms)
        if clip:
            models[cell] = model

    writer = models.get("lstm") or next(iter(models.values()))
    for temperature in cfg.temperatures:
        text_out = sample(fw, writer, corpus, "\n", cfg.sample_chars, temperature, cfg.seed)
        lab.say(f"--- sample, temperature {temperature} ---\n{text_out}\n---")

    colors = {"rnn": "tab:red", "gru": "tab:green", "lstm": "tab:blue"}
    with lab.figure("loss_curves", "training loss (thin) and validation loss (dots) of the three cells",
                    figsize=(8, 4.5)) as (_, ax):
        for tag, (losses, _, vals) in curves.items():
            cell = tag.split("_")[0]
            style = "-" if tag == cell else ":"
            ax.plot(np.arange(1, len(losses) + 1), losses, style, color=colors[cell], alpha=0.5, linewidth=0.8)
            ax.plot(*zip(*vals), "o" + style, color=colors[cell], label=f"{tag} (val {vals[-1][1]:.2f})")
        ax.set(xlabel="step", ylabel="cross-entropy (nats/char)", title="char-level language model")
        ax.legend()
    per_pass = math.ceil((len(corpus.train) // cfg.batch_size - 1) / cfg.bptt)  # steps in one pass over the text
    with lab.figure("grad_norms", "gradient norm per step before clipping (log scale); dotted: a new pass over the "
                    "text starts from a zero state", figsize=(8, 4.5)) as (_, ax):
        for tag, (_, norms, _) in curves.items():
            cell = tag.split("_")[0]
            ax.semilogy(np.arange(1, len(norms) + 1), norms, "-" if tag == cell else ":", color=colors[cell],
                        linewidth=0.8, label=tag)
        ax.axhline(cfg.clip, color="gray", linestyle="--", label=f"clip max_norm {cfg.clip}")
        for restart in range(per_pass + 1, cfg.steps + 1, per_pass):
            ax.axvline(restart, color="gray", linestyle=":", linewidth=0.8)
        ax.set(xlabel="step", ylabel="‖grad‖₂", title="gradient norm before clipping")
        ax.legend()
    lab.checkpoint(writer)
    return results
