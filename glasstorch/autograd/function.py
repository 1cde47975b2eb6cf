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
"""
import operator
import weakref

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import grad_mode


# attribute readers for apply(): map() with these is the quickest way to gather per-input fields
_array_of = operator.attrgetter("_array")
_grad_fn_of = operator.attrgetter("grad_fn")
_requires_grad_of = operator.attrgetter("_requires_grad")


class Function:
    __slots__ = ("inputs", "edges", "needs_input_grad", "versions", "output_array", "output_ref",
                 "output_version", "versions_out", "__dict__", "__weakref__")

    #: backward reads the input values (so they must not change in place before backward)
    needs_inputs = True
    #: backward reads the output value; ctx.output is kept
    saves_output = False
    #: the output is a view of inputs[0]'s memory (reshape, transpose, slicing ...)
    is_view = False
    #: double backward is not supported (heavy ops: conv, pooling); see STYLE.md
    once_differentiable = False
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

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run forward on the inputs' arrays; record a graph node when any input requires grad.

        This runs for every op of every step, so it is kept short (it is the framework's per-op overhead).
        """
        ctx = object.__new__(cls)
        arrays = tuple(map(_array_of, inputs))
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
        requires_grad = False
        if grad_mode._state.enabled:
            for t in inputs:
                if t._requires_grad:
                    requires_grad = True
                    break
        result = Tensor._make(out, requires_grad)
        if cls.is_view:
            base = inputs[0]
            result._version_counter = base._version_counter
            result._base = base._base if base._base is not None else base
        if requires_grad:
            ctx.inputs = inputs
            # the edges are fixed now: a later in-place op may give an input a new grad_fn
            ctx.edges = tuple(map(_grad_fn_of, inputs))
            ctx.needs_input_grad = tuple(map(_requires_grad_of, inputs))
            if cls.needs_inputs:
                ctx.versions = tuple([t._version_counter[0] for t in inputs])
            if cls.saves_output:
                # the output's array, not the Tensor: a Tensor would point back here (a reference cycle that
                # keeps activations alive until the garbage collector runs when backward never comes)
                ctx.output_array = out
                ctx.output_ref = weakref.ref(result)
                ctx.output_version = result._version_counter
                ctx.versions_out = result._version_counter[0]
            result.grad_fn = ctx
        return result

    @property
    def output(self):
        """The result Tensor (for `saves_output` ops), rebuilt around its array if the caller let it go."""
        t = self.output_ref()
        if t is None:  # same array, same node: to autograd it is the same tensor
            t = Tensor._make(self.output_array, True)
            t.grad_fn = self
            t._version_counter = self.output_version
        return t

    # --- what the walk calls
    def name(self):
        return type(self).__name__ + "Backward0"

    def __repr__(self):
        return f"<{self.name()} object>"

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
        if cls.needs_inputs:
            for i, (t, v) in enumerate(zip(self.inputs, self.versions)):
                if t._version_counter[0] != v and self.reads_input(i):
                    raise RuntimeError(
                        f"one of the variables needed for gradient computation has been modified by an inplace "
                        f"operation: [{t.dtype.name} {list(t.shape)}] is at version {t._version_counter[0]}; "
                        f"expected version {v} instead (input of {self.name()}). Hint: replace the in-place "
                        f"op (x += ..., x.relu_(), x[i] = ...) with its out-of-place form.")
        if cls.saves_output and self.output_version[0] != self.versions_out:
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
        """
        cls = type(self)
        if cls.needs_inputs or cls.saves_output:
            # leaves that require grad stay (next_functions shows them); everything else is let go
            self.inputs = tuple([t if fn is None and t._requires_grad else None
                                 for t, fn in zip(self.inputs, self.edges)])
            self.output_array = self.output_ref = None
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

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad object>"


def explain_forward_error(cls, arrays, error):
    """Turn NumPy's broadcast failure into torch's message naming both shapes (other errors pass through)."""
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
        if g is not None and g.dtype.is_floating_point and not np.isfinite(backend.to_host(g._array)).all():
            _check_finite(node.name(), "backward", g._array, node.inputs if not node.freed else ())
