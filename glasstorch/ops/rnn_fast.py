"""The LSTM layer nn.LSTM runs: rnn.py's RecurrentScanFunction in "lstm" mode, tuned.

Read rnn.py first (lstm_step, lstm_step_backward, RecurrentScanFunction): the same math, written plainly;
tests/ops/test_rnn_fast.py holds the two equal (the same values, bit for bit, and the same gradients).
The difference is only where the numbers live. A word-level LM step is 35 time steps of 20 rows per
layer: each step's arrays are small (20 x 1024 gates), so NumPy's cost per call and per fresh temporary
array matters as much as the arithmetic. Here

- the whole sequence's buffers are made once: the flat output (outputs, h_n, c_n joined: one node has one
  output) is allocated first and every step writes its outputs straight into it (no concatenation at the
  end); the gate activations (N, 4H), c_{t-1} and tanh(c_t) (N, H) for backward are rows of buffers too;
- a step computes its gates in place in its rows of the activation buffer: h W_hh^T with `out=`, then
  += gx, then the sigmoids and the tanh act in place on their column blocks (no gate-sized temporaries);
- backward writes each step's gate gradients into its rows of one (N, 4H) buffer, with one (B, H) scratch
  array for the factors; the products run in lstm_step_backward's order, so the numbers are the same.
  W_hh's gradient is one GEMM over all rows after the loop, sum_t d_gates_t^T h_{t-1} (as in rnn.py).

Packed sequences work as in rnn.py (step t owns rows offsets[t] : offsets[t] + batch_sizes[t]); projections
(proj_size) take rnn.py's scan.
"""
from ..autograd.function import Function
from ..tensor import Tensor
from .rnn import _offsets


def _sigmoid_(xp, a):
    """a = sigma(a) in place, as rnn._sigmoid computes it: 0.5 + 0.5 tanh(0.5 a), the same operations in order"""
    xp.multiply(a, 0.5, out=a)
    xp.tanh(a, out=a)
    xp.multiply(a, 0.5, out=a)
    xp.add(a, 0.5, out=a)


