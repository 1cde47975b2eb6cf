"""`torch.onnx.export(model, args, f)`: write a model as an ONNX graph (open the file in Netron, run it in
onnxruntime). Needs the optional `onnx` package (`pip install glasstorch[onnx]`).

How: the model runs once on the example `args` (in eval mode) while an observer sees every op as it runs
(`autograd.function.forward_observer`, called by `Function.apply`). Each op is translated on the spot by
one small function in `OPS` (glasstorch op class -> ONNX nodes). A few layers are translated whole, by
`MODULES`, because ONNX has one node for them (LSTM, GRU, RNN and their cells, BatchNorm, LayerNorm,
Embedding) or because their traced ops would freeze the batch size (MultiheadAttention, written as
MatMul/Softmax nodes):
forward hooks mark where such a layer starts and ends, and the ops inside it are not translated.
Parameters and buffers become initializers under their state_dict names; any other tensor an op reads
that no traced op made (a Python number, a tensor made in forward) becomes a constant.

    >>> import glasstorch as torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    >>> torch.onnx.export(model, (torch.randn(2, 4),), "model.onnx", input_names=["x"],
    ...                   dynamic_axes={"x": {0: "batch"}})            # doctest: +SKIP

Tensors are named by their autograd node (the trace runs with grad enabled), so an in-place op such as
ReLU(inplace=True) -- which gives its tensor the new node -- is followed like any other.
The graph is what this one run did: Python control flow is unrolled, and shapes read in forward
(x.size(1)) become constants, except a reshape's leading dims that match its input's, which are copied
from the input at run time (ONNX Reshape's 0), so a dynamic batch axis works for x.view(x.size(0), -1).
"""
import math

import numpy as np

from . import nn
from .autograd import function as _function
from .autograd import grad_mode
from .nn.utils.rnn import PackedSequence
from .ops.activation import (ELUFunction, GELUFunction, HardtanhFunction, LeakyReLUFunction, LogSigmoidFunction,
                             SoftplusFunction)
from .ops.arithmetic import Add, Div, Maximum, Minimum, Mul, Neg, Pow, PowScalar, Sub, Where
from .ops.common import ToDtype
from .ops.conv import Conv2dFunction, ConvTranspose2dFunction
from .ops.conv_fast import FastConv2dFunction, FastConvTranspose2dFunction
from .ops.elementwise import (Abs, Clamp, Cos, Cosh, Exp, Log, LogSoftmaxFunction, Reciprocal, ReLUFunction, Rsqrt,
                              SigmoidFunction, Sin, Sinh, SoftmaxFunction, Sqrt, Tan, TanhFunction)
from .ops.embedding import EmbeddingFunction
from .ops.indexing import Gather, Slice
from .ops.matmul import LinearFunction, MatMul
from .ops.pool import AvgPool2dFunction, MaxPool2dFunction
from .ops.reduce import Amax, Mean, Sum
from .ops.shape import Cat, Clone, Expand, Permute, Reshape, View
from .tensor import Tensor

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Squeeze/Unsqueeze/ReduceSum take axes as inputs from 13 on; older opsets are not written
_INT64_MAX = np.iinfo(np.int64).max


class ExportError(RuntimeError):
    """The model uses something the exporter cannot write as ONNX (the message names the op and the layer)."""


def export(model, args=(), f=None, *, kwargs=None, input_names=None, output_names=None, opset_version=None,
           dynamic_axes=None, export_params=True, verbose=False, training=None, do_constant_folding=True,
           keep_initializers_as_inputs=False, dynamo=False, external_data=False, dynamic_shapes=None, optimize=True,
           verify=False, report=False, operator_export_type=None, custom_opsets=None,
           export_modules_as_functions=False, autograd_inlining=True):
    """Trace `model(*args, **kwargs)` once and write the ONNX graph to `f` (a path or a binary file).

    Args as torch.onnx.export: `input_names` / `output_names` name the graph's inputs and outputs (default
    `input_0 ...`, `output_0 ...`); `dynamic_axes` ({name: {axis: "batch"}} or {name: [axis]}) leaves those
    axes free; `opset_version` 13 or newer (default 17). The model runs in eval mode (restored after).
    `dynamo`, `do_constant_folding` and torch's other tuning flags are accepted and change nothing: there is
    one exporter; `verbose=True` prints the graph. Returns None (torch's TorchScript exporter's return).
    """
    import onnx  # the optional extra: only the exporter needs it

    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"glasstorch.onnx.export: opset_version must be between {MIN_OPSET} and "
                         f"{onnx.defs.onnx_opset_version()} (the installed onnx's newest), got {opset}")
    if dynamic_shapes is not None:
        raise ValueError("glasstorch.onnx.export: dynamic_shapes (torch.export's form) is not supported; name the "
                         "free axes with dynamic_axes={'input': {0: 'batch'}}")
    if not export_params:
        raise ValueError("glasstorch.onnx.export: export_params=False is not supported (the weights are always "
                         "written as initializers)")
    if isinstance(args, Tensor) or not isinstance(args, (tuple, list)):
        args = (args,)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict) and not kwargs:  # torch's convention: a trailing dict is kwargs
        args, kwargs = tuple(args[:-1]), dict(args[-1])
    inputs = _flatten(list(args) + list(kwargs.values()), skip_others=True)  # (x, (h0, c0)): x, h0, c0
    graph = _Graph(onnx, model, opset)
    input_names = list(input_names or [])
    for i, t in enumerate(inputs):
        name = input_names[i] if i < len(input_names) else f"input_{i}"
        graph.add_input(name, t)
    was_training = getattr(model, "training", False)
    if isinstance(model, nn.Module):
        model.eval()  # torch's default TrainingMode.EVAL (dropout off, batch norm on its running statistics)
    try:
        with _Tracing(graph, model), grad_mode.enable_grad():
            out = model(*args, **kwargs)
    finally:
        if isinstance(model, nn.Module):
            model.train(was_training)
    outputs = _flatten(out)
    output_names = list(output_names or [])
    for i, t in enumerate(outputs):
        graph.add_output(output_names[i] if i < len(output_names) else f"output_{i}", t)
    proto = graph.model(dynamic_axes or {})
    onnx.checker.check_model(proto)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    if f is not None:
        data = proto.SerializeToString()
        if hasattr(f, "write"):
            f.write(data)
        else:
            with open(f, "wb") as handle:
                handle.write(data)
    return None


