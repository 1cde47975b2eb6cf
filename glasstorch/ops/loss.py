"""Losses as fused nodes: cross-entropy, NLL, binary cross-entropy (plain and with logits), and MSE.

Fusing keeps the numerics stable (log-softmax inside cross-entropy) and the graph short (one node
where a composition would record three or four). The other regression losses (L1, Huber ...) are
compositions of ops and live in nn.functional. Forward and backward compute with ctx.xp (NumPy, or
CuPy on the GPU); class targets and weights given on the host move to the logits' device.
"""
from .. import backend
from ..autograd import grad_mode
from ..tensor import Tensor
from .arithmetic import maximum
from .common import NamedFunction
from .elementwise import clamp, exp, log, log1p, sigmoid, softmax
from .quick_paths import sum_of_squares

xp = backend.xp


def reduce_loss(loss, reduction, denominator=None):
    """Apply torch's reduction to an elementwise loss Tensor ('mean' may divide by a weight sum instead)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if denominator is None else loss.sum() / denominator
    raise ValueError(f"{reduction} is not a valid value for reduction")


def target_weights(xp, target, weight, ignore_index, dtype):
    """(w[target] per element, 0 where target == ignore_index; targets safe to index with; the keep mask)."""
    keep = target != ignore_index
    safe = target if keep.all() else xp.where(keep, target, 0)
    if weight is None:
        return keep.astype(dtype), safe, keep
    return xp.where(keep, weight[safe], 0).astype(dtype, copy=False), safe, keep


def pick_classes(xp, values, safe):
    """values[n, safe[n], ...]: each element's entry at its target class (class dim 1)."""
    if values.ndim == 2:  # (N, C): plain fancy indexing is the quick way
        return values[xp.arange(values.shape[0]), safe]
    return xp.take_along_axis(values, safe[:, None], axis=1)[:, 0]


def check_targets(safe, n_classes):
    if safe.size and (safe.min() < 0 or safe.max() >= n_classes):
        bad = int(safe[(safe < 0) | (safe >= n_classes)][0])
        raise IndexError(f"Target {bad} is out of bounds.")


def _on_device_of(x, target, weight):
    """Class targets and weights (attributes, not inputs) moved where the logits x live."""
    return backend.like(x, target), (None if weight is None else backend.like(x, weight))


class MSELossFunction(NamedFunction):
    """L = reduce((a - b)^2);  dL/da = dL/dL * 2 (a - b) / n (n = 1 for 'sum', elementwise for 'none'),  dL/db = -dL/da"""
    node_name = "MseLoss"  # the node prints as MseLossBackward0, as torch's
    array_backward = True
    grads_fit_inputs = True  # (the caller broadcasts a and b to one shape and dtype first)

    @staticmethod
    def forward(ctx, a, b, reduction):
        ctx.diff = diff = a - b  # (kept for backward: one subtraction less there)
        ctx.scale = (2.0 / diff.size if diff.size else float("nan")) if reduction == "mean" else 2.0  # (empty: nan)
        if reduction == "none":
            return diff * diff
        total = sum_of_squares(diff)
        return total / diff.size if reduction == "mean" else total

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):  # recorded (create_graph): a - b as an op, so it is differentiated too
            a, b = ctx.inputs
            diff = a - b
        else:
            diff = ctx.diff
        grad_a = diff * ctx.scale * grad  # (torch's order: (a - b) * (2 / n), then * dL/dL)
        return (grad_a if ctx.needs_input_grad[0] else None,
                -grad_a if ctx.needs_input_grad[1] else None)


