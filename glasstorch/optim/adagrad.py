"""Adagrad: per-coordinate learning rates from the sum of squared gradients (Duchi et al., 2011)."""
from ..tensor import Tensor
from .optimizer import Optimizer, add_scaled, addcdiv_, addcmul_, new_step_tensor, zeros_state


class Adagrad(Optimizer):
    r"""Adagrad, as torch.optim.Adagrad.

    For each parameter p with gradient g, at step t (s = initial_accumulator_value at the start)::

        if maximize:       g = -g
        if weight_decay:   g = g + weight_decay * p
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - lr_t * g / (sqrt(s) + eps)

    Args:
        params: parameters or param groups to optimize.
        lr (float): learning rate (default 1e-2).
        lr_decay (float): learning rate decay (default 0).
        weight_decay (float): L2 penalty (default 0).
        initial_accumulator_value (float): starting value of the sum s (default 0).
        eps (float): added to the denominator for numerical stability (default 1e-10).
        maximize (bool): maximize the objective (default False).
        foreach, differentiable, fused: accepted for compatibility; one implementation here.

    State (created for every parameter at construction, as torch does): `step`, `sum`.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:  # torch creates Adagrad's state up front
            for p in group["params"]:
                self.state[p] = self._init_state(p, group)

    def _init_state(self, p, group):
        return {"step": new_step_tensor(), "sum": zeros_state(p, float(group["initial_accumulator_value"]))}

    def _update(self, param, grad, state, group, xp):
        state_sum = state["sum"]._array
        step = self._count_step(state)
        if group["weight_decay"] != 0:
            grad = add_scaled(grad, param, group["weight_decay"], xp)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        scratch = xp.empty_like(param)
        addcmul_(state_sum, grad, grad, 1, scratch, xp)
        std = xp.sqrt(state_sum)
        std += group["eps"]
        addcdiv_(param, grad, std, -clr, scratch, xp)