def _flatten(out, skip_others=False):
    """The tensors in a nest of tuples/lists/dicts, in order (torch's order of ONNX inputs and outputs)."""
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in _flatten(item, skip_others)]
    if isinstance(out, dict):
        return [t for item in out.values() for t in _flatten(item, skip_others)]
    if out is None or skip_others:
        return []
    raise ExportError(f"glasstorch.onnx.export: the model returned a {type(out).__name__}; ONNX outputs are "
                      "tensors (or tuples/lists/dicts of them)")


def _key(t):
    """How a tensor is recognised: by its autograd node (in-place ops move a tensor to a new node), else itself."""
    return ("node", id(t.grad_fn)) if t.grad_fn is not None else ("tensor", id(t))


class _Graph:
    """The ONNX graph being built: nodes, initializers, and the name of every tensor seen so far."""

    def __init__(self, onnx, model, opset):
        self.onnx, self.opset = onnx, opset
        self.nodes, self.initializers, self.inputs, self.outputs = [], [], [], []
        self.names = {}       # _key(tensor) -> ONNX name
        self.keep = []        # the traced tensors, kept alive so that their ids stay unique
        self.arrays = {}      # id(array) -> name: ops that take index arrays as attributes (embedding)
        self.used = set()
        self.params = {}
        if isinstance(model, nn.Module):
            for name, p in model.named_parameters():
                self.params[id(p)] = name
            for name, b in model.named_buffers():
                if b is not None:
                    self.params[id(b)] = name
        self.where = []       # the stack of layers running now (for error messages)

    # ---------------------------------------------------------------- names
    def fresh(self, hint):
        n = 0
        while f"{hint}_{n}" in self.used:
            n += 1
        self.used.add(f"{hint}_{n}")
        return f"{hint}_{n}"

    def bind(self, tensor, name):
        self.names[_key(tensor)] = name
        self.arrays[id(tensor._array)] = name
        self.keep.append(tensor)
        return name

    def name_of(self, t, op=None):
        """The ONNX name of Tensor t: a traced value, an initializer (parameter) or a new constant."""
        name = self.names.get(_key(t))
        if name is not None:
            return name
        if id(t) in self.params:
            name = self.params[id(t)]
            self.used.add(name)
            self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(t._array, order="C"), name))
            return self.bind(t, name)
        if t.grad_fn is not None:
            raise ExportError(f"glasstorch.onnx.export: {op or 'an op'} reads a tensor of shape {list(t.shape)} "
                              f"made by something the exporter did not see (a torch.autograd.Function subclass, "
                              f"or .detach()/.data in forward?){self.location()}")
        return self.bind(t, self.const(t._array, "const"))

    def const(self, value, hint="const", dtype=None):
        array = np.asarray(value, dtype=dtype)
        if array.dtype == np.float64 and dtype is None and not isinstance(value, np.ndarray):
            array = array.astype(np.float32)  # Python floats: float32, torch's default dtype
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array, order="C"), name))
        return name

    def ints(self, values, hint="shape"):
        return self.const(np.asarray(list(values), dtype=np.int64), hint)

    def scalar(self, value, like):
        """A 0-d constant with the dtype of Tensor `like` (ONNX's binary ops want equal dtypes)."""
        return self.const(np.asarray(value, dtype=like._array.dtype), "scalar")

    def node(self, op, inputs, outputs=1, **attrs):
        """Append an ONNX node; returns its output name (or the list of them when outputs > 1)."""
        names = [self.fresh(op.lower()) for _ in range(outputs)] if isinstance(outputs, int) else list(outputs)
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), names, name=self.fresh(op), **attrs))
        return names[0] if len(names) == 1 else names

    def location(self):
        return f" (used by {' > '.join(self.where)})" if self.where else ""

    # ---------------------------------------------------------------- inputs, outputs, the model
    def add_input(self, name, t):
        self.used.add(name)
        self.bind(t, name)
        self.inputs.append((name, t))

    def add_output(self, name, t):
        source = self.name_of(t, "the output")
        if source in {n for n, _ in self.inputs} or source in {i.name for i in self.initializers} \
                or source in {n for n, _ in self.outputs} or name in self.used:
            if name in self.used:
                name = self.fresh(name)
            self.node("Identity", [source], [name])
        else:  # rename the producing node's output to the name asked for
            for node in self.nodes:
                for i, out in enumerate(node.output):
                    if out == source:
                        node.output[i] = name
                for i, inp in enumerate(node.input):
                    if inp == source:
                        node.input[i] = name
            self.used.add(name)
        self.outputs.append((name, t))

    def model(self, dynamic_axes):
        helper = self.onnx.helper

        def value_info(name, t):
            axes = dynamic_axes.get(name, {})
            if not isinstance(axes, dict):
                axes = {int(a): f"{name}_dynamic_axes_{j + 1}" for j, a in enumerate(axes)}
            dims = [axes.get(i, axes.get(i - t.ndim, s)) for i, s in enumerate(t.shape)]
            elem = helper.np_dtype_to_tensor_dtype(t._array.dtype)
            return helper.make_tensor_value_info(name, elem, dims)

        known = {n for n, _ in self.inputs} | {n for n, _ in self.outputs}
        unknown = sorted(set(dynamic_axes) - known)
        if unknown:
            raise ValueError(f"glasstorch.onnx.export: dynamic_axes names {unknown}, which are not input or output "
                             f"names ({sorted(known)})")
        graph = helper.make_graph(self.nodes, "glasstorch", [value_info(n, t) for n, t in self.inputs],
                                  [value_info(n, t) for n, t in self.outputs], self.initializers)
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="glasstorch")
        # the oldest IR version that has this opset: the widest choice of runtimes can read the file
        proto.ir_version = helper.find_min_ir_version_for([helper.make_opsetid("", self.opset)])
        return proto


