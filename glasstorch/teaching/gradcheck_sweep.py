"""`glasstorch gradcheck`: every op, layer and loss against central differences, every element.

For each case: draw inputs (and a layer's parameters) at random, run the forward, draw a random upstream
gradient v, and compare autograd's d<v, f>/dx with (<v, f(x + eps)> - <v, f(x - eps)>) / 2 eps for every
element of every input and parameter. The error of a case is max |analytic - numerical| divided by the
largest |gradient| of that tensor (so a tensor of tiny gradients is not failed by round-off).

When a case fails the sweep says why it probably did:
  * the forward is not deterministic (run twice, different outputs: dropout in training mode);
  * a kink: the left and right one-sided differences disagree at an element (ReLU at 0, a max-pool tie, |x| at 0);
  * eps: the check passes with eps x 100 (eps was too small: round-off) or eps / 100 (too large: curvature);
  * float32: the same case passes in float64 (float32 is too coarse for central differences).
"""
import dataclasses
import importlib.util
import sys
import time

import numpy as np

import glasstorch
from .. import backend, nn
from ..autograd import engine
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from . import op_specs

EPS = {"float64": 1e-6, "float32": 1e-3}
TOL = {"float64": 1e-5, "float32": 2e-2}

PITFALLS = {
    "nondeterministic": "the forward gives different outputs on two runs with the same inputs (dropout in "
                        "training mode?): central differences then measure noise. Call .eval(), or seed inside.",
    "kink": "a kink: the left and right slopes differ at an element (ReLU at 0, a max-pool tie, |x| at 0), so "
            "the central difference averages two slopes. Move the inputs off the kink.",
    "eps_small": "eps too small: with eps x 100 the check passes, so round-off dominated the difference.",
    "eps_large": "eps too large: with eps / 100 the check passes, so curvature (the x^3 term) dominated.",
    "float32": "float32 is too coarse for central differences (about 7 digits): the case passes in float64. "
               "Check gradients in float64 (--dtype float64).",
}


@dataclasses.dataclass
class Target:
    """One named thing to check: `cases` is a list of (label, make) with make(np_dtype, rng) ->
    (forward, tensors): forward() returns the output(s), `tensors` the (name, Tensor) pairs to perturb."""
    name: str
    group: str
    cases: list


@dataclasses.dataclass
class Result:
    name: str
    group: str
    cases: int = 0
    elements: int = 0
    error: float = 0.0
    failed: list = dataclasses.field(default_factory=list)   # (case label, tensor name, error)
    pitfalls: set = dataclasses.field(default_factory=set)

    @property
    def passed(self):
        return not self.failed


def _floating(outputs):
    """The floating-point tensors of an output, nested tuples flattened (LSTM returns (out, (h, c)))."""
    if isinstance(outputs, Tensor):
        return [outputs] if outputs.dtype.is_floating_point else []
    if isinstance(outputs, (tuple, list)):
        return [t for o in outputs for t in _floating(o)]
    return []


def check_case(forward, tensors, eps, tol, seed=0):
    """(error, element count, failing tensor names, pitfalls) of one case."""
    outputs = _floating(forward())
    with no_grad():
        again = _floating(forward())
    pitfalls = set()
    if any(a._array.shape != b._array.shape or not np.array_equal(a._array, b._array, equal_nan=True)
           for a, b in zip(outputs, again)):
        pitfalls.add("nondeterministic")
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(o.shape) for o in outputs]

    def scalar():
        with no_grad():
            outs = _floating(forward())
        return sum(float((o._array.astype(np.float64) * v).sum()) for o, v in zip(outs, upstream))

    used = [(o, v) for o, v in zip(outputs, upstream) if o.requires_grad]
    wanted = [t for _, t in tensors]
    if used:
        analytic = engine.grad([o for o, _ in used], wanted,
                               [Tensor._make(v.astype(o._array.dtype)) for o, v in used], allow_unused=True)
    else:
        analytic = [None] * len(wanted)
    f0 = scalar()
    worst, count, failing = 0.0, 0, []
    for (name, t), a in zip(tensors, analytic):
        got = np.zeros(t.shape) if a is None else a._array.astype(np.float64)
        numerical, left, right = _differences(scalar, t, eps, f0)
        scale = max(np.abs(numerical).max(initial=0.0), np.abs(got).max(initial=0.0), 1e-12)
        err = float(np.abs(got - numerical).max(initial=0.0) / scale)
        count += got.size
        worst = max(worst, err)
        if err > tol:
            failing.append((name, err))
            bad = np.abs(got - numerical) > tol * scale
            if np.any(np.abs(right - left)[bad] > 1e-2 * (1 + np.abs(right[bad]) + np.abs(left[bad]))):
                pitfalls.add("kink")
    return worst, count, failing, pitfalls


