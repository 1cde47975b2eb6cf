"""The machinery behind `glasstorch exercise`: an `Exercise`, its starter and solution files, and the
checker that compares a learner's NumPy code with glasstorch (forward values, backward against autograd
and against central differences, shapes, dtypes, stability) and names the likely mistake.

An exercise is data: the math, the starter's functions (docstring with shapes, body `raise
NotImplementedError`), the reference solution in the same form, the checks, and planted mistakes (edits of
the solution that the tests use to show that each hint fires).
"""
import importlib.util
import inspect
import itertools
import textwrap
import time
from dataclasses import dataclass, field

import numpy as np

from .. import autograd
from ..tensor import tensor as make_tensor

HINTS = {
    "transposed": "the right numbers with the axes in the wrong order (a transpose): each gradient has its "
                  "input's shape, e.g. for y = x @ W.T, dL/dW = grad_y.T @ x is (out, in) like W; check every "
                  "reshape/transpose against the shapes in the docstring",
    "sum_batch": "a parameter used by every sample gets the sum of their gradients: sum over the batch axis "
                 "(axis=0) so the gradient has the parameter's shape",
    "missing_1/N": "off by a factor of N (the batch size or element count): a mean divides by N, and so does "
                   "its gradient",
    "extra_1/N": "off by a factor of 1/N: the gradient of a sum has no 1/N; divide only where the forward took a mean",
    "unstable": "inf/NaN for large inputs: exp overflows above ~709. Subtract the row max first "
                "(softmax(x) = softmax(x - max(x))) or use log-sum-exp: log(sum(exp(x))) = m + log(sum(exp(x - m)))",
    "axis": "the right numbers along the wrong axis: normalise or reduce over the classes/features "
            "(axis=-1), once per sample, not over the batch",
    "inplace": "an input array was changed in place (x += ..., x[...] = ..., np.maximum(x, 0, out=x)): the "
               "forward's inputs are saved for the backward, so work on a copy",
    "sign": "the sign is flipped: check the direction of the update (subtract the gradient) or of the derivative",
    "not_implemented": "replace `raise NotImplementedError` with your code",
    "bias_correction": "Adam divides m and v by (1 - beta1**t) and (1 - beta2**t): without it the first steps "
                       "are far too small",
    "first_step": "the first step: torch starts the momentum buffer at the first gradient (buf = grad), not at "
                  "(1 - momentum) * grad",
    "forward_difference": "use the central difference (f(x+h) - f(x-h)) / 2h: the one-sided (f(x+h) - f(x)) / h has "
                          "an O(h) error instead of O(h^2)",
    "restore": "restore x[i] after each probe: the next element's difference must start from the original x",
    "running_var": "running_var is updated with the unbiased variance (divide by N - 1), while the batch is "
                   "normalised with the biased one (divide by N)",
    "eps_place": "eps goes inside the square root: (x - mean) / sqrt(var + eps)",
    "dropout_scale": "inverted dropout scales the kept values by 1 / (1 - p) in training, so evaluation needs no "
                     "change",
    "tanh_derivative": "the derivative of tanh is 1 - tanh(x)^2 = 1 - y^2",
    "sigmoid_derivative": "the derivative of sigmoid is y * (1 - y), with y = sigmoid(x)",
    "relu_mask": "ReLU passes the gradient where x > 0 and blocks it elsewhere: grad_x = grad_y * (x > 0)",
    "gate_order": "torch's gate order: LSTM chunks are (input, forget, cell, output); GRU (reset, update, new)",
    "scale": "attention scales the scores by 1 / sqrt(d_k), d_k the size of the last axis of q",
    "mask": "masked positions (mask False) get -inf before the softmax, so they receive exactly zero weight",
    "tie_routing": "max-pool sends each window's gradient to its max element only (one element per window)",
}


class CheckFailed(Exception):
    """One failed check: what differs (`message`) and the likely mistake (`hint`)."""

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass
class Exercise:
    name: str
    title: str
    math: str                 # the idea and its derivatives, as the notes write them
    starter: str              # the functions to write: signature, docstring with shapes, NotImplementedError
    solution: str             # the same functions, solved
    check: object             # check(module, rng): raises CheckFailed; returns the timing text
    where: tuple = ()         # glasstorch objects holding the library's own version
    mistakes: dict = field(default_factory=dict)  # hint key -> [(old, new)] edits planting that mistake

    def header(self):
        return (f'"""Exercise {self.name}: {self.title}.\n\n{textwrap.indent(self.math.strip(), "    ")}\n\n'
                f"Write the functions below with NumPy, then check them:\n"
                f"    glasstorch exercise check {self.name} THIS_FILE.py\n"
                f'"""\nimport numpy as np\n\n\n')

    def starter_file(self):
        return self.header() + textwrap.dedent(self.starter).strip() + "\n"

    def solution_file(self):
        return self.header() + textwrap.dedent(self.solution).strip() + "\n"

    def planted(self, mistake):
        """The solution file with one planted mistake (what the tests feed the checker)."""
        text = self.solution_file()
        for old, new in self.mistakes[mistake]:
            if old not in text:
                raise ValueError(f"{self.name}: mistake {mistake!r} edits {old!r}, which the solution lacks")
            text = text.replace(old, new)
        return text


