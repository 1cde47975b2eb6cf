"""The convolutions F.conv2d (conv1d rides on it) and F.conv_transpose2d run: conv.py's im2col, tuned.

Read conv.py first: the same products, written plainly; tests/ops/test_conv_fast.py holds the two equal.
Unfold every kernel-sized window of the padded input into one column of a matrix `cols` of shape
(C*kh*kw, positions); then

    out   = W (O, C*kh*kw) @ cols                      one BLAS GEMM
    dW    = dout (O, positions) @ cols^T               one GEMM
    dcols = W^T @ dout, folded back onto the image     col2im: one strided add per kernel tap

Sample by sample, for a layer whose product per sample is small (m*n*k up to 100^3: the first layers, the
cnn's 32 x 676 outputs from 9 taps, LeNet's 6 x 784 from 25, and LeNet's conv2, 16 x 136 from 150): each
sample is unfolded on its own, into cols_s (C*kh*kw, positions), and the products are one NumPy call over a
block of samples, (O, K) @ (n, K, positions), which OpenBLAS runs sample after sample with its small-matrix
kernels: they read the operands where they lie, where a large product first copies them into packed panels
(at these sizes the copy costs as much as the arithmetic). The samples are split over the thread pool.
Large products per sample (the cnn's conv2) keep the one-matrix layout below. The backward of either, in
the flat layout, goes by kernel rows (ROW_TAPS): with G = dL/dout's rows shifted by each of the kw width
taps (kw long copies per block, rows (j, o)),

    dL/dx rows (c, i) = W as (C*kh, kw*O) @ G           col2im: kh long adds per channel, not kh*kw
    dL/dW             = x's rows (c, i) @ G^T            x's rows: one run per channel and kernel row

so neither product needs the (C*kh*kw, positions) columns, and col2im has kw times fewer runs to add.

The batch split over the threads. Samples never meet in a convolution except in the weight gradient, a
sum over them. So with more than one thread (backend.get_num_threads()) a large batch is cut into one
share of samples per thread, and each thread runs the whole pipeline on its share, block by block: im2col,
the GEMM and the copy of the output in forward; in backward the weight gradient's GEMM into its own
partial sum, the input gradient's GEMM and the col2im adds. The partial sums are added at the end, in the
order of the samples (the same result whichever thread finished first). Meanwhile NumPy's BLAS runs on
one thread (backend.parallel_ranges(..., one_blas_thread=True)): each GEMM runs on its share's core, and
no BLAS call forks and joins threads per block (on the 2-core machine each fork and join woke a thread
for a few milliseconds of work, and OpenBLAS's worker then spun for 0.1 s on the core the next copy needed).
The products around the convolutions keep to one BLAS thread as well while the threads are in use
(`backend.pool_in_use`, `matmul.product`). One thread, small batches and the GPU take one share of all
samples; a nested split inside a share (the threaded copies, _long_product) runs in its thread alone.

Fused with what follows. nn.Sequential runs a Conv2d and the ReLU after it as FastConv2dReLUFunction, and with an
AvgPool2d whose windows tile the output as FastConv2dReLUAvgPoolFunction (nn/modules/fusion.py): the same
pipelines, with each block's ReLU (and pool) applied while the block is in cache, and backward's mask (and the
pool's spread) applied as each block of dL/dout is laid out.

The unfolding never loops over pixels: `as_strided` describes all windows as a view of the padded
input (no copy), and a single `ascontiguousarray` materialises the columns. All of it is written with
the array module of the data (ctx.xp): NumPy on the CPU, CuPy on the GPU, where the same views work.

Blocks of samples. The columns are C*kh*kw times larger than the input (LeNet's first layer: 25x).
Built for the whole batch they overflow the CPU caches, and every GEMM then waits on memory. So the
batch is processed in blocks of samples whose columns fit in about BLOCK_BYTES: one GEMM per block
and per product, on data that is still in cache. The columns are never kept: backward rebuilds each
block's columns, which is cheaper than reading them back from memory and keeps peak memory low.

Stride 1 (the common case) uses a flat trick: read the padded image of width Wp as one long row.
The window at output (oh, ow) starts at flat offset oh*Wp + ow, so the kernel tap (i, j) reads the
contiguous run x_flat[i*Wp + j : i*Wp + j + L], L = (OH-1)*Wp + OW. The positions with ow >= OW are
wrapped-around garbage: they cost a few extra columns, are dropped from the output, and get zero
gradient. In exchange every copy and every col2im add moves long contiguous runs instead of rows of OW.
"""
from .. import backend
from ..tensor import Tensor
from .common import NamedFunction, autocast_inputs
from .matmul import product
from .conv import conv_out_size
from .elementwise_fast import relu_
from .pool import Windows
from .pool_fast import TiledRows, avg_pool2d

xp = backend.xp

