"""Convolutions, the textbook way: pad, im2col, one matrix product; the backward folds back with col2im.

A convolution is a matrix product in disguise. im2col copies every kernel-sized window of the padded
input into one column of `cols` (C*kh*kw rows, one column per output position); then

    out  = W (O, C*kh*kw) @ cols          dW = dout @ cols^T          dx = col2im(W^T @ dout)

col2im is im2col's adjoint: it adds each column entry back onto the pixel it was read from.

Why two implementations: this file is the one to read, and the tests hold it against torch. The one
F.conv2d runs is `conv_fast.py`: the same products, computed block by block so the columns stay in
the CPU caches, with a flat-stride trick and GEMM shapes tuned to OpenBLAS (several times faster, much
harder to read). tests/ops/test_conv_fast.py holds the two equal, values and gradients.
"""
from .. import backend
from ..tensor import Tensor
from .common import NamedFunction


class Conv2dFunction(NamedFunction):
    """out[n,o] = sum_c,i,j W[o,c,i,j] x_pad[n,c, s*oh + d*i, s*ow + d*j] + b[o]   (im2col + one matmul)

    dL/dW = dL/dout @ cols^T;   dL/dx = col2im(W^T @ dL/dout);   dL/db = sum of dL/dout over N, OH, OW
    Groups split the channels: group g's outputs see only group g's inputs (a batched matmul over groups).
    """
    node_name = "Convolution"  # the node prints as ConvolutionBackward0, as torch's
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
        n, o, (kh, kw) = x.shape[0], weight.shape[0], weight.shape[2:]
        xpad = ctx.xp.pad(x, ((0, 0), (0, 0)) + tuple(padding))
        out_hw = tuple(conv_out_size(size, k, st, 0, 0, d)
                       for size, k, st, d in zip(xpad.shape[2:], (kh, kw), stride, dilation))
        cols = im2col(xpad, (kh, kw), stride, dilation, out_hw)  # (N, C*kh*kw, OH*OW)
        w = weight.reshape(groups, o // groups, -1)  # (G, O/G, C/G*kh*kw)
        out = (w @ cols.reshape(n, groups, w.shape[2], -1)).reshape((n, o) + out_hw)
        if bias is not None:
            out += bias[:, None, None]
        ctx.cols, ctx.padded_shape, ctx.geometry = cols, xpad.shape, ((kh, kw), stride, dilation, out_hw)
        ctx.padding, ctx.groups = padding, groups
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.inputs[0]._array, ctx.inputs[1]._array
        n, o, groups = x.shape[0], weight.shape[0], ctx.groups
        w = weight.reshape(groups, o // groups, -1)
        cols = ctx.cols.reshape(n, groups, w.shape[2], -1)  # (N, G, C/G*kh*kw, OH*OW)
        g = grad._array.reshape(n, groups, o // groups, -1)  # (N, G, O/G, OH*OW)
        grad_w = (g @ cols.swapaxes(2, 3)).sum(axis=0).reshape(weight.shape)
        dcols = (w.swapaxes(1, 2) @ g).reshape(ctx.cols.shape)
        (top, _), (left, _) = ctx.padding
        dx = col2im(dcols, ctx.padded_shape, *ctx.geometry)[:, :, top:top + x.shape[2], left:left + x.shape[3]]
        grad_b = Tensor._make(grad._array.sum(axis=(0, 2, 3))) if len(ctx.inputs) > 2 else None
        return Tensor._make(ctx.xp.ascontiguousarray(dx)), Tensor._make(grad_w), grad_b


class ConvTranspose2dFunction(NamedFunction):
    """out = col2im(W^T @ x), cropped by `padding`: the adjoint of Conv2d (its input gradient)

    dL/dx = W @ im2col(dL/dout) (a convolution of dL/dout);  dL/dW = x @ im2col(dL/dout)^T;  dL/db = sum dL/dout
    Weight shape (C_in, C_out/groups, kh, kw), as torch. Output size
    (H-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1.
    """
    node_name = "Convolution"  # the node prints as ConvolutionBackward0, as torch's
    once_differentiable = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1,
                dilation=(1, 1)):
        n, cin, h, w_in = x.shape
        _, cout_g, kh, kw = weight.shape
        # the conv whose adjoint this is maps a `full`-sized image down to x's (h, w) grid
        full = tuple((s - 1) * st + d * (k - 1) + 1 + op
                     for s, st, d, k, op in zip((h, w_in), stride, dilation, (kh, kw), output_padding))
        w = weight.reshape(groups, cin // groups, -1)  # (G, C_in/G, C_out/G*kh*kw)
        cols = w.swapaxes(1, 2) @ x.reshape(n, groups, cin // groups, h * w_in)  # (N, G, C_out/G*kh*kw, H*W)
        ctx.full_shape = (n, cout_g * groups) + full
        ctx.geometry = ((kh, kw), stride, dilation, (h, w_in))
        out = col2im(cols.reshape(n, -1, h * w_in), ctx.full_shape, *ctx.geometry)
        out = ctx.xp.ascontiguousarray(out[:, :, padding[0]:full[0] - padding[0], padding[1]:full[1] - padding[1]])
        if bias is not None:
            out += bias[:, None, None]
        ctx.padding, ctx.groups = padding, groups
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.inputs[0]._array, ctx.inputs[1]._array
        (n, cin, h, w_in), groups, (ph, pw) = x.shape, ctx.groups, ctx.padding
        g = grad._array
        gfull = ctx.xp.zeros(ctx.full_shape, dtype=g.dtype)  # undo the crop: dL/dout on the full grid
        gfull[:, :, ph:ph + g.shape[2], pw:pw + g.shape[3]] = g
        w = weight.reshape(groups, cin // groups, -1)
        cols = im2col(gfull, *ctx.geometry).reshape(n, groups, w.shape[2], h * w_in)
        xg = x.reshape(n, groups, cin // groups, h * w_in)
        grad_x = (w @ cols).reshape(x.shape)
        grad_w = (xg @ cols.swapaxes(2, 3)).sum(axis=0).reshape(weight.shape)
        grad_b = Tensor._make(g.sum(axis=(0, 2, 3))) if len(ctx.inputs) > 2 else None
        return Tensor._make(grad_x), Tensor._make(grad_w), grad_b


def conv_out_size(size, kernel, stride, pad_before, pad_after, dilation):
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def _tap(i, j, stride, dilation, out_hw):
    """The strided slice of the padded image that kernel tap (i, j) reads, over all output positions."""
    (sh, sw), (dh, dw), (oh, ow) = stride, dilation, out_hw
    return (slice(None), slice(None), slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))


def im2col(xpad, kernel, stride, dilation, out_hw):
    """(N, C, Hp, Wp) -> cols (N, C*kh*kw, OH*OW): column p holds the window of output position p."""
    (n, c), (kh, kw) = xpad.shape[:2], kernel
    cols = backend.array_module(xpad).empty((n, c, kh, kw) + tuple(out_hw), dtype=xpad.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xpad[_tap(i, j, stride, dilation, out_hw)]
    return cols.reshape(n, c * kh * kw, -1)


def col2im(cols, padded_shape, kernel, stride, dilation, out_hw):
    """The adjoint of im2col: (N, C*kh*kw, OH*OW) -> (N, C, Hp, Wp), each entry added where it was read."""
    (n, c), (kh, kw) = padded_shape[:2], kernel
    cols = cols.reshape((n, c, kh, kw) + tuple(out_hw))
    image = backend.array_module(cols).zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            image[_tap(i, j, stride, dilation, out_hw)] += cols[:, :, i, j]  # overlapping windows add up
    return image


def conv2d(x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """The textbook conv on normalised arguments (tuples; padding ((top, bottom), (left, right)))."""
    args = (x, weight) if bias is None else (x, weight, bias)
    return Conv2dFunction.apply(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv_transpose2d(x, weight, bias=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1,
                     dilation=(1, 1)):
    """The textbook transposed conv on normalised (h, w) tuples."""
    args = (x, weight) if bias is None else (x, weight, bias)
    return ConvTranspose2dFunction.apply(*args, stride=stride, padding=padding, output_padding=output_padding,
                                         groups=groups, dilation=dilation)
