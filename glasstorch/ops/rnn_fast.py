"""The LSTM layer nn.LSTM runs: rnn.py's RecurrentScanFunction in "lstm" mode, tuned.

Read rnn.py first (lstm_step, lstm_step_backward, RecurrentScanFunction): the same math, written plainly;
tests/ops/test_rnn_fast.py holds the two equal (values and gradients, to rounding: W_hh^T is multiplied as
a transposed view and the gradient factors are grouped differently). A word-level LM step
is 35 time steps of 20 rows per layer: every step is one small GEMM (h W_hh^T) and a dozen elementwise
passes over a (20, 1024) block, one after the other. Two things make that faster:

Fewer, in-place passes. The whole sequence's buffers are made once: the flat output (outputs, h_n, c_n
joined: one node has one output) is allocated first and every step writes its outputs straight into it;
the gate activations (N, 4H), c_{t-1} and tanh(c_t) (N, H) that backward reads are rows of buffers too.
A step computes its gates in place in its rows of the activation buffer: h W_hh^T with `out=`, + gx,
then sigma(x) = 0.5 + 0.5 tanh(0.5 x) for i, f, o and tanh for g as ONE tanh over the whole block,
between two whole-row multiplies by (0.5, 0.5, 1, 0.5) and a shift by (0.5, 0.5, 0, 0.5) per column block
(times 1 plus 0 leaves g's exactly as they are). Backward first
computes, for all rows at once, what lstm_step_backward multiplies dc_total and dh by (g i(1-i), c_prev f(1-f),
i (1-g^2), tanh(c) o(1-o), o (1 - tanh(c)^2): none of it depends on the recurrence), so a step is left with
7 small operations on its rows of one (N, 4H) gradient buffer; W_hh's gradient is one GEMM over all rows
after the loop: sum_t d_gates_t^T h_{t-1} (as in rnn.py).

The batch split over the threads. The sequences of a batch never meet: sequence j's recurrence reads
only row j of h and c. So with more than one thread (backend.get_num_threads()) the batch is cut into
one share of sequences per thread and each thread runs the whole scan (every time step) for its share,
on its own rows of the buffers (backend.parallel_ranges; NumPy releases the GIL in its GEMMs and ufuncs).
Meanwhile the BLAS runs on one thread (`backend.parallel_ranges(..., one_blas_thread=True)`), or its own
threads would fight ours; the big GEMM after the loop gets them all back. Without the split, the scan's
back-to-back small products keep the BLAS's threads: OpenBLAS's worker spins between them rather than
sleeping, which is what such a loop wants (see `matmul.product` for where that spinning costs).
Small problems (MIN_SHARE_FLOPS, which keeps the split off by default) and GPU arrays run in one piece.

Packed sequences work as in rnn.py (step t owns rows offsets[t] : offsets[t] + batch_sizes[t], and
sequence j is the j-th of them while it lasts); projections (proj_size) take rnn.py's scan.
"""
from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .matmul import product
from .rnn import _offsets

#: a thread takes a share of the batch only when its per-step GEMM (rows x H x 4H multiply-adds) is at least
#: this large: below it, handing the work to a thread costs more than the thread saves. Off by default (2**62):
#: on the quiet 2-core machine the split made the benchmark's LSTM step slower, not faster (train 0.46x torch
#: with it, 0.78x without; one 20 x 256 x 1024 product per step is too little to share). Lower it to try the
#: split on a machine with more cores or larger batches; the tests run it at 1-3 threads.
MIN_SHARE_FLOPS = 2 ** 62