def _differences(scalar, t, eps, f0):
    """Central, left and right differences of scalar() for every element of t (perturbed in place, restored)."""
    array = t._array
    flat = array.reshape(-1)
    if array.size and not np.shares_memory(flat, array):
        raise ValueError("gradcheck perturbs tensors in place: it needs contiguous inputs and parameters")
    central, left, right = (np.zeros(array.size) for _ in range(3))
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = scalar()
        flat[i] = original - eps
        minus = scalar()
        flat[i] = original
        step = (float(original + eps) - float(original - eps)) / 2  # the step the dtype really took
        central[i] = (plus - minus) / (2 * step)
        right[i], left[i] = (plus - f0) / step, (f0 - minus) / step
    return (a.reshape(array.shape) for a in (central, left, right))


def run_target(target, dtype="float64", seed=0, eps=None, tol=None):
    eps = EPS[dtype] if eps is None else eps
    tol = TOL[dtype] if tol is None else tol
    np_dtype = np.dtype(dtype)
    result = Result(target.name, target.group)
    for label, make in target.cases:
        forward, tensors = make(np_dtype, np.random.default_rng(seed))
        err, count, failing, pitfalls = check_case(forward, tensors, eps, tol, seed)
        result.cases += 1
        result.elements += count
        result.error = max(result.error, err)
        result.pitfalls |= pitfalls
        if failing:
            result.failed += [(label, name, e) for name, e in failing]
            if "nondeterministic" in pitfalls:  # the differences are noise: no kink or eps to blame
                result.pitfalls.discard("kink")
            else:
                result.pitfalls |= _diagnose(make, np_dtype, seed, eps, tol, dtype)
    return result


def _diagnose(make, np_dtype, seed, eps, tol, dtype):
    """Rerun a failing case with eps x 100, eps / 100 and in float64: which change makes it pass?"""
    found = set()

    def passes(np_dt, e, t):
        forward, tensors = make(np_dt, np.random.default_rng(seed))
        return not check_case(forward, tensors, e, t, seed)[2]
    if dtype == "float32" and passes(np.dtype(np.float64), EPS["float64"], TOL["float64"]):
        return {"float32"}
    if passes(np_dtype, eps * 100, tol):
        found.add("eps_small")
    elif passes(np_dtype, eps / 100, tol):
        found.add("eps_large")
    return found


# ----------------------------------------------------------------------------- what the sweep checks
def _tensor(array, requires_grad=True):
    return glasstorch.tensor(np.asarray(array, order="C"), requires_grad=requires_grad)


def op_targets():
    """Every differentiable op of the op table, on its shape cases (values drawn from the seed)."""
    targets = []
    for spec in op_specs.SPECS:
        if not (spec.grad and spec.check):
            continue
        cases = []
        for case in spec.shapes:
            def make(np_dtype, rng, spec=spec, case=case):
                seed = int(rng.integers(0, 2 ** 16))
                xs = [_tensor(a) for a in op_specs.inputs(spec, case, np_dtype, seed)]
                return (lambda: spec.fn(glasstorch, *xs)), [(f"input {i}", x) for i, x in enumerate(xs)]
            cases.append(("x".join(map(str, case)) or "scalar", make))
        targets.append(Target(spec.name, "ops", cases))
    return targets


