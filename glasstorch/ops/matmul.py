"""Matrix products: matmul (all 1-D/2-D/batched cases), mm, mv, dot, bmm, outer, linear, and cov.

One BLAS call per product; float32 stays float32 (NumPy's matmul uses sgemm for it). float16 operands
(autocast) are multiplied in float32 and rounded once (`product`).
"""
from .. import autocast_mode, backend
from ..autograd.engine import sum_to_shape
from ..autograd.function import Function
from ..tensor import Tensor
from .common import NamedFunction, as_tensor, autocast_inputs, binary_operands
from .elementwise import ZeroGrad
from .reduce import Sum

xp = backend.xp
_add_reduce = xp.add.reduce


#: a 2-D product of fewer multiply-adds than this (about 0.15 ms on one core) runs on one BLAS thread: a second
#: thread would save at most half of that, and OpenBLAS then keeps it spinning on a core for 0.1 s (see `product`)
BLAS_THREADS_MIN_MACS = 2 ** 24
#: below this OpenBLAS stays on one thread by itself (its GEMM_MULTITHREAD_THRESHOLD): nothing to arrange
BLAS_SINGLE_MACS = 2 ** 18


def product(a, b):
    """a @ b of arrays. float16 on the CPU: in float32, then rounded to float16 once, as torch's CPU kernels
    accumulate (NumPy's own float16 matmul rounds every partial sum, and is 100x slower). CuPy's float16
    matmul already accumulates in float32 (cuBLAS, tensor cores).

    The BLAS's threads: after a multithreaded call OpenBLAS keeps its worker spinning on a core for 0.1 s. So a
    2-D product runs on one BLAS thread when it is mid-sized (BLAS_THREADS_MIN_MACS: two threads would save
    little) or while glasstorch's own threads are in use (`backend.pool_in_use`: a convolutional network,
    whose convolutions split their samples over those threads, which the spinning worker would slow)."""
    matrices = a.ndim == 2 and b.ndim == 2
    if matrices:  # ndarray.dot: the same BLAS product (bit for bit) as `@` at half the call cost
        macs = a.size * b.shape[1]
        if macs < BLAS_SINGLE_MACS and a.dtype.char != "e":  # (every product of a small network: no more to ask)
            return a.dot(b)
    if a.dtype.char == "e" and b.dtype.char == "e" and not backend.on_device(a):  # "e": float16
        return (a.astype(xp.float32) @ b.astype(xp.float32)).astype(xp.float16)
    if matrices:
        if macs >= BLAS_SINGLE_MACS and (macs < BLAS_THREADS_MIN_MACS or backend.pool_in_use()) \
                and not backend.on_device(a):
            with backend.blas_on_one_thread():
                return a.dot(b)
        return a.dot(b)
    return a @ b


def product_for(grad):
    """The matrix product a backward formula uses, chosen once for `grad`'s form: `product` on arrays (the plain
    walk: float16 accumulated in float32), the MatMul op on Tensors (recorded, so it is differentiated too)."""
    return MatMul.apply if isinstance(grad, Tensor) else product


