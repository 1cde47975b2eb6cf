"""Optimizer: the base class every algorithm extends (param_groups, per-parameter state, state_dict).

An algorithm subclass writes `_init_state(p, group)` (its buffers) and `_update(param, grad, state,
group, xp)`: the math for one parameter, changing the array `param` in place with the ufuncs of
`xp` (NumPy, or CuPy for a GPU parameter; `out=`, `+=`), the way torch's optimizers change `p` in
place under `no_grad`. The small array helpers at the bottom (`lerp_`, `addcmul_`, `addcdiv_`) round
exactly like torch's kernels, so K steps side by side stay equal.

Why raw arrays: an update is pure arithmetic, no graph is needed, and writing into the existing
buffers avoids the temporaries a Tensor expression would allocate (this is the hot path of training).
Hyperparameters are turned into Python floats first (`_plain_options`): under NumPy 2 (NEP 50) a Python
float keeps a float32 array float32, while a NumPy float64 scalar would silently upcast the whole update.
"""
import copy
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.engine import zero_grads
from ..tensor import RemovableHandle, Tensor


class _RequiredParameter:
    """Marks a default that every param group must give (SGD's `lr` in old torch)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    return type(obj).__qualname__ if module == "builtins" else f"{module}.{type(obj).__qualname__}"


class Optimizer:
    """Base class for all optimizers.

    Args:
        params (iterable): Tensors to optimize, `(name, tensor)` pairs, or dicts defining parameter
            groups (`{'params': [...], 'lr': 0.1}`); a group's `'params'` may be a single Tensor.
        defaults (dict): the default options of every group (used when a group does not set them).

    Attributes:
        param_groups (list[dict]): one dict per group: `'params'` (list of Tensors) and its options.
        state (defaultdict[Tensor, dict]): per-parameter state (momentum buffers, running averages).
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._step_pre_hooks = OrderedDict()
        self._step_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_typename(params)}")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):  # copy.deepcopy(optimizer) goes through here
        self.__dict__.update(state)
        self.__dict__.setdefault("_step_pre_hooks", {})
        self.__dict__.setdefault("_step_post_hooks", {})

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group (a dict with `'params'` and optional options), e.g. to unfreeze layers while fine-tuning."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients and steps
    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (default; saves memory), or to zeros in place."""
        for group in self.param_groups:  # (group by group: a generator over all of them costs more than the work)
            zero_grads(group["params"], set_to_none)

    def step(self, closure=None):
        """Perform one optimization step; `closure` (optional) re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        if self._step_pre_hooks:
            for hook in list(self._step_pre_hooks.values()):
                if hook(self, (), {}) is not None:
                    raise RuntimeError("optimizer step pre-hooks that modify args/kwargs are not supported")
        for group in self.param_groups:  # raw-array updates: no graph is recorded, so no `no_grad` is needed
            self._update_group(group)
        if self._step_post_hooks:
            for hook in list(self._step_post_hooks.values()):
                hook(self, (), {})
        self._opt_called = True  # lets an lr scheduler warn when it is stepped before the optimizer
        return loss

    def _update_group(self, group):
        """Apply the algorithm's `_update` to every parameter of `group` that has a gradient."""
        options = _plain_options(group)
        maximize = options.get("maximize", False)
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state.get(p)
            if not state:
                state = self._init_state(p, options)
                if state:  # torch keeps no entry for stateless updates (plain SGD)
                    self.state[p] = state
            grad = p.grad._array
            self._update(p._array, -grad if maximize else grad, state, options, backend.array_module(p._array))
            p._version_counter[0] += 1  # like any in-place write: a graph that saved `p` will notice

    def _init_state(self, p, group):
        """The state of parameter `p` before its first update: a dict of tensors (empty when stateless)."""
        return {}

    def _update(self, param, grad, state, group, xp):
        """One parameter's update, in place on the array `param`; `grad` is already negated when maximizing.

        `group` holds the param group's options as Python numbers; `xp` is its array module (NumPy, or CuPy on the GPU)."""
        raise NotImplementedError

    def register_step_pre_hook(self, hook):
        """`hook(optimizer, args, kwargs)` runs before each step; returns a handle with `.remove()`."""
        return RemovableHandle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """`hook(optimizer, args, kwargs)` runs after each step; returns a handle with `.remove()`."""
        return RemovableHandle(self._step_post_hooks, hook)

    # ------------------------------------------------------------------ saving and loading
    def state_dict(self):
        """torch's format: `{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}`.

        Parameters are replaced by their position (counted across groups), so the dict can be loaded into
        an optimizer built over a fresh copy of the model. The state's tensors are references, not copies.
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a `state_dict()`: options per group, and per-parameter state deep-copied and cast to the
        parameter's dtype (except `step`, which stays as saved)."""
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        groups = self.param_groups
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        param_of = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                            chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                param = param_of[key]
                state[param] = {k: _copy_state_value(param, k, v) for k, v in value.items()}
            else:
                state[key] = value
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():
                saved.setdefault(name, default)
        self.state = state
        self.param_groups = saved_groups

    @staticmethod
    def _count_step(state):
        """Increment the 0-d float32 `step` tensor (torch keeps it as a tensor); return it as a Python float."""
        step = state["step"]
        step._array += 1
        return float(step._array)


