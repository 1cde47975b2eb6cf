"""Module: the base class of every layer and model.

A Module keeps three ordered dictionaries, filled by plain attribute assignment:

    self.weight = nn.Parameter(...)   -> _parameters['weight']
    self.register_buffer('running_mean', t) -> _buffers['running_mean']
    self.fc1 = nn.Linear(...)         -> _modules['fc1']

Everything else follows from walking them in order: `parameters()`, `state_dict()` with torch's
key names ('fc1.weight', '0.bias', 'bn.running_mean'), `train()`/`eval()`, `to(dtype)`, `repr`.
Calling a module runs its hooks around `forward` (registered and called by nn/hooks.py).
"""
import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.engine import zero_grads
from ..tensor import Tensor, parse_to
from .hooks import add_hook, call_with_hooks
from .parameter import Parameter, UninitializedParameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: the keys it could not match (empty lists when all matched)."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _typename(obj):
    """torch.typename: 'glasstorch.FloatTensor', 'int', 'glasstorch.nn.modules.flatten.Flatten' (for a class)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) if isinstance(obj, type) or callable(obj) else None
    if qualname is None:
        module, qualname = type(obj).__module__, type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _addindent(text, spaces):
    """Indent every line but the first (how a child's repr nests inside its parent's)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class _Registered:
    """`module.name` for a registered parameter, buffer or child module: the lookup `Module.__getattr__` does,
    found by Python's normal attribute lookup instead of after it.

    Python calls `__getattr__` only once a normal lookup has failed (an AttributeError raised and caught inside:
    0.3 us, for every `self.weight` and `self.fc1` of every forward). So registering a name also puts one of
    these on the module's class, where the normal lookup finds it (0.07 us). It is a non-data descriptor: a value
    in the instance's own `__dict__` still wins, as it would without it. A module that has no such entry gets
    AttributeError from here, and Python goes on to `__getattr__` as before (its message, its subclasses'
    overrides). Read from the class (`nn.Linear.weight`) it raises, as torch's classes have no such attribute."""
    __slots__ = ("name", "registry")

    def __init__(self, name, registry):
        self.name = name
        self.registry = registry  # where the name was first registered: looked in first

    def __get__(self, module, cls=None):
        if module is not None:
            d, name = module.__dict__, self.name
            try:  # (a name is in one registry at a time: assignment moves it, and register_* refuse a taken name)
                return d[self.registry][name]
            except KeyError:
                for registry in ("_parameters", "_buffers", "_modules"):  # (Module.__getattr__'s order)
                    entries = d.get(registry)
                    if entries is not None and name in entries:
                        return entries[name]
        raise AttributeError(self.name)


class _ToGetattr:
    """On a class that overrides `__getattr__`: hides a base class's `_Registered`, so that the override keeps
    seeing every lookup of a registered name, as in torch."""
    __slots__ = ()

    def __get__(self, module, cls=None):
        raise AttributeError


def _add_shortcut(module, name, registry):
    """Give `type(module)` a `_Registered` for `name` (a `_ToGetattr` if it overrides `__getattr__`), unless
    its classes already define that name."""
    cls = type(module)
    if cls is Module or not name.isidentifier():
        return  # (Sequential's children "0", "1" ... are reached by indexing, not as attributes)
    own_getattr = cls.__getattr__ is not Module.__getattr__
    for klass in cls.__mro__:
        if name in klass.__dict__:
            if own_getattr and type(klass.__dict__[name]) is _Registered:
                break  # a base class's shortcut: hide it
            return  # the class's own attribute (or a shortcut already there) stays
    setattr(cls, name, _ToGetattr() if own_getattr else _Registered(name, registry))


