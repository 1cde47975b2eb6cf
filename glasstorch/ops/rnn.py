"""Recurrent cells: the gate math of RNN (tanh/relu), LSTM and GRU, fused, plus a whole-sequence scan.

Three layers of the same math, from the lesson to the fast path:

    lstm_cell_reference ...   the gates written out with ordinary ops (sigmoid, tanh, *, +): read these first;
                              autograd derives their backward, double backward included
    LSTMCellFunction ...      one step as one node: forward and backward written out with the gate math
                              (as torch's fused cell kernels); what nn.LSTMCell runs
    RecurrentScanFunction     a whole layer (one direction) as one node: the loop over time steps calls the
                              same step kernels forward, and backpropagation through time runs them in
                              reverse; what nn.RNN / nn.LSTM / nn.GRU run

Conventions (torch's): gates = x W_ih^T + b_ih + h W_hh^T + b_hh, chunked in the order
LSTM (i, f, g, o), GRU (r, z, n), and GRU's n gate is tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)).
The scan works on packed data: step t owns rows offsets[t] : offsets[t] + batch_sizes[t] of the input
(a padded batch is the packed case with every batch size equal). Sequences are sorted by length, so at
step t the first batch_sizes[t] sequences are the live ones and the state rows of the others stay put:
after the loop they hold each sequence's state at its own last step (h_n), and in reverse direction
rows that start late start from h0. The fused ops compute their backward on arrays (once-differentiable);
the reference functions are the ones to use for double backward.
"""
from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import relu, sigmoid, tanh
from .matmul import linear


# ----------------------------------------------------------------------------- step kernels (arrays)
def _sigmoid(xp, a):
    # sigma(x) = (1 + tanh(x / 2)) / 2: one tanh, never overflows
    return 0.5 + 0.5 * xp.tanh(0.5 * a)


def lstm_step(xp, gates, c_prev):
    """i, f, g, o = sigma, sigma, tanh, sigma (gates);  c = f c_prev + i g;  h = o tanh(c).

    Returns h, c and the activations (n, 4H) and tanh(c) that the backward step reads."""
    hidden = c_prev.shape[1]
    act = _sigmoid(xp, gates)
    act[:, 2 * hidden:3 * hidden] = xp.tanh(gates[:, 2 * hidden:3 * hidden])
    i, f, g, o = act[:, :hidden], act[:, hidden:2 * hidden], act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
    c = f * c_prev + i * g
    tanh_c = xp.tanh(c)
    return o * tanh_c, c, act, tanh_c


def lstm_step_backward(xp, dh, dc, act, c_prev, tanh_c):
    """dc_total = dc + dh o (1 - tanh(c)^2);  d_i = dc_total g i (1-i),  d_f = dc_total c_prev f (1-f),
    d_g = dc_total i (1 - g^2),  d_o = dh tanh(c) o (1-o);  dc_prev = dc_total f.  Returns (d_gates, dc_prev)."""
    hidden = c_prev.shape[1]
    i, f, g, o = act[:, :hidden], act[:, hidden:2 * hidden], act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
    dc_total = dc + dh * o * (1 - tanh_c * tanh_c)
    d_gates = xp.empty_like(act)
    d_gates[:, :hidden] = dc_total * g * i * (1 - i)
    d_gates[:, hidden:2 * hidden] = dc_total * c_prev * f * (1 - f)
    d_gates[:, 2 * hidden:3 * hidden] = dc_total * i * (1 - g * g)
    d_gates[:, 3 * hidden:] = dh * tanh_c * o * (1 - o)
    return d_gates, dc_total * f


def gru_step(xp, gx, gh, h_prev):
    """r = sigma(gx_r + gh_r);  z = sigma(gx_z + gh_z);  n = tanh(gx_n + r gh_n);  h = (1 - z) n + z h_prev.

    Returns h and the activations (r, z, n stacked as (n, 3H)) that the backward step reads."""
    hidden = h_prev.shape[1]
    act = _sigmoid(xp, gx + gh)
    act[:, 2 * hidden:] = xp.tanh(gx[:, 2 * hidden:] + act[:, :hidden] * gh[:, 2 * hidden:])
    z, n = act[:, hidden:2 * hidden], act[:, 2 * hidden:]
    return n + z * (h_prev - n), act


def gru_step_backward(xp, dh, act, gh, h_prev):
    """d_n = dh (1-z) (1-n^2) (= d_gx_n);  d_gh_n = d_n r;  d_r = d_n gh_n r (1-r);  d_z = dh (h_prev - n) z (1-z);
    dh_prev (direct part) = dh z.  Returns (d_gx, d_gh, dh_prev direct); the W_hh path is added by the caller."""
    hidden = h_prev.shape[1]
    r, z, n = act[:, :hidden], act[:, hidden:2 * hidden], act[:, 2 * hidden:]
    d_gx = xp.empty_like(act)
    d_n = dh * (1 - z) * (1 - n * n)
    d_gx[:, 2 * hidden:] = d_n
    d_gx[:, :hidden] = d_n * gh[:, 2 * hidden:] * r * (1 - r)
    d_gx[:, hidden:2 * hidden] = dh * (h_prev - n) * z * (1 - z)
    d_gh = d_gx.copy()
    d_gh[:, 2 * hidden:] = d_n * r
    return d_gx, d_gh, dh * z


