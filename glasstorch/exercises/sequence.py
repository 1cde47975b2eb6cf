"""Exercises: an RNN cell, an LSTM cell (torch's gate order), scaled dot-product attention."""
import numpy as np

from ..tensor import tensor
from .framework import Exercise, check_function, time_against


def cell_case(rng, gates):
    n, d, h = int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
    return {"x": rng.standard_normal((n, d)), "h": rng.standard_normal((n, h)),
            "W_ih": rng.standard_normal((gates * h, d)) * 0.5, "W_hh": rng.standard_normal((gates * h, h)) * 0.5,
            "b_ih": rng.standard_normal(gates * h) * 0.5, "b_hh": rng.standard_normal(gates * h) * 0.5}


def rnn_reference(x, h, W_ih, W_hh, b_ih, b_hh):
    return (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).tanh()


def check_rnn_cell(module, rng):
    check_function(module, rng, make=lambda r: cell_case(r, 1), reference=rnn_reference,
                   diff=["x", "h", "W_ih", "W_hh", "b_ih", "b_hh"], outputs=("h_next",))
    return "forward and backward match autograd (and central differences)"


def lstm_case(rng):
    case = cell_case(rng, 4)
    case["c"] = rng.standard_normal(case["h"].shape)
    return case


def lstm_reference(x, h, c, W_ih, W_hh, b_ih, b_hh):
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_next.tanh(), c_next


def check_lstm_cell(module, rng):
    def wrong_order(case, want, up):  # gates taken as (i, f, o, g): a common misreading of torch's layout
        gates = case["x"] @ case["W_ih"].T + case["b_ih"] + case["h"] @ case["W_hh"].T + case["b_hh"]
        i, f, o, g = np.split(gates, 4, axis=1)
        sig = lambda v: 1 / (1 + np.exp(-v))
        c_next = sig(f) * case["c"] + sig(i) * np.tanh(g)
        return {"h_next": {"gate_order": sig(o) * np.tanh(c_next)}, "c_next": {"gate_order": c_next}}
    check_function(module, rng, make=lstm_case, reference=lstm_reference, outputs=("h_next", "c_next"),
                   diff=["x", "h", "c", "W_ih", "W_hh", "b_ih", "b_hh"], variants=wrong_order)
    return "forward and backward match autograd (and central differences)"


def attention_case(rng):
    b, lq, lk, d, dv = (int(v) for v in rng.integers(1, 5, size=5))
    return {"q": rng.standard_normal((b, lq, d)), "k": rng.standard_normal((b, lk, d)),
            "v": rng.standard_normal((b, lk, dv)), "mask": rng.random((lq, lk)) < 0.8}


