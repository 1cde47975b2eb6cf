"""Loss functions with the notes' printed values (001 "损失函数": L2 norm, MAE 2.0, MSE 4.0, CE 37.684173583984375),
the cross-entropy of 003 (one sample, mini-batch; the curve -log p0), and Huber vs L1 vs L2 (004 "损失函数").

Note the notes call `ce(y, y_hat)` with y = [2, 3, 4, 5] as the *input* and y_hat = [4, 5, 6, 7] as a
class-probability *target*: CrossEntropyLoss then computes -sum(target * log_softmax(input)) = 37.684.
"""
from dataclasses import dataclass

import numpy as np

NAME = "losses"
NOTE = "001 (L2 范数, MAE/MSE/CE printed values), 003 (交叉熵误差 one-hot / mini-batch, curve), 004 (L2, L1, Huber)"
SUMMARY = "MAE/MSE/CE with the notes' printed values; the cross-entropy curve; Huber vs L1 vs L2"

NOTES_NORMS = [5.4772, 10.9545, 16.4317]
NOTES_MAE, NOTES_MSE, NOTES_CE = 2.0, 4.0, 37.684173583984375


@dataclass
class Config:
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls()


EXPECTED = {"mae": ("==", NOTES_MAE), "mse": ("==", NOTES_MSE), "ce_error": ("<=", 1e-5),
            "norm_error": ("<=", 5e-5), "ce_single_error": ("<=", 1e-6), "ce_batch_error": ("<=", 1e-6),
            "huber_grad_error": ("<=", 1e-6)}
QUICK_EXPECTED = EXPECTED


def cross_entropy_error_batch(fw, y, t):
    """003's mini-batch cross entropy on probabilities y and one-hot t: -sum(t * log(y + 1e-7)) / N."""
    if y.dim() == 1:
        t, y = t.reshape(1, -1), y.reshape(1, -1)
    return -(t * fw.log(y + 1e-7)).sum() / y.shape[0]


def run(fw, cfg, lab):
    nn = fw.nn
    data = fw.tensor([[1, 2, 3, 4], [2, 4, 6, 8], [3, 6, 9, 12]], dtype=fw.float32)
    res_l2 = fw.norm(data, p=2, dim=1, keepdim=True)
    lab.say(f"输入特征：\n{data}")
    lab.say(f"L2范数：\n{res_l2}")
    norm_error = float(np.abs(res_l2.numpy().ravel() - NOTES_NORMS).max())

    y = fw.tensor([2, 3, 4, 5], dtype=fw.float32)
    y_hat = fw.tensor([4, 5, 6, 7], dtype=fw.float32)
    mae, mse, ce = nn.L1Loss()(y, y_hat).item(), nn.MSELoss()(y, y_hat).item(), nn.CrossEntropyLoss()(y, y_hat).item()
    lab.say(f"平均绝对误差MAE损失：\n{mae}")
    lab.say(f"均方误差MSE损失：\n{mse}")
    lab.say(f"交叉熵CE损失：\n{ce}")

    p = fw.tensor([0.8, 0.1, 0.1])
    t = fw.tensor([1.0, 0.0, 0.0])
    single = cross_entropy_error_batch(fw, p, t).item()
    yb = fw.tensor([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]])
    tb = fw.eye(3)
    batch = cross_entropy_error_batch(fw, yb, tb).item()
    lab.say("Cross Entropy Loss:", single)
    lab.say("Cross Entropy Loss (mini-batch):", batch)
    # index-label form through the framework: nll_loss on log-probabilities gives the same mean
    nll = nn.NLLLoss()(fw.log(yb), fw.tensor([0, 1, 2])).item()
    lab.say("NLLLoss(log(y), [0, 1, 2]) =", nll)

    # Huber (smooth L1 with delta 1): value and gradient vs the piecewise formula of the notes
    r = fw.linspace(-3, 3, 61, dtype=fw.float64, requires_grad=True)
    zero = fw.zeros(61, dtype=fw.float64)
    huber = nn.HuberLoss(reduction="none", delta=1.0)(r, zero)
    huber.sum().backward()
    rn = r.detach().numpy()
    expected_grad = np.clip(rn, -1, 1)
    huber_grad_error = float(np.abs(r.grad.numpy() - expected_grad).max())
    huber_values = huber.detach().numpy()
    l1 = np.abs(rn)
    l2 = 0.5 * rn ** 2

    with lab.figure("cross_entropy_curve", "Cross entropy -log p0 when the true class is 0 (003)",
                    figsize=(6, 4)) as (_, ax):
        p0 = np.linspace(0.01, 0.99, 100)
        ax.plot(p0, -np.log(p0), color="b", label="Cross Entropy Loss")
        ax.axvline(1.0, color="g", ls="--", label="True label (ideal prediction)")
        ax.scatter([1.0], [0.0], color="g")
        ax.set(xlabel="Predicted probability of the true class (p0)", ylabel="Cross Entropy Loss")
        ax.legend()
        ax.grid(alpha=0.3)
    with lab.figure("huber_l1_l2", "L2, L1 and Huber losses and their gradients (004)", figsize=(10, 4),
                    ncols=2) as (_, (ax1, ax2)):
        ax1.plot(rn, l2, label="L2: ½(y-ŷ)²")
        ax1.plot(rn, l1, label="L1: |y-ŷ|")
        ax1.plot(rn, huber_values, label="Huber (δ=1)", lw=2)
        ax1.set(title="loss", xlabel="y - ŷ")
        ax1.legend()
        ax2.plot(rn, rn, label="L2")
        ax2.plot(rn, np.sign(rn), label="L1")
        ax2.plot(rn, r.grad.numpy(), label="Huber (autograd)", lw=2)
        ax2.set(title="gradient", xlabel="y - ŷ")
        ax2.legend()
    expected_single = -np.log(0.8 + 1e-7)
    expected_batch = -(np.log(0.8 + 1e-7) + np.log(0.7 + 1e-7) + np.log(0.6 + 1e-7)) / 3
    return {"mae": mae, "mse": mse, "ce": ce, "ce_error": abs(ce - NOTES_CE), "norm_error": norm_error,
            "ce_single_error": abs(single - expected_single), "ce_batch_error": abs(batch - expected_batch),
            "nll_error": abs(nll - expected_batch), "huber_grad_error": huber_grad_error}
