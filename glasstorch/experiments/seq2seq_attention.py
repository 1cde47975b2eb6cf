"""An encoder-decoder GRU learns to reverse digit strings, without and with attention (sequence to sequence).

Source: a string of `min_len` .. `max_len` digits; target: the same digits reversed, then <eos>. The encoder
(nn.Embedding -> bidirectional nn.GRU) reads the source; the decoder (nn.Embedding -> nn.GRU -> nn.Linear)
starts from the encoder's summary and writes the target one token at a time. Training uses teacher forcing
(the decoder reads <sos> and the true target shifted right, so the whole target goes through nn.GRU at once);
evaluation uses greedy decoding (the decoder reads its own previous argmax) and counts a string as right only
when every digit and the final <eos> are right (exact-sequence accuracy).

Without attention the decoder sees the source only through one vector, the encoder's final state, which must
hold every digit: long strings suffer. With (dot-product, Luong's "general") attention, at each output step the
decoder's state is compared with every encoder output (the scores), the scores become weights by a softmax over
the source positions, and the weighted sum of the encoder outputs (the context) joins the state to predict the
token. To reverse, output step t must look at source position L - 1 - t: an anti-diagonal in the heat-map.
Each batch holds strings of one length (bucketing), so no padding and no masks are needed.
"""
from dataclasses import dataclass

import numpy as np

NAME = "seq2seq-attention"
NOTE = "sequence to sequence (encoder-decoder nn.GRU), teacher forcing, greedy decoding, attention"
SUMMARY = "a GRU encoder-decoder reverses digit strings; attention fixes the long ones"

SOS, EOS = 10, 11   # token ids after the ten digits
VOCAB = 12


@dataclass
class Config:
    min_len: int = 1
    max_len: int = 20
    embed: int = 32
    hidden: int = 128
    batch_size: int = 64
    steps: int = 2500          # Adam steps per model
    lr: float = 2e-3           # Adam's, annealed to 0 by CosineAnnealingLR
    clip: float = 1.0          # clip_grad_norm_'s max_norm
    test_per_length: int = 50  # test strings of each length
    longest: int = 5           # "the longest inputs": the last this many lengths (16 .. 20)
    eval_every: int = 250
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(max_len=6, embed=16, hidden=32, batch_size=32, steps=250, lr=5e-3, test_per_length=20, longest=2,
                   eval_every=50)


EXPECTED = {"attention_accuracy": (">=", 0.95), "attention_gain_longest": (">=", 0.3)}
QUICK_EXPECTED = {"attention_accuracy": (">=", 0.75), "attention_gain_longest": (">=", 0.3)}


def reversal_batch(rng, batch_size, length):
    """(source, target) int64 arrays: `length` random digits, and the same reversed followed by <eos>."""
    source = rng.integers(0, 10, size=(batch_size, length))
    target = np.concatenate([source[:, ::-1], np.full((batch_size, 1), EOS)], axis=1)
    return source, target


def build(fw, cfg, attention):
    nn = fw.nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, cfg.embed)
            self.gru = nn.GRU(cfg.embed, cfg.hidden, batch_first=True, bidirectional=True)
            self.bridge = nn.Linear(2 * cfg.hidden, cfg.hidden)

        def forward(self, source):
            """source (B, S) -> outputs (B, S, 2H) for attention, the decoder's first state (1, B, H)."""
            outputs, last = self.gru(self.embedding(source))   # last: (2 directions, B, H)
            hidden = fw.tanh(self.bridge(fw.cat([last[0], last[1]], dim=1)))
            return outputs, hidden.unsqueeze(0)

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = attention
            self.embedding = nn.Embedding(VOCAB, cfg.embed)
            self.gru = nn.GRU(cfg.embed, cfg.hidden, batch_first=True)
            if attention:
                self.query = nn.Linear(cfg.hidden, 2 * cfg.hidden, bias=False)
                self.combine = nn.Linear(3 * cfg.hidden, cfg.hidden)
            self.out = nn.Linear(cfg.hidden, VOCAB)

        def forward(self, inputs, hidden, encoder_outputs):
            """inputs (B, T) -> logits (B, T, VOCAB), the last state, attention weights (B, T, S) or None."""
            states, hidden = self.gru(self.embedding(inputs), hidden)       # (B, T, H)
            if not self.attention:
                return self.out(states), hidden, None
            # scores[b, t, s]: how well decoder step t matches source position s
            scores = fw.bmm(self.query(states), encoder_outputs.transpose(1, 2))
            weights = fw.softmax(scores, dim=-1)                 # over the source: each row sums to 1
            context = fw.bmm(weights, encoder_outputs)           # (B, T, 2H): a weighted mean of the source
            combined = fw.tanh(self.combine(fw.cat([states, context], dim=-1)))
            return self.out(combined), hidden, weights

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = Encoder(), Decoder()

        def forward(self, source, decoder_inputs):
            """Teacher forcing: the decoder reads <sos> + the true target; returns logits (B, T, VOCAB)."""
            encoder_outputs, hidden = self.encoder(source)
            logits, _, _ = self.decoder(decoder_inputs, hidden, encoder_outputs)
            return logits

        def greedy(self, source, steps):
            """Greedy decoding: each step reads the previous argmax. Returns tokens (B, steps), weights or None."""
            encoder_outputs, hidden = self.encoder(source)
            token = fw.full((source.shape[0], 1), SOS, dtype=fw.int64)
            tokens, weights = [], []
            for _ in range(steps):
                logits, hidden, w = self.decoder(token, hidden, encoder_outputs)
                token = logits.argmax(dim=-1)                    # (B, 1)
                tokens.append(token)
                weights.append(w)
            return fw.cat(tokens, dim=1), (fw.cat(weights, dim=1) if attention else None)

    return Seq2Seq()