def load_module(path):
    """The learner's file as a module (their own code: running it is the point)."""
    spec = importlib.util.spec_from_file_location("exercise_submission", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- calling the learner's code
def call(module, name, **available):
    """Call `module.name` with the arguments its signature asks for (from `available`), on copies, and
    check it changed none of them in place."""
    fn = getattr(module, name, None)
    if fn is None:
        raise CheckFailed(f"the file has no function `{name}`")
    params = inspect.signature(fn).parameters
    missing = [p for p in params if p not in available and params[p].default is inspect.Parameter.empty]
    if missing:
        raise CheckFailed(f"`{name}` asks for {missing}, which the checker does not have: keep the starter's "
                          f"signature ({', '.join(available)})")
    args = {p: _copy(available[p]) for p in params if p in available}
    try:
        with np.errstate(all="ignore"):
            out = fn(**args)
    except NotImplementedError:
        raise CheckFailed(f"`{name}` is not implemented yet", "not_implemented") from None
    except Exception as error:
        raise CheckFailed(f"`{name}` raised {type(error).__name__}: {error}") from error
    for p, value in args.items():
        if isinstance(value, np.ndarray) and not np.array_equal(value, available[p], equal_nan=True):
            raise CheckFailed(f"`{name}` changed its argument `{p}` in place", "inplace")
    return out


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return value  # optimizer state: the learner's to keep between calls
    return value


def as_tuple(value, n):
    if n == 1 and not isinstance(value, tuple):
        return (value,)
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise CheckFailed(f"expected {n} results (a tuple), got {type(value).__name__}"
                          + (f" of {len(value)}" if isinstance(value, (tuple, list)) else ""))
    return tuple(value)


# ----------------------------------------------------------------------------- comparing
def expect(what, got, want, rtol=1e-5, atol=1e-7, batch=None, variants=None, stability=False):
    """Fail unless `got` matches `want`; name the first mismatching element and the likely mistake."""
    want = np.asarray(want)
    if got is None:
        raise CheckFailed(f"{what}: got None (did you forget to return it?)")
    got = np.asarray(got)
    if got.dtype == object:
        raise CheckFailed(f"{what}: got an object array; return a NumPy array of numbers")
    hint = _mistake(got, want, batch, variants or {}, rtol, atol, stability)
    if got.shape != want.shape:
        raise CheckFailed(f"{what}: shape {got.shape}, expected {want.shape}", hint)
    if want.dtype.kind == "f" and got.dtype.kind not in "fc":
        raise CheckFailed(f"{what}: dtype {got.dtype}, expected floating point ({want.dtype})", hint)
    close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=False)
    if not close.all():
        index = tuple(int(i) for i in np.argwhere(~close)[0])
        raise CheckFailed(f"{what}: element {index} is {float(got[index]):.6g}, expected {float(want[index]):.6g} "
                          f"({int((~close).sum())} of {close.size} elements differ)", hint)


def _mistake(got, want, batch, variants, rtol, atol, stability):
    def same(a, b):
        return a.shape == b.shape and np.allclose(a, b, rtol=max(rtol, 1e-4), atol=max(atol, 1e-6))

    if got.shape == want.shape and not np.isfinite(got).all() and np.isfinite(want).all():
        return "unstable" if stability else None
    for key, variant in variants.items():
        if same(got, np.asarray(variant)):
            return key
    if got.ndim == want.ndim and 2 <= want.ndim <= 4:
        for axes in list(itertools.permutations(range(want.ndim)))[1:]:  # every order but the identity
            if same(got, want.transpose(axes)) and not same(got, want):
                return "transposed"
    if got.ndim == want.ndim + 1 and got.shape[1:] == want.shape and same(got.sum(0), want):
        return "sum_batch"
    if got.shape == want.shape and np.abs(want).max(initial=0) > 1e-8:
        if same(got, -want):
            return "sign"
        for n in filter(None, [batch]):
            if same(got, want * n):
                return "missing_1/N"
            if same(got, want / n):
                return "extra_1/N"
    return None


