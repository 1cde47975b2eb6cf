"""Function: one differentiable primitive. Each instance is also the graph node (and its own ctx).

An op subclasses Function and writes two static methods side by side:

    class Exp(Function):
        '''y = exp(x);  dL/dx = dL/dy * y'''
        saves_output = True
        @staticmethod
        def forward(ctx, x):              # raw arrays of ctx.xp in, one raw array out
            return ctx.xp.exp(x)
        @staticmethod
        def backward(ctx, grad):          # Tensors in, one Tensor (or None) per input out
            return grad * ctx.output

`backward` is written with glasstorch ops, so with `create_graph=True` it is itself recorded and
higher-order gradients come for free. Inputs are reachable as `ctx.inputs` (Tensors) and, when
`saves_output` is set, the result as `ctx.output`.

A hot op whose formula reads the same on raw arrays sets `array_backward = True` and reads its saved
values in grad's form. Every ordinary `backward()` (no `create_graph`) then runs the formula on arrays,
with no op and no node inside, and `create_graph=True` runs the very same lines on Tensors:

    class TanhFunction(NamedFunction):
        array_backward = True
        ...
        @staticmethod
        def backward(ctx, grad):          # an array on the plain walk, a Tensor when recorded
            y = ctx.output_as(grad)
            return grad * (1 - y * y)

User code written for PyTorch subclasses the same class the torch way, with Tensors in forward and a
separate `ctx` (a `FunctionCtx`: `save_for_backward`, `saved_tensors`, `needs_input_grad`, `mark_dirty`,
`mark_non_differentiable`, `set_materialize_grads`, any attribute):

    class MyExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):              # Tensors in (run under no_grad), Tensor(s) out
            y = x.exp()
            ctx.save_for_backward(y)
            return y
        @staticmethod
        def backward(ctx, grad):          # one gradient per output in, one per forward argument out
            y, = ctx.saved_tensors
            return grad * y

Which contract a subclass follows is decided once, when the class is made: classes defined inside the
glasstorch package are ops (arrays in forward); every other class is user code (Tensors in forward).
A class may say so itself with `forward_takes_arrays = True / False`.
"""
import itertools
import weakref

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import grad_mode


#: when set, `forward_observer(op class, input Tensors, attrs, result)` is called after every op's forward
#: (glasstorch.onnx traces a model with it; None otherwise: one global read per op)
forward_observer = None

_new = object.__new__
# each node's creation number: a node is always made after the nodes of its inputs, so the walk runs nodes
# newest first (torch's sequence_nr); next() on a count is one C call
_sequence = itertools.count()


