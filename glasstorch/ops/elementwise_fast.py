"""The ReLU that F.relu and nn.ReLU run: elementwise.py's ReLUFunction, spread over the threads.

Read elementwise.py's ReLUFunction first: the same forward and backward, written plainly;
tests/ops/test_elementwise_fast.py holds the two equal (values and gradients, random shapes).

NumPy runs a ufunc on one core. A convolutional network's activations are megabytes, so forward
(y = max(x, 0)) and the first-order backward (dL/dx = dL/dy * (y > 0)) go through
backend.parallel_elementwise: large arrays are cut into one share per thread (the ufuncs release
the GIL, so the shares run at the same time), each share worked through in cache-sized blocks, so the
backward's mask and product read each block from memory once. Small arrays take one plain call.
A double backward (create_graph=True) takes the lesson's backward, written with ops.
"""
from .. import backend
from ..autograd import grad_mode
from ..tensor import Tensor
from .elementwise import ReLUFunction, as_tensor


class FastReLUFunction(ReLUFunction):
    """y = max(x, 0);  dL/dx = dL/dy where y > 0, else 0   (ReLUFunction, threaded for large arrays)"""

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind not in "fiu":  # (bool: the lesson's promotion rules)
            return ReLUFunction.forward(ctx, x)
        xp = ctx.xp
        return backend.parallel_elementwise(lambda out, a: xp.maximum(a, 0, out=out), xp.empty(x.shape, x.dtype), x)

    @staticmethod
    def backward(ctx, grad):
        if grad_mode.is_grad_enabled():  # recording a double backward: the lesson's backward, made of ops
            return ReLUFunction.backward(ctx, grad)
        xp, g, y = ctx.xp, grad._array, ctx.output_array
        if g.shape != y.shape:  # (a broadcast upstream gradient: the lesson's product broadcasts it)
            return ReLUFunction.backward(ctx, grad)
        out = xp.empty(g.shape, g.dtype)
        return Tensor._make(backend.parallel_elementwise(_masked_grad(xp), out, g, y))


def _masked_grad(xp):
    def masked(out, g, y):  # dL/dx = dL/dy * (y > 0): the mask block is cast in the product (no float copy)
        xp.multiply(g, y > 0, out=out)
    return masked


def relu(x):
    return FastReLUFunction.apply(as_tensor(x))