def decoder_inputs(target):
    """Teacher forcing's inputs: <sos> then the target shifted right by one (its last token dropped)."""
    return np.concatenate([np.full((len(target), 1), SOS), target[:, :-1]], axis=1)


def accuracy_by_length(fw, model, test_set):
    """{length: exact-sequence accuracy} by greedy decoding of length + 1 tokens (the digits, then <eos>)."""
    model.eval()
    accuracy = {}
    with fw.no_grad():
        for length, (source, target) in test_set.items():
            tokens, _ = model.greedy(fw.from_numpy(source), length + 1)
            accuracy[length] = float(np.mean(np.all(tokens.numpy() == target, axis=1)))
    model.train()
    return accuracy


def train_one(fw, cfg, lab, attention, test_set):
    """Adam with clipping on batches of one random length each (the same batches for both models)."""
    tag = "attention" if attention else "plain"
    fw.manual_seed(cfg.seed)
    model = build(fw, cfg, attention)
    optimizer = fw.optim.Adam(model.parameters(), lr=cfg.lr)
    # the lr falls to 0 along a half cosine: the last steps settle instead of jumping around the minimum
    scheduler = fw.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.steps)
    rng = lab.rng(cfg.seed)
    for step in lab.progress(range(1, cfg.steps + 1), tag, total=cfg.steps):
        length = int(rng.integers(cfg.min_len, cfg.max_len + 1))
        source, target = reversal_batch(rng, cfg.batch_size, length)
        logits = model(fw.from_numpy(source), fw.from_numpy(decoder_inputs(target)))
        loss = fw.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), fw.from_numpy(target.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        fw.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        optimizer.step()
        scheduler.step()
        row = {"step": step, f"{tag}_loss": loss.item()}
        if step % cfg.eval_every == 0 or step == cfg.steps:
            row[f"{tag}_accuracy"] = float(np.mean(list(accuracy_by_length(fw, model, test_set).values())))
        lab.log(**row)
    accuracy = accuracy_by_length(fw, model, test_set)
    lab.say(f"{tag:9s}: exact-sequence accuracy {np.mean(list(accuracy.values())):.3f}; by length "
            + " ".join(f"{n}:{a:.2f}" for n, a in accuracy.items()) + f" ({lab.elapsed():.0f} s so far)")
    return model, accuracy


def run(fw, cfg, lab):
    test_rng = lab.rng(cfg.seed + 1)
    lengths = range(cfg.min_len, cfg.max_len + 1)
    test_set = {n: reversal_batch(test_rng, cfg.test_per_length, n) for n in lengths}
    longest = list(lengths)[-cfg.longest:]
    results, accuracies, models = {}, {}, {}
    for attention in (False, True):
        tag = "attention" if attention else "plain"
        models[tag], accuracies[tag] = train_one(fw, cfg, lab, attention, test_set)
        results[f"{tag}_accuracy"] = float(np.mean(list(accuracies[tag].values())))
        results[f"{tag}_accuracy_longest"] = float(np.mean([accuracies[tag][n] for n in longest]))
    results["attention_gain_longest"] = results["attention_accuracy_longest"] - results["plain_accuracy_longest"]
    lab.say(f"lengths {longest[0]}-{longest[-1]}: {results['plain_accuracy_longest']:.3f} without attention, "
            f"{results['attention_accuracy_longest']:.3f} with (gain {results['attention_gain_longest']:+.3f})")

    with lab.figure("accuracy_by_length", "exact-sequence accuracy by input length, without and with attention",
                    figsize=(7, 4)) as (_, ax):
        for tag, marker in (("plain", "s--"), ("attention", "o-")):
            ax.plot(list(lengths), [accuracies[tag][n] for n in lengths], marker,
                    label=f"{tag} (mean {results[f'{tag}_accuracy']:.3f})")
        ax.axvspan(longest[0] - 0.5, longest[-1] + 0.5, color="gray", alpha=0.15, label="longest inputs")
        ax.set_xticks(list(lengths))
        ax.set(xlabel="input length (digits)", ylabel="exact-sequence accuracy", ylim=(-0.02, 1.02),
               title="reversing digit strings")
        ax.legend()

    # where the attention model looks: one test string of the greatest length
    source, _ = test_set[cfg.max_len]
    model = models["attention"]
    model.eval()
    with fw.no_grad():
        tokens, weights = model.greedy(fw.from_numpy(source[:1]), cfg.max_len + 1)
    weights, tokens = weights.numpy()[0], tokens.numpy()[0]
    with lab.figure("attention", "attention weights of each output step over the source (greedy decoding)",
                    figsize=(6, 6)) as (fig, ax):
        image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(cfg.max_len), [str(d) for d in source[0]])
        ax.set_yticks(range(cfg.max_len + 1), [str(t) if t < 10 else "<eos>" for t in tokens])
        ax.set(xlabel="source digit", ylabel="output token", title="dot-product attention")
        fig.colorbar(image, ax=ax, shrink=0.8)
    lab.checkpoint(model)
    return results
