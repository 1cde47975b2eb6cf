"""The benchmark workloads, written once against the torch API.

Every builder takes the framework module (`glasstorch` or `torch`) as its first argument, so both
engines run literally the same model code. Data are NumPy arrays made once and handed to each
engine with `from_numpy`, so both see the same numbers.
"""
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


@dataclass(frozen=True)
class Workload:
    """One model + loss + optimizer + batch shape; `unit` says what one timed call counts."""
    name: str
    batch: int            # samples per optimizer step
    quick_batch: int      # --quick: a tiny batch for the smoke run
    build_model: Callable  # (fw) -> module
    build_optimizer: Callable  # (fw, params) -> optimizer
    build_loss: Callable  # (fw) -> loss module
    make_data: Callable   # (rng, batch) -> (x, y) NumPy arrays
    unit: str = "samples/s"
    description: str = ""


# ---------------------------------------------------------------- models
def tiny_model(fw):
    nn = fw.nn
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))


def mlp_model(fw):
    nn = fw.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet_model(fw):
    nn = fw.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def simple_cnn(fw):
    """The course notes' SimpleCNN, as the notes wrote it: the same definition the lab's cnn-mnist trains."""
    from glasstorch.experiments.cnn_mnist import build
    return build(fw)


def lstm_language_model(fw):
    """Word-level LM (the PTB 'small' shape scaled down): embedding 128, 2-layer LSTM 256, vocabulary 1,000."""
    nn = fw.nn

    class LSTMLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(LM_VOCAB, 128)
            self.lstm = nn.LSTM(128, 256, num_layers=2)
            self.decoder = nn.Linear(256, LM_VOCAB)

        def forward(self, tokens):  # (T, B) -> next-token logits (T * B, vocabulary)
            output, _ = self.lstm(self.embed(tokens))
            return self.decoder(output.reshape(-1, 256))

    return LSTMLanguageModel()


def transformer_lm(fw, vocab=65, d_model=128, nhead=4, num_layers=2, seq_len=35):
    """A causal character language model: embedding + learned positions, 2 encoder layers, a vocab head."""
    nn = fw.nn

    class TransformerLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, d_model)
            self.pos = nn.Parameter(fw.randn(seq_len, d_model) * 0.02)
            layer = nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, dropout=0.1, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, vocab)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(seq_len))

        def forward(self, tokens):  # (N, L) int64 -> (N*L, vocab) logits, one row per predicted token
            h = self.embed(tokens) + self.pos[:tokens.shape[1]]
            h = self.encoder(h, mask=self.mask, is_causal=True)
            return self.head(h).reshape(-1, vocab)

    return TransformerLM()


# ---------------------------------------------------------------- data
LM_VOCAB, LM_STEPS = 1000, 35


def token_data(rng, batch):
    """Random token sequences (T=35, B) and each position's next token, flattened (T * B,), int64."""
    tokens = rng.integers(0, LM_VOCAB, size=(LM_STEPS + 1, batch), dtype=np.int64)
    return tokens[:-1].copy(), tokens[1:].reshape(-1).copy()


def xor_data(rng, batch):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return x, y


def char_data(rng, batch, vocab=65, seq_len=35):
    """Random character ids: inputs (N, L) and the next character of each position, flattened (N*L,)."""
    tokens = rng.integers(0, vocab, (batch, seq_len + 1)).astype(np.int64)
    return tokens[:, :-1], tokens[:, 1:].reshape(-1)


def mnist_shaped_data(rng, batch):
    """Random images normalised like MNIST, and int64 class labels."""
    x = rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=batch, dtype=np.int64)
    return x, y


def read_idx(path):
    """An IDX file (gzip) as a NumPy array: big-endian header, then uint8 data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def mnist_train_arrays(root):
    """MNIST's training set as ToTensor+Normalize would give it: float32 (N, 1, 28, 28) and int64 labels."""
    folder = Path(root) / "mnist"
    images = read_idx(folder / "train-images-idx3-ubyte.gz")
    labels = read_idx(folder / "train-labels-idx1-ubyte.gz")
    x = (images.astype(np.float32) / np.float32(255) - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)
    return x[:, None], labels.astype(np.int64)


# ---------------------------------------------------------------- the loops both engines run
def train_step(model, optimizer, loss_fn, x, y):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def infer_step(fw, model, x):
    with fw.no_grad():
        return model(x)


