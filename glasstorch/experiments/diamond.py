"""The notes' 2-layer sigmoid network on the "diamond" data (002 "反向传播"): 500 points in [-1, 1]², class 1
inside |x0| + |x1| < 1; W_1 (3x4), W_2 (4), lr 0.001, 20000 full-batch iterations (the notes reach 98.4%).

The notes' hand-written NumPy backprop (forward_pass) runs in lockstep with the same network on autograd:
J_z_3 = y_pred - y is the gradient of the summed binary cross-entropy, so autograd differentiates
-(y log p + (1 - y) log(1 - p)).sum() and must produce the same W_1, W_2 gradients at every iteration.
"""
from dataclasses import dataclass

import numpy as np

from glasstorch import viz

NAME = "diamond"
NOTE = "002 (反向传播: 2 层 sigmoid 网络, hand-written backprop, 菱形数据 98.4%)"
SUMMARY = "hand-written NumPy backprop vs autograd on the diamond data: gradients agree, >= 98% accuracy"


@dataclass
class Config:
    num_obs: int = 500
    epochs: int = 20000      # full-batch iterations (the notes' num_iter)
    lr: float = 0.001
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(epochs=3000)


EXPECTED = {"max_grad_difference": ("<=", 1e-6), "accuracy_numpy": (">=", 0.98), "accuracy_autograd": (">=", 0.98)}
QUICK_EXPECTED = {"max_grad_difference": ("<=", 1e-6), "accuracy_numpy": (">=", 0.85),
                  "accuracy_autograd": (">=", 0.85)}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def make_data(rng, num_obs):
    """The notes' data: uniform points plus a bias column; y = 1 inside the diamond |x0| + |x1| < 1."""
    x_mat_1 = rng.uniform(-1, 1, size=(num_obs, 2))
    x_mat_full = np.concatenate((x_mat_1, np.ones((num_obs, 1))), axis=1)
    y = ((np.abs(x_mat_full[:, 0]) + np.abs(x_mat_full[:, 1])) < 1).astype(int)
    return x_mat_full, y


def forward_pass(x_mat, y, W_1, W_2):
    """The notes' forward and hand-written backward pass (NumPy)."""
    z_2 = np.dot(x_mat, W_1)
    a_2 = sigmoid(z_2)
    z_3 = np.dot(a_2, W_2)
    y_pred = sigmoid(z_3).reshape((len(x_mat),))
    J_z_3_grad = -y + y_pred
    J_W_2_grad = np.dot(J_z_3_grad, a_2)
    a_2_z_2_grad = sigmoid(z_2) * (1 - sigmoid(z_2))
    J_W_1_grad = (np.dot((J_z_3_grad).reshape(-1, 1), W_2.reshape(-1, 1).T) * a_2_z_2_grad).T.dot(x_mat).T
    return y_pred, (J_W_1_grad, J_W_2_grad)


def loss_fn(y, y_pred):
    """The notes' logged loss: log of the summed squared error."""
    return np.log(np.sum((y - y_pred) ** 2))


def autograd_step(fw, X, y, W1, W2):
    """Same network on autograd; returns y_pred (NumPy) with W1.grad, W2.grad filled."""
    p = fw.sigmoid(fw.sigmoid(X @ W1) @ W2)
    loss = -(y * fw.log(p) + (1 - y) * fw.log(1 - p)).sum()
    loss.backward()
    return p.detach().numpy()


def run(fw, cfg, lab):
    rng = lab.rng(cfg.seed)
    x_mat, y = make_data(rng, cfg.num_obs)
    W_1 = rng.uniform(-1, 1, size=(3, 4))
    W_2 = rng.uniform(-1, 1, size=(4))
    X, Y = fw.tensor(x_mat, dtype=fw.float64), fw.tensor(y, dtype=fw.float64)
    W1 = fw.tensor(W_1, dtype=fw.float64, requires_grad=True)
    W2 = fw.tensor(W_2, dtype=fw.float64, requires_grad=True)
    worst = 0.0
    for i in lab.progress(range(cfg.epochs), "train", total=cfg.epochs):
        y_pred, (J_W_1_grad, J_W_2_grad) = forward_pass(x_mat, y, W_1, W_2)
        p_auto = autograd_step(fw, X, Y, W1, W2)
        worst = max(worst, float(np.abs(W1.grad.numpy() - J_W_1_grad).max()),
                    float(np.abs(W2.grad.numpy() - J_W_2_grad).max()))
        W_1 = W_1 - cfg.lr * J_W_1_grad
        W_2 = W_2 - cfg.lr * J_W_2_grad
        with fw.no_grad():
            W1 -= cfg.lr * W1.grad
            W2 -= cfg.lr * W2.grad
        W1.grad.zero_()
        W2.grad.zero_()
        if i % 200 == 0:
            acc = np.sum((y_pred >= .5) == y) / cfg.num_obs
            lab.log(iteration=i, log_loss=loss_fn(y, y_pred), accuracy=acc,
                    accuracy_autograd=np.mean((p_auto >= .5) == y))
        if i % 2000 == 0:
            lab.say('iteration {}, log loss is {:.4f}, accuracy is {}'.format(
                i, loss_fn(y, y_pred), np.sum((y_pred >= .5) == y) / cfg.num_obs))
    y_pred, _ = forward_pass(x_mat, y, W_1, W_2)
    with fw.no_grad():
        p_auto = fw.sigmoid(fw.sigmoid(X @ W1) @ W2).numpy()
    acc_np, acc_auto = float(np.mean((y_pred >= .5) == y)), float(np.mean((p_auto >= .5) == y))
    lab.say(f"final accuracy: hand-written backprop {acc_np:.3f}, autograd {acc_auto:.3f}; "
            f"largest gradient difference over all iterations {worst:.1e}")

    def network(points):  # the trained NumPy network on (N, 2) points, the bias column appended
        x = np.column_stack([points.numpy(), np.ones(len(points))])
        return sigmoid(sigmoid(x @ W_1) @ W_2)
    lab.viz("truth_vs_prediction", "Truth vs Prediction (the notes' figure; the true class is |x0| + |x1| < 1)",
            viz.plot_decision_boundary, network, x_mat[:, :2], y, threshold=0.5, padding=0.1)
    return {"max_grad_difference": worst, "accuracy_numpy": acc_np, "accuracy_autograd": acc_auto}