def numerical_gradient(f, x, h=1e-6):
    """Central differences of the scalar f() with respect to every element of x (changed in place, restored)."""
    grad = np.zeros_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        g[i] = (up - down) / (2 * h)
    return grad


# ----------------------------------------------------------------------------- the common shape of a check
def check_function(module, rng, *, make, reference, diff, outputs=("y",), forward="forward", backward="backward",
                   edge_cases=(), variants=None, stability=False, tol=1e-6, numeric=True, batch_of=None):
    """Check a forward/backward pair against `reference` (a glasstorch function of tensors, differentiated by
    autograd) on random cases from `make(rng)` and on `edge_cases`.

    make(rng) -> {name: value}: arrays (float64) and constants; `diff` names the arrays to differentiate.
    forward(**inputs) returns the outputs; backward(grad_<output>..., **inputs, <outputs>...) returns one
    gradient per name in `diff`. `variants(case, want, upstream) -> {"y" or "dx": {hint: wrong array}}` adds
    the exercise's own mistakes (what a wrong derivative would give), so the checker can name them.
    """
    cases = [make(rng) for _ in range(3)] + [make(rng) | dict(edge) for edge in edge_cases]
    for n, case in enumerate(cases):
        label = "edge case" if n >= 3 else "random case"
        tensors = {k: (make_tensor(v, requires_grad=k in diff) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                       else v) for k, v in case.items()}
        with autograd.enable_grad():
            want = reference(**tensors)
        want = want if isinstance(want, tuple) else (want,)
        want_arrays = [w.detach().numpy() for w in want]
        upstream = {f"grad_{name}": rng.standard_normal(w.shape) for name, w in zip(outputs, want_arrays)}
        extra = variants(case, want_arrays, upstream) if variants else {}
        batch = batch_of(case) if batch_of else None
        got = as_tuple(call(module, forward, **case), len(outputs))
        for name, g, w in zip(outputs, got, want_arrays):
            expect(f"{forward}: {name} ({label}, {_shapes(case)})", g, w, rtol=tol, atol=tol,
                   batch=batch, variants=extra.get(name), stability=stability)
        if backward is None:
            continue
        total = sum((w * make_tensor(upstream[f"grad_{name}"])).sum() for name, w in zip(outputs, want))
        want_grads = autograd.grad(total, [tensors[k] for k in diff], allow_unused=True)
        available = dict(case) | upstream | {name: g for name, g in zip(outputs, got)}
        got_grads = as_tuple(call(module, backward, **available), len(diff))
        for k, g, w in zip(diff, got_grads, want_grads):
            w = np.zeros_like(case[k]) if w is None else w.numpy()
            expect(f"{backward}: dL/d{k} ({label}, {_shapes(case)})", g, w, rtol=tol, atol=tol, batch=batch,
                   variants=extra.get(f"d{k}"), stability=stability)
        if numeric and n == 0:
            _check_numerically(module, forward, backward, case, diff, outputs, upstream, got_grads)


def _check_numerically(module, forward, backward, case, diff, outputs, upstream, got_grads):
    """The learner's backward against central differences of the learner's own forward."""
    fn = getattr(module, forward)
    params = inspect.signature(fn).parameters
    for k, g in zip(diff, got_grads):
        x = case[k].copy()

        def scalar():
            args = {p: (x if p == k else case[p]) for p in params if p in case}
            out = as_tuple(fn(**args), len(outputs))
            return sum(float((np.asarray(o) * upstream[f"grad_{name}"]).sum()) for name, o in zip(outputs, out))

        numeric = numerical_gradient(scalar, x)
        expect(f"{backward}: dL/d{k} against central differences of your forward", g, numeric, rtol=1e-4, atol=1e-6)


def _shapes(case):
    return ", ".join(f"{k} {tuple(v.shape)}" for k, v in case.items() if isinstance(v, np.ndarray))


def time_against(fn, reference, repeat=20):
    """'your forward: X µs, glasstorch: Y µs' on the same inputs."""
    def best(f):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            f()
            times.append(time.perf_counter() - start)
        return min(times) * 1e6
    return f"your code: {best(fn):.0f} µs, glasstorch: {best(reference):.0f} µs per call"


__all__ = ["CheckFailed", "Exercise", "HINTS", "call", "check_function", "expect", "load_module",
           "numerical_gradient", "time_against"]