def _plain_options(group):
    """The group's options with tensor / NumPy numbers turned into Python floats: under NumPy 2 (NEP 50) a Python
    float keeps a float32 array float32, while a np.float64 or np.int64 scalar would upcast it to float64."""
    options = dict(group)
    for key, value in options.items():
        if type(value) not in _PLAIN_TYPES:  # exact types: np.float64 subclasses float but upcasts float32
            options[key] = _plain(value)
    return options


_PLAIN_TYPES = frozenset((float, int, bool, str, list, type(None)))


def _plain(value):
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, (Tensor, np.number)):
        return float(value)
    return value


def _copy_state_value(param, key, value):
    """Deep-copy one saved state entry; tensors become glasstorch tensors of the parameter's dtype."""
    if isinstance(value, dict):
        return {k: _copy_state_value(param, k, v) for k, v in value.items()}
    if key in ("step", "mu_product") and isinstance(value, (int, float)):  # older torch saved plain numbers
        return new_step_tensor(float(value))
    array = None
    if isinstance(value, Tensor):
        array = value._array
    elif isinstance(value, np.ndarray):
        array = value
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a tensor from another framework (torch)
        array = np.asarray(value.detach().cpu().numpy())
    if array is None:
        return copy.deepcopy(value)
    if key == "step" or param._array.dtype.kind != "f" or array.dtype.kind != "f":
        return Tensor._make(np.array(backend.to_host(array), copy=True))  # counters stay on the host, as in torch
    array = array.astype(param._array.dtype, copy=True)
    return Tensor._make(backend.to_device(array, param.device))  # buffers live where their parameter lives


def new_step_tensor(value=0.0):
    """A 0-d float32 tensor, the type torch uses for `state['step']` (and NAdam's `mu_product`)."""
    return Tensor._make(np.array(value, dtype=np.float32))


def zeros_state(p, fill=0.0):
    """A state buffer shaped and typed like parameter `p`, filled with `fill`."""
    xp = backend.array_module(p._array)
    return Tensor._make(xp.full(p._array.shape, fill, dtype=p._array.dtype))


# ----------------------------------------------------------------------------- array arithmetic
# These mirror torch's CPU kernels operation by operation, so the results round the same way.
# `scratch` is a caller-owned temporary shaped like `target`, reused to avoid allocations.

def add_scaled(grad, param, alpha, xp):
    """grad + alpha * param as a new array (torch's `grad.add(param, alpha=weight_decay)`)."""
    out = xp.multiply(param, alpha)
    out += grad
    return out


def lerp_(target, end, weight, scratch, xp):
    """target <- target + weight * (end - target), computed the way torch's lerp is (the moving average)."""
    xp.subtract(end, target, out=scratch)
    if weight < 0.5:
        scratch *= weight
        target += scratch
    else:  # torch switches formula for large weights so that weight = 1 lands exactly on `end`
        scratch *= target.dtype.type(weight) - 1  # (weight - 1) rounded in the array's precision, as torch
        xp.add(end, scratch, out=target)


def addcmul_(target, t1, t2, value, scratch, xp):
    """target <- target + value * t1 * t2   (torch's addcmul_: (value * t1) * t2, then the add)."""
    if value == 1:
        xp.multiply(t1, t2, out=scratch)
    else:
        xp.multiply(t1, value, out=scratch)
        scratch *= t2
    target += scratch


def addcdiv_(target, t1, t2, value, scratch, xp):
    """target <- target + value * t1 / t2   (torch's addcdiv_: (value * t1) / t2, then the add)."""
    if value == 1:
        xp.divide(t1, t2, out=scratch)
    else:
        xp.multiply(t1, value, out=scratch)
        scratch /= t2
    target += scratch
