"""The pools F.max_pool2d / F.avg_pool2d (nn.MaxPool2d, nn.AvgPool2d) run: pool.py's MaxPool2dFunction and
AvgPool2dFunction, their batch split over the threads.

Read pool.py first: the running maximum (or sum) over the kernel taps, the backward that routes each
gradient to its window's winner (or spreads it over the window). Every sample (every leading index) is
pooled on its own, so a large input is cut into one share of samples per thread (backend.parallel_ranges;
NumPy's ufuncs release the GIL): the forward runs the lesson's forward on each share (the max-pool finds
its argmax with arithmetic instead of `where`: see _max_and_argmax), the backward the lesson's loop on
each share's slice of the gradient. Small inputs and GPU arrays take the lesson's code as it is (the
max-pool's forward keeps its arithmetic argmax on the CPU at any size). tests/ops/test_pool_fast.py holds
each pair equal.
"""
from .. import backend
from ..autograd import grad_mode
from ..tensor import Tensor
from . import pool as lesson
from .pool import AvgPool2dFunction, MaxPool2dFunction, Windows

xp = backend.xp


class _Share:
    """What the lesson's forward records on its ctx, for one share of the batch (the average pool's)."""

    def __init__(self, xp):
        self.xp = xp


class FastMaxPool2dFunction(MaxPool2dFunction):
    """y = max over each window;  dL/dx = dL/dy at the window's argmax, 0 elsewhere   (MaxPool2dFunction, threaded)"""

    @staticmethod
    def forward(ctx, x, windows, find_argmax=True):
        """find_argmax=False: no backward will come (no_grad, or an input without grad): the maximum alone."""
        if ctx.xp is not xp:
            return MaxPool2dFunction.forward(ctx, x, windows)
        taps = windows.kernel[0] * windows.kernel[1]
        best = ctx.xp.empty(x.shape[:-2] + windows.out, dtype=x.dtype)
        arg = ctx.xp.empty(best.shape, dtype=xp.uint8 if taps <= 256 else xp.int32) if find_argmax else None

        def pool(lo, hi):  # samples lo..hi-1
            _max_and_argmax(x[lo:hi], windows, best[lo:hi], None if arg is None else arg[lo:hi])
        backend.parallel_ranges(pool, x.shape[0], threads=None if _threaded(ctx.xp, x) else 1)
        ctx.windows, ctx.arg = windows, arg
        return best

    @staticmethod
    def backward(ctx, grad):
        if not _threaded(ctx.xp, grad._array):
            return MaxPool2dFunction.backward(ctx, grad)
        windows, arg, g = ctx.windows, ctx.arg, grad._array
        dxpad = ctx.xp.zeros(tuple(ctx.inputs[0].shape[:-2]) + windows.padded, dtype=g.dtype)

        def route(lo, hi):  # the lesson's loop on samples lo..hi-1
            for tap, key in windows.taps():
                if windows.overlapping:
                    dxpad[lo:hi][key] += g[lo:hi] * (arg[lo:hi] == tap)
                else:
                    ctx.xp.multiply(g[lo:hi], arg[lo:hi] == tap, out=dxpad[lo:hi][key])
        backend.parallel_ranges(route, g.shape[0])
        return Tensor._make(windows.crop(dxpad))


class FastAvgPool2dFunction(AvgPool2dFunction):
    """y = sum over each window / divisor;  dL/dx = dL/dy / divisor over the window   (AvgPool2dFunction, threaded)

    Windows that tile the input (LeNet's 2x2, stride 2) make the pool a matrix product (see TiledRows)."""

    @staticmethod
    def forward(ctx, x, windows, count_include_pad, divisor_override):
        tiled = TiledRows.of(ctx.xp, x, windows, divisor_override)
        if tiled is not None:
            out = tiled.pool(x)
            if out is not None:  # (None: a NaN or an infinity met, which the product would spread over its row)
                ctx.windows, ctx.divisor, ctx.tiled = windows, tiled.divisor, tiled
                return out
        if not _threaded(ctx.xp, x) or x.dtype.kind != "f" or windows.tiles_with_large_kernel():
            return AvgPool2dFunction.forward(ctx, x, windows, count_include_pad, divisor_override)
        out = ctx.xp.empty(x.shape[:-2] + windows.out, dtype=x.dtype)
        shares = {}

        def pool(lo, hi):  # the lesson's forward on samples lo..hi-1
            shares[lo] = _Share(ctx.xp)
            out[lo:hi] = AvgPool2dFunction.forward(shares[lo], x[lo:hi], windows, count_include_pad, divisor_override)
        backend.parallel_ranges(pool, x.shape[0])
        ctx.windows, ctx.divisor = windows, shares[0].divisor  # (the divisor depends on the geometry alone)
        return out

    @staticmethod
    def backward(ctx, grad):
        windows, g = ctx.windows, grad._array
        tiled = getattr(ctx, "tiled", None)
        if tiled is not None and g.shape == tiled.out_shape and not grad_mode.is_grad_enabled():
            dx = tiled.spread(g)
            if dx is not None:
                return Tensor._make(dx)
        if not _threaded(ctx.xp, g) or windows.tiles_with_large_kernel():
            return AvgPool2dFunction.backward(ctx, grad)
        dxpad = ctx.xp.zeros(tuple(ctx.inputs[0].shape[:-2]) + windows.padded, dtype=g.dtype)

        def spread(lo, hi):  # the lesson's loop on samples lo..hi-1
            share = g[lo:hi] / ctx.divisor
            for _, key in windows.taps():
                if windows.overlapping:
                    dxpad[lo:hi][key] += share
                else:  # every input element is in at most one window: write instead of add
                    dxpad[lo:hi][key] = share
        backend.parallel_ranges(spread, g.shape[0])
        return Tensor._make(windows.crop(dxpad))