class LSTMScanFunction(Function):
    """h_t, c_t = lstm(gx_t + h_{t-1} W_hh^T, c_{t-1}) over the packed steps (RecurrentScanFunction "lstm", tuned)

    Inputs: gx (N, 4H) = x W_ih^T + b_ih + b_hh for every packed row, w_hh (4H, H), h0 (B, H), c0 (B, H).
    Output, flat: [outputs (N, H), h_n (B, H), c_n (B, H)] raveled and joined; lstm_scan splits it.
    """
    once_differentiable = True  # (inputs are version-checked: backward reads W_hh)

    @staticmethod
    def forward(ctx, gx, w_hh, h0, c0, *, batch_sizes, reverse):
        xp = ctx.xp
        n_rows, batch, hidden = gx.shape[0], h0.shape[0], h0.shape[1]
        flat = xp.empty((n_rows + 2 * batch) * hidden, dtype=gx.dtype)
        s = _Scan(xp, batch_sizes, reverse, hidden)
        s.out = flat[:n_rows * hidden].reshape(n_rows, hidden)
        # the states live in the output: h and c are updated in place, row block by row block
        s.h = flat[n_rows * hidden:(n_rows + batch) * hidden].reshape(batch, hidden)
        s.c = flat[(n_rows + batch) * hidden:].reshape(batch, hidden)
        s.h[...], s.c[...] = h0, c0
        s.gx, s.w_hh = gx, w_hh
        s.act = xp.empty((n_rows, 4 * hidden), dtype=gx.dtype)   # i, f, g, o of every row
        s.h_prev = xp.empty((n_rows, hidden), dtype=gx.dtype)    # what each step's W_hh product read
        s.c_prev = xp.empty_like(s.h_prev)
        s.tanh_c = xp.empty_like(s.h_prev)
        # sigma(x) = 0.5 + 0.5 tanh(0.5 x): halve the i, f, o columns, one tanh serves all four gates, then halve
        # and add 0.5 to those columns again (g's columns: times 1 plus 0, exactly tanh)
        s.scale = xp.full(4 * hidden, 0.5, dtype=gx.dtype)
        s.scale[2 * hidden:3 * hidden] = 1
        s.shift = xp.full(4 * hidden, 0.5, dtype=gx.dtype)
        s.shift[2 * hidden:3 * hidden] = 0
        _over_sequences(s.forward_share, s)
        ctx.scan = s
        return flat

    @staticmethod
    def backward(ctx, grad):
        s, g = ctx.scan, grad._array
        n_rows, batch, hidden = s.act.shape[0], s.h.shape[0], s.hidden
        s.d_out = g[:n_rows * hidden].reshape(n_rows, hidden)
        s.dh = g[n_rows * hidden:(n_rows + batch) * hidden].reshape(batch, hidden).copy()
        s.dc = g[(n_rows + batch) * hidden:].reshape(batch, hidden).copy()
        s.d_gates, s.dc_gain = s.xp.empty_like(s.act), s.xp.empty_like(s.tanh_c)
        # the factors need no recurrence: over all rows in a few large passes, split over the threads by rows
        _over_rows(s.local_factors, s)
        _over_sequences(s.backward_share, s)
        d_w_hh = product(s.d_gates.T, s.h_prev)  # every step's contribution in one GEMM, on all the BLAS's threads
        return Tensor._make(s.d_gates), Tensor._make(d_w_hh), Tensor._make(s.dh), Tensor._make(s.dc)