def sgd(lr):
    return lambda fw, params: fw.optim.SGD(params, lr=lr)


def adam(lr):
    return lambda fw, params: fw.optim.Adam(params, lr=lr)


def mse(fw):
    return fw.nn.MSELoss()


def cross_entropy(fw):
    return fw.nn.CrossEntropyLoss()


WORKLOADS = {
    "tiny": Workload("tiny", 4, 4, tiny_model, sgd(0.1), mse, xor_data, unit="steps/s",
                     description="MLP 2-8-8-1 tanh, MSE, SGD, the 4 XOR points (optimizer steps/s)"),
    "mlp": Workload("mlp", 128, 8, mlp_model, sgd(0.1), cross_entropy, mnist_shaped_data,
                    description="784-256-ReLU-10, cross-entropy, SGD lr 0.1, batch 128"),
    "lenet": Workload("lenet", 256, 8, lenet_model, sgd(0.1), cross_entropy, mnist_shaped_data,
                      description="LeNet-5 (avg-pool), cross-entropy, SGD lr 0.1, batch 256"),
    # the notes put CrossEntropyLoss after their LogSoftmax; we keep the notes' code as users run it
    "cnn": Workload("cnn", 64, 4, simple_cnn, adam(1e-3), cross_entropy, mnist_shaped_data,
                    description="the notes' SimpleCNN, Adam lr 1e-3, batch 64"),
    "lstm": Workload("lstm", 20, 2, lstm_language_model, sgd(1.0), cross_entropy, token_data, unit="seqs/s",
                     description="LSTM LM: embedding 128, 2-layer LSTM 256, vocab 1,000, 35 steps, SGD, batch 20"),
    "transformer": Workload("transformer", 20, 2, transformer_lm, adam(1e-3), cross_entropy, char_data,
                            unit="sequences/s", description="causal LM: 2 encoder layers d 128, 4 heads, ff 512, "
                            "seq 35, vocab 65, Adam lr 1e-3, batch 20"),
}


# ---------------------------------------------------------------- FLOPs, counted from the layers' shapes
def forward_flops(torch, model, x):
    """FLOPs of one forward pass: 2 per multiply-add of every Linear and Conv2d (elementwise ops ignored).

    Counted on the torch model with forward hooks that read each layer's input and output shapes; a
    training step costs about 3x this (forward, grad wrt input, grad wrt weight).
    """
    total = [0]

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Linear):
            total[0] += 2 * module.in_features * output.numel()
        elif isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            total[0] += 2 * (module.in_channels // module.groups) * kh * kw * output.numel()
        elif isinstance(module, torch.nn.LSTM):  # per layer: 4 gates, each from the layer input and h
            rows, hidden = inputs[0].numel() // inputs[0].shape[-1], module.hidden_size
            for layer in range(module.num_layers):
                width = module.input_size if layer == 0 else hidden
                total[0] += 2 * 4 * hidden * (width + hidden) * rows

    handles = [m.register_forward_hook(count) for m in model.modules()
               if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.LSTM))]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return total[0]


# ---------------------------------------------------------------- one engine's ready-to-run instance
@dataclass
class Instance:
    """A workload built on one engine: call `train()` for one optimizer step, `infer()` for one forward."""
    fw: object
    model: object
    optimizer: object
    loss_fn: object
    x: object
    y: object
    device: str = "cpu"

    def train(self):
        return self._finished(train_step(self.model, self.optimizer, self.loss_fn, self.x, self.y))

    def infer(self):
        return self._finished(infer_step(self.fw, self.model, self.x))

    def _finished(self, out):
        """GPU work is queued, not done, when the call returns: wait for it, or the clock measures the queueing."""
        if self.device != "cpu":
            self.fw.cuda.synchronize()
        return out


def build(fw, workload, batch, seed=0, device="cpu"):
    """Build `workload` on the framework `fw` with a fixed seed (the data depend on the seed only)."""
    fw.manual_seed(seed)
    x, y = workload.make_data(np.random.default_rng(seed), batch)
    model = workload.build_model(fw).to(device)
    return Instance(fw, model, workload.build_optimizer(fw, model.parameters()), workload.build_loss(fw),
                    fw.from_numpy(x).to(device), fw.from_numpy(y).to(device), device)