class _Tracing:
    """While active: every op is translated as it runs, and the layers in MODULES are translated whole."""

    def __init__(self, graph, model):
        self.graph, self.model, self.handles, self.inside = graph, model, [], 0

    def __enter__(self):
        if _function.forward_observer is not None:
            raise RuntimeError("glasstorch.onnx.export: an export is already running (export is not re-entrant)")
        _function.forward_observer = self.observe
        if isinstance(self.model, nn.Module):
            for name, module in self.model.named_modules():
                label = f"{name or 'model'} ({type(module).__name__})"
                self.handles.append(module.register_forward_pre_hook(self._enter(module, label), with_kwargs=True))
                self.handles.append(module.register_forward_hook(self._leave(module), with_kwargs=True))
        return self

    def __exit__(self, *exc):
        _function.forward_observer = None
        for handle in self.handles:
            handle.remove()

    def _mapper(self, module):
        for cls in type(module).__mro__:
            if cls in MODULES:
                return MODULES[cls]
        return None

    def _enter(self, module, label):
        def pre_hook(mod, args, kwargs):
            self.graph.where.append(label)
            if self._mapper(module) is not None:
                self.inside += 1
        return pre_hook

    def _leave(self, module):
        def hook(mod, args, kwargs, output):
            mapper = self._mapper(module)
            if mapper is not None:
                self.inside -= 1
                if self.inside == 0:
                    mapper(self.graph, module, args, kwargs, output)
            self.graph.where.pop()
        return hook

    def observe(self, cls, inputs, attrs, result):
        if self.inside:
            return  # inside a layer that is translated whole
        # a tuned twin (ops/*_fast.py) subclasses its lesson op and computes the same math: map it the same way
        translate = next((OPS[k] for k in cls.__mro__ if k in OPS), None)
        if translate is None:
            raise ExportError(f"glasstorch.onnx.export: no ONNX mapping for ops.{cls.__name__}"
                              f"{self.graph.location()}")
        names = [self.graph.name_of(t, f"ops.{cls.__name__}") for t in inputs]
        out = translate(self.graph, names, inputs, attrs, result)
        self.graph.bind(result, out)


# ==================================================================== the op table: one function per op
# Each takes (graph, input names, input Tensors, the op's attributes, the result Tensor) and returns the
# ONNX name of the result.

def _same(onnx_op):
    """An op whose ONNX twin takes the same inputs and no attributes (Add, Exp, Relu, MatMul ...)."""
    def translate(g, names, inputs, attrs, out):
        return g.node(onnx_op, names)
    translate.__name__ = f"_{onnx_op.lower()}"
    return translate


def _rsqrt(g, names, inputs, attrs, out):
    return g.node("Reciprocal", [g.node("Sqrt", names)])


def _pow_scalar(g, names, inputs, attrs, out):
    return g.node("Pow", [names[0], g.scalar(attrs["exponent"], inputs[0])])