class _Scan:
    """One layer-direction's buffers and the two loops over time, for the sequences lo..hi-1 of the batch."""

    def __init__(self, xp, batch_sizes, reverse, hidden):
        self.xp, self.batch_sizes, self.hidden = xp, batch_sizes, hidden
        self.offsets = _offsets(batch_sizes)
        self.steps = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))

    def rows(self, t, lo, hi):
        """The packed rows of sequences lo..hi-1 at step t and their state rows (fewer, or none, once some ended)."""
        n = min(self.batch_sizes[t], hi) - lo
        return slice(self.offsets[t] + lo, self.offsets[t] + lo + n), slice(lo, lo + n)

    def forward_share(self, lo, hi):
        xp, H, scale, shift = self.xp, self.hidden, self.scale, self.shift
        # W_hh^T as a transposed view: OpenBLAS multiplies a few rows by it faster than by a contiguous copy
        w_hh_t = self.w_hh.T
        h, c, act, out, tanh_c = self.h, self.c, self.act, self.out, self.tanh_c
        scratch = xp.empty((hi - lo, H), dtype=act.dtype)
        flipped = _flipped_products(self)
        if flipped:
            gates_t = xp.empty(4 * H * (hi - lo), dtype=act.dtype)  # (4H, n) products, made contiguous below
        for t in self.steps:
            rows, live = self.rows(t, lo, hi)
            if rows.start >= rows.stop:
                continue
            gates = act[rows]
            if flipped:  # gates^T = W_hh h^T, then transposed into the rows
                gates[...] = xp.matmul(self.w_hh, h[live].T, out=gates_t[:4 * H * gates.shape[0]].reshape(4 * H, -1)).T
            else:
                xp.matmul(h[live], w_hh_t, out=gates)
            gates += self.gx[rows]
            gates *= scale                              # i, f, o halved: sigma(x) = 0.5 + 0.5 tanh(x / 2)
            xp.tanh(gates, out=gates)
            gates *= scale
            gates += shift                              # i, f, o: 0.5 tanh(x / 2) + 0.5; g: tanh(x)
            i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
            self.h_prev[rows], self.c_prev[rows] = h[live], c[live]
            c_t, ig = c[live], scratch[:rows.stop - rows.start]
            xp.multiply(f, self.c_prev[rows], out=c_t)  # c = f c_prev + i g
            xp.multiply(i, g, out=ig)
            c_t += ig
            xp.tanh(c_t, out=tanh_c[rows])
            xp.multiply(o, tanh_c[rows], out=out[rows])  # h = o tanh(c)
            h[live] = out[rows]

    def local_factors(self, lo, hi):
        """Rows lo..hi-1 of what backward multiplies by, from the saved activations (no recurrence: all rows at once).

        d_gates holds g i(1-i), c_prev f(1-f), i (1-g^2), tanh(c) o(1-o) (lstm_step_backward's d_i, d_f, d_g per unit
        of dc_total and d_o per unit of dh), and dc_gain o (1 - tanh(c)^2): dc_total = dc + dh dc_gain."""
        xp, H = self.xp, self.hidden
        act, d = self.act[lo:hi], self.d_gates[lo:hi]
        i, f, g, o = (act[:, k * H:(k + 1) * H] for k in range(4))
        d_i, d_f, d_g, d_o = (d[:, k * H:(k + 1) * H] for k in range(4))
        xp.subtract(1, act, out=d)
        d *= act                                    # s (1 - s): the sigmoids' slopes (g's block is replaced next)
        xp.multiply(g, g, out=d_g)
        xp.subtract(1, d_g, out=d_g)                # 1 - g^2: tanh's slope
        d_i *= g
        d_f *= self.c_prev[lo:hi]
        d_g *= i
        d_o *= self.tanh_c[lo:hi]
        gain, tc = self.dc_gain[lo:hi], self.tanh_c[lo:hi]
        xp.multiply(tc, tc, out=gain)
        xp.subtract(1, gain, out=gain)
        gain *= o

    def backward_share(self, lo, hi):
        xp, H, w_hh = self.xp, self.hidden, self.w_hh
        act, d_gates, dh, dc = self.act, self.d_gates, self.dh, self.dc
        scratch = xp.empty((hi - lo, H), dtype=act.dtype)
        flipped = _flipped_products(self)
        if flipped:
            dh_t_buffer = xp.empty(H * (hi - lo), dtype=act.dtype)
        for t in reversed(self.steps):
            rows, live = self.rows(t, lo, hi)
            n = rows.stop - rows.start
            if n <= 0:
                continue
            dh_t, dc_t, x = dh[live], dc[live], scratch[:n]
            dh_t += self.d_out[rows]                    # dh = dL/dout_t + what came back from step t+1
            xp.multiply(dh_t, self.dc_gain[rows], out=x)
            dc_t += x                                   # dc_total = dc + dh o (1 - tanh(c)^2)
            d = d_gates[rows]
            d4 = d.reshape(n, 4, H)
            d4[:, :3] *= dc_t[:, None, :]               # d_i, d_f, d_g = dc_total * their factors
            d4[:, 3] *= dh_t                            # d_o = dh tanh(c) o (1 - o)
            dc_t *= act[rows, H:2 * H]                  # dc_prev = dc_total f
            if flipped:                                 # dh_prev^T = W_hh^T d_gates^T, transposed into the rows
                dh_t[...] = xp.matmul(w_hh.T, d.T, out=dh_t_buffer[:H * n].reshape(H, n)).T
            else:
                xp.matmul(d, w_hh, out=dh_t)            # dh_prev = d_gates W_hh