class LSTMScanFunction(Function):
    """h_t, c_t = lstm(gx_t + h_{t-1} W_hh^T, c_{t-1}) over the packed steps (RecurrentScanFunction "lstm", in place)

    Inputs: gx (N, 4H) = x W_ih^T + b_ih + b_hh for every packed row, w_hh (4H, H), h0 (B, H), c0 (B, H).
    Output, flat: [outputs (N, H), h_n (B, H), c_n (B, H)] raveled and joined; lstm_scan splits it.
    """
    once_differentiable = True  # (inputs are version-checked: backward reads W_hh)

    @staticmethod
    def forward(ctx, gx, w_hh, h0, c0, *, batch_sizes, reverse):
        xp = ctx.xp
        n_rows, batch, hidden = gx.shape[0], h0.shape[0], h0.shape[1]
        offsets = _offsets(batch_sizes)
        steps = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
        flat = xp.empty((n_rows + 2 * batch) * hidden, dtype=gx.dtype)
        out = flat[:n_rows * hidden].reshape(n_rows, hidden)
        # the states live in the output: h and c are updated in place, row block by row block
        h = flat[n_rows * hidden:(n_rows + batch) * hidden].reshape(batch, hidden)
        c = flat[(n_rows + batch) * hidden:].reshape(batch, hidden)
        h[...], c[...] = h0, c0
        w_hh_t = xp.ascontiguousarray(w_hh.T)  # h W^T with W^T contiguous: BLAS is faster on few rows (rnn.py)
        act = xp.empty((n_rows, 4 * hidden), dtype=gx.dtype)   # i, f, g, o of every row
        h_prev = xp.empty((n_rows, hidden), dtype=gx.dtype)    # what each step's W_hh product read
        c_prev = xp.empty_like(h_prev)
        tanh_c = xp.empty_like(h_prev)
        scratch = xp.empty((batch, hidden), dtype=gx.dtype)
        for t in steps:
            n, start = batch_sizes[t], offsets[t]
            rows = slice(start, start + n)
            gates = act[rows]
            xp.matmul(h[:n], w_hh_t, out=gates)
            gates += gx[rows]
            i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
            _sigmoid_(xp, gates[:, :2 * hidden])  # i and f: adjacent column blocks, one pass
            xp.tanh(g, out=g)
            _sigmoid_(xp, o)
            h_prev[rows], c_prev[rows] = h[:n], c[:n]
            c_t, ig = c[:n], scratch[:n]
            xp.multiply(f, c_prev[rows], out=c_t)       # c = f c_prev + i g
            xp.multiply(i, g, out=ig)
            c_t += ig
            xp.tanh(c_t, out=tanh_c[rows])
            xp.multiply(o, tanh_c[rows], out=out[rows])  # h = o tanh(c)
            h[:n] = out[rows]
        ctx.batch_sizes, ctx.steps, ctx.offsets = batch_sizes, steps, offsets
        ctx.act, ctx.h_prev, ctx.c_prev, ctx.tanh_c, ctx.shape_h0 = act, h_prev, c_prev, tanh_c, h0.shape
        return flat

    @staticmethod
    def backward(ctx, grad):
        xp, act, c_prev, tanh_c = ctx.xp, ctx.act, ctx.c_prev, ctx.tanh_c
        w_hh = ctx.inputs[1]._array
        g = grad._array
        n_rows, (batch, hidden) = act.shape[0], ctx.shape_h0
        d_out = g[:n_rows * hidden].reshape(n_rows, hidden)
        dh = g[n_rows * hidden:(n_rows + batch) * hidden].reshape(batch, hidden).copy()
        dc = g[(n_rows + batch) * hidden:].reshape(batch, hidden).copy()
        d_gates = xp.empty_like(act)
        scratch = xp.empty((batch, hidden), dtype=g.dtype)
        for t in reversed(ctx.steps):
            n, start = ctx.batch_sizes[t], ctx.offsets[t]
            rows = slice(start, start + n)
            dh_t, dc_t, x = dh[:n], dc[:n], scratch[:n]
            dh_t += d_out[rows]
            i, f, g_, o = (act[rows, k * hidden:(k + 1) * hidden] for k in range(4))
            d_i, d_f, d_g, d_o = (d_gates[rows, k * hidden:(k + 1) * hidden] for k in range(4))
            tc = tanh_c[rows]
            # dc_total = dc + dh o (1 - tanh(c)^2)   (d_o's block holds the product for a moment)
            xp.multiply(tc, tc, out=x)
            xp.subtract(1, x, out=x)
            xp.multiply(dh_t, o, out=d_o)
            d_o *= x
            dc_t += d_o
            # d_o = dh tanh(c) o (1 - o)
            xp.multiply(dh_t, tc, out=d_o)
            d_o *= o
            xp.subtract(1, o, out=x)
            d_o *= x
            # d_i = dc_total g i (1 - i)
            xp.multiply(dc_t, g_, out=d_i)
            d_i *= i
            xp.subtract(1, i, out=x)
            d_i *= x
            # d_f = dc_total c_prev f (1 - f)
            xp.multiply(dc_t, c_prev[rows], out=d_f)
            d_f *= f
            xp.subtract(1, f, out=x)
            d_f *= x
            # d_g = dc_total i (1 - g^2)
            xp.multiply(g_, g_, out=x)
            xp.subtract(1, x, out=x)
            xp.multiply(dc_t, i, out=d_g)
            d_g *= x
            dc_t *= f                                   # dc_prev = dc_total f
            xp.matmul(d_gates[rows], w_hh, out=dh_t)    # dh_prev = d_gates W_hh
        return Tensor._make(d_gates), Tensor._make(d_gates.T @ ctx.h_prev), Tensor._make(dh), Tensor._make(dc)


def lstm_scan(gx, w_hh, h0, c0, *, batch_sizes, reverse=False):
    """One direction of one LSTM layer (no projection) over packed rows: returns (outputs (N, H), h_n, c_n).

    gx already holds x W_ih^T + b_ih + b_hh. Same contract as rnn.recurrent_scan(..., mode="lstm").
    """
    flat = LSTMScanFunction.apply(gx, w_hh, h0, c0, batch_sizes=tuple(int(b) for b in batch_sizes),
                                  reverse=reverse)
    n_rows, batch, hidden = gx.shape[0], h0.shape[0], h0.shape[1]
    out = flat[:n_rows * hidden].reshape(n_rows, hidden)
    h_n = flat[n_rows * hidden:(n_rows + batch) * hidden].reshape(batch, hidden)
    c_n = flat[(n_rows + batch) * hidden:].reshape(batch, hidden)
    return out, h_n, c_n
