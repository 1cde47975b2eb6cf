"""Adagrad: per-coordinate learning rates from the sum of squared gradients (Duchi et al., 2011)."""
from .. import backend
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
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = new_step_tensor()
                self.state[p]["sum"] = zeros_state(p, float(group["initial_accumulator_value"]))

    def _update_group(self, group):
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay, maximize = float(group["weight_decay"]), group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            xp = backend.array_module(p._array)
            state = self.state[p]
            if len(state) == 0:  # a group added after construction
                state["step"] = new_step_tensor()
                state["sum"] = zeros_state(p, float(group["initial_accumulator_value"]))
            param, state_sum = p._array, state["sum"]._array
            step = self._step_count(state)
            grad = self._grad_of(p, maximize)
            if weight_decay != 0:
                grad = add_scaled(grad, param, weight_decay, xp)
            clr = lr / (1 + (step - 1) * lr_decay)
            scratch = xp.empty_like(param)
            addcmul_(state_sum, grad, grad, 1, scratch, xp)
            std = xp.sqrt(state_sum)
            std += eps
            addcdiv_(param, grad, std, -clr, scratch, xp)
            p._version_counter[0] += 1