def _module_case(build, *input_makers):
    """A case: a module built from the rng, inputs drawn by input_makers(rng, module) -> arrays."""
    def make(np_dtype, rng):
        backend.manual_seed(int(rng.integers(0, 2 ** 31)))
        module = build(rng)
        if module is not None and np_dtype == np.float64:
            module = module.double()
        arrays = [m(rng) for m in input_makers]
        xs = [_tensor(a.astype(np_dtype), True) if a.dtype.kind == "f" else _tensor(a, False) for a in arrays]
        params = [(f"{n}", p) for n, p in module.named_parameters() if p.requires_grad] if module else []
        for _, p in params:
            p._array = np.ascontiguousarray(p._array)
        checked = [(f"input {i}", x) for i, x in enumerate(xs) if x.requires_grad] + params
        return (lambda: module(*xs)), checked
    return make


def _normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def _distinct(*shape):
    return lambda rng: (rng.permutation(int(np.prod(shape))).reshape(shape) - np.prod(shape) / 2) * 0.05


def _pick(rng, *choices):
    return choices[int(rng.integers(len(choices)))]


def layer_targets():
    """nn layers with small random settings (sizes, stride, padding, bias), input and parameter gradients."""
    r = lambda lo, hi: (lambda rng: int(rng.integers(lo, hi + 1)))  # noqa: E731
    layers = {
        "Linear": [_module_case(lambda rng: nn.Linear(3, 4, bias=_pick(rng, True, False)), _normal(5, 3)),
                   _module_case(lambda rng: nn.Linear(2, 3), _normal(2, 4, 2))],
        "Bilinear": [_module_case(lambda rng: nn.Bilinear(2, 3, 2), _normal(4, 2), _normal(4, 3))],
        "Conv1d": [_module_case(lambda rng: nn.Conv1d(2, 3, 3, stride=_pick(rng, 1, 2), padding=_pick(rng, 0, 1)),
                                _normal(2, 2, 7))],
        "Conv2d": [_module_case(lambda rng: nn.Conv2d(2, 3, _pick(rng, 2, 3), stride=_pick(rng, 1, 2),
                                                      padding=_pick(rng, 0, 1), bias=_pick(rng, True, False)),
                                _normal(2, 2, 5, 5)),
                   _module_case(lambda rng: nn.Conv2d(4, 4, 3, padding=1, groups=2), _normal(1, 4, 4, 4))],
        "ConvTranspose2d": [_module_case(lambda rng: nn.ConvTranspose2d(2, 3, 3, stride=_pick(rng, 1, 2), padding=1),
                                         _normal(2, 2, 3, 3))],
        "BatchNorm1d": [_module_case(lambda rng: nn.BatchNorm1d(3), _normal(5, 3))],
        "BatchNorm2d": [_module_case(lambda rng: nn.BatchNorm2d(2), _normal(3, 2, 2, 3))],
        "BatchNorm2d (eval)": [_module_case(lambda rng: nn.BatchNorm2d(2).eval(), _normal(3, 2, 2, 3))],
        "LayerNorm": [_module_case(lambda rng: nn.LayerNorm(4), _normal(3, 4)),
                      _module_case(lambda rng: nn.LayerNorm((2, 3)), _normal(2, 2, 3))],
        "GroupNorm": [_module_case(lambda rng: nn.GroupNorm(2, 4), _normal(2, 4, 3))],
        "Embedding": [_module_case(lambda rng: nn.Embedding(6, 3), lambda rng: rng.integers(0, 6, (2, 4)))],
        "PReLU": [_module_case(lambda rng: nn.PReLU(3), lambda rng: (rng.integers(-3, 3, (2, 3, 2)) + 0.5))],
        "MaxPool2d": [_module_case(lambda rng: nn.MaxPool2d(2), _distinct(2, 2, 4, 4))],
        "AvgPool2d": [_module_case(lambda rng: nn.AvgPool2d(2, padding=_pick(rng, 0, 1)), _normal(2, 2, 4, 4))],
        "AdaptiveAvgPool2d": [_module_case(lambda rng: nn.AdaptiveAvgPool2d((2, 3)), _normal(1, 2, 5, 5))],
        "Dropout (eval)": [_module_case(lambda rng: nn.Dropout(0.5).eval(), _normal(3, 4))],
        "Flatten": [_module_case(lambda rng: nn.Flatten(), _normal(2, 3, 2))],
        "Sequential MLP": [_module_case(lambda rng: nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)),
                                        _normal(4, 3))],
        # a Sequential runs these as one op (nn/modules/fusion.py): Conv2dReluBackward0, Conv2dReluAvgPool2dBackward0
        "Conv2d+ReLU fused": [_module_case(lambda rng: nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU()),
                                                        _normal(2, 2, 5, 5))],
        "Conv2d+ReLU+AvgPool2d fused": [
            _module_case(lambda rng: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2)),
                         _normal(2, 2, 4, 6))],
    }
    for name in ("ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softplus", "Mish", "Hardswish"):
        layers[name] = [_module_case(lambda rng, name=name: getattr(nn, name)(),
                                     lambda rng: rng.integers(-3, 3, (3, 4)) + rng.uniform(0.2, 0.8, (3, 4)))]
    for name in ("Softmax", "LogSoftmax"):
        layers[name] = [_module_case(lambda rng, name=name: getattr(nn, name)(dim=-1), _normal(3, 4))]
    # sequence layers and attention, when this glasstorch has them (torch's constructors)
    optional = {
        "RNN": lambda: [_module_case(lambda rng: nn.RNN(3, 4, batch_first=True), _normal(2, 3, 3))],
        "LSTM": lambda: [_module_case(lambda rng: nn.LSTM(3, 4, batch_first=True), _normal(2, 3, 3))],
        "GRU": lambda: [_module_case(lambda rng: nn.GRU(3, 4, batch_first=True), _normal(2, 3, 3))],
        "RNNCell": lambda: [_module_case(lambda rng: nn.RNNCell(3, 4), _normal(2, 3))],
        "LSTMCell": lambda: [_module_case(lambda rng: nn.LSTMCell(3, 4), _normal(2, 3))],
        "GRUCell": lambda: [_module_case(lambda rng: nn.GRUCell(3, 4), _normal(2, 3))],
        "MultiheadAttention": lambda: [_module_case(lambda rng: nn.MultiheadAttention(4, 2, batch_first=True),
                                                    _normal(2, 3, 4), _normal(2, 3, 4), _normal(2, 3, 4))],
    }
    for name, cases in optional.items():
        if hasattr(nn, name):
            layers[name] = cases()
    return [Target(name, "nn", [(f"case {i}", c) for i, c in enumerate(cases)]) for name, cases in layers.items()]