class CrossEntropyFunction(NamedFunction):
    """loss_i = -log_softmax(x_i)[t_i];  dL/dx_i = (softmax(x_i) - onehot(t_i)) * dL/dloss_i   ('mean': / N)

    One node: the log-softmax and the pick of the target's entry are fused. With class weights, label
    smoothing or ignore_index the one-hot becomes a target distribution q_i (`ClassTargets` below):
    loss_i = -sum_c q_ic log_softmax(x_i)_c and dL/dx_i = softmax(x_i) * sum_c q_ic - q_i.
    The class dim is axis 1: logits (N, C) or (N, C, d1, ...), targets (N,) or (N, d1, ...).
    """
    node_name = "NllLoss"  # prints as NllLossBackward0, torch's name (torch's last node: log_softmax, then nll_loss)
    saves_output = False

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        # stable log-softmax: subtract each row's max first, so exp never overflows (logits of 1e4 stay finite)
        shifted = x - x.max(axis=1, keepdims=True)
        log_probs = shifted - ctx.xp.log(ctx.xp.exp(shifted).sum(axis=1, keepdims=True))
        targets = ClassTargets(x, target, weight, ignore_index, label_smoothing)
        loss = targets.loss(log_probs)  # -log_probs[i, t_i] in the plain case
        ctx.log_probs, ctx.targets, ctx.reduction = log_probs, targets, reduction
        if reduction == "none":
            return loss.astype(x.dtype, copy=False)
        total = loss.sum(dtype=x.dtype)
        if reduction == "sum":
            return ctx.xp.asarray(total, dtype=x.dtype)
        ctx.denominator = targets.denominator(x.dtype)  # N in the plain case
        return ctx.xp.asarray(total / ctx.denominator, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        log_probs, targets = ctx.log_probs, ctx.targets
        if ctx.reduction == "mean":
            grad = grad / Tensor._make(ctx.xp.asarray(ctx.denominator, dtype=log_probs.dtype))
        if ctx.reduction == "none":
            grad = grad.unsqueeze(1)
        if grad_mode.is_grad_enabled():
            # recording a double backward: softmax recomputed through the op keeps this differentiable
            q, mass = targets.distribution(log_probs)  # onehot(t) and 1 in the plain case
            probs = softmax(ctx.inputs[0], dim=1)
            return (probs * Tensor._make(mass) - Tensor._make(q)) * grad, None
        # the usual first-order backward, on arrays: softmax is exp(log_probs) from the forward
        d = ctx.xp.exp(log_probs)
        if targets.eps or d.ndim != 2:  # label smoothing, or (N, C, d1, ...): the whole distribution q
            q, mass = targets.distribution(log_probs)
            d *= mass
            d -= q
        else:  # q_i is w[t_i] at t_i and 0 elsewhere: no (N, C) one-hot, a subtraction at the N targets
            if not targets.unit_weights:
                d *= targets.w_t[:, None]
            d[ctx.xp.arange(d.shape[0]), targets.safe] -= targets.w_t
        d *= grad._array
        return Tensor._make(d), None


class ClassTargets:
    """Class-index targets with torch's options: per-class weights w, ignore_index, label smoothing eps.

    The target distribution of element i (C classes; all zero where t_i == ignore_index):
        q_i = (1 - eps) w[t_i] onehot(t_i) + (eps / C) w        (w = 1 without weights)
    'mean' divides by sum_i w[t_i] over the kept elements (N in the plain case).
    """

    def __init__(self, x, target, weight, ignore_index, label_smoothing):
        self.xp = backend.array_module(x)
        target, self.weight = _on_device_of(x, target, weight)
        self.w_t, self.safe, self.keep = target_weights(self.xp, target, self.weight, ignore_index, x.dtype)
        self.unit_weights = self.weight is None and self.safe is target  # (w[t_i] = 1 for every element)
        check_targets(self.safe, x.shape[1])
        self.eps, self.n_classes = label_smoothing, x.shape[1]

    def _class_weights(self, ndim):
        """w shaped to broadcast along the class dim 1 (1 without weights)."""
        return self.weight.reshape((1, -1) + (1,) * (ndim - 2)) if self.weight is not None else 1

    def loss(self, log_probs):
        """-sum_c q_ic log_probs_ic for every element: the weighted pick, plus the smoothing term."""
        picked = pick_classes(self.xp, log_probs, self.safe)
        if not self.eps:
            return -self.w_t * picked
        smooth = -(log_probs * self._class_weights(log_probs.ndim)).sum(axis=1) * self.keep
        return -(1 - self.eps) * self.w_t * picked + (self.eps / self.n_classes) * smooth

    def distribution(self, like):
        """(q, its mass sum_c q_ic with dim 1 kept), as arrays shaped and typed like `like` (N, C, ...)."""
        xp, dtype = self.xp, like.dtype
        q = xp.zeros_like(like)
        picked = (1 - self.eps) * self.w_t
        if q.ndim == 2:
            q[xp.arange(q.shape[0]), self.safe] = picked
        else:
            xp.put_along_axis(q, self.safe[:, None], picked[:, None], axis=1)
        mass = picked
        if self.eps:
            spread = (self.eps / self.n_classes) * self._class_weights(like.ndim) * self.keep[:, None].astype(dtype)
            q += spread
            mass = mass + spread.sum(axis=1) if self.weight is not None else mass + self.eps * self.keep
        return q, xp.expand_dims(mass.astype(dtype, copy=False), 1)

    def denominator(self, dtype):
        return self.w_t.sum(dtype=dtype)


class NLLLossFunction(NamedFunction):
    """loss_i = -w_t x_i[t_i];  dL/dx_i = -w_t onehot(t_i) * dL/dloss_i   (x holds log-probabilities, class dim 1)"""
    node_name = "NllLoss"  # the node prints as NllLossBackward0, as torch's
    needs_inputs = False

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        targets = ClassTargets(x, target, weight, ignore_index, 0.0)
        loss = targets.loss(x)
        ctx.targets, ctx.reduction, ctx.shape, ctx.dtype = targets, reduction, x.shape, x.dtype
        if reduction == "none":
            return loss
        total = loss.sum(dtype=x.dtype)
        if reduction == "mean":
            ctx.denominator = targets.denominator(x.dtype)
            total = total / ctx.denominator
        return ctx.xp.asarray(total, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        q, _ = ctx.targets.distribution(ctx.xp.empty(ctx.shape, dtype=ctx.targets.w_t.dtype))
        pick = -q
        if ctx.reduction == "mean":
            pick /= ctx.denominator
        if ctx.reduction == "none":
            grad = grad.unsqueeze(1)
        return grad * Tensor._make(pick), None


class BinaryCrossEntropyFunction(NamedFunction):
    """loss = -w (t log x + (1-t) log(1-x)), each log clamped at -100 (as torch);
    dL/dx = w (x - t) / max(x (1-x), 1e-12) * dL/dloss;  dL/dt = w (log(1-x) - log x) * dL/dloss"""
    node_name = "BinaryCrossEntropy"  # the node prints as BinaryCrossEntropyBackward0

    @staticmethod
    def forward(ctx, x, t):
        with xp.errstate(divide="ignore"):  # log(0) = -inf, then clamped (NumPy's switch; CuPy never warns)
            log_x = ctx.xp.maximum(ctx.xp.log(x), -100)
            log_1mx = ctx.xp.maximum(ctx.xp.log1p(-x), -100)
        return -(t * log_x + (1 - t) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.inputs
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * (x - t) / clamp(x * (1 - x), min=1e-12)
        if ctx.needs_input_grad[1]:
            grad_t = grad * (clamp(log1p(-x), min=-100) - clamp(log(x), min=-100))
        return grad_x, grad_t


class BinaryCrossEntropyWithLogitsFunction(NamedFunction):
    """loss = (1-t) x + (1 + (p-1) t) softplus(-x)   (p = pos_weight; softplus(-x) = max(-x,0) + log1p(exp(-|x|)));
    dL/dx = ((1 + (p-1) t) sigmoid(x) - p t) * dL/dloss   -- for p = 1: sigmoid(x) - t"""
    node_name = "BinaryCrossEntropyWithLogits"  # the node prints as BinaryCrossEntropyWithLogitsBackward0

    @staticmethod
    def forward(ctx, x, t, pos_weight=None):
        softplus_neg = ctx.xp.maximum(-x, 0) + ctx.xp.log1p(ctx.xp.exp(-ctx.xp.abs(x)))
        if pos_weight is None:
            return (1 - t) * x + softplus_neg
        return (1 - t) * x + (1 + (pos_weight - 1) * t) * softplus_neg

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.inputs[0], ctx.inputs[1]
        p = ctx.inputs[2] if len(ctx.inputs) > 2 else None
        s = sigmoid(x)
        grad_x = grad_t = grad_p = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * (s - t) if p is None else grad * ((1 + (p - 1) * t) * s - p * t)
        if ctx.needs_input_grad[1]:
            grad_t = -grad * x if p is None else grad * ((p - 1) * _softplus_neg(x) - x)
        if p is not None and ctx.needs_input_grad[2]:
            grad_p = grad * t * _softplus_neg(x)
        return (grad_x, grad_t) if p is None else (grad_x, grad_t, grad_p)


def _softplus_neg(x):
    return maximum(-x, 0.0) + log1p(exp(-x.abs()))


def mse_loss(a, b, reduction="mean"):
    """Mean squared error as one node; a and b have the same shape (the caller broadcasts)."""
    return MSELossFunction.apply(a, b, reduction=reduction)


def cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """On validated arrays: x (N, C, ...) float Tensor, target int array (N, ...), weight array or None."""
    return CrossEntropyFunction.apply(x, target=target, weight=weight, ignore_index=ignore_index, reduction=reduction,
                              label_smoothing=float(label_smoothing))


def nll_loss(x, target, weight=None, ignore_index=-100, reduction="mean"):
    return NLLLossFunction.apply(x, target=target, weight=weight, ignore_index=ignore_index, reduction=reduction)


def binary_cross_entropy(x, target):
    return BinaryCrossEntropyFunction.apply(x, target)


def binary_cross_entropy_with_logits(x, target, pos_weight=None):
    if pos_weight is None:
        return BinaryCrossEntropyWithLogitsFunction.apply(x, target)
    return BinaryCrossEntropyWithLogitsFunction.apply(x, target, pos_weight)