def _flipped_products(scan):
    """Whether the step's two products run transposed: (4H x H) @ (H x n) instead of (n x H) @ (H x 4H), and
    (H x 4H) @ (4H x n) instead of (n x 4H) @ (4H x H), each result copied back transposed (about 10 us).

    OpenBLAS's kernels split a product of many rows and few columns over its threads better: the LM's (20 x 256)
    @ (256 x 1024) took 84 us and its transpose 40 (SkylakeX kernels, 2 threads; Haswell kernels 86 against 62),
    the backward's 82 against 57. On one BLAS thread the flip gains with SkylakeX kernels and loses with
    Haswell's (107 against 120 us), so it is made only when NumPy's BLAS runs on more than one thread."""
    if scan.xp is not backend.xp:
        return False
    threads = backend.blas_thread_count()
    return threads is not None and threads > 1


def _threads(scan):
    """How many threads share the batch: each share's per-step GEMM must be worth a thread (MIN_SHARE_FLOPS)."""
    batch, hidden = scan.h.shape[0], scan.hidden
    if scan.xp is not backend.xp:  # (GPU arrays: one piece)
        return 1
    return max(1, min(backend.get_num_threads(), batch, batch * hidden * 4 * hidden // MIN_SHARE_FLOPS))


def _over_sequences(share_fn, scan):
    """share_fn(lo, hi) over the batch: in one piece, or one share of sequences per thread on a one-thread BLAS."""
    threads, batch = _threads(scan), scan.h.shape[0]
    if threads <= 1:
        share_fn(0, batch)
        return
    backend.parallel_ranges(share_fn, batch, threads, one_blas_thread=True)


def _over_rows(fn, scan):
    """fn(lo, hi) over all packed rows, one block of rows per thread (elementwise work: the BLAS is not involved)."""
    backend.parallel_ranges(fn, scan.act.shape[0], _threads(scan))


def lstm_scan(gx, w_hh, h0, c0, *, batch_sizes, reverse=False):
    """One direction of one LSTM layer (no projection) over packed rows: returns (outputs (N, H), h_n, c_n).

    gx already holds x W_ih^T + b_ih + b_hh. Same contract as rnn.recurrent_scan(..., mode="lstm").
    With more than one thread (backend.set_num_threads) and a large enough batch (MIN_SHARE_FLOPS), the batch
    is split over the threads (see the module docstring).
    """
    flat = LSTMScanFunction.apply(gx, w_hh, h0, c0, batch_sizes=tuple(int(b) for b in batch_sizes),
                                  reverse=reverse)
    n_rows, batch, hidden = gx.shape[0], h0.shape[0], h0.shape[1]
    out = flat[:n_rows * hidden].reshape(n_rows, hidden)
    h_n = flat[n_rows * hidden:(n_rows + batch) * hidden].reshape(batch, hidden)
    c_n = flat[(n_rows + batch) * hidden:].reshape(batch, hidden)
    return out, h_n, c_n