class MatMul(Function):
    """Y = A @ B (A: ...xnxk, B: ...xkxm);  dL/dA = dL/dY @ B^T,  dL/dB = A^T @ dL/dY"""

    @staticmethod
    def forward(ctx, a, b):
        return product(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        return (MatMul.apply(grad, b.mT) if ctx.needs_input_grad[0] else None,
                MatMul.apply(a.mT, grad) if ctx.needs_input_grad[1] else None)


class LinearFunction(NamedFunction):
    """y = x W^T + b (x: ...xin, W: outxin);  dL/dx = dL/dy W,  dL/dW = dL/dy^T x,  dL/db = sum dL/dy

    One node instead of matmul + transpose + add: the layer the whole course leans on.
    """
    node_name = "Linear"  # the node prints as LinearBackward0 (AddmmFunction / MmLinearFunction below: 2-D inputs)
    array_backward = True  # one formula for both walks: arrays in the plain one, recorded Tensors under create_graph
    grads_fit_inputs = True  # (linear() checks the dtypes; a bias of another shape than (out,) is summed to its own)

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if x.ndim > 2:  # (N, L, in): one (N*L, in) product is one BLAS call, a 3-D one is N small ones
            out = product(x.reshape(-1, x.shape[-1]), weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        else:
            out = product(x, weight.T)
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def forward_error(arrays):
        x, weight = arrays[0], arrays[1]
        if not x.ndim or x.shape[-1] != weight.shape[-1]:
            rows = x.size // x.shape[-1] if x.ndim and x.shape[-1] else None  # (x as the product sees it)
            lead = (rows, x.shape[-1]) if rows is not None else x.shape
            return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims(lead)} and "
                                f"{_dims(tuple(reversed(weight.shape)))})")
        if len(arrays) == 3:  # a bias that does not broadcast to y
            out = x.shape[:-1] + weight.shape[:1]
            if x.ndim == 1:
                out = (1,) + out  # (torch's addmm sees a 1-D x as one row)
            bias = arrays[2].shape
            for i in range(1, min(len(out), len(bias)) + 1):
                if bias[-i] not in (1, out[-i]):  # (torch's words differ: addmm up to a 2-D x, matmul + add above)
                    if x.ndim > 2:
                        return RuntimeError(f"The size of tensor a ({out[-i]}) must match the size of tensor b "
                                            f"({bias[-i]}) at non-singleton dimension {len(out) - i}")
                    return RuntimeError(f"The expanded size of the tensor ({out[-i]}) must match the existing size "
                                        f"({bias[-i]}) at non-singleton dimension {len(out) - i}.  Target sizes: "
                                        f"{list(out)}.  Tensor sizes: {list(bias)}")
        return None

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.inputs_as(grad)[:2]
        need = ctx.needs_input_grad
        mm = product_for(grad)
        # one row per sample: x may be 1-D, 2-D or (N, L, in); a 2-D x (the common case) is used as it is
        # (three reshapes fewer: 0.1 us each)
        rows = x.ndim == 2
        grad2 = grad if rows else grad.reshape(-1, weight.shape[0])
        x2 = x if rows else x.reshape(-1, weight.shape[1])
        grad_x = None
        if need[0]:
            grad_x = mm(grad2, weight)
            grad_x = grad_x if rows else grad_x.reshape(x.shape)
        grad_w = mm(grad2.T, x2) if need[1] else None
        if len(need) == 2:
            return grad_x, grad_w
        grad_b = None
        if need[2]:
            # (on a host array NumPy's add.reduce itself: ndarray.sum goes through a Python wrapper, 0.1 us)
            grad_b = _add_reduce(grad2, 0) if type(grad2) is xp.ndarray else grad2.sum(0)
            bias = ctx.inputs[2]._array
            if bias.ndim != 1 or bias.shape[0] != grad2.shape[1]:  # torch takes any bias that broadcasts to y
                grad_b = _summed_to(grad, bias.shape)
        return grad_x, grad_w, grad_b


class AddmmFunction(LinearFunction):
    """y = x W^T + b (x: N x in, W: out x in);  dL/dx = dL/dy W,  dL/dW = dL/dy^T x,  dL/db = sum dL/dy

    LinearFunction on a 2-D input with a bias: the case torch computes with addmm, so its node prints
    AddmmBackward0, as in the notes' printouts (`grad_fn=<AddmmBackward0>`). The same forward and backward."""
    node_name = "Addmm"


class MmLinearFunction(LinearFunction):
    """y = x W^T (x: N x in, W: out x in);  dL/dx = dL/dy W,  dL/dW = dL/dy^T x

    LinearFunction on a 2-D input without a bias: torch's mm (MmBackward0)."""
    node_name = "Mm"


class Bmm(MatMul):
    """Y_i = A_i @ B_i (A: b x n x k, B: b x k x m);  dL/dA_i = dL/dY_i @ B_i^T,  dL/dB_i = A_i^T @ dL/dY_i

    MatMul of two batches of matrices: torch.bmm, whose node prints BmmBackward0."""


