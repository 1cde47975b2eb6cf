"""RAdam: Adam with the variance of its adaptive step rectified (Liu et al., 2019), as torch.optim.RAdam."""
from .adam import check_adam_options
from .optimizer import Optimizer, add_scaled, addcmul_, lerp_, new_step_tensor, zeros_state


class RAdam(Optimizer):
    r"""RAdam, as torch.optim.RAdam.

    For each parameter p with gradient g, at step t (m = v = 0 at the start)::

        if maximize:       g = -g
        if weight_decay:   g = g + weight_decay * p           (decoupled_weight_decay: p = p * (1 - lr * weight_decay))
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)     (the length of the approximated moving average)
        if rho_t > 5:   r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                        p = p - lr * m_hat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r
        else:           p = p - lr * m_hat                 (early on the variance is too uncertain: SGD with momentum)

    Args:
        params: parameters or param groups to optimize.
        lr (float): learning rate (default 1e-3).
        betas (Tuple[float, float]): averaging coefficients for g and g^2 (default (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default 1e-8).
        weight_decay (float): weight decay (default 0).
        decoupled_weight_decay (bool): decay the weights directly, as in AdamW (default False).
        maximize (bool): maximize the objective (default False).
        foreach, capturable, differentiable: accepted for compatibility; one implementation here.

    State: `step` (0-d float32 tensor, as torch), `exp_avg`, `exp_avg_sq`.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        check_adam_options(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": new_step_tensor(), "exp_avg": zeros_state(p), "exp_avg_sq": zeros_state(p)}

    def _update(self, param, grad, state, group, xp):
        lr, (beta1, beta2), weight_decay, eps = group["lr"], group["betas"], group["weight_decay"], group["eps"]
        exp_avg, exp_avg_sq = state["exp_avg"]._array, state["exp_avg_sq"]._array
        step = self._count_step(state)
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                grad = add_scaled(grad, param, weight_decay, xp)
        scratch = xp.empty_like(param)
        lerp_(exp_avg, grad, 1 - beta1, scratch, xp)
        exp_avg_sq *= beta2
        addcmul_(exp_avg_sq, grad, grad, 1 - beta2, scratch, xp)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = exp_avg / bias_correction1          # m_hat
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        update *= lr
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = xp.sqrt(exp_avg_sq)
            adaptive += eps
            xp.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
            update *= adaptive
            update *= rect
        param -= update