class Function:
    __slots__ = ("inputs", "edges", "needs_input_grad", "versions", "output_array", "output_version", "sequence_nr",
                 "__dict__", "__weakref__")

    #: backward reads the input values (so they must not change in place before backward)
    needs_inputs = True
    #: backward reads the output value; ctx.output is kept
    saves_output = False
    #: the output is a view of inputs[0]'s memory (reshape, transpose, slicing ...)
    is_view = False
    #: double backward is not supported (heavy ops: conv, pooling); see STYLE.md
    once_differentiable = False
    #: backward's formula also runs on raw arrays: on the plain walk (no create_graph: every ordinary training
    #: step) the engine hands it the gradient as an array, skipping the Tensor and node of every op inside
    #: (see `inputs_as`)
    array_backward = False
    #: backward returns each input's gradient already in that input's shape and dtype (nothing broadcast, nothing
    #: promoted): the plain walk then skips its check of every gradient (tests/autograd/test_engine_plain.py holds
    #: each op that declares it to it)
    grads_fit_inputs = False
    #: the array module forward computes with (CuPy's for GPU arrays; set per node only then)
    xp = np
    # per-node state that is rarely set: class defaults keep apply() short
    freed = False
    tensor_hooks = None
    retained = None

    @staticmethod
    def forward(ctx, *arrays, **attrs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @staticmethod
    def forward_error(arrays):
        """The op's own error (in torch's words) for inputs its forward could not take, once NumPy has raised
        ValueError on them; None: the generic explanation. (Checking in forward instead costs every call.)"""
        return None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward_takes_arrays" not in cls.__dict__:
            cls.forward_takes_arrays = cls.__module__.split(".")[0] == "glasstorch"

    #: the op contract (raw arrays in forward); False for torch-style user Functions (see the module docstring)
    forward_takes_arrays = True

    @staticmethod
    def setup_context(ctx, inputs, output):
        """torch's new style: forward(*args) without ctx, then setup_context(ctx, inputs, output) saves."""
        raise NotImplementedError  # (marks "not overridden"; see _apply_torch_style)

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run forward on the inputs' arrays; record a graph node when any input requires grad.

        This runs for every op of every step, so it is kept short (it is the framework's per-op overhead): the
        result Tensor is made here rather than by `Tensor._make` (one call less), grad mode is read once, and the
        inputs' fields are gathered by plain loops (on Python 3.11 one loop filling three lists costs a third of
        three comprehensions, each of which makes and calls a function).
        """
        if not cls.forward_takes_arrays:
            return _apply_torch_style(cls, inputs, attrs)
        ctx = _new(cls)
        recording = grad_mode._state.enabled
        arrays = []
        if recording:  # each input's state now: a later in-place op may change its grad_fn and bumps its version
            needs_input_grad, edges, versions = [], [], []
            for t in inputs:
                arrays.append(t._array)
                needs_input_grad.append(t._requires_grad)
                edges.append(t.grad_fn)
                versions.append(t._version_counter[0])
        else:
            for t in inputs:
                arrays.append(t._array)
        if backend._cupy is not None:  # the GPU backend is loaded: inputs may be CuPy arrays (ctx.xp = cupy)
            arrays, ctx.xp = backend.one_device(cls.__name__, arrays)
        try:
            out = cls.forward(ctx, *arrays, **attrs)
        except ValueError as error:  # NumPy's messages name neither the op nor torch's terms
            raise explain_forward_error(cls, arrays, error) from None
        if type(out) is not np.ndarray and not backend.is_array(out):  # full reductions give NumPy scalars
            out = ctx.xp.asarray(out)
        if grad_mode._anomaly.enabled:
            _check_finite(cls.__name__, "forward", out, inputs)
        requires_grad = recording and True in needs_input_grad
        result = _new(Tensor)  # (Tensor._make's lines)
        result._array = out
        result._requires_grad = requires_grad
        result.grad = None
        result._version_counter = [0]
        if cls.is_view:
            base = inputs[0]
            result._version_counter = base._version_counter
            root = result._base = base._base if base._base is not None else base
            if recording:  # an in-place write into one view remakes the others' graph (ops/inplace.py)
                if root._views is None:
                    root._views = weakref.WeakValueDictionary()
                root._views[id(result)] = result
        if requires_grad:
            ctx.inputs = inputs
            ctx.edges = edges
            ctx.needs_input_grad = tuple(needs_input_grad)  # (torch's type: user code may compare it)
            ctx.sequence_nr = next(_sequence)
            if cls.needs_inputs:
                ctx.versions = versions
            if cls.saves_output:
                # the output's array, not the Tensor: a Tensor would point back here (a reference cycle that
                # keeps activations alive until the garbage collector runs when backward never comes)
                ctx.output_array = out
                ctx.output_version = result._version_counter  # (at version 0: a new tensor)
            result.grad_fn = ctx
        else:
            result.grad_fn = None
        if forward_observer is not None:  # onnx.export's tracer: sees each op with its inputs and attributes
            forward_observer(cls, inputs, attrs, result)
        return result

    def inputs_as(self, grad):
        """The inputs in `grad`'s form: Tensors when backward is recorded, their arrays on the plain walk.

        An `array_backward` op reads its inputs with this, so one formula written with what arrays and
        Tensors share (`grad.T`, `grad.sum(0)`, `grad * (1 - y * y)`; products through `ops.matmul.product_for(grad)`)
        serves both walks."""
        if isinstance(grad, Tensor):
            return self.inputs
        arrays = []
        for t in self.inputs:
            arrays.append(t._array)
        return arrays

    def output_as(self, grad):
        """The output in `grad`'s form (see `inputs_as`)."""
        return self.output if isinstance(grad, Tensor) else self.output_array

    @property
    def output(self):
        """The result Tensor (for `saves_output` ops), made again around its array: same array, same node and
        version counter, so to autograd it is the same tensor (hooks and retain_grad live on the node)."""
        t = Tensor._make(self.output_array, True)
        t.grad_fn = self
        t._version_counter = self.output_version
        return t

    # --- what the walk calls
    def name(self):
        return type(self).__name__ + "Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"  # (torch's form)

    @property
    def next_functions(self):
        """(node, index) pairs of the inputs, like torch's: a node, an AccumulateGrad stand-in, or None."""
        out = []
        for t, fn in zip(self.inputs, self.edges):
            if fn is not None:
                out.append((fn, 0))
            elif t is not None and t.requires_grad:
                out.append((AccumulateGrad(t), 0))
            else:
                out.append((None, 0))
        return tuple(out)

    def register_hook(self, fn):
        raise NotImplementedError("hooks on graph nodes are not supported; use Tensor.register_hook")

    def check_saved(self):
        """Raise torch's errors when backward would read freed or since-modified values."""
        cls = type(self)
        if self.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after "
                "they have already been freed). Saved intermediate values of the graph are freed when you call "
                ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
                "graph a second time or if you need to access saved tensors after calling backward.")
        # all versions compared at once first (the common case: nothing changed); then find which one
        if cls.needs_inputs and [t._version_counter[0] for t in self.inputs] != self.versions:
            for i, (t, v) in enumerate(zip(self.inputs, self.versions)):
                if t._version_counter[0] != v and self.reads_input(i):
                    raise RuntimeError(
                        f"one of the variables needed for gradient computation has been modified by an inplace "
                        f"operation: [{t.dtype.name} {list(t.shape)}] is at version {t._version_counter[0]}; "
                        f"expected version {v} instead (input of {self.name()}). Hint: replace the in-place "
                        f"op (x += ..., x.relu_(), x[i] = ...) with its out-of-place form.")
        if cls.saves_output and self.output_version[0] != 0:  # (the output was made at version 0)
            raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an "
                               f"inplace operation: the output of {self.name()} was changed in place.")

    def reads_input(self, i):
        """Whether backward reads input i's values (an op that reads fewer overrides this, e.g. Mul)."""
        return True

    def free(self):
        """Drop what backward used (saved inputs, the output, ctx arrays) so activations can be released.

        A node that saved values keeps nothing: a second backward through it raises (torch's rule).
        A node that saved nothing (add, reshape, sum ...) keeps its inputs' shapes and dtypes, so an
        add-only graph can be walked again, as in torch.
        (engine._run_plain writes the first case out in its loop: a change here goes there too.)
        """
        cls = type(self)
        if cls.needs_inputs or cls.saves_output:
            kept = []  # (a leaf that requires grad is kept: next_functions shows it)
            for t, fn in zip(self.inputs, self.edges):
                kept.append(t if fn is None and t._requires_grad else None)
            self.inputs = kept
            self.output_array = None
            self.__dict__.clear()  # masks, im2col columns ...
            self.freed = True
        else:
            self.inputs = tuple([t if (fn is None and t._requires_grad) or type(t) is InputMeta else InputMeta(t)
                                 for t, fn in zip(self.inputs, self.edges)])