class Mm(MatMul):
    """Y = A @ B (A: n x k, B: k x m);  dL/dA = dL/dY @ B^T,  dL/dB = A^T @ dL/dY

    MatMul of two matrices: torch's mm, whose node prints MmBackward0 (`x @ w`, `torch.mm`)."""


def _summed_to(grad, shape):
    """dL/dy summed over the dims broadcasting added to a bias of `shape` (a Tensor when recorded)."""
    if isinstance(grad, Tensor):
        return grad.sum_to_size(shape)
    return sum_to_shape(grad, tuple(shape))


def _dims(shape):
    return "x".join(str(s) for s in shape)


def _mismatch(a, b):
    """torch's message for inner sizes that differ, naming both shapes as the product sees them."""
    if b.ndim == 1:
        return RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({_dims(a.shape)}), vec ({b.shape[0]})")
    if b.ndim > 2:
        batch = 1
        for s in xp.broadcast_shapes(a.shape[:-2], b.shape[:-2]):
            batch *= s
        return RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, "
                            f"{a.shape[-1]}] but got: [{batch}, {b.shape[-2]}].")
    rows = 1
    for s in a.shape[:-1]:
        rows *= s
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a.shape[-1]} and {_dims(b.shape)})")


def matmul(a, b):
    """torch.matmul: 1-D operands are promoted (and the added dim removed), batch dims broadcast."""
    return _matmul(*autocast_inputs("matmul", *binary_operands(a, b)))


def _matmul(a, b):
    """matmul without autocast's cast (mv, dot and outer run in their inputs' dtype under autocast, as torch)."""
    a, b = binary_operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
                               f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
        raise _mismatch(a, b)
    if a.ndim > 2 and b.ndim > 2:
        try:
            xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise RuntimeError(f"The size of tensor a must match the size of tensor b at non-singleton batch "
                               f"dimensions: got {list(a.shape)} and {list(b.shape)}") from None
    if a._array.dtype == xp.bool_:
        raise RuntimeError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    if a.ndim == 2 and b.ndim == 2:
        return Mm.apply(a, b)
    if a.ndim >= 2 and b.ndim >= 2:
        return MatMul.apply(a, b)
    # a 1-D operand is a row (left) or a column (right) for the product; that dim is removed afterwards
    out = MatMul.apply(a.unsqueeze(0) if a.ndim == 1 else a, b.unsqueeze(-1) if b.ndim == 1 else b)
    if b.ndim == 1:
        out = out.squeeze(-1)
    if a.ndim == 1:
        out = out.squeeze(-2 if b.ndim > 1 else -1)
    return out


def mm(a, b):
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"{'self' if a.ndim != 2 else 'mat2'} must be a matrix")
    return matmul(a, b)


def mv(a, v):
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({_dims(a.shape)}), vec ({v.shape[0]})")
    return _matmul(a, v)


def dot(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {a.dtype.name} and {b.dtype.name}")
    return _matmul(a, b)


inner = dot
vdot = dot


def bmm(a, b):
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor" if a.ndim != 3 else "batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
                           f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    a, b = autocast_inputs("matmul", *binary_operands(a, b))  # (bmm is in autocast's lower-precision list as matmul)
    if a._array.dtype == xp.bool_:
        raise RuntimeError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    return Bmm.apply(a, b)


def outer(a, b):
    """a_i b_j: a column times a row, broadcast (torch's node too is MulBackward0)."""
    a, b = as_tensor(a), as_tensor(b)
    return a.reshape(-1, 1) * b.reshape(1, -1)


ger = outer


def linear(input, weight, bias=None):
    """y = x W^T + b, the Linear layer's math, as one graph node."""
    # (each layer of every step comes here: the common case, Tensors and no autocast, costs two tests)
    x = input if type(input) is Tensor else as_tensor(input)
    if autocast_mode._state.active:
        x, weight, bias = autocast_inputs("linear", x, weight, bias)
    if not x._array.ndim:  # (inner sizes that differ: the product raises, LinearFunction.forward_error names them)
        raise LinearFunction.forward_error((x._array, weight._array))
    if x._array.dtype != weight._array.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dtype_name(x)} and {_dtype_name(weight)}")
    # (torch's addmm / mm: their node names; other inputs print LinearBackward0)
    matrix = x._array.ndim == 2 and weight._array.ndim == 2
    if bias is None:
        return (MmLinearFunction if matrix else LinearFunction).apply(x, weight)
    if bias._array.dtype != weight._array.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_dtype_name(bias)} and "
                           f"{_dtype_name(weight)}")
    return (AddmmFunction if matrix else LinearFunction).apply(x, weight, bias)


