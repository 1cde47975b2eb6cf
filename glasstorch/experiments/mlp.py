"""A multilayer perceptron 784-256-10 on Fashion-MNIST, from scratch and concise (004 "多层感知机的代码实现").

From scratch: W1 (784x256), W2 (256x10) ~ N(0, 0.01²) as nn.Parameter, relu(X) = max(X, 0) written with
torch.max, H = relu(X @ W1 + b1), out = H @ W2 + b2. Concise: nn.Sequential(Flatten, Linear(784, 256), ReLU,
Linear(256, 10)) with normal(std=0.01) init. Both: CrossEntropyLoss, SGD lr 0.1, 10 epochs, batch 64
(d2l: 256), the lr decaying along a cosine (as in softmax-regression).
"""
from dataclasses import dataclass

from .common import ScratchModel, d2l_init, scratch_vs_concise

NAME = "mlp"
NOTE = "004 (多层感知机 从零开始 / 简洁实现, 784-256-10, Fashion-MNIST)"
SUMMARY = "784-256-10 MLP from scratch and concise on Fashion-MNIST: >= 85%"


@dataclass
class Config:
    hidden: int = 256
    epochs: int = 10
    lr: float = 0.1
    cosine_lr: bool = True  # decay lr to 0 over the epochs: the last epoch's accuracy no longer jitters ±1%
    batch_size: int = 64    # d2l uses 256; 64 gives 4x the steps in the same 10 epochs
    train_limit: int = None
    test_limit: int = None
    seed: int = 0
    device: str = "cpu"

    @classmethod
    def quick(cls):
        return cls(epochs=3, batch_size=64, lr=0.2, train_limit=4000, test_limit=1000)


EXPECTED = {"scratch_test_acc": (">=", 0.85), "concise_test_acc": (">=", 0.85)}
QUICK_EXPECTED = {"scratch_test_acc": (">=", 0.65), "concise_test_acc": (">=", 0.65)}


def build_scratch(fw, num_inputs=784, num_hiddens=256, num_outputs=10, device="cpu"):
    nn = fw.nn
    W1 = nn.Parameter(fw.randn(num_inputs, num_hiddens, device=device) * 0.01)
    b1 = nn.Parameter(fw.zeros(num_hiddens, device=device))
    W2 = nn.Parameter(fw.randn(num_hiddens, num_outputs, device=device) * 0.01)
    b2 = nn.Parameter(fw.zeros(num_outputs, device=device))

    def relu(X):
        a = fw.zeros_like(X)
        return fw.max(X, a)

    def net(X):
        X = X.reshape((-1, num_inputs))
        H = relu(X @ W1 + b1)
        return H @ W2 + b2
    return ScratchModel(net, [W1, b1, W2, b2])


def build(fw, cfg=None, hidden=256):
    nn = fw.nn
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    return d2l_init(fw, net)


def run(fw, cfg, lab):
    def make_model(kind):
        if kind == "scratch":
            net = build_scratch(fw, num_hiddens=cfg.hidden, device=cfg.device)
        else:
            net = build(fw, hidden=cfg.hidden).to(cfg.device)
        return net, fw.nn.CrossEntropyLoss(), fw.optim.SGD(net.parameters(), lr=cfg.lr)
    return scratch_vs_concise(fw, cfg, lab, make_model)