class InputMeta:
    """What a freed node still knows of an input: enough for the walk to shape its gradient."""
    __slots__ = ("shape", "np_dtype", "_requires_grad")

    def __init__(self, tensor):
        self.shape = tensor._array.shape
        self.np_dtype = tensor._array.dtype
        self._requires_grad = tensor._requires_grad

    @property
    def requires_grad(self):
        return self._requires_grad

    @property
    def dtype(self):
        return backend.from_numpy_dtype(self.np_dtype)


class AccumulateGrad:
    """The node torch shows for a leaf in `next_functions`; here only for inspection."""
    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    #: a leaf's node ends the graph (torch's AccumulateGrad has no next functions either)
    next_functions = ()

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad object>"


def explain_forward_error(cls, arrays, error):
    """The op's own message (`forward_error`), or NumPy's broadcast failure turned into torch's message naming both
    shapes (other errors pass through)."""
    forward_error = getattr(cls, "forward_error", None)  # (comparisons pass their ufunc as `cls`)
    named = forward_error(arrays) if forward_error is not None else None
    if named is not None:
        return named
    shapes = [tuple(a.shape) for a in arrays if hasattr(a, "shape")]
    if "broadcast" not in str(error) or len(shapes) < 2:
        return error
    a, b = shapes[0], shapes[1]
    for i in range(1, max(len(a), len(b)) + 1):
        size_a = a[-i] if i <= len(a) else 1
        size_b = b[-i] if i <= len(b) else 1
        if size_a != size_b and 1 not in (size_a, size_b):
            dim = max(len(a), len(b)) - i
            return RuntimeError(f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) at "
                                f"non-singleton dimension {dim}")
    return RuntimeError(f"{cls.__name__}: shapes {list(a)} and {list(b)} cannot be broadcast together ({error})")


