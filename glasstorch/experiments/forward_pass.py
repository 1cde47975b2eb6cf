"""The fixed-weight 3-layer forward pass of 002 ("前馈神经网络"), single vector and batch.

x (3) -> W_1 (3x4) -> sigmoid -> W_2 (4x4) -> sigmoid -> W_3 (4x3) -> softmax, with the notes' integer weights,
computed on tensors in float64 and compared with every number the notes print.
"""
from dataclasses import dataclass

import numpy as np

NAME = "forward-pass"
NOTE = "002 (前馈神经网络: 向前传播计算流, 矩阵数据前馈计算)"
SUMMARY = "the notes' fixed-weight 3-layer forward pass, single vector and batch, matching their printout"

W_1 = [[2, -1, 1, 4], [-1, 2, -3, 1], [3, -2, -1, 5]]
W_2 = [[3, 1, -2, 1], [-2, 4, 1, -4], [-1, -3, 2, -5], [3, 1, 1, 1]]
W_3 = [[-1, 3, -2], [1, -1, -3], [3, -2, 2], [1, 2, 1]]
X_IN = [.5, .8, .2]
X_MAT_IN = [[.5, .8, .2], [.1, .9, .6], [.2, .2, .3], [.6, .1, .9], [.5, .5, .4], [.9, .1, .9], [.1, .8, .7]]

# what the notes print
NOTES_Z2 = [0.8, 0.7, -2.1, 3.8]
NOTES_A2 = [0.68997448, 0.66818777, 0.10909682, 0.97811873]
NOTES_Y_OUT = [0.72780576, 0.26927918, 0.00291506]
NOTES_Z2_BATCH = [[0.8, 0.7, -2.1, 3.8], [1.1, 0.5, -3.2, 4.3], [1.1, -0.4, -0.7, 2.5], [3.8, -2.2, -0.6, 7.],
                  [1.7, -0.3, -1.4, 4.5], [4.4, -2.5, -0.3, 8.2], [1.5, 0.1, -3., 4.7]]
NOTES_Y_BATCH = [[0.72780576, 0.26927918, 0.00291506], [0.62054212, 0.37682531, 0.00263257],
                 [0.69267581, 0.30361576, 0.00370844], [0.36618794, 0.63016955, 0.00364252],
                 [0.57199769, 0.4251982, 0.00280411], [0.38373781, 0.61163804, 0.00462415],
                 [0.52510443, 0.4725011, 0.00239447]]


@dataclass
class Config:
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls()


# the notes print 8 decimals: agreement to 5e-9 is agreement to every printed digit
EXPECTED = {"max_error_vector": ("<=", 5e-9), "max_error_batch": ("<=", 5e-9), "rows_sum_to_one": ("==", 1)}
QUICK_EXPECTED = EXPECTED


def forward(fw, x, weights):
    """sigmoid(x W_1) -> sigmoid(. W_2) -> softmax(. W_3); returns (z_2, a_2, y_out)."""
    W1, W2, W3 = weights
    z_2 = fw.matmul(x, W1)
    a_2 = fw.sigmoid(z_2)
    a_3 = fw.sigmoid(fw.matmul(a_2, W2))
    z_4 = fw.matmul(a_3, W3)
    return z_2, a_2, fw.softmax(z_4, dim=-1)


def run(fw, cfg, lab):
    weights = [fw.tensor(W, dtype=fw.float64) for W in (W_1, W_2, W_3)]
    lab.say("Matrix W_1\n")
    lab.say(np.array(W_1))
    lab.say("-" * 30)
    x_in = fw.tensor(X_IN, dtype=fw.float64)
    z_2, a_2, y_out = forward(fw, x_in, weights)
    np.set_printoptions(precision=8)
    lab.say("z_2 =", repr(z_2.numpy()))
    lab.say("a_2 =", repr(a_2.numpy()))
    lab.say("y_out =", repr(y_out.numpy()))
    err_vec = max(np.abs(z_2.numpy() - NOTES_Z2).max(), np.abs(a_2.numpy() - NOTES_A2).max(),
                  np.abs(y_out.numpy() - NOTES_Y_OUT).max())

    lab.say("batch矩阵输入 -- starts with the x_mat_in")
    x_mat = fw.tensor(X_MAT_IN, dtype=fw.float64)
    z_2b, _, y_batch = forward(fw, x_mat, weights)
    lab.say("z_2 =", repr(z_2b.numpy()))
    lab.say("y_out =", repr(y_batch.numpy()))
    np.set_printoptions(precision=8)
    err_batch = max(np.abs(z_2b.numpy() - NOTES_Z2_BATCH).max(), np.abs(y_batch.numpy() - NOTES_Y_BATCH).max())
    rows_ok = int(np.allclose(y_batch.sum(dim=1).numpy(), 1.0))
    lab.say(f"largest difference from the notes' printout: vector {err_vec:.1e}, batch {err_batch:.1e}")

    with lab.figure("batch_output", "Class probabilities of the 7 batch inputs", figsize=(6, 3.5)) as (_, ax):
        probs = y_batch.numpy()
        bottom = np.zeros(len(probs))
        for k in range(probs.shape[1]):
            ax.bar(range(len(probs)), probs[:, k], bottom=bottom, label=f"class {k}")
            bottom += probs[:, k]
        ax.set(xlabel="input row of x_mat_in", ylabel="softmax probability")
        ax.legend()
    return {"max_error_vector": float(err_vec), "max_error_batch": float(err_batch), "rows_sum_to_one": rows_ok}
