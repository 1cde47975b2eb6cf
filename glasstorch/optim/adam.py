"""Adam: adaptive moment estimation (Kingma & Ba, 2014), optionally AMSGrad and decoupled weight decay."""
from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, add_scaled, addcdiv_, addcmul_, lerp_, new_step_tensor, zeros_state


class Adam(Optimizer):
    r"""Adam, as torch.optim.Adam.

    For each parameter p with gradient g, at step t (m = v = 0 at the start)::

        if maximize:       g = -g
        if weight_decay:   g = g + weight_decay * p          (decoupled_weight_decay: p = p * (1 - lr * weight_decay))
        m = m + (1 - beta1) * (g - m)                         (moving average of g)
        v = beta2 * v + (1 - beta2) * g * g                   (moving average of g^2)
        v_max = max(v_max, v); use v_max instead of v          (amsgrad only)
        denom = sqrt(v) / sqrt(1 - beta2^t) + eps
        p = p - lr / (1 - beta1^t) * m / denom

    Args:
        params: parameters or param groups to optimize.
        lr (float): learning rate (default 1e-3).
        betas (Tuple[float, float]): averaging coefficients for g and g^2 (default (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default 1e-8).
        weight_decay (float): L2 penalty (default 0).
        amsgrad (bool): use the AMSGrad variant (default False).
        maximize (bool): maximize the objective (default False).
        decoupled_weight_decay (bool): decay the weights directly, as AdamW does (default False).
        foreach, capturable, differentiable, fused: accepted for compatibility; one implementation here.

    State: `step` (0-d float32 tensor), `exp_avg` (m), `exp_avg_sq` (v), `max_exp_avg_sq` (amsgrad).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_adam_options(lr, betas, eps, weight_decay)
        betas = tuple(float(b) if isinstance(b, Tensor) else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = {"step": new_step_tensor(), "exp_avg": zeros_state(p), "exp_avg_sq": zeros_state(p)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(p)
        return state

    def _update(self, param, grad, state, group, xp):
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        exp_avg, exp_avg_sq = state["exp_avg"]._array, state["exp_avg_sq"]._array
        step = self._count_step(state)
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                grad = add_scaled(grad, param, weight_decay, xp)

        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        max_exp_avg_sq = state["max_exp_avg_sq"]._array if group["amsgrad"] else None
        # the whole update, block by block over the threads (torch's foreach idea: one pass per parameter)
        backend.parallel_elementwise(adam_update_, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, beta2,
                                     lr / bias_correction1, bias_correction2 ** 0.5, group["eps"], xp)


def adam_update_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, beta2, step_size, bias_correction2_sqrt,
                 eps, xp):
    """One Adam step on (a block of) one parameter, in place, with torch's operations in torch's order."""
    scratch = xp.empty_like(param)
    lerp_(exp_avg, grad, 1 - beta1, scratch, xp)  # m = m + (1 - beta1) (g - m)
    exp_avg_sq *= beta2
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2, scratch, xp)  # v = beta2 v + (1 - beta2) g^2
    second_moment = exp_avg_sq
    if max_exp_avg_sq is not None:  # amsgrad
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second_moment = max_exp_avg_sq
    denom = xp.sqrt(second_moment, out=scratch)
    denom /= bias_correction2_sqrt
    denom += eps
    addcdiv_(param, exp_avg, denom, -step_size, xp.empty_like(param), xp)  # p = p - step_size m / denom


def check_adam_options(lr, betas, eps, weight_decay):
    """Validate the options shared by the Adam family, with torch's messages."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
