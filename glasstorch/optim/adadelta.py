"""Adadelta: an adaptive learning rate from running averages of squared gradients and updates (Zeiler, 2012)."""
from ..tensor import Tensor
from .optimizer import Optimizer, add_scaled, addcmul_, new_step_tensor, zeros_state


class Adadelta(Optimizer):
    r"""Adadelta, as torch.optim.Adadelta.

    For each parameter p with gradient g (v = u = 0 at the start)::

        if maximize:       g = -g
        if weight_decay:   g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g                       (square_avg)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta               (acc_delta)
        p = p - lr * delta

    Args:
        params: parameters or param groups to optimize.
        lr (float): coefficient that scales delta before it is applied (default 1.0).
        rho (float): coefficient of the running averages (default 0.9).
        eps (float): added inside the square roots for numerical stability (default 1e-6).
        weight_decay (float): L2 penalty (default 0).
        maximize (bool): maximize the objective (default False).
        foreach, capturable, differentiable: accepted for compatibility; one implementation here.

    State: `step`, `square_avg`, `acc_delta`.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": new_step_tensor(), "square_avg": zeros_state(p), "acc_delta": zeros_state(p)}

    def _update(self, param, grad, state, group, xp):
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"]._array, state["acc_delta"]._array
        self._count_step(state)
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, param, group["weight_decay"], xp)

        scratch = xp.empty_like(param)
        square_avg *= rho
        addcmul_(square_avg, grad, grad, 1 - rho, scratch, xp)
        std = xp.add(square_avg, eps)
        xp.sqrt(std, out=std)
        delta = xp.add(acc_delta, eps)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= grad
        acc_delta *= rho
        addcmul_(acc_delta, delta, delta, 1 - rho, scratch, xp)
        param -= xp.multiply(delta, group["lr"], out=scratch)