def _check_finite(op, phase, array, inputs):
    array = backend.to_host(array)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        stats = []
        for i, t in enumerate(inputs):
            a = backend.to_host(t._array)
            if a.size and a.dtype.kind in "fiub":
                nans = int(np.isnan(a).sum()) if a.dtype.kind == "f" else 0
                stats.append(f"input {i}: shape {tuple(a.shape)}, min {a.min():.4g}, max {a.max():.4g}, "
                             f"mean {a.astype(np.float64).mean():.4g}, nan {nans}")
        raise RuntimeError(f"Function '{op}' returned nan/inf values in its {phase} "
                           f"(detected by set_detect_anomaly).\n  " + "\n  ".join(stats))


def check_finite_grad(node, grads):
    """Anomaly mode, backward side: name the node whose backward produced NaN/Inf."""
    for g in grads:
        a = g._array if isinstance(g, Tensor) else g  # (the plain walk's gradients are arrays)
        if a is not None and a.dtype.kind == "f" and not np.isfinite(backend.to_host(a)).all():
            _check_finite(node.name(), "backward", a, node.inputs if not node.freed else ())


# ----------------------------------------------------------------------------- torch-style user Functions
class FunctionCtx:
    """The `ctx` a torch-style Function's forward and backward share (any attribute may be set on it too)."""

    def __init__(self, args):
        self.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        self.to_save = ()
        self.saved_versions = ()
        self.dirty_tensors = ()
        self.non_differentiable = ()
        self.materialize_grads = True
        self.freed = False

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for backward; reading them after an in-place change raises, as in torch."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {len(self.to_save)} "
                                f"is of type {type(t).__name__}")
        self.to_save = tensors
        self.saved_versions = tuple(t._version_counter[0] if t is not None else None for t in tensors)

    @property
    def saved_tensors(self):
        if self.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after they "
                "have already been freed). Specify retain_graph=True if you need to backward through the graph a "
                "second time or if you need to access saved tensors after calling backward.")
        for t, v in zip(self.to_save, self.saved_versions):
            if t is not None and t._version_counter[0] != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{t.dtype.name} {list(t.shape)}] is at version {t._version_counter[0]}; expected "
                    f"version {v} instead.")
        return tuple(self.to_save)

    def mark_dirty(self, *tensors):
        """Forward modified these inputs in place (and returns them)."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        """These outputs get no gradient (indices, masks); backward still receives a (zero) grad for each."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value):
        """False: backward receives None (not zeros) for an output that got no gradient (single-output case)."""
        self.materialize_grads = bool(value)


class CustomFunctionBackward(Function):
    """The graph node of a torch-style Function: y = forward(x...);  dL/dx = the user's backward(ctx, dL/dy...)

    Its one output holds every differentiable output, flattened and joined; each output the user sees is
    a slice of it (so the walk, which gives each node one gradient, serves several outputs).
    """
    needs_inputs = False  # the user's ctx checks its own saved tensors

    @staticmethod
    def forward(ctx, *arrays, user_class, user_ctx, arg_slots, n_args, shapes, result):
        ctx.user_class, ctx.user_ctx, ctx.arg_slots, ctx.n_args, ctx.shapes = (user_class, user_ctx, arg_slots,
                                                                               n_args, shapes)
        return result

    @staticmethod
    def backward(ctx, grad):
        if len(ctx.shapes) == 1 and ctx.shapes[0][0] == "single":
            grads = [grad]
        else:
            grads, start = [], 0
            for kind, shape, dt in ctx.shapes:
                if kind == "zero":  # a non-differentiable output: zeros, as torch hands backward
                    grads.append(_zeros(grad, shape, dt) if ctx.user_ctx.materialize_grads else None)
                    continue
                size = int(np.prod(shape))
                grads.append(grad[start:start + size].reshape(shape))
                start += size
        results = ctx.user_class.backward(ctx.user_ctx, *grads)
        if not isinstance(results, tuple):
            results = (results,)
        if len(results) < ctx.n_args:  # torch allows trailing Nones to be left out ... only when they are None
            results = results + (None,) * (ctx.n_args - len(results))
        if len(results) != ctx.n_args:
            raise RuntimeError(f"function {ctx.user_class.__name__}Backward returned an incorrect number of "
                               f"gradients (expected {ctx.n_args}, got {len(results)})")
        out = []
        for slot in ctx.arg_slots:
            g = results[slot]
            if g is not None and not isinstance(g, Tensor):
                raise TypeError(f"{ctx.user_class.__name__}.backward returned a {type(g).__name__} for argument "
                                f"{slot}; expected a Tensor or None")
            out.append(g)
        return tuple(out)

    def name(self):
        return self.user_class.__name__ + "Backward"

    def free(self):
        super().free()
        self.user_ctx.freed = True