class TiledRows:
    """An average pool whose windows tile the input exactly is a linear map of each band of kh input rows:

        x (..., H, W) seen as rows (..., OH, kh*W)  @  P (kh*W, OW)  =  the windows' averages (..., OH, OW)

    P[i*W + q, ow] = 1/divisor where column q lies in window ow (q // kw == ow), for every kernel row i. One
    GEMM reads each input element once (the lesson's kh*kw strided passes read it kh*kw times, in short
    strided runs: LeNet's first pool, two threads, 0.31 -> 0.23 ms forward, 0.74 -> 0.12 ms backward). The
    backward is the transposed product: dL/dx rows = dL/dy rows @ P^T, each input's one share of its window's
    gradient. The values are the lesson's up to rounding (the BLAS picks the order of the additions, and
    multiplies by 1/divisor where the lesson divides). Rows are split over the threads, the BLAS on one
    thread. A NaN or an infinity times P's zeros would spread over its whole row: each share checks what it
    read or wrote, and the lesson's code runs instead. The host's float32 and float64 only."""

    def __init__(self, shape, windows, divisor, dtype):
        (kh, kw), (oh, ow) = windows.kernel, windows.out
        self.band, self.out_w = kh * shape[-1], ow
        self.out_shape, self.in_shape = shape[:-2] + (oh, ow), shape
        self.windows = windows
        self.divisor = dtype.type(divisor)  # what the lesson's backward divides by, should it run
        self.matrix = _band_matrix(kh, kw, shape[-1], ow, self.divisor)

    @staticmethod
    def tiles(array_xp, shape, dtype, windows):
        """Whether the windows tile an array of this shape exactly, on the host, in float32/64."""
        (h, w), (kh, kw), (oh, ow) = shape[-2:], windows.kernel, windows.out
        return (array_xp is xp and dtype.char in "fd" and windows.kernel == windows.stride
                and windows.padding == (0, 0) and windows.dilation == (1, 1) and (h, w) == (oh * kh, ow * kw)
                and not windows.tiles_with_large_kernel())  # (large tiles: the lesson's one reshaped sum)

    @staticmethod
    def of(array_xp, x, windows, divisor_override=None):
        """The tiling's rows for x, or None when the windows do not tile it (padding, overlap, a remainder)."""
        if not x.flags.c_contiguous or not TiledRows.tiles(array_xp, x.shape, x.dtype, windows):
            return None
        kh, kw = windows.kernel
        return TiledRows(x.shape, windows, divisor_override or kh * kw, x.dtype)  # (no padding: the whole window)

    # One block of samples at a time, in the calling thread (a fused convolution's block, still in cache:
    # conv_fast.FastConv2dReLUAvgPoolFunction). A NaN or an infinity falls back to the lesson's formula, per block.
    def pool_block(self, x, out):
        """out (n, C, OH, OW) = the averages of x's (n, C, H, W) windows; both contiguous."""
        with xp.errstate(invalid="ignore", over="ignore"):
            xp.matmul(x.reshape(-1, self.band), self.matrix, out=out.reshape(-1, self.out_w))
            finite = _sum_is_finite(out)
        if not finite:
            tiles = self.windows.as_tiles(x)  # (n, C, OH, kh, OW, kw)
            xp.divide(tiles.sum(axis=(-3, -1)), self.divisor, out=out)

    def spread_block(self, g, out=None):
        """dL/dx (n, C, H, W) from dL/dy (n, C, OH, OW): each window's gradient / divisor over the window; into
        `out` (contiguous) when given. Columns past the windows (rows wider than the tiles) get zeros."""
        dx = xp.empty(g.shape[:-2] + self.in_shape[-2:], dtype=g.dtype) if out is None else out
        with xp.errstate(invalid="ignore", over="ignore"):
            xp.matmul(g.reshape(-1, self.out_w), self.matrix.T, out=dx.reshape(-1, self.band))
            finite = _sum_is_finite(g)
        if not finite:
            dx[...] = 0
            self.windows.as_tiles(dx)[...] = (g / self.divisor)[..., :, None, :, None]
        return dx

    def pool(self, x):
        """The averages, or None when x holds a NaN or an infinity."""
        out = xp.empty(self.out_shape, dtype=x.dtype)
        finite = _rows_product(x.reshape(-1, self.band), self.matrix, out.reshape(-1, self.out_w), check_out=True)
        return out if finite else None

    def spread(self, g):
        """dL/dx, or None when dL/dy holds a NaN or an infinity."""
        dx = xp.empty(self.in_shape, dtype=g.dtype)
        finite = _rows_product(xp.ascontiguousarray(g).reshape(-1, self.out_w), self.matrix.T,
                               dx.reshape(-1, self.band), check_out=False)
        return dx if finite else None