def rnn_step(xp, pre, nonlinearity):
    """h = tanh(pre) or relu(pre), pre = x W_ih^T + b_ih + h W_hh^T + b_hh."""
    return xp.tanh(pre) if nonlinearity == "tanh" else xp.maximum(pre, 0)


def rnn_step_backward(dh, h, nonlinearity):
    """d_pre = dh (1 - h^2) (tanh) or dh [h > 0] (relu)."""
    return dh * (1 - h * h) if nonlinearity == "tanh" else dh * (h > 0)


# ----------------------------------------------------------------------------- one step as one node
class LSTMCellFunction(Function):
    """[h; c] = lstm(gi + gh, c_prev): i,f,g,o = sigma,sigma,tanh,sigma; c = f c_prev + i g; h = o tanh(c)

    Inputs: input_gates x W_ih^T + b_ih and hidden_gates h W_hh^T + b_hh (n, 4H), c_prev (n, H).
    Output: h and c stacked, (2, n, H). Backward: see lstm_step_backward (d_gi = d_gh = d_gates).
    """
    once_differentiable = True

    @staticmethod
    def forward(ctx, input_gates, hidden_gates, c_prev):
        h, c, ctx.act, ctx.tanh_c = lstm_step(ctx.xp, input_gates + hidden_gates, c_prev)
        ctx.c_prev = c_prev
        return ctx.xp.stack([h, c])

    @staticmethod
    def backward(ctx, grad):
        g = grad._array
        d_gates, dc_prev = lstm_step_backward(ctx.xp, g[0], g[1], ctx.act, ctx.c_prev, ctx.tanh_c)
        d_gates = Tensor._make(d_gates)
        return d_gates, d_gates, Tensor._make(dc_prev)


class GRUCellFunction(Function):
    """h = (1 - z) n + z h_prev: r = sigma(gi_r + gh_r), z = sigma(gi_z + gh_z), n = tanh(gi_n + r gh_n)

    Inputs: input_gates x W_ih^T + b_ih, hidden_gates h W_hh^T + b_hh (n, 3H), h_prev (n, H).
    Backward: see gru_step_backward.
    """
    once_differentiable = True

    @staticmethod
    def forward(ctx, input_gates, hidden_gates, h_prev):
        h, ctx.act = gru_step(ctx.xp, input_gates, hidden_gates, h_prev)
        return h

    @staticmethod
    def backward(ctx, grad):
        hidden_gates, h_prev = ctx.inputs[1]._array, ctx.inputs[2]._array
        d_gx, d_gh, dh_prev = gru_step_backward(ctx.xp, grad._array, ctx.act, hidden_gates, h_prev)
        return Tensor._make(d_gx), Tensor._make(d_gh), Tensor._make(dh_prev)


class RNNTanhCellFunction(Function):
    """h = tanh(gi + gh);  dL/dgi = dL/dgh = dL/dh (1 - h^2)"""
    needs_inputs = False
    saves_output = True
    once_differentiable = True

    @staticmethod
    def forward(ctx, input_gates, hidden_gates):
        return rnn_step(ctx.xp, input_gates + hidden_gates, "tanh")

    @staticmethod
    def backward(ctx, grad):
        d = Tensor._make(rnn_step_backward(grad._array, ctx.output_array, "tanh"))
        return d, d


class RNNReLUCellFunction(Function):
    """h = relu(gi + gh);  dL/dgi = dL/dgh = dL/dh [h > 0]"""
    needs_inputs = False
    saves_output = True
    once_differentiable = True

    @staticmethod
    def forward(ctx, input_gates, hidden_gates):
        return rnn_step(ctx.xp, input_gates + hidden_gates, "relu")

    @staticmethod
    def backward(ctx, grad):
        d = Tensor._make(rnn_step_backward(grad._array, ctx.output_array, "relu").astype(grad._array.dtype))
        return d, d


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step with the fused cell: returns (h', c')."""
    out = LSTMCellFunction.apply(linear(x, w_ih, b_ih), linear(h, w_hh, b_hh), c)
    return out[0], out[1]


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step with the fused cell: returns h'."""
    return GRUCellFunction.apply(linear(x, w_ih, b_ih), linear(h, w_hh, b_hh), h)


