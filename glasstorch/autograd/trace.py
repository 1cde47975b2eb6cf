"""`trace(out)`: run `out.backward()` and record the walk one node at a time, to read or to show.

The walk is the engine's own (`engine._run` with an observer), so what is shown is what ran. Each step:
the node's op, its local derivative (the first line of the op's docstring, which is the math), its inputs'
shapes, the upstream gradient it received (the sum of everything its output fed), and the gradient sent
to each input, marked `+=` when that input already received one (a tensor used twice accumulates).

    >>> from glasstorch import ones
    >>> x = ones(2, 2, requires_grad=True)
    >>> t = trace(((x + 1) * 2).mean(), names={"x": x})
    >>> [s.op for s in t.steps]
    ['MeanBackward0', 'MulBackward0', 'AddBackward0']
    >>> x.grad.tolist()
    [[0.5, 0.5], [0.5, 0.5]]
"""
import dataclasses
import re

import numpy as np

from ..tensor import Tensor
from . import engine

SMALL = 12  # at most this many elements: print the values; above, shape and norm


@dataclasses.dataclass
class Sent:
    """One gradient a node hands to one of its inputs."""
    target: str        # the input's label
    target_id: str     # its id in the graph ("n3" for a node's output, "l1" for a leaf)
    grad: np.ndarray   # after undoing broadcasting (what the input really receives)
    accumulates: bool  # the input had already received a gradient: `+=`


@dataclasses.dataclass
class Step:
    index: int
    node_id: str
    op: str
    math: str
    output: str                                  # the label of this node's output
    inputs: list                                 # (label, shape, requires grad) per input
    upstream: np.ndarray
    sent: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Trace:
    steps: list
    leaves: dict      # leaf id -> (label, final .grad as an array or None)
    edges: list       # (from id, to id): an input feeds a node (the forward direction)
    labels: dict      # graph id -> label
    root: str

    def text(self):
        lines = [f"backward of {self.labels[self.root]}: {len(self.steps)} nodes, in topological order "
                 f"(the output first)", ""]
        for s in self.steps:
            ins = ", ".join(f"{label} {_shape(shape)}" for label, shape, _ in s.inputs)
            lines.append(f"step {s.index}: {s.op}  ({s.output} = {op_name(s.op)}({ins}))")
            lines.append(f"  local derivative: {s.math}")
            lines.append(f"  upstream dL/d{s.output} = {describe(s.upstream)}")
            for sent in s.sent:
                op = "+=" if sent.accumulates else "="
                lines.append(f"  -> dL/d{sent.target} {op} {describe(sent.grad)}")
            lines.append("")
        for label, grad in self.leaves.values():
            lines.append(f"{label}.grad = {'None' if grad is None else describe(grad)}")
        return "\n".join(lines)

    def markdown(self):
        lines = [f"Backward of `{self.labels[self.root]}`, one node at a time (topological order, output first).", "",
                 "| step | node | local derivative | upstream gradient | sent to inputs |", "|---|---|---|---|---|"]
        for s in self.steps:
            sent = "<br>".join(f"`dL/d{x.target} {'+=' if x.accumulates else '='} {describe(x.grad)}`" for x in s.sent)
            lines.append(f"| {s.index} | `{s.op}` ({s.output}) | `{s.math}` | `{describe(s.upstream)}` | {sent} |")
        lines.append("")
        for label, grad in self.leaves.values():
            lines.append(f"- `{label}.grad = {'None' if grad is None else describe(grad)}`")
        return "\n".join(lines)

    __str__ = text


def describe(array):
    """Values when small (<= SMALL elements), else shape and norm."""
    a = np.asarray(array, dtype=np.float64) + 0.0  # + 0.0: -0. prints as 0.
    if a.size <= SMALL:
        return np.array2string(a, precision=4, suppress_small=True, separator=", ").replace("\n", "")
    return f"<shape {_shape(a.shape)}, norm {np.linalg.norm(a):.4g}>"


def _shape(shape):
    return "(" + ", ".join(map(str, shape)) + ")"


def op_name(name):
    """A node's name without its `Backward0` / `Backward1` suffix: `RsubBackward1` -> `Rsub`."""
    return re.sub(r"Backward\d+$", "", name)


def _math(node):
    doc = type(node).__doc__ or ""
    return doc.strip().split("\n")[0] if doc.strip() else f"(no docstring on {type(node).__name__})"


def trace(tensor, gradient=None, names=None, retain_graph=False):
    """`tensor.backward(gradient)`, recorded: returns a Trace (print it, or .markdown(); the HTML page is
    glasstorch.teaching.trace_page.render). `names` ({"x": x, "loss": loss}) labels tensors in the output."""
    names = names or {}
    label_of = {}
    for name, t in names.items():
        if isinstance(t, Tensor):
            label_of[("node", id(t.grad_fn)) if t.grad_fn is not None else ("leaf", id(t))] = name
    ids, labels, edges, steps, leaves = {}, {}, [], [], {}
    received = set()

    def key_of(inp, fn):
        return ("node", id(fn)) if fn is not None else ("leaf", id(inp))

    def graph_id(key, default_label):
        if key not in ids:
            ids[key] = ("n" if key[0] == "node" else "l") + str(len(ids))
            labels[ids[key]] = label_of.get(key, default_label)
        return ids[key]

    root_node = tensor.grad_fn
    if root_node is None:
        raise RuntimeError("trace: the tensor has no grad_fn (it is a leaf, or was computed without grad)")
    root = graph_id(("node", id(root_node)), "out")
    order = {id(n): i for i, n in enumerate(engine._topological_order([root_node]))}
    for node in engine._topological_order([root_node]):  # ids in walk order: n0 is the output
        graph_id(("node", id(node)), f"t{order[id(node)]}")

    def observe(node, g, input_grads):
        node_id = graph_id(("node", id(node)), "?")
        step = Step(len(steps) + 1, node_id, node.name(), _math(node), labels[node_id], [],
                    g._array.astype(np.float64, copy=True))
        for i, (inp, fn, needed) in enumerate(zip(node.inputs, node.edges, node.needs_input_grad)):
            shape = tuple(inp.shape) if inp is not None else ()
            key = key_of(inp, fn)
            if fn is None and not needed:
                step.inputs.append((_constant_label(inp), shape, False))
                continue
            target = graph_id(key, f"leaf{sum(k[0] == 'leaf' for k in ids)}")
            edges.append((target, node_id))
            step.inputs.append((labels[target], shape, needed))
            ig = input_grads[i] if i < len(input_grads) else None
            if ig is None or not needed:
                continue
            ig = engine._fit_to_input(ig, inp)
            step.sent.append(Sent(labels[target], target, ig._array.astype(np.float64, copy=True), key in received))
            received.add(key)
            if fn is None:
                leaves[target] = inp
        steps.append(step)

    root_grad = engine._root_gradient(tensor, gradient, False)
    engine._run([(tensor, root_grad)], retain_graph, False, observer=observe)
    leaf_grads = {i: (labels[i], None if t.grad is None else t.grad._array.astype(np.float64, copy=True))
                  for i, t in leaves.items()}
    return Trace(steps, leaf_grads, edges, labels, root)


def _constant_label(inp):
    return "const" if inp is None or not hasattr(inp, "_array") or inp._array.size > 1 else f"{float(inp._array):g}"