#: target size of one block's im2col columns (see the module docstring). Smaller blocks stay in faster
#: caches (4 MiB is best on one thread), but every block is a BLAS call that must wake its threads, which
#: is costly when other processes share the cores: 8 MiB is the measured compromise on a 2-core machine.
BLOCK_BYTES = 8 * 2 ** 20
#: the sample-by-sample pipeline's columns (cols_s above) in blocks of about this size (measured on LeNet's conv2
#: at two threads: blocks of 12 samples 1.4 ms forward, 24 1.0 ms, 48 0.87 ms; the cnn's conv1 is one block)
FORWARD_BLOCK_BYTES = 4 * 2 ** 20
#: a convolution runs sample by sample (see above) when OpenBLAS multiplies each sample's product with its
#: small-matrix kernels, which skip packing the operands: m*n*k up to 100^3 (its SMALL_MATRIX_OPT; measured,
#: LeNet's conv2 forward product W (16 x 150) @ cols_s (150 x 136): 209 GFLOP/s a sample, 137-160 as one
#: matrix of 8-96 samples; its input gradient's W^T @ dL/dout_s 217 against 170-180) ...
PER_SAMPLE_MAX_PRODUCT = 100 ** 3
#: ... and the product is not so small that one BLAS call per sample costs more than it computes
PER_SAMPLE_MIN_PRODUCT = 32 * 1024
#: OpenBLAS runs a product on the calling thread below m*n*k = SMP_THRESHOLD_MIN (65536) *
#: GEMM_MULTITHREAD_THRESHOLD (4), its interface/gemm.c (_long_product's chunks stay below it)
BLAS_ONE_THREAD_PRODUCT = 4 * 65536
#: the backward of a flat layout (stride 1, groups 1) by kernel rows (see the docstring, and width_shifts,
#: height_rows, add_row_taps_ and their _matrix forms): the products sum the kw width taps, so col2im adds kh
#: runs per channel, not kh*kw, and the weight's gradient reads x's rows instead of its columns (LeNet's conv2,
#: one thread: forward + backward 6.5 -> 5.1 ms; the LeNet step at two threads 10.06 -> 9.22 ms; the cnn's
#: step 28.6 -> 27.2 ms). False: the columns, as every other layout (W^T @ dL/dout folded back tap by tap,
#: dL/dout @ cols^T)
ROW_TAPS = True
#: the input gradient's columns W^T @ dL/dout are made and folded back (col2im) in sub-blocks of this size:
#: the col2im adds then read columns still in cache (measured at one thread, CPU clock, alternating: cnn conv2's
#: forward + backward 63.1 -> 61.8 ms, LeNet's conv1 7.6 -> 7.5 ms; a small gain, in every repeat)
DCOLS_BLOCK_BYTES = 4 * 2 ** 20
#: convolutions split their batch over the threads, each thread running the whole pipeline on its share with the
#: BLAS on one thread (see the module docstring); False: one pipeline, the BLAS and the copies threaded inside it
SAMPLE_SPLIT = True
#: the blocks of one thread's share when the batch is split (both threads' blocks are in cache at once)
SPLIT_BLOCK_BYTES = 4 * 2 ** 20
#: on the GPU there is no cache to fit and every block costs kernel launches: far larger blocks
GPU_BLOCK_BYTES = 512 * 2 ** 20