def rnn_tanh_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    return RNNTanhCellFunction.apply(linear(x, w_ih, b_ih), linear(h, w_hh, b_hh))


def rnn_relu_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    return RNNReLUCellFunction.apply(linear(x, w_ih, b_ih), linear(h, w_hh, b_hh))


# ----------------------------------------------------------------------------- the lesson versions
def lstm_cell_reference(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """The LSTM step written out with ordinary ops (the lesson): returns (h', c')."""
    gates = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
    c = f * c + i * g           # forget some of the old memory, write some new
    h = o * tanh(c)             # expose some of the memory
    return h, c


def gru_cell_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """The GRU step written out with ordinary ops (the lesson): returns h'."""
    x_r, x_z, x_n = linear(x, w_ih, b_ih).chunk(3, 1)
    h_r, h_z, h_n = linear(h, w_hh, b_hh).chunk(3, 1)
    r = sigmoid(x_r + h_r)      # reset: how much of the old state the candidate sees
    z = sigmoid(x_z + h_z)      # update: how much of the old state is kept
    n = tanh(x_n + r * h_n)     # the candidate state
    return (1 - z) * n + z * h


def rnn_cell_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """The Elman RNN step with ordinary ops: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""
    pre = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)
    return tanh(pre) if nonlinearity == "tanh" else relu(pre)


# ----------------------------------------------------------------------------- a whole sequence as one node
class RecurrentScanFunction(Function):
    """h_t = cell(gx_t + h_{t-1} W_hh^T, state_{t-1}) for t over the packed steps (BPTT in backward).

    Inputs, in this order: gx (N, G) the input projections of every packed row (x W_ih^T + b_ih, plus b_hh
    for RNN and LSTM), w_hh (G, P), h0 (B, P), then c0 (B, H) for "lstm", b_hh (G,) for "gru" with bias,
    w_hr (P, H) for an LSTM with proj_size. `batch_sizes`: live rows per step; `reverse`: run t = T-1 .. 0.
    Output, flat: [outputs (N, P), h_n (B, P), c_n (B, H) for "lstm"] raveled and joined (one node has one
    output; recurrent_scan splits it again).

    Backward walks the steps in reverse order: dh_t = dL/dout_t + (dh from step t+1), each step kernel gives
    d_gates_t, and dh_{t-1} = d_gates_t W_hh; then dW_hh = sum_t d_gates_t^T h_{t-1} as one matrix product
    over all rows (and dW_hr = sum_t dh_t^T (o_t tanh(c_t)) likewise).
    """
    once_differentiable = True  # (inputs are version-checked: backward reads W_hh, W_hr)

    @staticmethod
    def forward(ctx, gx, w_hh, h0, *extra, mode, batch_sizes, reverse, has_bias_hh=False, has_proj=False):
        xp = ctx.xp
        rest = list(extra)
        c0 = rest.pop(0) if mode == "lstm" else None
        b_hh = rest.pop(0) if has_bias_hh else None
        w_hr = rest.pop(0) if has_proj else None
        n_rows, proj = gx.shape[0], h0.shape[1]
        offsets = _offsets(batch_sizes)
        steps = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
        h, c = h0.copy(), (c0.copy() if c0 is not None else None)
        # h W^T with W^T laid out contiguously: BLAS is several times faster on few rows times a transposed matrix
        w_hh_t = xp.ascontiguousarray(w_hh.T)
        w_hr_t = xp.ascontiguousarray(w_hr.T) if w_hr is not None else None
        out = xp.empty((n_rows, proj), dtype=gx.dtype)
        h_prev_all = xp.empty((n_rows, proj), dtype=gx.dtype)   # what each step's W_hh product read
        saved = {"act": xp.empty((n_rows, gx.shape[1]), dtype=gx.dtype)}
        if mode == "lstm":
            saved["c_prev"] = xp.empty((n_rows, c0.shape[1]), dtype=gx.dtype)
            saved["tanh_c"] = xp.empty_like(saved["c_prev"])
            if w_hr is not None:
                saved["h_raw"] = xp.empty_like(saved["c_prev"])
        if mode == "gru":
            saved["gh"] = xp.empty_like(gx)
        for t in steps:
            n, rows = batch_sizes[t], slice(offsets[t], offsets[t] + batch_sizes[t])
            h_prev = h[:n]
            h_prev_all[rows] = h_prev
            hidden_gates = h_prev @ w_hh_t
            if mode == "lstm":
                h_new, c_new, saved["act"][rows], saved["tanh_c"][rows] = lstm_step(xp, gx[rows] + hidden_gates,
                                                                                  c[:n])
                saved["c_prev"][rows] = c[:n]
                c[:n] = c_new
                if w_hr is not None:
                    saved["h_raw"][rows] = h_new
                    h_new = h_new @ w_hr_t
            elif mode == "gru":
                if b_hh is not None:
                    hidden_gates += b_hh
                saved["gh"][rows] = hidden_gates
                h_new, saved["act"][rows] = gru_step(xp, gx[rows], hidden_gates, h_prev)
            else:
                h_new = rnn_step(xp, gx[rows] + hidden_gates, mode)
            h[:n] = h_new
            out[rows] = h_new
        ctx.mode, ctx.batch_sizes, ctx.steps, ctx.offsets = mode, batch_sizes, steps, offsets
        ctx.w_hh, ctx.w_hr, ctx.h_prev_all, ctx.saved, ctx.out = w_hh, w_hr, h_prev_all, saved, out
        ctx.has_bias_hh, ctx.shape_h0 = b_hh is not None, h0.shape
        parts = [out.ravel(), h.ravel()] + ([c.ravel()] if c is not None else [])
        return xp.concatenate(parts)

    @staticmethod
    def backward(ctx, grad):
        xp, mode, saved = ctx.xp, ctx.mode, ctx.saved
        w_hh, w_hr, out = ctx.w_hh, ctx.w_hr, ctx.out
        g = grad._array
        n_rows, proj = out.shape
        batch, size_out = ctx.shape_h0[0], n_rows * proj
        d_out = g[:size_out].reshape(n_rows, proj)
        dh = g[size_out:size_out + batch * proj].reshape(batch, proj).copy()
        dc = g[size_out + batch * proj:].reshape(batch, -1).copy() if mode == "lstm" else None
        d_gx = xp.empty((n_rows, w_hh.shape[0]), dtype=g.dtype)
        d_gh = xp.empty_like(d_gx) if mode == "gru" else d_gx   # what reached h W_hh^T (+ b_hh)
        dh_all = xp.empty((n_rows, proj), dtype=g.dtype) if w_hr is not None else None
        for t in reversed(ctx.steps):
            n, rows = ctx.batch_sizes[t], slice(ctx.offsets[t], ctx.offsets[t] + ctx.batch_sizes[t])
            dh_t = dh[:n] + d_out[rows]
            if mode == "lstm":
                if w_hr is not None:
                    dh_all[rows] = dh_t
                    dh_t = dh_t @ w_hr
                d_gx[rows], dc[:n] = lstm_step_backward(xp, dh_t, dc[:n], saved["act"][rows],
                                                        saved["c_prev"][rows], saved["tanh_c"][rows])
                dh[:n] = d_gx[rows] @ w_hh
            elif mode == "gru":
                d_gx[rows], d_gh[rows], dh_direct = gru_step_backward(xp, dh_t, saved["act"][rows],
                                                                      saved["gh"][rows], ctx.h_prev_all[rows])
                dh[:n] = dh_direct + d_gh[rows] @ w_hh
            else:
                d_gx[rows] = rnn_step_backward(dh_t, out[rows], mode)
                dh[:n] = d_gx[rows] @ w_hh
        grads = [Tensor._make(d_gx), Tensor._make(d_gh.T @ ctx.h_prev_all), Tensor._make(dh)]
        if mode == "lstm":
            grads.append(Tensor._make(dc))
        if ctx.has_bias_hh:
            grads.append(Tensor._make(d_gh.sum(axis=0)))
        if w_hr is not None:
            grads.append(Tensor._make(dh_all.T @ saved["h_raw"]))
        return tuple(grads)


def _offsets(batch_sizes):
    offsets, total = [], 0
    for n in batch_sizes:
        offsets.append(total)
        total += n
    return offsets


def recurrent_scan(gx, w_hh, h0, c0=None, b_hh=None, w_hr=None, *, mode, batch_sizes, reverse=False):
    """Run one direction of one recurrent layer over packed rows: returns (outputs (N, P), h_n, c_n or None).

    mode: "tanh" | "relu" | "lstm" | "gru". For "tanh", "relu" and "lstm", gx already holds b_ih + b_hh;
    for "gru" b_hh is passed apart (it sits inside r * (h W_hn^T + b_hn)).
    """
    inputs = [gx, w_hh, h0] + ([c0] if mode == "lstm" else []) + ([b_hh] if b_hh is not None else []) + \
        ([w_hr] if w_hr is not None else [])
    flat = RecurrentScanFunction.apply(*inputs, mode=mode, batch_sizes=tuple(int(b) for b in batch_sizes),
                                       reverse=reverse, has_bias_hh=b_hh is not None, has_proj=w_hr is not None)
    n_rows, batch, proj = gx.shape[0], h0.shape[0], h0.shape[1]
    out = flat[:n_rows * proj].reshape(n_rows, proj)
    h_n = flat[n_rows * proj:(n_rows + batch) * proj].reshape(batch, proj)
    c_n = flat[(n_rows + batch) * proj:].reshape(batch, c0.shape[1]) if mode == "lstm" else None
    return out, h_n, c_n