def _loss_case(build, *input_makers, targets=()):
    """A loss: inputs from input_makers (checked), then fixed targets from targets (not checked)."""
    def make(np_dtype, rng):
        loss = build(rng)
        xs = [_tensor(m(rng).astype(np_dtype)) for m in input_makers]
        ys = [t(rng) for t in targets]
        ys = [_tensor(y.astype(np_dtype) if y.dtype.kind == "f" else y, False) for y in ys]
        return (lambda: loss(*xs, *ys)), [(f"input {i}", x) for i, x in enumerate(xs)]
    return make


def loss_targets():
    """Every loss in nn, each reduction drawn at random, gradients of the (first) input(s)."""
    red = lambda rng: _pick(rng, "mean", "sum", "none")  # noqa: E731
    prob = lambda *s: (lambda rng: rng.uniform(0.05, 0.95, s))  # noqa: E731
    sign = lambda *s: (lambda rng: rng.choice([-1.0, 1.0], s))  # noqa: E731
    labels = lambda n, c: (lambda rng: rng.integers(0, c, (n,)))  # noqa: E731
    losses = {
        "MSELoss": _loss_case(lambda rng: nn.MSELoss(reduction=red(rng)), _normal(3, 4), targets=[_normal(3, 4)]),
        "L1Loss": _loss_case(lambda rng: nn.L1Loss(reduction=red(rng)), _normal(3, 4), targets=[_normal(3, 4)]),
        "HuberLoss": _loss_case(lambda rng: nn.HuberLoss(reduction=red(rng), delta=0.7), _normal(3, 4),
                                targets=[_normal(3, 4)]),
        "SmoothL1Loss": _loss_case(lambda rng: nn.SmoothL1Loss(reduction=red(rng)), _normal(3, 4),
                                   targets=[_normal(3, 4)]),
        "CrossEntropyLoss": _loss_case(lambda rng: nn.CrossEntropyLoss(reduction=red(rng), label_smoothing=
                                                                       _pick(rng, 0.0, 0.1)),
                                       _normal(5, 4), targets=[labels(5, 4)]),
        "NLLLoss": _loss_case(lambda rng: nn.NLLLoss(reduction=red(rng)), _normal(5, 4), targets=[labels(5, 4)]),
        "BCELoss": _loss_case(lambda rng: nn.BCELoss(reduction=red(rng)), prob(4, 3), targets=[prob(4, 3)]),
        "BCEWithLogitsLoss": _loss_case(lambda rng: nn.BCEWithLogitsLoss(reduction=red(rng)), _normal(4, 3),
                                        targets=[prob(4, 3)]),
        "KLDivLoss": _loss_case(lambda rng: nn.KLDivLoss(reduction=_pick(rng, "batchmean", "sum", "none")),
                                _normal(3, 4), targets=[prob(3, 4)]),
        "SoftMarginLoss": _loss_case(lambda rng: nn.SoftMarginLoss(reduction=red(rng)), _normal(3, 4),
                                     targets=[sign(3, 4)]),
        "MarginRankingLoss": _loss_case(lambda rng: nn.MarginRankingLoss(margin=0.1, reduction=red(rng)),
                                        _normal(5), _normal(5), targets=[sign(5)]),
        "CosineEmbeddingLoss": _loss_case(lambda rng: nn.CosineEmbeddingLoss(reduction=red(rng)),
                                          _normal(4, 3), _normal(4, 3), targets=[sign(4)]),
        "PoissonNLLLoss": _loss_case(lambda rng: nn.PoissonNLLLoss(reduction=red(rng)), _normal(3, 4),
                                     targets=[prob(3, 4)]),
        "GaussianNLLLoss": _loss_case(lambda rng: nn.GaussianNLLLoss(reduction=red(rng)), _normal(3, 4),
                                      targets=[_normal(3, 4), prob(3, 4)]),
    }
    return [Target(name, "losses", [("case 0", make)]) for name, make in losses.items() if hasattr(nn, name)]