class Module:
    """Base class for all neural-network modules; subclass it and write `__init__` and `forward`.

    Example::

        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> [name for name, _ in Net().named_parameters()]
        ['fc.weight', 'fc.bias']
    """

    training = True
    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments {args or ''}{kwargs or ''}")
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", OrderedDict())
        set_(self, "_forward_pre_hooks", OrderedDict())
        set_(self, "_forward_hooks", OrderedDict())
        set_(self, "_backward_pre_hooks", OrderedDict())
        set_(self, "_backward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ------------------------------------------------------------------ registration
    def register_parameter(self, name, param):
        """Add a parameter (a Parameter, or None for an optional one like a missing bias)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter", self._parameters)
        if param is None:
            self._parameters[name] = None
            _add_shortcut(self, name, "_parameters")
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                             f"explicitly. To express '{name}' as a function of another Tensor, compute the value in "
                             "the forward() method.")
        self._parameters[name] = param
        _add_shortcut(self, name, "_parameters")

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not learnable (BatchNorm's running_mean); in state_dict if persistent."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._buffers[name] = tensor
        _add_shortcut(self, name, "_buffers")
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module, reachable as an attribute and named `name` in parameter names."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module
        _add_shortcut(self, name, "_modules")

    register_module = add_module

    def _check_name(self, name, kind, registry):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            modules[name] = value
            _add_shortcut(self, name, "_modules")
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(torch.Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove `name` from the other registries before registering it in `keep` (where it keeps its place)."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # only called when normal lookup fails: look in the three registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = d.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                del entries[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(dir(type(self))) | set(self.__dict__)
        keys |= set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(k for k in keys if not k[0].isdigit())

    # ------------------------------------------------------------------ walking the tree
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every descendant, depth first, each module once."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) of the direct children, each module once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for key, value in get_members(module):
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + key, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """('fc1.weight', Parameter) pairs in registration order; a shared parameter appears once."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every learnable Parameter (what an optimizer takes)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target):
        """The module at dotted path `target` ('' is self): `model.get_submodule('encoder.0')`."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return module._parameters[name]

    def get_buffer(self, target):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def apply(self, fn):
        """Call fn on every submodule (children first) and then on self: `net.apply(init_weights)`."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Set training mode here and in every descendant (Dropout drops, BatchNorm uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's .grad: to None (default), or to zeros in place."""
        zero_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------ dtype / device
    def _apply(self, fn):
        """Apply fn to every parameter, gradient and buffer, keeping the Parameter objects (optimizers hold them)."""
        for module in self.children():
            module._apply(fn)
        with grad_mode.no_grad():
            for key, param in self._parameters.items():
                if param is None or isinstance(param, UninitializedParameter):
                    continue
                param.data = fn(param)
                if param.grad is not None:
                    param.grad.data = fn(param.grad)
            for key, buf in self._buffers.items():
                if buf is not None:
                    self._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs):
        """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(tensor)`: floating parameters and buffers are cast
        in place (the Parameter objects stay the same); integer buffers keep their dtype."""
        device, dtype, _non_blocking, copy, _memory_format = parse_to(*args, **kwargs)
        if copy:
            raise RuntimeError(".to() does not accept copy argument")
        if device is not None:
            device = backend.check_device(device)
            self._apply(lambda t: t.to(device))  # the same Parameter objects, their arrays moved
        if dtype is None:
            return self
        dtype = backend.to_dtype(dtype)
        if not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        return self._cast_floating(dtype)

    def _cast_floating(self, dtype):
        """Cast floating-point parameters and buffers; integer buffers (num_batches_tracked) keep their dtype."""
        return self._apply(lambda t: t.to(dtype) if t.dtype.is_floating_point else t)

    def float(self):
        return self._cast_floating(backend.float32)

    def double(self):
        return self._cast_floating(backend.float64)

    def half(self):
        return self._cast_floating(backend.float16)

    def type(self, dst_type):
        return self._apply(lambda t: t.to(dst_type))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(device if device is not None else "cuda")

    def share_memory(self):
        return self

    # ------------------------------------------------------------------ state_dict
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """OrderedDict of every parameter and persistent buffer under torch's names ('0.weight').

        Values are detached tensors sharing memory with the module (keep_vars=True keeps the Parameters).
        """
        if args:  # torch's deprecated positional form: state_dict(destination, prefix, keep_vars)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs,
                              assign=False):
        """Copy this module's own entries (not its children's) from state_dict; collect problems."""
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(), persistent.items()) if v is not None}
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                if not hasattr(value, "__array__"):
                    error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor or '
                                      f"Tensor-like object from checkpoint but received {type(value)}")
                    continue
                # a NumPy array, or another framework's tensor (torch's state_dict loads directly)
                value = Tensor._make(np.asarray(value.detach() if hasattr(value, "detach") else value))
            if isinstance(param, UninitializedParameter):
                with grad_mode.no_grad():
                    param.materialize(value._array.shape)
            if tuple(value._array.shape) != tuple(param._array.shape):
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                                  f"checkpoint, the shape in current model is {param.shape}.")
                continue
            if assign:  # take the checkpoint's tensor itself instead of copying into the existing one
                if isinstance(param, Parameter):
                    self._parameters[name] = Parameter(value, requires_grad=param.requires_grad)
                else:
                    self._buffers[name] = value
            else:
                param._array[...] = backend.to_device(value._array, param.device).astype(param._array.dtype,
                                                                                          copy=False)
                param._version_counter[0] += 1
        if strict:
            for key in state_dict.keys():
                if not key.startswith(prefix):
                    continue
                head = key[len(prefix):].split(".", 1)
                if len(head) > 1:
                    if head[0] not in self._modules:
                        unexpected_keys.append(key)
                elif head[0] not in local_state:
                    unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from state_dict (torch's names) into this module, in place.

        strict=True requires the keys to match exactly. Returns (missing_keys, unexpected_keys).
        Raises RuntimeError listing missing/unexpected keys and size mismatches, as torch does.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []

        def load(module, prefix):
            module._load_from_state_dict(state_dict, prefix, True, missing, unexpected, errors, assign)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")

        load(self, "")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__,
                                                                                     "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ hooks and calling
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) runs before forward; returning a value replaces the positional args."""
        return add_hook(self._forward_pre_hooks, (hook, with_kwargs), prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) runs after forward; returning a value replaces the output."""
        return add_hook(self._forward_hooks, (hook, with_kwargs), prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) runs when the output's gradient is known; may return a replacement."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) runs when the gradients w.r.t. the module's inputs are known.

        grad_input has one entry per positional argument (None for non-tensors and inputs not requiring
        grad); returning a tuple replaces it. Implemented with identity nodes placed on the inputs and
        outputs, whose tensor hooks see the gradients flowing through.
        """
        return add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        return self.register_full_backward_hook(hook)

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self.forward(*args, **kwargs) if kwargs else self.forward(*args)  # (no empty dict to copy)
        return call_with_hooks(self, args, kwargs)

    # ------------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside the parentheses of repr (layers override: 'in_features=4, out_features=2, bias=True')."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"
