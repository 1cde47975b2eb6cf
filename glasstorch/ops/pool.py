"""Pooling: max_pool2d, avg_pool2d (the 1-D forms ride on them) and the adaptive pools.

The ops come first (the idea); the window geometry (`Windows`) is below them.

A pooling window of kh*kw taps is never unfolded into a copy. For each kernel tap (i, j) the
input values that tap sees, over all output positions at once, are one strided slice of the
padded input:  x_pad[:, :, i*d : ... : stride, j*d : ... : stride]  (shape (N, C, OH, OW)).
Max pooling keeps a running maximum over the kh*kw slices, avg pooling a running sum, so the
work is kh*kw vectorised passes over the output, and the backward adds into the same slices.
Forward and backward compute with ctx.xp: NumPy on the CPU, CuPy on the GPU.
"""
from .. import backend
from ..tensor import Tensor
from .common import NamedFunction
from .shape import stack

xp = backend.xp


class MaxPool2dFunction(NamedFunction):
    """y = max over each window;  dL/dx = dL/dy at the window's argmax, 0 elsewhere

    Ties: the first maximum in row-major window order takes the whole gradient (as torch).
    A NaN in the window propagates to y (its gradient goes to the window's last tap).
    """
    node_name = "MaxPool2DWithIndices"  # the node prints as MaxPool2DWithIndicesBackward0, as torch's
    once_differentiable = True
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, windows, indices_out=None):
        # the windows: taps[k] is what kernel tap k sees at every output position, a strided view (N, C, OH, OW)
        xpad = windows.pad(x, -xp.inf)  # a -inf border never wins the max
        taps = [xpad[key] for _, key in windows.taps()]
        best = taps[0].copy()
        for v in taps[1:]:
            ctx.xp.maximum(best, v, out=best)  # y = max over the window's taps; NaN propagates, as in torch
        # argmax, where the gradient goes. Ties: the first maximum in row-major window order takes the whole
        # gradient (as torch), so the taps are scanned backwards and the first equal one has the last word.
        arg = ctx.xp.full(best.shape, len(taps) - 1, dtype=xp.uint8 if len(taps) <= 256 else xp.int32)
        for tap in range(len(taps) - 2, -1, -1):
            arg = ctx.xp.where(taps[tap] == best, arg.dtype.type(tap), arg)
        ctx.windows, ctx.arg = windows, arg
        if indices_out is not None:
            indices_out.append(_indices_of(ctx.xp, windows, arg))
        return best

    @staticmethod
    def backward(ctx, grad):
        windows, arg = ctx.windows, ctx.arg
        g = grad._array
        shape = ctx.inputs[0].shape
        dxpad = ctx.xp.zeros(tuple(shape[:-2]) + windows.padded, dtype=g.dtype)
        for tap, key in windows.taps():  # route dL/dy to the tap that won, 0 to the others
            if windows.overlapping:
                dxpad[key] += g * (arg == tap)
            else:  # every input element is in at most one window: write instead of add
                ctx.xp.multiply(g, arg == tap, out=dxpad[key])
        return Tensor._make(windows.crop(dxpad))


def _indices_of(xp, windows, arg):
    out = xp.zeros(arg.shape, dtype=xp.int64)
    for tap, _ in windows.taps():
        out = xp.where(arg == tap, windows.flat_indices(tap, xp), out)
    return out


class AvgPool2dFunction(NamedFunction):
    """y = sum over each window / divisor;  dL/dx = dL/dy / divisor spread over the window"""
    node_name = "AvgPool2D"  # the node prints as AvgPool2DBackward0, as torch's
    once_differentiable = True
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, windows, count_include_pad, divisor_override):
        divisor = _divisor(windows, count_include_pad, divisor_override, x)
        ctx.windows, ctx.divisor = windows, divisor
        if windows.tiles_with_large_kernel():
            # big tiling windows (global pooling): one reshaped sum beats kh*kw passes
            total = windows.as_tiles(x).sum(axis=(-3, -1))
        else:
            xpad = windows.pad(x, 0)
            total = None
            for _, key in windows.taps():
                if total is None:
                    total = xpad[key].copy()
                else:
                    total += xpad[key]
        total /= divisor
        return total

    @staticmethod
    def backward(ctx, grad):
        windows = ctx.windows
        share = grad._array / ctx.divisor
        shape = ctx.inputs[0].shape
        if windows.tiles_with_large_kernel():
            dx = ctx.xp.zeros(tuple(shape), dtype=share.dtype)
            windows.as_tiles(dx)[...] = share[..., :, None, :, None]
            return Tensor._make(dx)
        dxpad = ctx.xp.zeros(tuple(shape[:-2]) + windows.padded, dtype=share.dtype)
        for _, key in windows.taps():
            dxpad[key] += share
        return Tensor._make(windows.crop(dxpad))