def _zeros(like, shape, dt):
    return Tensor._make(backend.array_module(like._array).zeros(shape, dtype=dt))


def _apply_torch_style(cls, args, kwargs):
    """`MyFn.apply(*args)` for a torch-style Function: forward on Tensors without recording, then one node."""
    ctx = FunctionCtx(args)
    new_style = cls.setup_context is not Function.setup_context
    with grad_mode.no_grad():
        if new_style:
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args, **kwargs)
    single = not isinstance(output, tuple)
    outputs = (output,) if single else output
    arg_slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    tensor_args = [args[i] for i in arg_slots]
    record = grad_mode.is_grad_enabled() and any(t._requires_grad for t in tensor_args)
    dirty_ids = {id(t) for t in ctx.dirty_tensors}
    non_diff_ids = {id(t) for t in ctx.non_differentiable}
    for t in ctx.dirty_tensors:
        if record and t._requires_grad and t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    differentiable = [o for o in outputs if isinstance(o, Tensor) and id(o) not in non_diff_ids
                      and o.dtype.is_floating_point]
    if not record or not differentiable:
        return output if single else tuple(outputs)
    if single:
        shapes = [("single", None, None)]
        result = output._array
    else:
        shapes, parts = [], []
        dtypes = {o._array.dtype for o in differentiable}
        if len(dtypes) > 1:
            raise TypeError(f"{cls.__name__}: differentiable outputs of different dtypes ({sorted(map(str, dtypes))}) "
                            f"are not supported; mark some non-differentiable or cast them")
        for o in outputs:
            if isinstance(o, Tensor) and any(o is d for d in differentiable):
                shapes.append(("grad", o.shape, o._array.dtype))
                parts.append(o._array.ravel())
            elif isinstance(o, Tensor):
                shapes.append(("zero", o.shape, differentiable[0]._array.dtype))
        result = backend.array_module(parts[0]).concatenate(parts)
    node_out = CustomFunctionBackward.apply(*tensor_args, user_class=cls, user_ctx=ctx, arg_slots=arg_slots,
                                            n_args=len(args), shapes=shapes, result=result)
    if single:
        wrapped = [node_out]
    else:
        wrapped, start = [], 0
        for o in outputs:
            if isinstance(o, Tensor) and any(o is d for d in differentiable):
                size = o.numel()
                wrapped.append(node_out[start:start + size].reshape(o.shape))
                start += size
            else:
                wrapped.append(o)
    for o, w in zip(outputs, wrapped):
        if isinstance(o, Tensor) and id(o) in dirty_ids:  # the input itself now carries the new history
            o.grad_fn, o._requires_grad = w.grad_fn, True
            if w._array is not o._array:
                o._array = w._array
            wrapped[wrapped.index(w)] = o
    return wrapped[0] if single else tuple(wrapped)


def once_differentiable(backward):
    """Decorator for a torch-style backward that is not itself differentiable: it runs without recording."""
    def wrapper(ctx, *grads):
        with grad_mode.no_grad():
            return backward(ctx, *grads)
    wrapper.__name__ = getattr(backward, "__name__", "backward")
    wrapper.__doc__ = backward.__doc__
    return wrapper


class _VariableType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableType):
    """torch's legacy `autograd.Variable(t, requires_grad=...)`: since torch 0.4 simply the tensor itself."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad:
            data.requires_grad_(True)
        return data
