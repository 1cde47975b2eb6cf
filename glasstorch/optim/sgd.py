"""SGD: stochastic gradient descent, optionally with (Nesterov) momentum and weight decay."""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, add_scaled


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as torch.optim.SGD.

    For each parameter p with gradient g, at step t::

        if maximize:        g = -g
        if weight_decay:    g = g + weight_decay * p
        if momentum:
            b = g                                   (t = 1)
            b = momentum * b + (1 - dampening) * g  (t > 1)
            g = g + momentum * b   if nesterov else   b
        p = p - lr * g

    Args:
        params: parameters or param groups to optimize.
        lr (float): learning rate (default 1e-3).
        momentum (float): momentum factor (default 0).
        dampening (float): dampening for momentum (default 0).
        weight_decay (float): L2 penalty (default 0).
        nesterov (bool): Nesterov momentum (default False).
        maximize (bool): maximize the objective instead of minimizing (default False).
        foreach, differentiable, fused: accepted for compatibility; glasstorch has one implementation.

    State: `momentum_buffer` per parameter (only when momentum != 0).

    Example:
        >>> w = torch.zeros(3, requires_grad=True)
        >>> opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> ((w - 1) ** 2).sum().backward()     # dL/dw = 2 (w - 1) = -2
        >>> opt.step(); opt.zero_grad()
        >>> w
        tensor([0.2000, 0.2000, 0.2000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"momentum_buffer": None} if group["momentum"] != 0 else {}

    def _update_group(self, group):
        lr = group["lr"]
        if (type(lr) is not float and type(lr) is not int) or group["momentum"] or group["weight_decay"] \
                or group["maximize"]:
            return super()._update_group(group)  # the general loop below (_update), with its options
        # plain SGD, the common case: p = p - lr * g on each array, no state, no options to read
        # lr in the parameters' dtype (the value a Python float becomes in it), made again only when the dtype or the
        # array type changes from one parameter to the next. On the host a 0-d array: NumPy multiplies by one on its
        # quick path, by a Python float or a NumPy scalar on a slower one (ops/quick_paths.py's docstring). A GPU
        # array gets a NumPy scalar, which CuPy takes on whichever device the parameter lives.
        dtype = array_type = scaled_by = None
        for p in group["params"]:
            grad = p.grad
            if grad is not None:
                a = p._array
                if a.dtype is not dtype or type(a) is not array_type:
                    dtype, array_type = a.dtype, type(a)
                    scaled_by = np.array(lr, dtype=dtype) if array_type is np.ndarray else dtype.type(lr)
                a -= grad._array * scaled_by  # the same rounding as torch's add_(g, alpha=-lr)
                p._version_counter[0] += 1  # an in-place write: a graph that saved p will notice

    def _update(self, param, grad, state, group, xp):
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, param, group["weight_decay"], xp)
        momentum = group["momentum"]
        if momentum != 0:
            buf = state["momentum_buffer"]
            if buf is None:
                state["momentum_buffer"] = buf = Tensor._make(grad.copy())
            else:
                buf._array *= momentum
                buf._array += grad if group["dampening"] == 0 else xp.multiply(grad, 1 - group["dampening"])
            grad = add_scaled(grad, buf._array, momentum, xp) if group["nesterov"] else buf._array
        param -= xp.multiply(grad, group["lr"])  # p + (-lr) * g: the same rounding as torch's add_(g, alpha=-lr)
