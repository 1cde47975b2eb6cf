"""RMSprop: divide the gradient by a running root-mean-square of recent gradients (Hinton's lecture 6e)."""
from ..tensor import Tensor
from .optimizer import Optimizer, add_scaled, addcdiv_, addcmul_, lerp_, new_step_tensor, zeros_state


class RMSprop(Optimizer):
    r"""RMSprop, as torch.optim.RMSprop.

    For each parameter p with gradient g (v = b = g_avg = 0 at the start)::

        if maximize:       g = -g
        if weight_decay:   g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            g_avg = g_avg + (1 - alpha) * (g - g_avg)
            avg = sqrt(v - g_avg * g_avg) + eps
        else:
            avg = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg

    Args:
        params: parameters or param groups to optimize.
        lr (float): learning rate (default 1e-2).
        alpha (float): smoothing constant (default 0.99).
        eps (float): added to the denominator for numerical stability (default 1e-8).
        weight_decay (float): L2 penalty (default 0).
        momentum (float): momentum factor (default 0).
        centered (bool): normalize by the estimated variance of the gradient (default False).
        maximize (bool): maximize the objective (default False).
        capturable, foreach, differentiable: accepted for compatibility; one implementation here.

    State: `step`, `square_avg`, `momentum_buffer` (momentum > 0), `grad_avg` (centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = {"step": new_step_tensor(), "square_avg": zeros_state(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = zeros_state(p)
        return state

    def _update(self, param, grad, state, group, xp):
        alpha, momentum = group["alpha"], group["momentum"]
        square_avg = state["square_avg"]._array
        self._count_step(state)
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, param, group["weight_decay"], xp)

        scratch = xp.empty_like(param)
        square_avg *= alpha
        addcmul_(square_avg, grad, grad, 1 - alpha, scratch, xp)
        if group["centered"]:
            grad_avg = state["grad_avg"]._array
            lerp_(grad_avg, grad, 1 - alpha, scratch, xp)
            avg = square_avg.copy()
            addcmul_(avg, grad_avg, grad_avg, -1, scratch, xp)
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]._array
            buf *= momentum
            addcdiv_(buf, grad, avg, 1, scratch, xp)
            param -= xp.multiply(buf, group["lr"], out=scratch)
        else:
            addcdiv_(param, grad, avg, -group["lr"], scratch, xp)