def all_targets():
    return op_targets() + layer_targets() + loss_targets()


# ----------------------------------------------------------------------------- --module FILE.py:Name
def module_target(spec, shapes=None):
    """A user's Function (glasstorch's, or a torch-style autograd.Function), Module or plain function.

    Inputs: the object's `example_inputs()` (a tuple of tensors) if it has one, else random float tensors
    of the --shape shapes (default one 3x4 input)."""
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise SystemExit(f"--module wants FILE.py:Name, got {spec!r}")
    loader = importlib.util.spec_from_file_location("_gradcheck_user_module", path)
    if loader is None:
        raise SystemExit(f"--module: cannot load {path!r} as Python")
    user = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(user)
    if not hasattr(user, name):
        raise SystemExit(f"--module: {path} has no {name!r}")
    obj = getattr(user, name)

    def make(np_dtype, rng):
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            call = obj()
        else:
            call = obj
        if isinstance(call, nn.Module) and np_dtype == np.float64:
            call = call.double()
        example = getattr(obj, "example_inputs", None)
        if example is not None:
            xs = [x.detach().to(backend.from_numpy_dtype(np_dtype)).requires_grad_(True) if x.dtype.is_floating_point
                  else x for x in example()]
        else:
            xs = [_tensor(rng.standard_normal(s).astype(np_dtype)) for s in (shapes or [(3, 4)])]
        apply = getattr(call, "apply", None) if isinstance(call, type) else None
        if apply is None and isinstance(call, type) and issubclass(call, Function):
            apply = call.apply
        forward = (lambda: apply(*xs)) if apply is not None else (lambda: call(*xs))
        params = [(n, p) for n, p in call.named_parameters() if p.requires_grad] if isinstance(call, nn.Module) else []
        return forward, [(f"input {i}", x) for i, x in enumerate(xs) if x.requires_grad] + params
    return Target(name, "module", [("user", make)])