class UnfoldViews:
    """Where every kernel tap reads in a padded (N, C, Hp, Wp) image: the views behind im2col and col2im.

    Output positions are described by `pos_shape` / `pos_strides` (in elements of the padded image):
    (L,) with stride 1 in the flat stride-1 layout, (OH, OW) with strides (sh*Wp, sw) otherwise.
    `xp` is the array module of the images (NumPy or CuPy).
    """

    def __init__(self, padded_shape, kernel, stride, dilation, out_hw, xp, flat=True):
        self.xp = xp
        self.as_strided = xp.lib.stride_tricks.as_strided
        self.n, self.c, self.hp, self.wp = padded_shape
        self.kh, self.kw = kernel
        self.dh, self.dw = dilation
        self.oh, self.ow = out_hw
        self.sh, self.sw = stride
        self.flat = stride == (1, 1) and flat
        if self.flat:
            self.pos_shape = ((self.oh - 1) * self.wp + self.ow,)
            self.pos_strides = (1,)
            self.row = self.wp  # distance between output rows in the position layout
        else:
            self.pos_shape = (self.oh, self.ow)
            self.pos_strides = (stride[0] * self.wp, stride[1])
            self.row = self.ow
        self.positions = 1
        for s in self.pos_shape:
            self.positions *= s

    def with_batch(self, n):
        """The same geometry for a block of n samples."""
        block = object.__new__(UnfoldViews)
        block.__dict__.update(self.__dict__)
        block.n = n
        return block

    def blocks(self, itemsize, budget=None, positions=None):
        """Slices of the batch whose columns take about BLOCK_BYTES (or `budget`) each, with their geometry.

        `positions`: columns per sample (default: the layout's, garbage included)."""
        per_sample = max(1, self.c * self.kh * self.kw * (positions or self.positions) * itemsize)
        budget = budget or (BLOCK_BYTES if self.xp is xp else GPU_BLOCK_BYTES)
        size = max(1, min(self.n, budget // per_sample))
        for start in range(0, self.n, size):
            stop = min(start + size, self.n)
            yield slice(start, stop), self.with_batch(stop - start)

    def columns(self, xpad):
        """im2col: (n, C, Hp, Wp) contiguous -> (C*kh*kw, n*positions), one copy."""
        e = xpad.itemsize
        image, channel = self.c * self.hp * self.wp, self.hp * self.wp
        taps = self.as_strided(xpad, (self.c, self.kh, self.kw, self.n) + self.pos_shape,
                               tuple(e * s for s in (channel, self.dh * self.wp, self.dw, image) + self.pos_strides))
        if not self.threaded(taps.size):
            return self.xp.ascontiguousarray(taps).reshape(self.c * self.kh * self.kw, self.n * self.positions)
        cols = self.xp.empty(taps.shape, dtype=taps.dtype)  # the same copy, its samples split over the threads
        backend.parallel_ranges(lambda lo, hi: self.xp.copyto(cols[:, :, :, lo:hi], taps[:, :, :, lo:hi]), self.n)
        return cols.reshape(self.c * self.kh * self.kw, self.n * self.positions)

    def sample_columns(self, xpad):
        """im2col per sample: (n, C, Hp, Wp) contiguous -> (n, C*kh*kw, positions), one copy.

        W @ cols[s] is then sample s's output (O, positions): its rows in the (N, O, OH, OW) order."""
        image, channel = self.c * self.hp * self.wp, self.hp * self.wp
        taps = self.view(xpad, 0, (self.n, self.c, self.kh, self.kw) + self.pos_shape,
                         (image, channel, self.dh * self.wp, self.dw) + self.pos_strides)
        return self.xp.ascontiguousarray(taps).reshape(self.n, self.c * self.kh * self.kw, self.positions)

    @property
    def exact(self):
        """Whether every position is an output (no garbage columns): (n, O, positions) is then (n, O, OH, OW)."""
        return self.positions == self.oh * self.ow

    def sample_image_view(self, rows, channels):
        """(n, channels, positions or more), contiguous rows, seen as the (n, channels, OH, OW) image (dropping
        garbage positions)."""
        sample, channel, e = rows.strides
        return self.as_strided(rows, (self.n, channels, self.oh, self.ow), (sample, channel, self.row * e, e))

    def to_sample_matrix(self, image, relu_output=None):
        """(n, O, OH, OW) -> (n, O, positions), zero at the flat layout's garbage positions (and, with a fused
        ReLU's output given, wherever that output is not positive: see `place`)."""
        if self.exact:
            image = image if relu_output is None else self.xp.multiply(image, relu_output > 0)
            return self.xp.ascontiguousarray(image).reshape(self.n, image.shape[1], self.positions)
        rows = self.xp.zeros((self.n, image.shape[1], self.positions), dtype=image.dtype)
        self.place(self.sample_image_view(rows, image.shape[1]), image, relu_output)
        return rows

    def place(self, target, grad, relu_output=None):
        """target[...] = dL/dout; after a fused ReLU, dL/dout * (relu_output > 0): the gradient of the convolution's
        own output (elementwise.py's ReLUFunction.backward), made while the block is copied anyway."""
        if relu_output is None:
            target[...] = grad
        else:
            self.xp.multiply(grad, relu_output > 0, out=target)

    # The backward by kernel rows (ROW_TAPS). Its arrays come in two layouts: samples first, (n, rows, Q), for
    # the sample-by-sample pipeline, or samples side by side, (rows, n*Q), for the one-matrix one; Q = OH*Wp.
    def to_rows(self, image, samples_first, relu_output=None):
        """(n, O, OH, OW) -> dL/dout's rows, each output row at its place in Q = OH*Wp positions, zeros elsewhere:
        to_sample_matrix's (n, O, positions) followed by the kernel's reach, (kw-1)*dw zeros (stride 1, flat).

        On the host the rows lie in a buffer that starts with (kw-1)*dw zeros more, which width_shifts reads."""
        channels, reach = image.shape[1], self.oh * self.wp
        lead = self._shift_reach() if self.xp is xp else 0
        buffer = self.xp.zeros(lead + self.n * channels * reach, dtype=image.dtype)
        if samples_first:
            rows = self.view(buffer, lead, (self.n, channels, reach), (channels * reach, reach, 1))
            strides = (channels * reach, reach, self.wp, 1)
        else:
            rows = self.view(buffer, lead, (channels, self.n * reach), (self.n * reach, 1))
            strides = (reach, self.n * reach, self.wp, 1)
        self.place(self.view(buffer, lead, image.shape, strides), image, relu_output)
        return rows

    def rows_from_pool(self, g, pooling, relu_output, with_lead):
        """dL/dout's flat rows (n, O, OH*Wp) for FastConv2dReLUAvgPoolFunction's flat layout (host): the pool's
        transposed product spreads dL/dy (n, O, PH, PW) over its windows straight into them (zeros at the garbage
        columns, which its band matrix leaves out), then they are kept where the ReLU's output, the same flat
        rows, is positive. with_lead: preceded in their buffer by the zeros width_shifts reads, as to_rows'."""
        channels, reach = g.shape[1], self.oh * self.wp
        lead = self._shift_reach() if with_lead else 0
        buffer = xp.empty(lead + self.n * channels * reach, dtype=g.dtype)
        buffer[:lead] = 0
        rows = self.view(buffer, lead, (self.n, channels, reach), (channels * reach, reach, 1))
        pooling.spread_block(g, out=rows.reshape(self.n, channels, self.oh, self.wp))
        xp.multiply(rows, relu_output.reshape(rows.shape) > 0, out=rows)
        return rows

    def _shift_reach(self):
        """How far the widest width tap shifts: (kw-1)*dw, which is also how many zeros end every row of to_rows
        (the flat layout's garbage positions, Wp - OW of them at stride 1)."""
        return (self.kw - 1) * self.dw

    def width_shifts(self, rows, samples_first):
        """to_rows's (n, O, Q) -> (n, kw*O, Q), or (O, n*Q) -> (kw*O, n*Q): copy j holds the rows shifted right by
        j*dw. The shift runs over a whole sample's (O, Q) block, or the whole matrix, at once (a row's last j*dw
        positions, zeros past its outputs, move to the start of the next row).

        On the host all kw copies are one: a view of to_rows's buffer whose tap axis steps back dw elements. Copy
        j of block b starts j*dw before the block, where the zeros that end the previous block lie (or, for the
        first block, the zeros to_rows put before it). One NumPy call, not 2*kw: each call of a thread's share
        hands the GIL over (docs/PERFORMANCE.md, round 9)."""
        blocks = rows.reshape(self.n, -1) if samples_first else rows.reshape(1, -1)
        size = blocks.shape[1]
        if self.xp is xp:
            taps = self.view(rows.base, self._shift_reach(), (blocks.shape[0], self.kw, size), (size, -self.dw, 1))
            shifted = xp.ascontiguousarray(taps)
        else:
            shifted = self.xp.empty((blocks.shape[0], self.kw, size), dtype=rows.dtype)
            for j in range(self.kw):
                shift = j * self.dw
                shifted[:, j, :shift] = 0
                shifted[:, j, shift:] = blocks[:, :size - shift]
        o, reach = rows.shape[-2] if samples_first else rows.shape[0], self.oh * self.wp
        return shifted.reshape(self.n, self.kw * o, reach) if samples_first else shifted.reshape(self.kw * o, -1)

    def height_rows(self, xpad, samples_first):
        """(n, C, Hp, Wp) contiguous -> x's rows (c, i): channel c's flat image from kernel row i on, OH*Wp
        positions long (the columns of kernel row i before its width taps). Samples side by side: (C*kh, n*Q),
        one run a row. Samples first, for the products sample by sample: (n, Q, C*kh), positions first, so that
        the weight's gradient shifted_s (kw*O, Q) @ rows_s (Q, C*kh) reads both operands along their rows
        (measured on LeNet's conv2: the copy costs 0.1 ms more than (n, C*kh, Q), the product 0.16 ms less
        than with a transposed operand; the LeNet step 9.06 -> 8.80 ms)."""
        reach, plane = self.oh * self.wp, self.hp * self.wp
        if samples_first:
            rows = self.view(xpad, 0, (self.n, reach, self.c, self.kh),
                             (self.c * plane, 1, plane, self.dh * self.wp))
            return self.xp.ascontiguousarray(rows).reshape(self.n, reach, self.c * self.kh)
        rows = self.view(xpad, 0, (self.c, self.kh, self.n, reach), (plane, self.dh * self.wp, self.c * plane, 1))
        return self.xp.ascontiguousarray(rows).reshape(self.c * self.kh, self.n * reach)

    def add_row_taps_(self, dxpad, taps, samples_first):
        """col2im by kernel rows: dxpad (n, C, Hp, Wp) += taps, rows (c, i), (n, C*kh, Q) or (C*kh, n*Q): kernel
        row i's Q positions added at its offset i*dh*Wp (each row already sums its kw width taps)."""
        image, channel, reach = self.c * self.hp * self.wp, self.hp * self.wp, self.oh * self.wp
        rows = taps.reshape(self.n, self.c, self.kh, reach) if samples_first else \
            taps.reshape(self.c, self.kh, self.n, reach).transpose(2, 0, 1, 3)  # (n, C, kh, Q) either way
        for i in range(self.kh):
            window = self.view(dxpad, i * self.dh * self.wp, (self.n, self.c, reach), (image, channel, 1))
            window += rows[:, :, i]

    def add_sample_columns_(self, dxpad, dcols):
        """col2im per sample: dxpad (n, C, Hp, Wp) += the columns (n, C*kh*kw, positions) at their windows."""
        image, channel = self.c * self.hp * self.wp, self.hp * self.wp
        cols = dcols.reshape((self.n, self.c, self.kh, self.kw) + self.pos_shape)
        for i in range(self.kh):
            for j in range(self.kw):
                window = self.view(dxpad, i * self.dh * self.wp + j * self.dw, (self.n, self.c) + self.pos_shape,
                                   (image, channel) + self.pos_strides)
                window += cols[:, :, i, j]

    def view(self, base, offset, shape, strides):
        """A view of the C-contiguous `base` from element `offset`, with strides in elements.

        NumPy's ndarray constructor makes it in 0.25 us (as_strided, a Python function, takes 2 us: the
        sample-by-sample pipeline makes ~30 views a block)."""
        e = base.itemsize
        assert base.flags.c_contiguous  # (strides counted in elements of a contiguous base)
        if self.xp is xp:
            return xp.ndarray(shape, base.dtype, base, offset * e, tuple(e * s for s in strides))
        return self.as_strided(base.reshape(-1)[offset:], shape, tuple(e * s for s in strides))

    def threaded(self, size):
        """Whether a copy of `size` elements goes over the elementwise thread pool (large, on the CPU)."""
        return self.xp is xp and size >= backend.PARALLEL_MIN_ELEMENTS and self.n > 1

    def image_view(self, mat, channels):
        """(channels, n*positions) matrix seen as an (n, channels, OH, OW) image (dropping garbage columns)."""
        e, p = mat.itemsize, self.positions
        return self.as_strided(mat, (self.n, channels, self.oh, self.ow), (e * p, e * self.n * p, e * self.row, e))

    def to_matrix(self, image, relu_output=None):
        """(n, O, OH, OW) -> (O, n*positions), zero at the flat layout's garbage positions (see `place`)."""
        channels = image.shape[1]
        mat = self.xp.zeros((channels, self.n * self.positions), dtype=image.dtype)
        self.place(self.image_view(mat, channels), image, relu_output)
        return mat

    def add_columns_(self, dxpad, dcols):
        """col2im: dxpad (n, C, Hp, Wp) += the columns (C*kh*kw, n*positions) at their windows."""
        e = dxpad.itemsize
        flat = dxpad.reshape(-1)
        image, channel = self.c * self.hp * self.wp, self.hp * self.wp
        shape = (self.n, self.c) + self.pos_shape
        cols = dcols.reshape((self.c, self.kh, self.kw, self.n) + self.pos_shape)

        def add(lo, hi):  # samples lo..hi-1: their windows never overlap another sample's
            for i in range(self.kh):
                for j in range(self.kw):
                    start = i * self.dh * self.wp + j * self.dw
                    window = self.as_strided(flat[start:], shape,
                                             tuple(e * s for s in (image, channel) + self.pos_strides))
                    window[lo:hi] += cols[:, i, j, lo:hi].swapaxes(0, 1)
        backend.parallel_ranges(add, self.n, threads=None if self.threaded(dcols.size) else 1)


def exact_layout_copies_less(column_rows, channels, out_rows):
    """Whether the sample-by-sample pipeline copies less in the exact layout (positions (OH, OW)) than in the flat one.

    Per sample, the flat layout's im2col copies one long run per row of the columns, and then one run per output
    row and channel to drop the garbage; the exact layout's im2col copies one run per row of the columns and
    output row, and its product writes NCHW directly. The cnn's conv1 (9 rows of columns, 32 channels) is
    exact; LeNet's conv1 (25 rows, 6 channels) and conv2 (150, 16) are flat."""
    return column_rows * out_rows <= column_rows + channels * out_rows


def pad_zeros(x, pads_hw):
    """x (N, C, H, W) inside a zero border ((top, bottom), (left, right)); no copy when there is none."""
    (top, bottom), (left, right) = pads_hw
    xp = backend.array_module(x)
    if top == bottom == left == right == 0:
        return xp.ascontiguousarray(x)
    n, c, h, w = x.shape
    out = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def crop(xpad, pads_hw, hw):
    (top, _), (left, _) = pads_hw
    return xpad[:, :, top:top + hw[0], left:left + hw[1]]


def _grouped(matrix, groups):
    """(rows, cols) -> (groups, rows/groups, cols): each group's block of a weight or column matrix."""
    return matrix.reshape(groups, matrix.shape[0] // groups, matrix.shape[1])


def _gemm(a, b, groups):
    """a (R, K) @ b (K, M) block-diagonally over groups: group g multiplies a's g-th row block by b's."""
    if groups == 1:
        return product(a, b)
    out = product(_grouped(a, groups), _grouped(b, groups))
    return out.reshape(groups * out.shape[1], out.shape[2])


def _gemm_per_sample(w, cols, groups, out):
    """out (n, O, P) = w (O, K) @ cols (n, K, P) for every sample, block-diagonally over groups; one call.

    float16 on the CPU is multiplied in float32 and rounded once, as `product` does."""
    n, k, p = cols.shape
    if groups > 1:  # (G, O/G, K/G) @ (n, G, K/G, P) -> (n, G, O/G, P): the same memory as (n, O, P)
        w, cols = _grouped(w, groups), cols.reshape(n, groups, k // groups, p)
        out = out.reshape(n, groups, w.shape[1], p)
    xp = backend.array_module(cols)
    if cols.dtype == xp.float16 and not backend.on_device(cols):
        out[...] = xp.matmul(w.astype(xp.float32), cols.astype(xp.float32))
    else:
        xp.matmul(w, cols, out=out)


def _columns_grad_per_sample(w, g, groups):
    """w (O, K)^T @ g (n, O, P) for every sample, block-diagonally over groups: (n, K, P), one call."""
    n, o, p = g.shape
    xp = backend.array_module(g)
    half = g.dtype == xp.float16 and not backend.on_device(g)
    if half:
        w, g = w.astype(xp.float32), g.astype(xp.float32)
    if groups == 1:
        out = xp.matmul(w.T, g)
    else:  # (G, K/G, O/G) @ (n, G, O/G, P) -> (n, G, K/G, P)
        out = xp.matmul(_grouped(w, groups).transpose(0, 2, 1), g.reshape(n, groups, o // groups, p))
    out = out.reshape(n, -1, p)
    return out.astype(xp.float16) if half else out


def _rows_grad(a, b, sum_samples=False):
    """a @ b for the products by kernel rows, one NumPy call: W as (C*kh, kw*O) @ the shifted rows, for every
    sample (n, kw*O, Q) or once (kw*O, n*Q) (the input's gradient); the shifted rows (n, kw*O, Q) @ x's rows
    (n, Q, C*kh) for every sample, summed over them (the weight's). float16 on the CPU: in float32, as
    `product`, rounded once at the end."""
    xp = backend.array_module(b)
    half = b.dtype == xp.float16 and not backend.on_device(b)
    out = xp.matmul(a.astype(xp.float32), b.astype(xp.float32)) if half else xp.matmul(a, b)
    if sum_samples:
        out = out.sum(axis=0)
    return out.astype(xp.float16) if half else out


def _rows_to_weight(total, shape):
    """x's rows @ the shifted rows^T, (C*kh, kw*O) with entry ((c, i), (j, o)) = sum_q x[c, q + i*dh*Wp]
    dL/dout[o, q - j*dw], as dL/dW (O, C*kh*kw) (groups 1)."""
    o, c, kh, kw = shape
    return total.reshape(c, kh, kw, o).transpose(3, 0, 1, 2).reshape(o, c * kh * kw)


def _weight_grad_per_sample(g, cols, groups):
    """sum over samples s of g_s (O, P) @ cols_s^T (P, K), block-diagonally over groups: (O, K/groups).

    Computed as cols_s @ g_s^T (K, O), transposed at the end: measured faster than g_s @ cols_s^T on LeNet's
    conv2 (137 against 67 GFLOP/s), on par for the first layers. float16 on the CPU: in float32, as `product`."""
    n, k, p = cols.shape
    o = g.shape[1]
    xp = backend.array_module(cols)
    half = cols.dtype == xp.float16 and not backend.on_device(cols)
    g, cols = g.reshape(n, groups, o // groups, p), cols.reshape(n, groups, k // groups, p)
    if half:
        g, cols = g.astype(xp.float32), cols.astype(xp.float32)
    total = xp.matmul(cols, g.swapaxes(-1, -2)).sum(axis=0)  # (G, K/G, O/G)
    total = total.transpose(0, 2, 1).reshape(o, k // groups)
    return total.astype(xp.float16) if half else total


def _gemm_nt(a, b, groups):
    """a (R, M) @ b (K, M)^T block-diagonally: group g pairs a's and b's g-th row blocks (weight gradients)."""
    if groups == 1:
        return _long_product(a, b)
    out = _grouped(a, groups) @ _grouped(b, groups).transpose(0, 2, 1)
    return out.reshape(groups * out.shape[1], out.shape[2])


def _long_product(a, b, chunk=2048):
    """a @ b.T where the shared dim (positions) is long and the result small (a weight gradient).

    Measured with OpenBLAS: b @ a.T (transposed back) runs up to 2x faster than a @ b.T for these
    shapes, and a tiny result (LeNet's 6 x 25) is fastest summed over chunks of the long dim. The
    chunks are made small enough for OpenBLAS to run each on the calling thread, and on the CPU the
    chunks are split over the thread pool (a partial sum per thread, added at the end): a chunk that
    woke the BLAS's threads would pay a fork and join for a few microseconds of work.
    """
    rows = a.shape[0] * b.shape[0]
    if rows > 1024 or a.shape[1] <= 2 * chunk:
        return (b @ a.T).T
    chunk = max(256, min(chunk, (BLAS_ONE_THREAD_PRODUCT - 1) // rows))
    starts = list(range(0, a.shape[1], chunk))
    partial = {}

    def add_chunks(lo, hi):  # chunks lo..hi-1 summed into this share's own partial sum
        out = None
        for start in starts[lo:hi]:
            term = a[:, start:start + chunk] @ b[:, start:start + chunk].T
            out = term if out is None else backend.array_module(out).add(out, term, out=out)
        partial[lo] = out
    threaded = backend.array_module(a) is xp and a.size + b.size >= backend.PARALLEL_MIN_ELEMENTS
    backend.parallel_ranges(add_chunks, len(starts), threads=None if threaded else 1)
    total = partial.pop(0)
    for lo in sorted(partial):  # in a fixed order: the same sum, bit for bit, whichever thread finished first
        total += partial[lo]
    return total


def _gemm_tn(a, b, groups):
    """a (K, R)^T @ b (K, M) block-diagonally (the columns' gradient W^T @ dout)."""
    if groups == 1:
        return a.T @ b
    at = backend.array_module(a).ascontiguousarray(_grouped(a, groups).transpose(0, 2, 1))
    out = at @ _grouped(b, groups)
    return out.reshape(groups * out.shape[1], out.shape[2])


class FastConv2dFunction(NamedFunction):
    """out[n,o] = sum_c,i,j W[o,c,i,j] x_pad[n,c, s*oh + d*i, s*ow + d*j] + b[o]   (im2col + GEMM)

    dL/dW = dL/dout @ cols^T;   dL/dx = col2im(W^T @ dL/dout);   dL/db = sum of dL/dout over N, OH, OW
    """
    node_name = "Convolution"  # the node prints as ConvolutionBackward0, as torch's
    once_differentiable = True
    #: FastConv2dReLUFunction: max(out, 0) on each block as it is made (the output's gradient masked in backward)
    relu = False

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1,
                avg_pool=None):
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        out_hw = (conv_out_size(h, kh, stride[0], *padding[0], dilation[0]),
                  conv_out_size(w, kw, stride[1], *padding[1], dilation[1]))
        xpad = pad_zeros(x, padding)
        unfold = UnfoldViews(xpad.shape, (kh, kw), stride, dilation, out_hw, ctx.xp)
        ctx.unfold, ctx.groups, ctx.padding = unfold, groups, padding
        w2 = weight.reshape(o, -1)
        product = o * w2.shape[1] * unfold.positions  # m*n*k of one sample's product
        ctx.per_sample = PER_SAMPLE_MIN_PRODUCT <= product <= PER_SAMPLE_MAX_PRODUCT
        if ctx.per_sample and unfold.flat and exact_layout_copies_less(c * kh * kw, o, out_hw[0]):
            unfold = ctx.unfold = UnfoldViews(xpad.shape, (kh, kw), stride, dilation, out_hw, ctx.xp, flat=False)
        # FastConv2dReLUAvgPoolFunction sample by sample in the flat layout: the products' rows, (N, O, OH, Wp)
        # with the garbage columns, are the ReLU's output itself (kept for backward's mask) and are pooled where
        # they lie (pool_fast.TiledRows over rows Wp wide: its band matrix is zero at the garbage columns), with no
        # copy to (N, O, OH, OW); any other layout keeps the output (N, O, OH, OW) and pools each block of it
        ctx.flat_pool = avg_pool is not None and ctx.per_sample and not unfold.exact and ctx.xp is xp
        out_shape = (n, o, out_hw[0], unfold.wp) if ctx.flat_pool else (n, o) + out_hw
        out = ctx.xp.empty(out_shape, dtype=x.dtype)
        if ctx.flat_pool:
            out[:, :, -1, out_hw[1]:] = 0  # (the last row's garbage, which no product writes, must not be NaN)
        if ctx.relu:
            ctx.relu_output = out  # (backward's mask)
        ctx.pooling = None if avg_pool is None else _tiled_pooling(out_shape, out_hw, out.dtype, *avg_pool)
        pooled = None if avg_pool is None else ctx.xp.empty(ctx.pooling.out_shape, dtype=x.dtype)
        if ctx.per_sample:
            # the bias repeated along each channel's row: adding it to (n, O, positions) is then an add of two
            # arrays (NumPy's SIMD loop; with bias[:, None] a broadcast over short rows, twice the time)
            row_length = out_hw[0] * unfold.wp if ctx.flat_pool else unfold.positions
            bias_rows = None if bias is None else ctx.xp.repeat(bias, row_length).reshape(o, -1)

            def share(lo, hi, budget):  # samples lo..hi-1, block by block: unfold, multiply, add the bias
                for block, part in _blocks_of_share(unfold, lo, hi, x.itemsize, budget):
                    if ctx.flat_pool:  # (n, O, OH*Wp): the products fill all but the last row's garbage
                        rows = out[block].reshape(part.n, o, -1)
                        products = rows[:, :, :part.positions]
                    else:
                        rows = products = out[block].reshape(part.n, o, -1) if part.exact else \
                            ctx.xp.empty((part.n, o, part.positions), dtype=x.dtype)
                    _gemm_per_sample(w2, part.sample_columns(xpad[block]), groups, products)
                    if bias is not None:
                        rows += bias_rows
                    if ctx.relu:
                        relu_(rows)
                    if not part.exact and not ctx.flat_pool:
                        out[block] = part.sample_image_view(rows, o)
                    if pooled is not None:
                        ctx.pooling.pool_block(out[block], pooled[block])
            _over_samples(share, unfold, FORWARD_BLOCK_BYTES)
            return out if pooled is None else pooled

        def share(lo, hi, budget):  # samples lo..hi-1, block by block: unfold, one product, add the bias, copy out
            for block, part in _blocks_of_share(unfold, lo, hi, x.itemsize, budget):
                res = _gemm(w2, part.columns(xpad[block]), groups)
                if bias is not None:
                    res += bias[:, None]
                if ctx.relu:
                    relu_(res)
                out[block] = part.image_view(res, o)
                if pooled is not None:
                    ctx.pooling.pool_block(out[block], pooled[block])
        _over_samples(share, unfold)
        return out if pooled is None else pooled

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.inputs[0]._array, ctx.inputs[1]._array
        need = ctx.needs_input_grad
        unfold, groups = ctx.unfold, ctx.groups
        g = grad._array
        y = ctx.relu_output if ctx.relu else None  # (a fused ReLU's output: dL/dout passes where it is positive)

        def output_grad(block):  # dL/dout of a block (spread back over the fused pool's windows)
            return g[block] if ctx.pooling is None else ctx.pooling.spread_block(g[block])
        o = weight.shape[0]
        w2 = weight.reshape(o, -1)
        xpad = pad_zeros(x, ctx.padding) if need[1] else None
        dxpad = ctx.xp.zeros((unfold.n, unfold.c, unfold.hp, unfold.wp), dtype=g.dtype) if need[0] else None
        sub_budget = DCOLS_BLOCK_BYTES if ctx.xp is xp else None
        grad_w = {}  # the first sample of a share -> that share's weight gradient (a partial sum)

        need_bias = len(need) > 2 and need[2]
        grad_b = {}  # the first sample of a share -> that share's bias gradient (summed block by block)

        by_rows = ROW_TAPS and need[0] and unfold.flat and groups == 1  # (a first layer: its columns are cheaper)
        # W as (C*kh, kw*O): row (c, i), column (j, o) holds W[o, c, i, j]
        w_rows = weight.transpose(1, 2, 3, 0).reshape(-1, weight.shape[3] * o) if by_rows else None

        def per_sample(lo, hi, budget):  # samples lo..hi-1, block by block, a product per sample
            if need[1]:
                grad_w[lo] = ctx.xp.zeros(w2.shape, dtype=g.dtype)
            if need_bias:
                grad_b[lo] = ctx.xp.zeros(o, dtype=g.dtype)
            for block, part in _blocks_of_share(unfold, lo, hi, x.itemsize, budget):
                # dL/dout as (n, O, positions), or by_rows as (n, O, OH*Wp); zeros at the garbage positions
                if ctx.flat_pool:  # (n, O, OH*Wp), from the pool's product
                    gmat = part.rows_from_pool(g[block], ctx.pooling, y[block], by_rows)
                else:
                    kept = None if y is None else y[block]
                    gb = output_grad(block)
                    gmat = part.to_rows(gb, True, kept) if by_rows else part.to_sample_matrix(gb, kept)
                if need_bias:  # while the block is in cache
                    grad_b[lo] += _bias_grad(gmat.reshape(part.n, o, 1, -1))
                if by_rows:  # both products from dL/dout's rows shifted by the kw width taps: (n, kw*O, OH*Wp)
                    shifted = part.width_shifts(gmat, True)
                    if need[1]:  # sum_s shifted_s (kw*O, Q) @ x's rows_s (Q, C*kh)
                        total = _rows_grad(shifted, part.height_rows(xpad[block], True), sum_samples=True)
                        grad_w[lo] += _rows_to_weight(total.T, weight.shape)
                    if need[0]:
                        part.add_row_taps_(dxpad[block], _rows_grad(w_rows, shifted), True)
                    continue
                if ctx.flat_pool:
                    gmat = gmat[:, :, :part.positions]
                if need[1]:
                    grad_w[lo] += _weight_grad_per_sample(gmat, part.sample_columns(xpad[block]), groups)
                if need[0]:
                    part.add_sample_columns_(dxpad[block], _columns_grad_per_sample(w2, gmat, groups))

        def share(lo, hi, budget):  # samples lo..hi-1, block by block, one product per block
            if need[1]:
                grad_w[lo] = ctx.xp.zeros(w2.shape, dtype=g.dtype)
            if need_bias:
                grad_b[lo] = ctx.xp.zeros(o, dtype=g.dtype)
            for block, part in _blocks_of_share(unfold, lo, hi, x.itemsize, budget):
                kept = None if y is None else y[block]
                # dL/dout as (O, n*positions), or by_rows as (O, n*OH*Wp); zeros at the garbage positions
                gb = output_grad(block)
                gmat = part.to_rows(gb, False, kept) if by_rows else part.to_matrix(gb, kept)
                if need_bias:
                    grad_b[lo] += gmat.sum(axis=1)
                if by_rows:  # as the sample-by-sample pipeline, with the samples side by side: (kw*O, n*OH*Wp)
                    shifted = part.width_shifts(gmat, False)
                    if need[1]:
                        rows = part.height_rows(xpad[block], False)
                        grad_w[lo] += _rows_to_weight(_long_product(rows, shifted), weight.shape)
                    if need[0]:
                        part.add_row_taps_(dxpad[block], _rows_grad(w_rows, shifted), False)
                    continue
                if need[1]:
                    grad_w[lo] += _gemm_nt(gmat, part.columns(xpad[block]), groups)
                if need[0]:
                    for sub, piece in part.blocks(x.itemsize, sub_budget):
                        positions = slice(sub.start * part.positions, sub.stop * part.positions)
                        piece.add_columns_(dxpad[block][sub], _gemm_tn(w2, gmat[:, positions], groups))
        if ctx.per_sample:
            _over_samples(per_sample, unfold, FORWARD_BLOCK_BYTES)
        else:
            _over_samples(share, unfold)
        grad_b = _sum_in_order(grad_b) if need_bias else None
        return (Tensor._make(crop(dxpad, ctx.padding, x.shape[2:])) if need[0] else None,
                Tensor._make(_sum_in_order(grad_w).reshape(weight.shape)) if need[1] else None,
                Tensor._make(grad_b) if need_bias else None)


class FastConv2dReLUFunction(FastConv2dFunction):
    """y = max(conv2d(x, W, b), 0) as one op: nn.Sequential runs a Conv2d and the ReLU after it this way
    (nn/modules/fusion.py). Each block of the output gets its ReLU while it is in cache, where a separate ReLU
    would read the whole output back from memory and write it again; backward masks dL/dy (y > 0) block by block
    as it copies it into the convolution's layout, and goes on as FastConv2dFunction's. The values are those of
    FastConv2dFunction followed by ReLUFunction (tests/ops/test_conv_fast.py)."""
    node_name = "Conv2dRelu"  # the node prints as Conv2dReluBackward0
    saves_output = True
    relu = True


class FastConv2dReLUAvgPoolFunction(FastConv2dFunction):
    """y = avg_pool2d(max(conv2d(x, W, b), 0)) for average windows that tile the convolution's output, as one op:
    nn.Sequential's Conv2d, ReLU, AvgPool2d (LeNet's layers; nn/modules/fusion.py). Each block of the ReLU's output
    is pooled while in cache (pool_fast.TiledRows, the pool as a product with a band matrix); backward spreads
    each block of dL/dy back over its windows, masks it with the ReLU's output (kept, as a ReLU keeps it) and
    goes on as FastConv2dFunction's. The values are those of the three ops run apart (tests/ops/test_conv_fast.py)."""
    node_name = "Conv2dReluAvgPool2d"  # the node prints as Conv2dReluAvgPool2dBackward0
    relu = True


def avg_pool_fuses(x, weight, stride, padding, dilation, kernel):
    """Whether FastConv2dReLUAvgPoolFunction can pool this convolution's output with kernel (kh, kw) = stride:
    its windows tile the output exactly (no remainder), at most 16 taps, on the host, in float32 or float64."""
    out_hw = tuple(conv_out_size(size, k, st, *pads, d)
                   for size, k, st, pads, d in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation))
    if min(out_hw) < min(kernel):
        return False
    windows = Windows((1, 1) + out_hw, kernel, kernel, (0, 0), (1, 1), False)
    return TiledRows.tiles(backend.array_module(x._array), (1, 1) + out_hw, x._array.dtype, windows)


def _tiled_pooling(shape, out_hw, dtype, kernel, divisor_override):
    """The pool of the convolution's (N, O, OH, OW) output, which lies in rows of shape[-1] (OW, or Wp: flat)."""
    windows = Windows(shape[:2] + out_hw, kernel, kernel, (0, 0), (1, 1), False)
    return TiledRows(shape, windows, divisor_override or kernel[0] * kernel[1], dtype)


def _blocks_of_share(unfold, lo, hi, itemsize, budget=None, positions=None):
    """(slice of the batch, geometry) for the cache-sized blocks of samples lo..hi-1 (UnfoldViews.blocks)."""
    for block, part in unfold.with_batch(hi - lo).blocks(itemsize, budget, positions):
        yield slice(lo + block.start, lo + block.stop), part


def _over_samples(share, unfold, per_sample_budget=None):
    """share(lo, hi, budget) over the batch: with more than one thread each thread runs the whole pipeline
    (unfold, GEMMs, copies) on its own share of the samples in blocks of SPLIT_BLOCK_BYTES, the BLAS on one
    thread meanwhile (see the module docstring). Small columns (the whole batch's), one thread, the GPU, or
    SAMPLE_SPLIT off: one share of all samples in blocks of BLOCK_BYTES (budget None), the BLAS and the
    copies threaded inside it. The sample-by-sample pipeline gives its own block size (per_sample_budget)."""
    columns = unfold.c * unfold.kh * unfold.kw * unfold.n * unfold.positions
    split = SAMPLE_SPLIT and unfold.threaded(columns) and backend.get_num_threads() > 1
    if unfold.xp is not xp:
        budget = None
    elif per_sample_budget is not None:
        budget = per_sample_budget
    else:
        budget = SPLIT_BLOCK_BYTES if split else None
    backend.parallel_ranges(lambda lo, hi: share(lo, hi, budget), unfold.n, threads=None if split else 1,
                            one_blas_thread=True)


def _bias_grad(g):
    """dL/db: dL/dout (N, O, OH, OW) summed over the samples and positions. On the host, each (sample, channel)
    row's sum is a product with a vector of ones (the BLAS, on one thread: 0.03 ms for LeNet's first layer
    against NumPy's reduction over axes (0, 2, 3), 0.18 ms), then the samples' sums are added. The
    sample-by-sample pipeline sums each block's gradient this way in its thread, while the block is in cache."""
    if backend.array_module(g) is not xp or g.dtype.char not in "fd":
        return g.sum(axis=(0, 2, 3))
    n, o = g.shape[:2]
    rows = xp.ascontiguousarray(g).reshape(n * o, -1)
    with backend.blas_on_one_thread():
        sums = rows @ xp.ones(rows.shape[1], dtype=g.dtype)
    return sums.reshape(n, o).sum(axis=0)


def _sum_in_order(partials):
    """The shares' partial sums added in the order of their samples: the same result whichever finished first."""
    keys = sorted(partials)
    total = partials[keys[0]]
    for key in keys[1:]:
        total += partials[key]
    return total


class FastConvTranspose2dFunction(NamedFunction):
    """out = col2im(W^T @ x): the adjoint of the conv (its input gradient);  dL/dx = conv2d(dL/dout, W)

    Weight shape (C_in, C_out/groups, kh, kw), as torch. Output size
    (H-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1.
    """
    node_name = "Convolution"  # the node prints as ConvolutionBackward0, as torch's
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1,
                dilation=(1, 1)):
        n, cin, h, w = x.shape
        _, cg, kh, kw = weight.shape
        cout = cg * groups
        full = tuple((s - 1) * st + d * (k - 1) + 1 + op
                     for s, st, d, k, op in zip((h, w), stride, dilation, (kh, kw), output_padding))
        # seen from the conv it is the adjoint of: a (full)-sized image convolved down to x's (h, w) grid
        unfold = UnfoldViews((n, cout, full[0], full[1]), (kh, kw), stride, dilation, (h, w), ctx.xp)
        out_hw = (full[0] - 2 * padding[0], full[1] - 2 * padding[1])
        ctx.unfold, ctx.groups = unfold, groups
        ctx.pads = ((padding[0], full[0] - padding[0] - out_hw[0]), (padding[1], full[1] - padding[1] - out_hw[1]))
        w2 = weight.reshape(cin, -1)
        outpad = ctx.xp.zeros((n, cout) + full, dtype=x.dtype)

        def share(lo, hi, budget):  # samples lo..hi-1, block by block
            for block, part in _blocks_of_share(unfold, lo, hi, x.itemsize, budget):
                part.add_columns_(outpad[block], _gemm_tn(w2, part.to_matrix(x[block]), groups))
        _over_samples(share, unfold)
        out = ctx.xp.ascontiguousarray(crop(outpad, ctx.pads, out_hw))
        if bias is not None:
            out += bias[:, None, None]
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.inputs[0]._array, ctx.inputs[1]._array
        need = ctx.needs_input_grad
        unfold, groups = ctx.unfold, ctx.groups
        g = grad._array
        cin = weight.shape[0]
        w2 = weight.reshape(cin, -1)
        gpad = pad_zeros(g, ctx.pads)  # dL/dout on the full grid, unfolded onto x's grid
        grad_x = ctx.xp.empty(x.shape, dtype=g.dtype) if need[0] else None
        grad_w = {}  # the first sample of a share -> that share's weight gradient (a partial sum)

        def share(lo, hi, budget):  # samples lo..hi-1, block by block
            if need[1]:
                grad_w[lo] = ctx.xp.zeros(w2.shape, dtype=g.dtype)
            for block, part in _blocks_of_share(unfold, lo, hi, x.itemsize, budget):
                cols = part.columns(gpad[block])
                if need[0]:
                    grad_x[block] = part.image_view(_gemm(w2, cols, groups), cin)
                if need[1]:
                    grad_w[lo] += _gemm_nt(part.to_matrix(x[block]), cols, groups)
        _over_samples(share, unfold)
        grad_b = Tensor._make(_bias_grad(g)) if len(need) > 2 and need[2] else None
        return (Tensor._make(grad_x) if need[0] else None,
                Tensor._make(_sum_in_order(grad_w).reshape(weight.shape)) if need[1] else None,
                grad_b)


def conv2d(x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1, relu=False,
           avg_pool=None):
    """Batched 2-D convolution on normalised arguments (tuples; padding as ((top, bottom), (left, right)));
    relu=True: max(conv2d, 0), fused (FastConv2dReLUFunction); with avg_pool=(kernel, divisor_override) as well,
    avg_pool2d of that with stride = kernel, fused (FastConv2dReLUAvgPoolFunction: see avg_pool_fuses)."""
    x, weight, bias = autocast_inputs("conv2d", x, weight, bias)
    args = (x, weight) if bias is None else (x, weight, bias)
    attrs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if avg_pool is not None:
        if avg_pool_fuses(x, weight, stride, padding, dilation, avg_pool[0]):
            return FastConv2dReLUAvgPoolFunction.apply(*args, **attrs, avg_pool=avg_pool)
        kernel, divisor_override = avg_pool  # (windows that do not tile the output: the two ops apart)
        y = FastConv2dReLUFunction.apply(*args, **attrs)
        return avg_pool2d(y, kernel, kernel, (0, 0), False, True, divisor_override)
    return (FastConv2dReLUFunction if relu else FastConv2dFunction).apply(*args, **attrs)


def conv_transpose2d(x, weight, bias=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1,
                     dilation=(1, 1)):
    x, weight, bias = autocast_inputs("conv_transpose2d", x, weight, bias)
    args = (x, weight) if bias is None else (x, weight, bias)
    return FastConvTranspose2dFunction.apply(*args, stride=stride, padding=padding, output_padding=output_padding,
                                 groups=groups, dilation=dilation)
