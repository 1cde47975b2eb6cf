"""Adamax: Adam with the infinity norm in place of the second moment (Kingma & Ba, 2014, section 7)."""
from .adam import check_adam_options
from .optimizer import Optimizer, add_scaled, addcdiv_, lerp_, new_step_tensor, zeros_state


class Adamax(Optimizer):
    r"""Adamax, as torch.optim.Adamax.

    For each parameter p with gradient g, at step t (m = u = 0 at the start)::

        if maximize:       g = -g
        if weight_decay:   g = g + weight_decay * p
        m = m + (1 - beta1) * (g - m)
        u = max(beta2 * u, |g| + eps)                          (exp_inf)
        p = p - lr / (1 - beta1^t) * m / u

    Args:
        params: parameters or param groups to optimize.
        lr (float): learning rate (default 2e-3).
        betas (Tuple[float, float]): coefficients for the average of g and the infinity norm (default (0.9, 0.999)).
        eps (float): added to |g| for numerical stability (default 1e-8).
        weight_decay (float): L2 penalty (default 0).
        maximize (bool): maximize the objective (default False).
        foreach, differentiable, capturable: accepted for compatibility; one implementation here.

    State: `step`, `exp_avg`, `exp_inf`.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_adam_options(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": new_step_tensor(), "exp_avg": zeros_state(p), "exp_inf": zeros_state(p)}

    def _update(self, param, grad, state, group, xp):
        beta1, beta2 = group["betas"]
        exp_avg, exp_inf = state["exp_avg"]._array, state["exp_inf"]._array
        step = self._count_step(state)
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, param, group["weight_decay"], xp)

        scratch = xp.empty_like(param)
        lerp_(exp_avg, grad, 1 - beta1, scratch, xp)
        exp_inf *= beta2
        xp.abs(grad, out=scratch)
        scratch += group["eps"]
        xp.maximum(exp_inf, scratch, out=exp_inf)
        clr = group["lr"] / (1 - beta1 ** step)
        addcdiv_(param, exp_avg, exp_inf, -clr, scratch, xp)