def _divisor(windows, count_include_pad, divisor_override, x):
    """Per-output divisor as torch: the window clipped to the padded input, or to the real input.

    Computed on the host (window arithmetic); a per-output array of counts then moves to x's device.
    """
    dtype = x.dtype
    if divisor_override:
        return dtype.type(divisor_override)
    sizes = []
    for n_out, k, s, p, size in zip(windows.out, windows.kernel, windows.stride, windows.padding,
                                    (windows.h, windows.w)):
        start = xp.arange(n_out) * s - p
        end = xp.minimum(start + k, size + p)
        if not count_include_pad:
            end, start = xp.minimum(end, size), xp.maximum(start, 0)
        sizes.append(end - start)
    counts = (sizes[0][:, None] * sizes[1][None, :]).astype(dtype)
    if (counts == counts.flat[0]).all():
        return dtype.type(counts.flat[0])
    return backend.like(x, counts)


def pool_out_size(size, kernel, stride, pad, dilation, ceil_mode):
    """torch's pooling_output_shape: floor (or ceil) division, and a ceil window must start inside the input."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class Windows:
    """The geometry of a pooling: padded input size and the strided slice each kernel tap reads."""

    def __init__(self, shape, kernel, stride, padding, dilation, ceil_mode):
        self.h, self.w = shape[-2:]
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.out = tuple(pool_out_size(s, k, st, p, d, ceil_mode)
                         for s, k, st, p, d in zip((self.h, self.w), kernel, stride, padding, dilation))
        for s, o in zip((self.h, self.w), self.out):
            if o <= 0:
                raise RuntimeError(f"Given input size: ({'x'.join(str(v) for v in shape[-3:])}). Calculated output "
                                   f"size: ({shape[-3]}x{self.out[0]}x{self.out[1]}). Output size is too small")
        # rows/cols the windows reach (ceil_mode may reach past the padded input)
        self.reach = tuple((o - 1) * st + d * (k - 1) + 1 for o, st, d, k in zip(self.out, stride, dilation, kernel))
        self.padded = tuple(max(r, s + p) for r, s, p in zip(self.reach, (self.h, self.w), padding))
        self.overlapping = any(d * (k - 1) + 1 > st for k, st, d in zip(kernel, stride, dilation))

    def tiles_with_large_kernel(self):
        """Windows that tile the input exactly (kernel = stride, no padding or dilation), more than 16 taps."""
        return (self.kernel == self.stride and self.padding == (0, 0) and self.dilation == (1, 1)
                and self.kernel[0] * self.kernel[1] > 16)

    def as_tiles(self, x):
        """View of x as (..., OH, kh, OW, kw) tiles (a view: only splits the two spatial dims)."""
        (oh, ow), (kh, kw) = self.out, self.kernel
        return x[..., :oh * kh, :ow * kw].reshape(x.shape[:-2] + (oh, kh, ow, kw))

    def pad(self, x, fill):
        """x inside a border of `fill` big enough for every window (x itself when none is needed)."""
        (ph, pw), (hp, wp) = self.padding, self.padded
        if ph == pw == 0 and hp == self.h and wp == self.w:
            return x
        out = backend.array_module(x).full(x.shape[:-2] + (hp, wp), fill, dtype=x.dtype)
        out[..., ph:ph + self.h, pw:pw + self.w] = x
        return out

    def crop(self, xpad):
        (ph, pw) = self.padding
        return xpad[..., ph:ph + self.h, pw:pw + self.w]

    def taps(self):
        """(tap number, slice key) for every kernel tap, row-major: the order torch scans a window."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.stride, self.dilation, self.out
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, (..., slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
                                   slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))

    def flat_indices(self, tap, xp):
        """torch's `return_indices`: the position (row * W + col) in the unpadded input each output took."""
        (kw, (sh, sw), (dh, dw), (ph, pw), (oh, ow)) = (self.kernel[1], self.stride, self.dilation, self.padding,
                                                         self.out)
        row = xp.arange(oh)[:, None] * sh - ph + (tap // kw) * dh
        col = xp.arange(ow)[None, :] * sw - pw + (tap % kw) * dw
        return (row * self.w + col).astype(xp.int64)


def max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=False):
    """On normalised (h, w) tuples; x is (N, C, H, W) or (C, H, W)."""
    windows = Windows(x.shape, kernel, stride, padding, dilation, ceil_mode)
    if not return_indices:
        return MaxPool2dFunction.apply(x, windows=windows)
    found = []
    out = MaxPool2dFunction.apply(x, windows=windows, indices_out=found)
    return out, Tensor._make(found[0])


def avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    windows = Windows(x.shape, kernel, stride, padding, (1, 1), ceil_mode)
    return AvgPool2dFunction.apply(x, windows=windows, count_include_pad=count_include_pad,
                           divisor_override=divisor_override)


def adaptive_bounds(size, out):
    """torch's adaptive windows: [floor(i*size/out), ceil((i+1)*size/out)) for output i."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def adaptive_pool2d(x, output_size, reduce):
    """Adaptive pooling when the windows do not tile evenly: one reduction per output cell, stacked.

    `reduce(window)` maps an (..., h, w) slice to (...,); built from differentiable ops.
    """
    rows = []
    for h0, h1 in adaptive_bounds(x.shape[-2], output_size[0]):
        cells = [reduce(x[..., h0:h1, w0:w1]) for w0, w1 in adaptive_bounds(x.shape[-1], output_size[1])]
        rows.append(stack(cells, -1))
    return stack(rows, -2)