def _sum_is_finite(a):
    """False when `a` holds a NaN or an infinity, in one NumPy call (a thread's share hands the GIL over at each:
    docs/PERFORMANCE.md, round 9); also False when finite values sum past float's range, where the lesson's
    formula then runs, needlessly but correctly."""
    return bool(xp.isfinite(xp.add.reduce(a, axis=None)))


_band_matrices = {}  # (kh, kw, W, OW, divisor, dtype) -> P


def _band_matrix(kh, kw, width, out_w, divisor):
    key = (kh, kw, width, out_w, divisor, divisor.dtype)
    if key not in _band_matrices:
        matrix = xp.zeros((kh, width, out_w), dtype=divisor.dtype)
        for o in range(out_w):
            matrix[:, o * kw:(o + 1) * kw, o] = 1 / divisor
        _band_matrices[key] = matrix.reshape(kh * width, out_w)
    return _band_matrices[key]


def _rows_product(a, b, out, check_out):
    """out = a @ b, the rows of a split over the threads, the BLAS on one thread in each; returns whether the
    rows were finite: each share checks its output (check_out) or its input while they are still in cache.

    One BLAS thread: a product with a matrix this narrow gains little from the BLAS's threads, whose worker
    then spins on a core for 0.1 s (see backend.pool_in_use): the convolutions around the pool lost 60% of
    their speed to it."""
    finite = []

    def rows(lo, hi):
        with xp.errstate(invalid="ignore", over="ignore"):  # (a NaN or an infinity met: the caller falls back)
            xp.matmul(a[lo:hi], b, out=out[lo:hi])
            finite.append(_sum_is_finite(out[lo:hi] if check_out else a[lo:hi]))
    if a.size >= backend.PARALLEL_MIN_ELEMENTS and backend.get_num_threads() > 1:
        backend.parallel_ranges(rows, a.shape[0], one_blas_thread=True)
    else:
        with backend.blas_on_one_thread():
            rows(0, a.shape[0])
    return all(finite)


def _max_and_argmax(x, windows, best, arg):
    """The lesson's running maximum into `best`, and into `arg` (unless None) the first tap (row-major) holding it.

    The lesson finds the argmax with `where(tap == best, k, arg)` per tap; where's choice between two arrays
    follows a mask that changes at random, and costs 5.7x this (the cnn's max-pool, one thread: 3.9 against
    0.69 ms). Here the same index is arithmetic: with ne_k = (tap_k != best), the first equal tap is
    ne_0 * (1 + ne_1 * (1 + ... * (1 + ne_{K-2}))): 0 when tap 0 holds the max, K-1 when no tap before the
    last does (a NaN maximum included, which no tap equals: the lesson's choice too)."""
    xpad = windows.pad(x, -xp.inf)  # a -inf border never wins the max
    taps = [xpad[key] for _, key in windows.taps()]
    best[...] = taps[0]
    for v in taps[1:]:
        xp.maximum(best, v, out=best)
    if arg is None:
        return
    arg[...] = 0
    for v in reversed(taps[:-1]):  # from the inside out: arg = (1 + arg) * ne_k
        arg += 1
        arg *= v != best


def _threaded(array_xp, array):
    """Worth splitting: a large host array of several samples, and more than one thread to split it over."""
    return (array_xp is xp and array.size >= backend.PARALLEL_MIN_ELEMENTS and array.shape[0] > 1
            and backend.get_num_threads() > 1)


def max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=False):
    """On normalised (h, w) tuples; x is (N, C, H, W) or (C, H, W). With indices: the lesson's op."""
    if return_indices:
        return lesson.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices)
    find_argmax = grad_mode.is_grad_enabled() and x.requires_grad  # (the argmax is for backward alone)
    return FastMaxPool2dFunction.apply(x, windows=Windows(x.shape, kernel, stride, padding, dilation, ceil_mode),
                                       find_argmax=find_argmax)


def avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """On normalised (h, w) tuples; x is (N, C, H, W) or (C, H, W)."""
    windows = Windows(x.shape, kernel, stride, padding, (1, 1), ceil_mode)
    return FastAvgPool2dFunction.apply(x, windows=windows, count_include_pad=count_include_pad,
                                       divisor_override=divisor_override)
