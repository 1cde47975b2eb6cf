"""Character-level text for language models: a vocabulary, a contiguous train/validation split, (seq, batch) windows.

The layout of PyTorch's word_language_model example, for characters: the text becomes one long stream of ids,
`batchify` cuts it into `batch_size` parallel columns (T x B), and `get_batch(source, i, bptt)` takes rows
i .. i+bptt as the input and the same rows shifted by one as the targets (truncated backpropagation through time).
Everything is NumPy (int64 ids), so glasstorch and PyTorch models are fed the very same windows.

    >>> corpus = CharCorpus("hello world, hello moon\\n", val_fraction=0.25)
    >>> corpus.vocab_size, corpus.decode(corpus.encode("hello"))
    (12, 'hello')
    >>> data, target = get_batch(batchify(corpus.train, 2), 0, 4)
    >>> data.shape, target.shape
    ((4, 2), (4, 2))
"""
from pathlib import Path

import numpy as np

EXCERPT = Path(__file__).with_name("shakespeare_excerpt.txt")


class CharCorpus:
    """The sorted characters of `text` as the vocabulary; the first 1 - val_fraction of the text (in order, not
    shuffled: neighbouring characters must stay neighbours) is `train`, the rest `val` (int64 id arrays)."""

    def __init__(self, text, val_fraction=0.1):
        if not text:
            raise ValueError("CharCorpus needs a non-empty text")
        if not 0 <= val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        ids = self.encode(text)
        split = len(ids) - int(round(len(ids) * val_fraction))
        self.train, self.val = ids[:split], ids[split:]

    @property
    def vocab_size(self):
        return len(self.chars)

    def encode(self, text):
        unknown = sorted(set(text) - set(self.stoi))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return np.array([self.stoi[c] for c in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)


def batchify(ids, batch_size):
    """The id stream cut into `batch_size` contiguous columns: (len(ids) // batch_size, batch_size); the tail
    that does not fill a row is dropped. Column b holds ids[b * rows : (b + 1) * rows]."""
    rows = len(ids) // batch_size
    if rows < 2:
        raise ValueError(f"{len(ids)} ids are too few for {batch_size} columns of at least 2 rows")
    return np.ascontiguousarray(np.asarray(ids[:rows * batch_size]).reshape(batch_size, rows).T)


def get_batch(source, i, bptt):
    """(data, target) = source[i : i + n], source[i + 1 : i + 1 + n] with n = min(bptt, len(source) - 1 - i)."""
    n = min(bptt, len(source) - 1 - i)
    if n < 1:
        raise ValueError(f"window start {i} leaves no target in a source of {len(source)} rows")
    return source[i:i + n], source[i + 1:i + 1 + n]


def shakespeare_excerpt():
    """The opening ~12 KB of Tiny Shakespeare (Coriolanus, act 1; public domain), shipped for quick runs."""
    return EXCERPT.read_text(encoding="utf-8")


def tiny_shakespeare(data_dir):
    """The whole Tiny Shakespeare text (~1.1 MB) from `data_dir/tinyshakespeare/input.txt` or `data_dir/input.txt`."""
    for path in (Path(data_dir) / "tinyshakespeare" / "input.txt", Path(data_dir) / "input.txt"):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no tinyshakespeare/input.txt under {data_dir} (karpathy/char-rnn's input.txt)")