def _dtype_name(t):
    """torch's C++ name of a tensor's dtype, as its error messages print it: Float, Double, Half, Long ..."""
    return t.dtype.name.capitalize().replace("Float32", "Float").replace("Float64", "Double") \
        .replace("Float16", "Half").replace("Int64", "Long").replace("Int32", "Int")


def _beta_input_plus_alpha_product(input, product, beta, alpha, name):
    """beta * input + alpha * product, input broadcast to the product's shape (torch: beta = 0 ignores input,
    nan and inf included, so `beta=0` with an uninitialised `input` is safe)."""
    input = as_tensor(input)
    try:
        input = input.expand(tuple(product.shape))
    except RuntimeError:
        raise RuntimeError(f"{name}: the input of shape {list(input.shape)} cannot be broadcast to the product's "
                           f"shape {list(product.shape)}") from None
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # input still gets a gradient, 0 * dL/dy, as in torch; its values are never read
        return product + ZeroGrad.apply(input, fn="zeros_like")
    return product + (input * beta if beta != 1 else input)


def addmm(input, mat1, mat2, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2): mat1 (n x k), mat2 (k x m), input broadcastable to (n x m)."""
    input, mat1, mat2 = autocast_inputs("addmm", input, mat1, mat2)
    return _beta_input_plus_alpha_product(input, mm(mat1, mat2), beta, alpha, "addmm")


def addmv(input, mat, vec, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec): mat (n x m), vec (m), input broadcastable to (n)."""
    return _beta_input_plus_alpha_product(input, mv(mat, vec), beta, alpha, "addmv")


def baddbmm(input, batch1, batch2, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2) per batch: batch1 (b x n x k), batch2 (b x k x m)."""
    input, batch1, batch2 = autocast_inputs("baddbmm", input, batch1, batch2)
    return _beta_input_plus_alpha_product(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


def addbmm(input, batch1, batch2, beta=1, alpha=1):
    """beta * input + alpha * sum_b (batch1[b] @ batch2[b]): the batch's products summed to one (n x m)."""
    input, batch1, batch2 = autocast_inputs("addbmm", input, batch1, batch2)
    product = Sum.apply(bmm(batch1, batch2), dims=(0,), keepdim=False)
    return _beta_input_plus_alpha_product(input, product, beta, alpha, "addbmm")


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of `input` (observations in the columns):
    C = (X - mean) W (X - mean)^T / (sum w - correction), with w = fweights * aweights (both optional).
    A 1-D input is one variable: its variance (0-dim)."""
    x = as_tensor(input)
    if x.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an input with {x.ndim} "
                         f"dimensions")
    x = x.reshape(1, -1) if x.ndim < 2 else x
    if x._array.dtype.kind != "f":
        x = x.to(backend.get_default_dtype())
    n = x.shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is not None:
            if weights.ndim > 1 or weights.numel() != n:
                raise RuntimeError(f"cov(): expected {name} to have one dimension and the same number of "
                                   f"elements as the number of observations ({n}), but got {tuple(weights.shape)}")
            weights = weights.to(x.dtype)
            w = weights if w is None else w * weights
    if w is None:
        avg = x.mean(1, keepdim=True)
        norm = n - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / w_sum
        norm = w_sum - (correction * (w * aweights.to(x.dtype)).sum() / w_sum if aweights is not None else correction)
    xm = x - avg
    c = _matmul(xm * w if w is not None else xm, xm.mT) / (norm.clamp(min=0) if isinstance(norm, Tensor)
                                                            else max(norm, 0))
    return c.squeeze() if c.shape == (1, 1) else c