def _clamp(g, names, inputs, attrs, out):
    lo, hi = attrs.get("lo"), attrs.get("hi")
    bounds = [g.scalar(lo, inputs[0]) if lo is not None else "", g.scalar(hi, inputs[0]) if hi is not None else ""]
    while bounds and bounds[-1] == "":
        bounds.pop()
    return g.node("Clip", names + bounds)


def _leaky_relu(g, names, inputs, attrs, out):
    return g.node("LeakyRelu", names, alpha=float(attrs["slope"]))


def _elu(g, names, inputs, attrs, out):
    return g.node("Elu", names, alpha=float(attrs["alpha"]))


def _gelu(g, names, inputs, attrs, out):
    """0.5 x (1 + erf(x / sqrt 2)), or with approximate='tanh' 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x, like = names[0], inputs[0]
    if attrs.get("approximate", "none") == "tanh":
        cube = g.node("Mul", [g.node("Pow", [x, g.scalar(3.0, like)]), g.scalar(0.044715, like)])
        inner = g.node("Mul", [g.node("Add", [x, cube]), g.scalar(math.sqrt(2 / math.pi), like)])
        gate = g.node("Tanh", [inner])
    else:
        gate = g.node("Erf", [g.node("Div", [x, g.scalar(math.sqrt(2.0), like)])])
    half_x = g.node("Mul", [x, g.scalar(0.5, like)])
    return g.node("Mul", [half_x, g.node("Add", [gate, g.scalar(1.0, like)])])


def _softplus(g, names, inputs, attrs, out):
    beta = float(attrs.get("beta", 1.0))
    if beta == 1.0:
        return g.node("Softplus", names)
    scaled = g.node("Softplus", [g.node("Mul", [names[0], g.scalar(beta, inputs[0])])])
    return g.node("Div", [scaled, g.scalar(beta, inputs[0])])


def _log_sigmoid(g, names, inputs, attrs, out):
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", names)])])


def _hardtanh(g, names, inputs, attrs, out):
    return g.node("Clip", names + [g.scalar(attrs["lo"], inputs[0]), g.scalar(attrs["hi"], inputs[0])])


def _softmax(onnx_op):
    def translate(g, names, inputs, attrs, out):
        return g.node(onnx_op, names, axis=int(attrs["dim"]))
    translate.__name__ = f"_{onnx_op.lower()}"
    return translate


def _linear(g, names, inputs, attrs, out):
    """y = x W^T + b: Gemm for a 2-D x; MatMul with W transposed (+ Add) for more dims."""
    if inputs[0].ndim == 2:
        return g.node("Gemm", names, transB=1)
    product = g.node("MatMul", [names[0], g.node("Transpose", [names[1]], perm=[1, 0])])
    return g.node("Add", [product, names[2]]) if len(names) > 2 else product


def _reshape(g, names, inputs, attrs, out):
    """Unsqueeze/Squeeze when only 1s come or go; else Reshape, copying the leading dims it shares with its
    input (ONNX's 0) so that a free batch axis stays free."""
    source, target = tuple(inputs[0].shape), tuple(out.shape)
    if len(target) > len(source) and tuple(s for s in target if s != 1) == tuple(s for s in source if s != 1):
        axes = _inserted_ones(source, target)
        if axes is not None:
            return g.node("Unsqueeze", [names[0], g.ints(axes, "axes")])
    if len(target) < len(source) and tuple(s for s in target if s != 1) == tuple(s for s in source if s != 1):
        axes = _inserted_ones(target, source)
        if axes is not None:
            return g.node("Squeeze", [names[0], g.ints(axes, "axes")])
    shape, copying = [], True
    for i, size in enumerate(target):
        copying = copying and i < len(source) and source[i] == size
        shape.append(0 if copying else size)
    return g.node("Reshape", [names[0], g.ints(shape)])


def _inserted_ones(short, long):
    """The positions in `long` of the 1s that, taken out, leave `short` (None if it is not that)."""
    axes, j = [], 0
    for i, size in enumerate(long):
        if j < len(short) and short[j] == size:
            j += 1
        elif size == 1:
            axes.append(i)
        else:
            return None
    return axes if j == len(short) else None


def _permute(g, names, inputs, attrs, out):
    return g.node("Transpose", names, perm=[int(d) % inputs[0].ndim for d in attrs["dims"]])


def _expand(g, names, inputs, attrs, out):
    return g.node("Expand", [names[0], g.ints(attrs["shape"])])


def _cat(g, names, inputs, attrs, out):
    return g.node("Concat", names, axis=int(attrs["dim"]))


def _identity(g, names, inputs, attrs, out):
    return g.node("Identity", names[:1])


def _to_dtype(g, names, inputs, attrs, out):
    return g.node("Cast", names, to=g.onnx.helper.np_dtype_to_tensor_dtype(out._array.dtype))


def _reduce(onnx_op, axes_as_input_from):
    def translate(g, names, inputs, attrs, out):
        dims = attrs.get("dims")
        dims = list(range(inputs[0].ndim)) if dims is None else [int(d) for d in dims]
        keep = int(bool(attrs.get("keepdim", False)))
        op = onnx_op if onnx_op != "ReduceMax" or attrs.get("largest", True) else "ReduceMin"
        if g.opset >= (18 if op != "ReduceSum" else axes_as_input_from):
            return g.node(op, [names[0], g.ints(dims, "axes")], keepdims=keep)
        return g.node(op, names[:1], axes=dims, keepdims=keep)
    translate.__name__ = f"_{onnx_op.lower()}"
    return translate


def _slice(g, names, inputs, attrs, out):
    """Basic indexing x[a:b, i, None, ...]: one Slice, then Squeeze (integer indices), then Unsqueeze (None)."""
    key, ndim = list(attrs["key"]), inputs[0].ndim
    if Ellipsis in key:
        at = key.index(Ellipsis)
        used = sum(1 for k in key if k is not None and k is not Ellipsis)
        key[at:at + 1] = [slice(None)] * (ndim - used)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = position = 0
    for k in key:
        if k is None:
            unsqueeze.append(position)
            position += 1
            continue
        if isinstance(k, slice):
            if k != slice(None):
                starts.append(0 if k.start is None else int(k.start))
                ends.append(_INT64_MAX if k.stop is None else int(k.stop))
                axes.append(axis)
                steps.append(1 if k.step is None else int(k.step))
            position += 1
        else:  # an integer: a slice of one, then squeezed
            i = int(k)
            starts.append(i)
            ends.append(_INT64_MAX if i == -1 else i + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    name = names[0]
    if axes:
        name = g.node("Slice", [name, g.ints(starts, "starts"), g.ints(ends, "ends"), g.ints(axes, "axes"),
                                g.ints(steps, "steps")])
    if squeeze:
        name = g.node("Squeeze", [name, g.ints(squeeze, "axes")])
    if unsqueeze:
        name = g.node("Unsqueeze", [name, g.ints(unsqueeze, "axes")])
    return name if name != names[0] else g.node("Identity", [name])


def _where(g, names, inputs, attrs, out):
    condition = g.arrays.get(id(attrs["condition"])) or g.const(np.asarray(attrs["condition"], dtype=bool), "mask")
    return g.node("Where", [condition] + names)


def _embedding_op(g, names, inputs, attrs, out):
    indices = g.arrays.get(id(attrs["indices"]))
    if indices is None:
        raise ExportError("glasstorch.onnx.export: F.embedding's indices are not a traced tensor (use nn.Embedding, "
                          f"or pass the indices as a model input){g.location()}")
    return g.node("Gather", [names[0], indices], axis=0)


def _gather(g, names, inputs, attrs, out):
    """torch.gather(x, dim, index) as GatherElements, when the index is a traced value (a graph input ...).
    An index computed on raw arrays (x.max(dim)'s argmax, adaptive max pooling's windows) is data the graph
    would have to recompute, so it is refused rather than frozen into a constant."""
    index = g.arrays.get(id(attrs["index"]))
    if index is None:
        raise ExportError("glasstorch.onnx.export: no ONNX mapping for ops.Gather with an index computed outside "
                          f"the traced ops (x.max(dim), argmax, uneven adaptive max pooling){g.location()}")
    return g.node("GatherElements", [names[0], index], axis=int(attrs["dim"]))


def _with_batch(g, name, t, make):
    """Run `make(name)` on an (N, C, ...) tensor: a (C, ...) input gets a batch axis of 1 around it."""
    if t.ndim == 4:
        return make(name)
    one = g.ints([0], "axes")
    return g.node("Squeeze", [make(g.node("Unsqueeze", [name, one])), one])


def _conv2d(g, names, inputs, attrs, out):
    (top, bottom), (left, right) = attrs["padding"]
    return _with_batch(g, names[0], inputs[0], lambda x: g.node(
        "Conv", [x] + names[1:], strides=list(attrs["stride"]), pads=[top, left, bottom, right],
        dilations=list(attrs["dilation"]), group=int(attrs["groups"]), kernel_shape=list(inputs[1].shape[2:])))


def _conv_transpose2d(g, names, inputs, attrs, out):
    ph, pw = attrs["padding"]
    return _with_batch(g, names[0], inputs[0], lambda x: g.node(
        "ConvTranspose", [x] + names[1:], strides=list(attrs["stride"]), pads=[ph, pw, ph, pw],
        output_padding=list(attrs["output_padding"]), dilations=list(attrs["dilation"]),
        group=int(attrs["groups"]), kernel_shape=list(inputs[1].shape[2:])))


def _pool_attrs(windows):
    (ph, pw), (h, w) = windows.padding, (windows.h, windows.w)
    floor_out = tuple((s + 2 * p - d * (k - 1) - 1) // st + 1 for s, p, d, k, st in
                      zip((h, w), (ph, pw), windows.dilation, windows.kernel, windows.stride))
    return dict(kernel_shape=list(windows.kernel), strides=list(windows.stride), pads=[ph, pw, ph, pw],
                ceil_mode=int(tuple(windows.out) != floor_out))


def _max_pool2d(g, names, inputs, attrs, out):
    w = attrs["windows"]
    return _with_batch(g, names[0], inputs[0], lambda x: g.node(
        "MaxPool", [x], dilations=list(w.dilation), **_pool_attrs(w)))


def _avg_pool2d(g, names, inputs, attrs, out):
    if attrs.get("divisor_override") is not None:
        raise ExportError(f"glasstorch.onnx.export: avg_pool2d's divisor_override has no ONNX form{g.location()}")
    return _with_batch(g, names[0], inputs[0], lambda x: g.node(
        "AveragePool", [x], count_include_pad=int(bool(attrs["count_include_pad"])), **_pool_attrs(attrs["windows"])))


OPS = {
    Add: _same("Add"), Sub: _same("Sub"), Mul: _same("Mul"), Div: _same("Div"),
    Pow: _same("Pow"), Maximum: _same("Max"), Minimum: _same("Min"),
    Neg: _same("Neg"), PowScalar: _pow_scalar, Where: _where,
    Exp: _same("Exp"), Log: _same("Log"), Sqrt: _same("Sqrt"), Rsqrt: _rsqrt,
    Reciprocal: _same("Reciprocal"), Sin: _same("Sin"), Cos: _same("Cos"), Tan: _same("Tan"),
    Sinh: _same("Sinh"), Cosh: _same("Cosh"), Abs: _same("Abs"),
    TanhFunction: _same("Tanh"), SigmoidFunction: _same("Sigmoid"), ReLUFunction: _same("Relu"),
    Clamp: _clamp, SoftmaxFunction: _softmax("Softmax"), LogSoftmaxFunction: _softmax("LogSoftmax"),
    LeakyReLUFunction: _leaky_relu, ELUFunction: _elu, GELUFunction: _gelu,
    SoftplusFunction: _softplus, LogSigmoidFunction: _log_sigmoid, HardtanhFunction: _hardtanh,
    MatMul: _same("MatMul"), LinearFunction: _linear,
    Reshape: _reshape, View: _reshape, Permute: _permute, Expand: _expand,
    Cat: _cat, Clone: _identity, ToDtype: _to_dtype,
    Sum: _reduce("ReduceSum", 13), Mean: _reduce("ReduceMean", 18),
    Amax: _reduce("ReduceMax", 18),
    Slice: _slice, Gather: _gather, EmbeddingFunction: _embedding_op,
    Conv2dFunction: _conv2d, ConvTranspose2dFunction: _conv_transpose2d,
    FastConv2dFunction: _conv2d, FastConvTranspose2dFunction: _conv_transpose2d,  # tuned twins that don't subclass
    MaxPool2dFunction: _max_pool2d, AvgPool2dFunction: _avg_pool2d,
}


# ==================================================================== layers translated whole
# Each takes (graph, module, its args, its kwargs, its output) and binds the output tensors' names.

def _batch_norm(g, m, args, kwargs, output):
    if m.running_mean is None:
        raise ExportError(f"glasstorch.onnx.export: {type(m).__name__}(track_running_stats=False) normalises with "
                          f"the batch's own statistics, which ONNX's BatchNormalization does not{g.location()}")
    x = args[0]
    channels = m.num_features
    scale = g.name_of(m.weight) if m.weight is not None else g.const(np.ones(channels, x._array.dtype), "ones")
    bias = g.name_of(m.bias) if m.bias is not None else g.const(np.zeros(channels, x._array.dtype), "zeros")
    g.bind(output, g.node("BatchNormalization", [g.name_of(x), scale, bias, g.name_of(m.running_mean),
                                                 g.name_of(m.running_var)], epsilon=float(m.eps)))


def _layer_norm(g, m, args, kwargs, output):
    x, dims = args[0], len(m.normalized_shape)
    shape, dtype = m.normalized_shape, args[0]._array.dtype
    scale = g.name_of(m.weight) if m.weight is not None else g.const(np.ones(shape, dtype), "ones")
    bias = g.name_of(m.bias) if getattr(m, "bias", None) is not None else g.const(np.zeros(shape, dtype), "zeros")
    if g.opset >= 17:
        g.bind(output, g.node("LayerNormalization", [g.name_of(x), scale, bias], axis=-dims, epsilon=float(m.eps)))
        return
    # before opset 17: (x - mean) / sqrt(var + eps) * weight + bias, written out
    axes = list(range(-dims, 0))
    name = g.name_of(x)
    centred = g.node("Sub", [name, g.node("ReduceMean", [name], axes=axes, keepdims=1)])
    var = g.node("ReduceMean", [g.node("Mul", [centred, centred])], axes=axes, keepdims=1)
    std = g.node("Sqrt", [g.node("Add", [var, g.scalar(m.eps, x)])])
    g.bind(output, g.node("Add", [g.node("Mul", [g.node("Div", [centred, std]), scale]), bias]))


def _embedding_module(g, m, args, kwargs, output):
    if m.max_norm is not None:
        raise ExportError(f"glasstorch.onnx.export: Embedding(max_norm=...) renormalises its weight in forward; "
                          f"ONNX has no such op{g.location()}")
    g.bind(output, g.node("Gather", [g.name_of(m.weight), g.name_of(args[0])], axis=0))


# torch's gate order -> ONNX's: LSTM i,f,g,o -> i,o,f,c(=g); GRU r,z,n -> z,r,h(=n); RNN has one gate
_GATES = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}


def _recurrent(g, m, args, kwargs, output):
    """LSTM / GRU / RNN as ONNX's LSTM / GRU / RNN nodes, one per layer (both directions in one node)."""
    x, hx = args[0], (args[1] if len(args) > 1 else kwargs.get("hx"))
    kind = type(m).__name__
    if isinstance(x, PackedSequence):
        raise ExportError(f"glasstorch.onnx.export: {kind} on a PackedSequence (pack_padded_sequence) has no ONNX "
                          f"form here; export the model on padded tensors{g.location()}")
    if getattr(m, "proj_size", 0):
        raise ExportError(f"glasstorch.onnx.export: LSTM(proj_size=...) has no ONNX form{g.location()}")
    if x.ndim != 3:
        raise ExportError(f"glasstorch.onnx.export: {kind} on an unbatched (2-D) input; export it with a batch "
                          f"axis{g.location()}")
    dirs, hidden, mode = (2 if m.bidirectional else 1), m.hidden_size, m.mode
    order, op = _GATES[mode], {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    name = g.name_of(x)
    if m.batch_first:
        name = g.node("Transpose", [name], perm=[1, 0, 2])
    states = [] if hx is None else list(hx) if isinstance(hx, tuple) else [hx]
    state_names = [g.name_of(s) for s in states]
    h_n, c_n = [], []
    for layer in range(m.num_layers):
        suffixes = [f"_l{layer}" + ("_reverse" if direction else "") for direction in range(dirs)]
        inputs = [name] + _onnx_weights(g, m, suffixes, order, kind) + [""]
        for s in state_names:  # this layer's slice of h_0 (and c_0): rows layer*dirs .. (layer+1)*dirs
            inputs.append(g.node("Slice", [s, g.ints([layer * dirs], "starts"), g.ints([(layer + 1) * dirs], "ends"),
                                           g.ints([0], "axes")]))
        outs = g.node(op, inputs, outputs=3 if op == "LSTM" else 2, **_rnn_attrs(mode, hidden, dirs))
        y = outs[0]  # (T, dirs, B, H) -> (T, B, dirs * H)
        y = g.node("Transpose", [y], perm=[0, 2, 1, 3])
        name = g.node("Reshape", [y, g.ints([0, 0, -1])])
        h_n.append(outs[1])
        if op == "LSTM":
            c_n.append(outs[2])
    out_name = g.node("Transpose", [name], perm=[1, 0, 2]) if m.batch_first else name
    out_tensor, state = output
    g.bind(out_tensor, out_name)
    if op == "LSTM":
        g.bind(state[0], _concat0(g, h_n))
        g.bind(state[1], _concat0(g, c_n))
    else:
        g.bind(state, _concat0(g, h_n))


def _onnx_weights(g, m, suffixes, order, kind):
    """ONNX's W, R, B initializers (one row per direction) from torch's weight_ih/hh and bias_ih/hh + suffix."""
    w, r, b = [], [], []
    for suffix in suffixes:
        w_ih, w_hh = getattr(m, "weight_ih" + suffix), getattr(m, "weight_hh" + suffix)
        w.append(_reorder(w_ih._array, order))
        r.append(_reorder(w_hh._array, order))
        if m.bias:
            b_ih, b_hh = getattr(m, "bias_ih" + suffix), getattr(m, "bias_hh" + suffix)
            b.append(np.concatenate([_reorder(b_ih._array, order), _reorder(b_hh._array, order)]))
        else:
            b.append(np.zeros(2 * len(order) * m.hidden_size, w_ih._array.dtype))
    return [g.const(np.stack(w), f"{kind}_W"), g.const(np.stack(r), f"{kind}_R"), g.const(np.stack(b), f"{kind}_B")]


def _rnn_attrs(mode, hidden, dirs):
    attrs = dict(hidden_size=hidden, direction="bidirectional" if dirs == 2 else "forward")
    if mode == "GRU":
        attrs["linear_before_reset"] = 1  # torch: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    if mode.startswith("RNN"):
        attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * dirs
    return attrs


def _recurrent_cell(g, m, args, kwargs, output):
    """LSTMCell / GRUCell / RNNCell as one step of ONNX's LSTM / GRU / RNN (a sequence of length 1)."""
    x, hx = args[0], (args[1] if len(args) > 1 else kwargs.get("hx"))
    kind = type(m).__name__
    if x.ndim != 2:
        raise ExportError(f"glasstorch.onnx.export: {kind} on an unbatched (1-D) input; export it with a batch "
                          f"axis{g.location()}")
    mode = {"LSTMCell": "LSTM", "GRUCell": "GRU"}.get(kind) or ("RNN_RELU" if m.nonlinearity == "relu" else "RNN_TANH")
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    time_axis = g.ints([0], "axes")
    states = [] if hx is None else list(hx) if isinstance(hx, tuple) else [hx]
    inputs = [g.node("Unsqueeze", [g.name_of(x), time_axis])] + _onnx_weights(g, m, [""], _GATES[mode], kind) + [""]
    inputs += [g.node("Unsqueeze", [g.name_of(s), time_axis]) for s in states]  # (B, H) -> (1 direction, B, H)
    outs = g.node(op, inputs, outputs=3 if op == "LSTM" else 2, **_rnn_attrs(mode, m.hidden_size, 1))
    if op == "LSTM":
        g.bind(output[0], g.node("Squeeze", [outs[1], time_axis]))
        g.bind(output[1], g.node("Squeeze", [outs[2], time_axis]))
    else:
        g.bind(output, g.node("Squeeze", [outs[1], time_axis]))


def _reorder(array, order):
    """Rows of a stacked gate matrix (or bias) in another gate order."""
    return np.concatenate([np.split(array, len(order))[i] for i in order])


def _concat0(g, names):
    return names[0] if len(names) == 1 else g.node("Concat", names, axis=0)


def _attention(g, m, args, kwargs, output):
    """softmax(Q K^T / sqrt(d)) V per head, written with MatMul/Softmax and shape-agnostic reshapes."""
    names = ["query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights"]
    call = dict(zip(names, args))
    call.update(kwargs)
    if call.get("key_padding_mask") is not None or call.get("attn_mask") is not None:
        raise ExportError("glasstorch.onnx.export: MultiheadAttention with attn_mask or key_padding_mask is not "
                          f"written yet{g.location()}")
    if m.bias_k is not None or m.add_zero_attn:
        raise ExportError(f"glasstorch.onnx.export: MultiheadAttention(add_bias_kv/add_zero_attn){g.location()}")
    q, k, v = call["query"], call["key"], call["value"]
    if q.ndim != 3:
        raise ExportError(f"glasstorch.onnx.export: unbatched MultiheadAttention input{g.location()}")
    e, heads = m.embed_dim, m.num_heads
    d = e // heads
    if m._qkv_same_embed_dim:
        weights = np.split(m.in_proj_weight._array, 3)
    else:
        weights = [m.q_proj_weight._array, m.k_proj_weight._array, m.v_proj_weight._array]
    biases = np.split(m.in_proj_bias._array, 3) if m.in_proj_bias is not None else [None] * 3

    def project(t, w, b, hint):
        name = g.name_of(t)
        if not m.batch_first:  # (L, N, E) -> (N, L, E)
            name = g.node("Transpose", [name], perm=[1, 0, 2])
        y = g.node("MatMul", [name, g.const(np.ascontiguousarray(w.T), f"attn_{hint}_weight")])
        if b is not None:
            y = g.node("Add", [y, g.const(b, f"attn_{hint}_bias")])
        return g.node("Reshape", [y, g.ints([0, 0, heads, d])])  # (N, L, heads, d)

    query = g.node("Transpose", [project(q, weights[0], biases[0], "q")], perm=[0, 2, 1, 3])   # (N, h, L, d)
    key_t = g.node("Transpose", [project(k, weights[1], biases[1], "k")], perm=[0, 2, 3, 1])   # (N, h, d, S)
    value = g.node("Transpose", [project(v, weights[2], biases[2], "v")], perm=[0, 2, 1, 3])   # (N, h, S, d)
    scores = g.node("Mul", [g.node("MatMul", [query, key_t]), g.scalar(1.0 / math.sqrt(d), q)])
    probs = g.node("Softmax", [scores], axis=-1)
    heads_out = g.node("Transpose", [g.node("MatMul", [probs, value])], perm=[0, 2, 1, 3])    # (N, L, h, d)
    merged = g.node("Reshape", [heads_out, g.ints([0, 0, e])])
    out = g.node("MatMul", [merged, g.node("Transpose", [g.name_of(m.out_proj.weight)], perm=[1, 0])])
    if m.out_proj.bias is not None:
        out = g.node("Add", [out, g.name_of(m.out_proj.bias)])
    if not m.batch_first:
        out = g.node("Transpose", [out], perm=[1, 0, 2])
    attn_out, attn_weights = output
    g.bind(attn_out, out)
    if attn_weights is not None:
        if call.get("average_attn_weights", True):
            probs = g.node("ReduceMean", [probs, g.ints([1], "axes")] if g.opset >= 18 else [probs],
                           keepdims=0, **({} if g.opset >= 18 else {"axes": [1]}))
        g.bind(attn_weights, probs)


MODULES = {
    nn.BatchNorm1d: _batch_norm, nn.BatchNorm2d: _batch_norm, nn.LayerNorm: _layer_norm,
    nn.Embedding: _embedding_module,
    nn.LSTM: _recurrent, nn.GRU: _recurrent, nn.RNN: _recurrent,
    nn.LSTMCell: _recurrent_cell, nn.GRUCell: _recurrent_cell, nn.RNNCell: _recurrent_cell,
    nn.MultiheadAttention: _attention,
}
