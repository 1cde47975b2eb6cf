"""L-BFGS: a quasi-Newton method that re-evaluates the loss through a closure, as torch.optim.LBFGS."""
from functools import reduce

from .. import backend
from ..autograd import grad_mode
from ..tensor import Tensor
from .optimizer import Optimizer


class LBFGS(Optimizer):
    r"""L-BFGS (Nocedal & Wright, Algorithm 7.4/7.5), as torch.optim.LBFGS; one `step(closure)` runs up to max_iter
    iterations on all parameters seen as one flat vector x with gradient g::

        iteration 1 (of the whole run):  d = -g,  t = min(1, 1 / sum|g|) * lr
        later:   y = g - g_prev,  s = t d;  if y.s > 1e-10: remember (y, s), H0 = y.s / y.y
                 d = -H g by the two-loop recursion over the last history_size pairs (H0 scales the middle);  t = lr
        stop when g.d > -tolerance_change (not a descent direction);
        x = x + t d, with t from a strong-Wolfe line search (line_search_fn="strong_wolfe") or fixed;
        stop after max_iter iterations, max_eval closure calls, when max|g| <= tolerance_grad,
        or when max|t d| or the change in loss is below tolerance_change.

    Args:
        params: the parameters (one group only: L-BFGS has no per-parameter options).
        lr (float): step length scale (default 1).
        max_iter (int): iterations per `step` (default 20).
        max_eval (int): closure calls per `step` (default max_iter * 5 // 4).
        tolerance_grad (float): first-order optimality tolerance (default 1e-7).
        tolerance_change (float): tolerance on loss / parameter changes (default 1e-9).
        history_size (int): how many (y, s) pairs to remember (default 100).
        line_search_fn (str): None or "strong_wolfe" (default None).

    `step(closure)` returns the loss of the first closure call. The closure must clear the gradients,
    compute the loss, call backward and return the loss.

    Example::

        >>> w = torch.tensor([3.0, -2.0], requires_grad=True)
        >>> optimizer = torch.optim.LBFGS([w], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     optimizer.zero_grad()
        ...     loss = ((w - 1) ** 2).sum()
        ...     loss.backward()
        ...     return loss
        >>> optimizer.step(closure).item()    # the loss before the step
        13.0
        >>> [round(v, 4) for v in w.tolist()]
        [1.0, 1.0]
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ------------------------------------------------------------------ the flat vector view
    def _numel(self):
        return reduce(lambda total, p: total + p.numel(), self._params, 0)

    def _gather_flat_grad(self):
        xp = backend.array_module(self._params[0]._array)
        return xp.concatenate([(p.grad._array if p.grad is not None else xp.zeros(p._array.shape, p._array.dtype))
                               .ravel() for p in self._params])

    def _add_grad(self, step_size, update):
        """x = x + step_size * update, parameter by parameter (in place)."""
        offset = 0
        for p in self._params:
            n = p._array.size
            p._array += (step_size * update[offset:offset + n]).reshape(p._array.shape).astype(p._array.dtype)
            p._version_counter[0] += 1
            offset += n

    def _set_param(self, arrays):
        for p, a in zip(self._params, arrays):
            p._array[...] = a
            p._version_counter[0] += 1

    def _directional_evaluate(self, closure, x, t, d):
        """The loss and gradient at x + t d (the parameters are put back to x afterwards)."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ one step: up to max_iter iterations
    @grad_mode.no_grad()  # (as torch's: only the closure records, under enable_grad)
    def step(self, closure):
        if closure is None:
            raise RuntimeError("LBFGS requires a closure that re-evaluates the model and returns the loss")
        closure = grad_mode.enable_grad()(closure)
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")
        xp = backend.array_module(self._params[0]._array)

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:  # already optimal
            return orig_loss

        d, t = _array(state.get("d")), state.get("t")
        old_dirs = [_array(v) for v in state.get("old_dirs", [])]
        old_stps = [_array(v) for v in state.get("old_stps", [])]
        ro, h_diag = list(state.get("ro", [])), state.get("H_diag", 1.0)
        prev_flat_grad, prev_loss = _array(state.get("prev_flat_grad")), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:  # keep the curvature pair only when y.s > 0 (H stays positive definite)
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                d = _two_loop(-flat_grad, old_dirs, old_stps, ro, h_diag)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # the step length
            t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(flat_grad @ d)  # directional derivative
            if gtd > -tolerance_change:
                break
            ls_func_evals = 0
            if line_search_fn == "strong_wolfe":
                x_init = [p._array.copy() for p in self._params]

                def obj_func(x, step, direction):
                    return self._directional_evaluate(closure, x, step, direction)

                # the line search may spend what is left of max_eval
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                                  max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # re-evaluate, unless this was the last iteration
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            # the stopping conditions
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=_tensor(d), t=t, old_dirs=[_tensor(v) for v in old_dirs],
                     old_stps=[_tensor(v) for v in old_stps], ro=ro, H_diag=h_diag,
                     prev_flat_grad=_tensor(prev_flat_grad), prev_loss=prev_loss)
        return orig_loss


def _array(value):
    return value._array if isinstance(value, Tensor) else value


def _tensor(array):
    return Tensor._make(array) if array is not None else None


def _two_loop(q, old_dirs, old_stps, ro, h_diag):
    """d = H q for the L-BFGS inverse-Hessian H built from pairs (y_i, s_i), rho_i = 1 / y_i.s_i, H0 = h_diag I."""
    alphas = [0.0] * len(old_dirs)
    for i in range(len(old_dirs) - 1, -1, -1):   # newest to oldest
        alphas[i] = float(old_stps[i] @ q) * ro[i]
        q = q - alphas[i] * old_dirs[i]
    r = q * h_diag
    for i in range(len(old_dirs)):               # oldest to newest
        beta = float(old_dirs[i] @ r) * ro[i]
        r = r + (alphas[i] - beta) * old_stps[i]
    return r


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, f'=g1) and (x2, f2, f'=g2), clamped to bounds
    (default: between x1 and x2); the midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square ** 0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, lo), hi)
    return (lo + hi) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t satisfying the strong Wolfe conditions f(x + t d) <= f + c1 t g.d and |g(x + t d).d| <= c2 |g.d|
    (Nocedal & Wright, Algorithms 3.5 and 3.6): bracket by growing t with cubic extrapolation, then zoom in
    with cubic interpolation. Returns (f_new, g_new, t, number of evaluations)."""
    d_norm = float(abs(d).max())
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    # bracketing: find an interval that contains a point satisfying the conditions
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # extrapolate: the cubic's minimum, between 1.01 t (t - t_prev ahead) and 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        previous = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:  # no bracket found within max_ls evaluations
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # the bracket is too small
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # a point too close to an end of the bracket makes little progress: move it 10% inside (once in a row)
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            # not enough decrease: t becomes the high end
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:  # the Wolfe conditions hold
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:  # the old low end becomes the high end
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], ls_func_evals