# ----------------------------------------------------------------------------- the command
EPILOG = """examples:
  glasstorch gradcheck --all                       every op, layer and loss (float64)
  glasstorch gradcheck exp conv2d LSTM MSELoss     some of them, by name
  glasstorch gradcheck nn --dtype float32          a group (ops, nn, losses) in float32: see what goes wrong
  glasstorch gradcheck --module mine.py:MyFunction a Function or Module of your own
  glasstorch gradcheck --list                      the names
"""


def add_arguments(parser):
    parser.add_argument("names", nargs="*", metavar="NAME", help="ops, layers, losses, or a group: ops, nn, losses")
    parser.add_argument("--all", action="store_true", help="everything")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs, settings and upstream")
    parser.add_argument("--module", metavar="FILE.py:Name", action="append", default=[],
                        help="check your own Function, Module or function (repeatable)")
    parser.add_argument("--shape", action="append", default=None, metavar="3,4",
                        help="--module: an input shape (repeatable; default one 3x4 input)")
    parser.add_argument("--eps", type=float, default=None, help="central-difference step (default 1e-6; float32 1e-3)")
    parser.add_argument("--list", action="store_true", help="list the names and exit")


def select(names, everything):
    targets = all_targets()
    if everything:
        return targets
    by_name = {t.name: t for t in targets}
    chosen = []
    for name in names:
        if name in ("ops", "nn", "losses"):
            chosen += [t for t in targets if t.group == name]
        elif name in by_name:
            chosen.append(by_name[name])
        else:
            close = [n for n in by_name if name.lower() in n.lower()][:8]
            raise SystemExit(f"gradcheck: unknown name {name!r}" + (f"; did you mean {', '.join(close)}?" if close
                                                                    else "; `glasstorch gradcheck --list` lists them"))
    return chosen


def main(args, out=sys.stdout):
    if args.list:
        for group in ("ops", "nn", "losses"):
            names = [t.name for t in all_targets() if t.group == group]
            print(f"{group} ({len(names)}): {', '.join(names)}", file=out)
        return 0
    shapes = [tuple(int(s) for s in shape.split(",") if s) for shape in args.shape] if args.shape else None
    targets = select(args.names, args.all) + [module_target(m, shapes) for m in args.module]
    if not targets:
        print("gradcheck: name what to check (or --all, or --module FILE.py:Name); --list lists the names",
              file=out)
        return 2
    start = time.perf_counter()
    tol = TOL[args.dtype]
    print(f"{'name':<34} {'group':<7} {'cases':>5} {'elements':>8}  {'max rel error':>13}  result  "
          f"(float{args.dtype[5:]}, eps={args.eps or EPS[args.dtype]:g}, tolerance {tol:g})", file=out)
    results = []
    for target in targets:
        try:
            result = run_target(target, args.dtype, args.seed, eps=args.eps)
        except Exception as error:  # a forward or backward that raises is a failure of that target, not the sweep
            result = Result(target.name, target.group, failed=[("", "", float("nan"))])
            result.pitfalls.add(f"raised {type(error).__name__}: {error}")
        results.append(result)
        verdict = "ok" if result.passed else "FAIL"
        print(f"{result.name:<34} {result.group:<7} {result.cases:>5} {result.elements:>8}  {result.error:>13.2e}  "
              f"{verdict}", file=out)
        for label, name, err in result.failed[:3]:
            if name:
                print(f"    {label}: {name} rel error {err:.2e}", file=out)
        for pitfall in sorted(result.pitfalls):
            print(f"    note: {PITFALLS.get(pitfall, pitfall)}", file=out)
    failed = [r for r in results if not r.passed]
    cases = sum(r.cases for r in results)
    elements = sum(r.elements for r in results)
    print(f"\n{len(results)} checked ({cases} cases, {elements:,} elements), {len(results) - len(failed)} passed, "
          f"{len(failed)} failed, in {time.perf_counter() - start:.1f} s"
          + (f": {', '.join(r.name for r in failed)}" if failed else ""), file=out)
    return 1 if failed else 0
