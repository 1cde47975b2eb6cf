"""NAdam: Adam with Nesterov momentum (Dozat, 2016), with torch's momentum-decay schedule."""
from .adam import check_adam_options
from .optimizer import Optimizer, add_scaled, addcdiv_, addcmul_, lerp_, new_step_tensor, zeros_state


class NAdam(Optimizer):
    r"""NAdam, as torch.optim.NAdam.

    For each parameter p with gradient g, at step t (m = v = 0, mu_product = 1 at the start)::

        if maximize:       g = -g
        if weight_decay:   g = g + weight_decay * p           (decoupled_weight_decay: p = p * (1 - lr * weight_decay))
        mu_t      = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
        mu_{t+1}  = beta1 * (1 - 0.5 * 0.96^((t + 1) * momentum_decay))
        mu_product = mu_product * mu_t
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_product) * g / denom
        p = p - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom

    Args:
        params: parameters or param groups to optimize.
        lr (float): learning rate (default 2e-3).
        betas (Tuple[float, float]): averaging coefficients for g and g^2 (default (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default 1e-8).
        weight_decay (float): weight decay (default 0).
        momentum_decay (float): momentum decay psi (default 4e-3).
        decoupled_weight_decay (bool): decay the weights directly, as in AdamW (default False).
        maximize (bool): maximize the objective (default False).
        foreach, capturable, differentiable: accepted for compatibility; one implementation here.

    State: `step`, `mu_product` (0-d float32 tensors, as torch), `exp_avg`, `exp_avg_sq`.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_adam_options(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": new_step_tensor(), "mu_product": new_step_tensor(1.0), "exp_avg": zeros_state(p),
                "exp_avg_sq": zeros_state(p)}

    def _update(self, param, grad, state, group, xp):
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        momentum_decay = group["momentum_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"]._array, state["exp_avg_sq"]._array
        step = self._count_step(state)
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                grad = add_scaled(grad, param, weight_decay, xp)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product_array = state["mu_product"]._array
        mu_product_array *= mu  # kept in float32, as torch keeps it
        mu_product = float(mu_product_array)
        mu_product_next = mu_product * mu_next

        scratch = xp.empty_like(param)
        lerp_(exp_avg, grad, 1 - beta1, scratch, xp)
        exp_avg_sq *= beta2
        addcmul_(exp_avg_sq, grad, grad, 1 - beta2, scratch, xp)
        denom = xp.divide(exp_avg_sq, bias_correction2)
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        addcdiv_(param, grad, denom, -lr * (1.0 - mu) / (1.0 - mu_product), scratch, xp)
        addcdiv_(param, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product_next), scratch, xp)
