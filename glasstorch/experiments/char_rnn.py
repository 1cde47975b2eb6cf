"""A character-level language model of Shakespeare: vanilla RNN vs GRU vs LSTM, with and without gradient clipping.

The text is one stream of character ids cut into `batch_size` parallel columns (PyTorch's word_language_model
layout, glasstorch.datasets.text); each step reads `bptt` characters per column and predicts each next one
(cross-entropy, in nats per character). The hidden state is carried from window to window but detached, so the
gradient flows back `bptt` steps only (truncated backpropagation through time).

Model: Embedding -> nn.RNN / nn.GRU / nn.LSTM -> Linear to the vocabulary, trained by Adam with clip_grad_norm_
(max_norm `clip`). Every step records the gradient norm before clipping. With Adam it stays small (below 3 at the
full size) and clipping hardly matters: Adam divides each step by a running RMS of the gradient, so one long
gradient does not make one long step. The norm (and the loss) jump where a new pass over the text restarts the
state from zero (the dotted lines).

Exploding gradients appear with plain SGD, the optimizer of word_language_model, whose step is lr x gradient: a
vanilla tanh RNN trained for `explode_steps` steps at lr `explode_lr`, twice from the same start, with and without
clipping. Going back one time step multiplies the gradient by the Jacobian dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh
(transposed); going back `bptt` steps, by a product of `bptt` of them, which can grow like rho^bptt once the
spectral radius rho of W_hh (its largest |eigenvalue|) is above 1. Unclipped, this feeds itself: a long gradient
makes a long step, the step inflates W_hh, and the larger W_hh makes the next product longer. At the full size
rho goes from 0.6 to hundreds or more, the norm from 0.6 to thousands or more and the loss from 4.2 nats (uniform
guessing) to tens of nats. Unclipped, the run is chaotic: rounding alone changes where it ends (with one BLAS
thread rho 267 and a final loss of 8.0; with two, rho 10,900, a peak norm of 172,000 and a final loss of 16.6).
Clipped, no step is longer than lr x clip = 0.5: rho creeps to about 1.5, the norm
stays near 0.5 and the loss falls smoothly to about 2. (rho > 1 is needed, not enough: the Adam-trained RNN ends
with rho = 4 and no explosion, because saturated units, 1 - h^2 near 0, damp the product.)
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
    explode_steps: int = 300    # the exploding-gradient demo: a vanilla RNN trained by plain SGD, clipped and not
    explode_lr: float = 2.0     # its SGD learning rate (word_language_model's SGD runs at 20, clipped at 0.25)
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(embed=16, hidden=48, bptt=32, batch_size=16, steps=60, lr=1e-2, val_chars=2000, eval_every=30,
                   sample_chars=120, temperatures=(0.8,), excerpt=True, explode_steps=60, explode_lr=8.0)


# explosion_ratio: the largest gradient norm without clipping over the largest with it (before clipping);
# clipping_gain: how much lower (nats/char) the clipped run's training loss ends than the unclipped one's
EXPECTED = {"lstm_val_loss": ("<=", 1.70), "explosion_ratio": (">=", 100), "clipping_gain": (">=", 1.0)}
# The quick size's unclipped run is chaotic: where its gradient norm peaks moves with the rounding of the
# products (BLAS threads, engine). Its explosion_ratio measured 13.8-533 (glasstorch) and 32.6 (torch) at lr 8,
# 12.7-1076 over other rates and seeds; so the quick check asks for one order of magnitude, the full size for 100.
QUICK_EXPECTED = {"lstm_val_loss": ("<=", 2.9), "gru_val_loss": ("<=", 2.9),  # uniform over 58 chars: 4.06
                  "explosion_ratio": (">=", 10), "clipping_gain": (">=", 1.0)}


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


def spectral_radius(model):
    """The largest |eigenvalue| of a vanilla RNN's recurrent matrix W_hh: above 1, a step back in time can stretch
    the gradient."""
    return float(np.abs(np.linalg.eigvals(model.rnn.weight_hh_l0.detach().numpy())).max())


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


def train_one(fw, cfg, lab, corpus, cell, clip, sgd_lr=None, steps=None, tag=None):
    """Adam at cfg.lr (plain SGD at `sgd_lr` when given) on contiguous windows, clip_grad_norm_ when `clip`.
    Returns the model, per-step training losses and gradient norms before clipping, (step, val loss) pairs and,
    for a vanilla RNN, (step, spectral radius of W_hh) pairs every 10 steps."""
    fw.manual_seed(cfg.seed)
    steps = steps or cfg.steps
    tag = tag or cell
    model = build(fw, cfg, corpus.vocab_size, cell)
    params = list(model.parameters())
    optimizer = fw.optim.SGD(params, lr=sgd_lr) if sgd_lr else fw.optim.Adam(params, lr=cfg.lr)
    train = batchify(corpus.train, cfg.batch_size)
    val = batchify(corpus.val[:cfg.val_chars], min(cfg.batch_size, 8))
    losses, norms, vals, radii, hidden, i = [], [], [], [], None, 0
    for step in lab.progress(range(1, steps + 1), tag, total=steps):
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
        if cell == "rnn" and (step % 10 == 0 or step == 1):
            radii.append((step, spectral_radius(model)))
            row[f"{tag}_radius"] = radii[-1][1]
        if step % cfg.eval_every == 0 or step == steps:
            vals.append((step, evaluate(fw, model, val, cfg.bptt)))
            row[f"{tag}_val_loss"] = vals[-1][1]
        lab.log(**row)
    lab.say(f"{tag:15s} val loss {vals[-1][1]:.3f} nats/char; grad norm median {np.median(norms):.2f}, "
            f"max {max(norms):.3g}" + (f"; W_hh spectral radius {radii[-1][1]:.2f}" if radii else "")
            + f" ({lab.elapsed():.0f} s so far)")
    return model, losses, norms, vals, radii


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


def mark_restarts(ax, cfg, corpus, steps):
    """Dotted lines where a new pass over the text restarts the hidden state from zero."""
    per_pass = math.ceil((len(corpus.train) // cfg.batch_size - 1) / cfg.bptt)  # steps in one pass over the text
    for restart in range(per_pass + 1, steps + 1, per_pass):
        ax.axvline(restart, color="gray", linestyle=":", linewidth=0.8)


def run(fw, cfg, lab):
    corpus = shakespeare_corpus(NAME, cfg, lab)
    lab.say(f"{len(corpus.train) + len(corpus.val)} characters, {corpus.vocab_size} distinct; {len(corpus.train)} train, "
            f"{min(len(corpus.val), cfg.val_chars)} validation characters used")
    results, curves, models = {}, {}, {}
    for cell in cfg.cells:  # the comparison of the cells: Adam, clipped
        model, losses, norms, vals, _ = train_one(fw, cfg, lab, corpus, cell, clip=True)
        curves[cell], models[cell] = (losses, vals), model
        results[f"{cell}_val_loss"] = vals[-1][1]
        results[f"{cell}_max_grad_norm"] = max(norms)

    # exploding gradients: a vanilla RNN, plain SGD, the same start twice; only the clipping differs
    explode = {}
    for tag, clip in (("sgd_clip", True), ("sgd_noclip", False)):
        _, losses, norms, _, radii = train_one(fw, cfg, lab, corpus, "rnn", clip, sgd_lr=cfg.explode_lr,
                                               steps=cfg.explode_steps, tag=tag)
        explode[tag] = (losses, norms, radii)
        tail = max(1, cfg.explode_steps // 10)
        results[f"{tag}_max_grad_norm"] = max(norms)
        results[f"{tag}_final_loss"] = float(np.mean(losses[-tail:]))  # mean training loss of the last 10% steps
        results[f"{tag}_radius"] = radii[-1][1]
    results["explosion_ratio"] = results["sgd_noclip_max_grad_norm"] / results["sgd_clip_max_grad_norm"]
    results["clipping_gain"] = results["sgd_noclip_final_loss"] - results["sgd_clip_final_loss"]

    writer = models.get("lstm") or next(iter(models.values()))
    for temperature in cfg.temperatures:
        text_out = sample(fw, writer, corpus, "\n", cfg.sample_chars, temperature, cfg.seed)
        lab.say(f"--- sample, temperature {temperature} ---\n{text_out}\n---")

    colors = {"rnn": "tab:red", "gru": "tab:green", "lstm": "tab:blue"}
    with lab.figure("loss_curves", "training loss (thin) and validation loss (dots) of the three cells, Adam, "
                    "clipped", figsize=(8, 4.5)) as (_, ax):
        for cell, (losses, vals) in curves.items():
            ax.plot(np.arange(1, len(losses) + 1), losses, color=colors[cell], alpha=0.5, linewidth=0.8)
            ax.plot(*zip(*vals), "o-", color=colors[cell], label=f"{cell} (val {vals[-1][1]:.2f})")
        mark_restarts(ax, cfg, corpus, cfg.steps)
        ax.set(xlabel="step", ylabel="cross-entropy (nats/char)", title="char-level language model")
        ax.legend()
    styles = {"sgd_clip": ("tab:blue", "clipped"), "sgd_noclip": ("tab:red", "not clipped")}
    with lab.figure("grad_norms", "exploding gradients: a vanilla RNN trained by plain SGD with and without "
                    "clip_grad_norm_ (log scales); dotted: a new pass over the text", figsize=(14, 4.2),
                    ncols=3) as (_, (norm_ax, loss_ax, radius_ax)):
        for tag, (losses, norms, radii) in explode.items():
            color, label = styles[tag]
            steps = np.arange(1, len(norms) + 1)
            norm_ax.semilogy(steps, norms, color=color, linewidth=0.8, label=label)
            loss_ax.semilogy(steps, losses, color=color, linewidth=0.8, label=label)
            radius_ax.semilogy(*zip(*radii), "o-", color=color, markersize=3, label=label)
        norm_ax.axhline(cfg.clip, color="gray", linestyle="--", label=f"clip max_norm {cfg.clip}")
        loss_ax.axhline(math.log(corpus.vocab_size), color="gray", linestyle="--", label="uniform guess")
        radius_ax.axhline(1.0, color="gray", linestyle="--")
        for ax in (norm_ax, loss_ax):
            mark_restarts(ax, cfg, corpus, cfg.explode_steps)
        norm_ax.set(xlabel="step", ylabel="‖grad‖₂ before clipping", title=f"SGD lr {cfg.explode_lr}: gradient norm")
        loss_ax.set(xlabel="step", ylabel="cross-entropy (nats/char)", title="training loss")
        radius_ax.set(xlabel="step", ylabel="max |eigenvalue| of W_hh", title="spectral radius of W_hh")
        for ax in (norm_ax, loss_ax, radius_ax):
            ax.legend()
    lab.checkpoint(writer)
    return results