def attention_reference(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / np.sqrt(q.shape[-1])
    mask = tensor(mask)
    keep_any = mask.any(dim=-1, keepdim=True)  # a row with nothing to attend to gets zero weights, not NaN
    weights = scores.masked_fill(~mask, float("-inf")).softmax(-1)
    weights = weights.masked_fill(~keep_any, 0.0)
    return weights @ v


def check_attention(module, rng):
    def mistakes(case, want, up):
        q, k, v, mask = case["q"], case["k"], case["v"], case["mask"]
        def attend(scores, masked=True):
            if masked:
                scores = np.where(mask, scores, -np.inf)
            with np.errstate(all="ignore"):
                e = np.exp(scores - scores.max(-1, keepdims=True))
                w = np.nan_to_num(e / e.sum(-1, keepdims=True))
            return w @ v
        raw = q @ k.transpose(0, 2, 1)
        return {"y": {"scale": attend(raw), "mask": attend(raw / np.sqrt(q.shape[-1]), masked=False)}}
    check_function(module, rng, make=attention_case, reference=attention_reference, diff=["q", "k", "v"],
                   variants=mistakes, stability=True,
                   edge_cases=[{"q": np.full((1, 2, 3), 30.0), "k": np.full((1, 2, 3), 30.0),
                                "v": np.ones((1, 2, 2)), "mask": np.ones((2, 2), dtype=bool)}])
    r = np.random.default_rng(1)
    args = {"q": r.standard_normal((8, 64, 32)), "k": r.standard_normal((8, 64, 32)), "v": r.standard_normal((8, 64, 32)),
            "mask": np.tril(np.ones((64, 64), dtype=bool))}
    t = {k: tensor(v) if v.dtype.kind == "f" else v for k, v in args.items()}
    return time_against(lambda: module.forward(**args), lambda: attention_reference(**t), repeat=5)


RNN_CELL = Exercise(
    name="rnn-cell", title="a vanilla RNN cell (nn.RNNCell with tanh)",
    math="""
        h_next = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        with a = the pre-activation:  da = dL/dh_next * (1 - h_next^2)
        dL/dx = da @ W_ih, dL/dh = da @ W_hh, dL/dW_ih = da.T @ x, dL/dW_hh = da.T @ h,
        dL/db_ih = dL/db_hh = da summed over the batch
    Shapes: x (N, D), h (N, H), W_ih (H, D), W_hh (H, H), b_ih and b_hh (H,).""",
    starter='''
        def forward(x, h, W_ih, W_hh, b_ih, b_hh):
            """-> h_next (N, H)."""
            raise NotImplementedError


        def backward(grad_h_next, x, h, W_ih, W_hh, b_ih, b_hh, h_next):
            """-> (dL/dx, dL/dh, dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh)."""
            raise NotImplementedError
    ''',
    solution='''
        def forward(x, h, W_ih, W_hh, b_ih, b_hh):
            """-> h_next (N, H)."""
            return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


        def backward(grad_h_next, x, h, W_ih, W_hh, b_ih, b_hh, h_next):
            """-> (dL/dx, dL/dh, dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh)."""
            da = grad_h_next * (1.0 - h_next ** 2)
            return da @ W_ih, da @ W_hh, da.T @ x, da.T @ h, da.sum(axis=0), da.sum(axis=0)
    ''',
    check=check_rnn_cell, where=("glasstorch.nn.modules.rnn", "RNNCell"),
    mistakes={"transposed": [("da.T @ x, da.T @ h", "x.T @ da, h.T @ da")],
              "sum_batch": [("da.sum(axis=0), da.sum(axis=0)", "da, da")]})

LSTM_CELL = Exercise(
    name="lstm-cell", title="an LSTM cell (nn.LSTMCell)",
    math="""
        gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, split in four along axis 1 in torch's order:
        i, f, g, o = input, forget, cell, output gates
        c_next = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h_next = sigmoid(o) * tanh(c_next)
    backward: start from dh_next and dc_next; dc = dc_next + dh_next * sigmoid(o) * (1 - tanh(c_next)^2);
        then each gate's pre-activation gradient, concatenated back in (i, f, g, o) order = dgates;
        dx = dgates @ W_ih, dh = dgates @ W_hh, dW_ih = dgates.T @ x, dW_hh = dgates.T @ h, db = sum(dgates),
        and dL/dc = dc * sigmoid(f).
    Shapes: x (N, D), h and c (N, H), W_ih (4H, D), W_hh (4H, H), b_ih and b_hh (4H,).""",
    starter='''
        def forward(x, h, c, W_ih, W_hh, b_ih, b_hh):
            """-> (h_next (N, H), c_next (N, H))."""
            raise NotImplementedError


        def backward(grad_h_next, grad_c_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
            """-> (dL/dx, dL/dh, dL/dc, dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh)."""
            raise NotImplementedError
    ''',
    solution='''
        def sigmoid(v):
            return np.exp(-np.logaddexp(0.0, -v))


        def forward(x, h, c, W_ih, W_hh, b_ih, b_hh):
            """-> (h_next (N, H), c_next (N, H))."""
            i, f, g, o = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
            c_next = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            return sigmoid(o) * np.tanh(c_next), c_next


        def backward(grad_h_next, grad_c_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
            """-> (dL/dx, dL/dh, dL/dc, dL/dW_ih, dL/dW_hh, dL/db_ih, dL/db_hh)."""
            i, f, g, o = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
            si, sf, tg, so = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
            c_next = sf * c + si * tg
            tc = np.tanh(c_next)
            dc = grad_c_next + grad_h_next * so * (1.0 - tc ** 2)
            d_i, d_f, d_g = dc * tg * si * (1 - si), dc * c * sf * (1 - sf), dc * si * (1 - tg ** 2)
            d_o = grad_h_next * tc * so * (1 - so)
            dgates = np.concatenate([d_i, d_f, d_g, d_o], axis=1)
            db = dgates.sum(axis=0)
            return dgates @ W_ih, dgates @ W_hh, dc * sf, dgates.T @ x, dgates.T @ h, db, db
    ''',
    check=check_lstm_cell, where=("glasstorch.nn.modules.rnn", "LSTMCell"),
    mistakes={"gate_order": [("i, f, g, o = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)\n    c_next = sigmoid(f)",
                              "i, f, o, g = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)\n    c_next = sigmoid(f)")]})

ATTENTION = Exercise(
    name="attention", title="scaled dot-product attention with a mask",
    math="""
        scores = q @ k^T / sqrt(d)                  (B, Lq, Lk), d = q.shape[-1]
        scores[~mask] = -inf                        (mask True = may attend, as F.scaled_dot_product_attention)
        weights = softmax(scores, axis=-1);  y = weights @ v       (B, Lq, Dv)
        A row whose mask is all False attends to nothing: its weights are 0 (not NaN).
    backward: dv = weights^T @ dy;  dweights = dy @ v^T;
        dscores = weights * (dweights - sum(dweights * weights, -1));  dq = dscores @ k / sqrt(d);
        dk = dscores^T @ q / sqrt(d)
    Shapes: q (B, Lq, D), k (B, Lk, D), v (B, Lk, Dv), mask (Lq, Lk) bool.""",
    starter='''
        def forward(q, k, v, mask):
            """-> y (B, Lq, Dv)."""
            raise NotImplementedError


        def backward(grad_y, q, k, v, mask):
            """-> (dL/dq, dL/dk, dL/dv)."""
            raise NotImplementedError
    ''',
    solution='''
        def weights_of(q, k, mask):
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
            scores = np.where(mask, scores, -np.inf)
            top = scores.max(axis=-1, keepdims=True)
            e = np.exp(scores - np.where(np.isfinite(top), top, 0.0))
            total = e.sum(axis=-1, keepdims=True)
            return e / np.where(total > 0, total, 1.0)


        def forward(q, k, v, mask):
            """-> y (B, Lq, Dv)."""
            return weights_of(q, k, mask) @ v


        def backward(grad_y, q, k, v, mask):
            """-> (dL/dq, dL/dk, dL/dv)."""
            w = weights_of(q, k, mask)
            dv = w.transpose(0, 2, 1) @ grad_y
            dw = grad_y @ v.transpose(0, 2, 1)
            ds = w * (dw - (dw * w).sum(axis=-1, keepdims=True)) / np.sqrt(q.shape[-1])
            return ds @ k, ds.transpose(0, 2, 1) @ q, dv
    ''',
    check=check_attention, where=("glasstorch.nn.functional", "scaled_dot_product_attention"),
    mistakes={"scale": [("scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])", "scores = q @ k.transpose(0, 2, 1)")],
              "mask": [("scores = np.where(mask, scores, -np.inf)", "scores = scores")]})

EXERCISES = [RNN_CELL, LSTM_CELL, ATTENTION]
