"""The backward walk: reverse-mode autograd over the graph of Function nodes.

1. Visit the nodes outputs-first: newest first, as torch does (a node is made after its inputs' nodes,
   so everything that used a node's output has run before it). A heap holds the nodes that have
   received a gradient; the loop is iterative (a 10,000-op chain is fine).
2. Each node receives the sum of the gradients of everything that used its output, calls its
   `backward`, and hands one gradient to each input: to the input's node, or, for a leaf, into `.grad`.
3. Broadcasting is undone in ONE place (`_fit_to_input`): a gradient larger than its input is summed
   back to the input's shape.
4. Unless `retain_graph`, each node drops its saved values once used.

Two kinds of walk: with `create_graph=True` gradients are Tensors and every backward is recorded (so it
can be differentiated again). Otherwise (every ordinary training step) nothing is recorded, and gradients
travel between nodes as raw arrays: an op that declares `array_backward` runs its one backward formula
on them directly, any other op gets its gradient wrapped in a Tensor. User code (hooks, `retain_grad`,
`.grad`, `autograd.grad`'s results, the trace's observer) always sees Tensors.

`_run` is that loop (micrograd's, made iterative); what it leaves out (sums of incoming gradients, hooks
and retain_grad, where results go, freeing) lives in the named helpers below it. `_run_plain` is the same loop
for an ordinary `loss.backward()`, the helpers' common cases written into it for speed: read `_run` first.
"""
from heapq import heappop, heappush

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import grad_mode
from .function import InputMeta, check_finite_grad


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """`loss.backward()` / `autograd.backward(tensors, grad_tensors)`: accumulate gradients into leaves' `.grad`."""
    plain = not create_graph and inputs is None and not grad_mode._anomaly.enabled
    if plain and type(tensors) is Tensor and grad_tensors is None:  # `loss.backward()`: every training step
        _run_plain([(tensors, _root_gradient(tensors, None, False))], bool(retain_graph))
        return
    tensors = _as_list(tensors)
    grad_tensors = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(tensors)
    roots = [(t, _root_gradient(t, g, create_graph)) for t, g in zip(tensors, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    if plain:
        _run_plain(roots, retain_graph)
        return
    targets = _as_list(inputs) if inputs is not None else None
    _run(roots, retain_graph, create_graph, targets=targets, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """Gradients of `outputs` with respect to `inputs`, returned as a tuple (nothing goes into `.grad`)."""
    outputs = _as_list(outputs)
    inputs_list = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    for t in inputs_list:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots = [(t, _root_gradient(t, g, create_graph)) for t, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    captured = _run(roots, retain_graph, create_graph, targets=inputs_list, accumulate=False)
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, g in enumerate(captured):
        if g is None:
            if materialize_grads:
                captured[i] = Tensor._make(backend.array_module(inputs_list[i]._array).zeros_like(inputs_list[i]._array))
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
    return tuple(captured)


def _as_list(x):
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _root_gradient(tensor, gradient, create_graph):
    if not tensor._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        a = tensor._array
        if a.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        # a single 1 in the tensor's shape (ones_like, a Python function in NumPy, costs 4x as much)
        one = backend.array_module(a).array(1, dtype=a.dtype)
        return Tensor._make(one.reshape(a.shape) if a.ndim else one)
    if not isinstance(gradient, Tensor):
        gradient = Tensor._make(backend.like(tensor._array, np.asarray(gradient, dtype=tensor._array.dtype)))
    if gradient.shape != tensor.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {gradient.shape} and output[0] "
                           f"has a shape of {tensor.shape}.")
    if not create_graph:
        gradient = Tensor._make(gradient._array.astype(tensor._array.dtype, copy=True))
    return gradient


def _topological_order(roots):
    """Nodes reachable from `roots`, in the order the walk runs them: newest first (see `_run`)."""
    seen, stack = set(roots), list(roots)
    while stack:
        for fn in stack.pop().edges:
            if fn is not None and fn not in seen:
                seen.add(fn)
                stack.append(fn)
    return sorted(seen, key=_newest_first)


def _newest_first(node):
    return -node.sequence_nr


def _run(roots, retain_graph, create_graph, targets=None, accumulate=True, observer=None):
    """The walk, as in micrograd: in topological order, each node calls backward and hands on gradients.

    The order is torch's: newest node first. A node is made after the nodes of its inputs, so when the
    newest node that has received a gradient runs, everything that used its output has run (its gradient
    is complete). A heap keyed by creation number holds the nodes that have received a gradient: no
    separate pass over the graph is needed to order it, and nodes no gradient reaches are never visited.

    `observer(node, g, input_grads)`, when given, sees each step (autograd.trace uses it to show the walk)."""
    walk = _Walk(create_graph, targets, accumulate)
    for tensor, g in roots:
        walk.receive(tensor, tensor.grad_fn, g if create_graph else g._array)  # (the plain walk carries arrays)
    ready, receive = walk.ready, walk.receive
    with grad_mode.set_grad_enabled(create_graph):  # backward's ops are recorded only for higher-order grads
        while ready:
            node = heappop(ready)[1]  # the newest node that received a gradient: all its consumers have run
            g = walk.take(node)  # the sum of everything its output received
            if not create_graph and not node.array_backward:  # this op's backward is written for Tensors
                g = Tensor._make(g)
            input_grads = _backward_of(node, g, create_graph)  # one gradient per input (None: not needed)
            if observer is not None:
                observer(node, _as_tensor(g), tuple(map(_as_tensor, input_grads)))
            for inp, fn, needed, ig in zip(node.inputs, node.edges, node.needs_input_grad, input_grads):
                if ig is not None and needed:
                    receive(inp, fn, ig)
            if not retain_graph:  # drop the saved values now, so the activations can be freed at once
                node.free()
        walk.deliver_to_leaves()
    return walk.captured


def _run_plain(roots, retain_graph):
    """`_run` for a plain `loss.backward()` (no create_graph, no `inputs`, no anomaly mode): the same walk, with
    what `receive`, `take`, `_backward_of`, `check_saved`, `_stored`, `free` and `Tensor._make` do in the common
    case written into the loop.

    Every training step runs this, and a small network's step is mostly this loop's Python, so the helper calls
    it saves (about 40 for a 3-layer MLP; docs/PERFORMANCE.md, "The tiny step (round 7)") are worth a second
    copy of the loop. Anything less common (a hook, a
    retained grad, a gradient that is not a NumPy array of the right shape and dtype) goes to the same `_Walk`
    helpers `_run` uses. tests/autograd/test_engine_plain.py checks it against `_run` on random graphs."""
    walk = _Walk(False, None, True)
    for tensor, g in roots:  # (each made to fit its tensor by _root_gradient)
        if tensor.grad_fn is None or tensor.grad_fn in walk.grads:
            walk.receive(tensor, tensor.grad_fn, g._array)
        else:
            walk.grads[tensor.grad_fn] = g._array
            heappush(walk.ready, (-tensor.grad_fn.sequence_nr, tensor.grad_fn))
    grads, ready, claimed, receive = walk.grads, walk.ready, walk.claimed, walk.receive
    make, new = Tensor._make, object.__new__
    state = grad_mode._state  # (set and restored directly: a `with set_grad_enabled` costs 0.3 us)
    recording, state.enabled = state.enabled, False
    try:
        while ready:
            node = heappop(ready)[1]  # the newest node that received a gradient: all its consumers have run
            g = grads.pop(node)  # the sum of everything its output received
            if node.tensor_hooks or node.retained:
                g = walk.at_node(node, g)
            cls = type(node)
            if not cls.array_backward:  # this op's backward is written for Tensors
                g = make(g)
            # check_saved's tests, written out: freed, or an input or the output changed in place since forward
            changed = node.freed or (cls.saves_output and node.output_version[0])
            if cls.needs_inputs and not changed:
                for t, version in zip(node.inputs, node.versions):
                    if t._version_counter[0] != version:
                        changed = True
                        break
            if changed:
                node.check_saved()  # raises torch's error (unless the changed input is one backward does not read)
            input_grads = node.backward(node, g)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            fits = cls.grads_fit_inputs
            for inp, fn, needed, ig in zip(node.inputs, node.edges, node.needs_input_grad, input_grads):
                if ig is None or not needed:
                    continue
                if type(ig) is not np.ndarray or (fn is None and inp._hooks) or not fits and (
                        type(inp) is InputMeta or ig.shape != inp._array.shape or ig.dtype is not inp._array.dtype):
                    receive(inp, fn, ig)  # to be fitted to the input, or a leaf with hooks
                elif fn is not None:  # an op's output: add to what it has received
                    previous = grads.get(fn)
                    if previous is None:
                        grads[fn] = ig
                        heappush(ready, (-fn.sequence_nr, fn))
                    else:
                        grads[fn] = previous + ig
                elif inp.grad is not None:  # a leaf's second gradient, or one from an earlier backward
                    inp.grad = walk._added(inp.grad, ig)
                else:  # a leaf's first: `.grad` takes the array itself unless someone else holds its memory
                    owner = ig.base
                    if owner is None:
                        owner = ig
                    flags = ig.flags
                    if id(owner) in claimed or not flags.c_contiguous or not flags.writeable:
                        ig = owner = ig.copy()
                    claimed.add(id(owner))
                    t = new(Tensor)  # (Tensor._make's lines)
                    t._array, t._requires_grad, t.grad, t.grad_fn, t._version_counter = ig, False, None, None, [0]
                    inp.grad = t
            if retain_graph:
                continue
            if cls.needs_inputs or cls.saves_output:  # free(), written out: the activations can go at once
                kept = []  # (a leaf that requires grad is kept: next_functions shows it)
                for t, fn in zip(node.inputs, node.edges):
                    kept.append(t if fn is None and t._requires_grad else None)
                node.inputs = kept
                node.output_array = None
                node.__dict__.clear()
                node.freed = True
            else:
                node.free()
        walk.deliver_to_leaves()
    finally:
        state.enabled = recording


# --- the bookkeeping the loop above leaves out

def _backward_of(node, g, create_graph):
    """node.backward(g) as a tuple, after checking that the values it reads are still saved and unchanged."""
    cls = type(node)
    if cls.needs_inputs or cls.saves_output:  # backward reads saved values: they must still be there, unchanged
        node.check_saved()
    if create_graph and cls.once_differentiable:
        raise RuntimeError(f"{node.name()} is once-differentiable: double backward through it is not "
                           f"supported (create_graph=True over a convolution or pooling).")
    input_grads = _call_backward(node, g) if grad_mode._anomaly.enabled else node.backward(node, g)
    return input_grads if type(input_grads) is tuple else (input_grads,)


def _call_backward(node, g):
    """Anomaly mode: run backward with the per-op forward check off, then name this node if it made NaN/Inf."""
    grad_mode._anomaly.enabled = False
    try:
        input_grads = node.backward(node, g)
    finally:
        grad_mode._anomaly.enabled = True
    check_finite_grad(node, input_grads if type(input_grads) is tuple else (input_grads,))
    return input_grads


def _fit_to_input(g, inp):
    """Undo broadcasting (sum over the broadcast dims) and match the input's dtype: the one central place.

    A Tensor gradient is reduced and cast by ops (recorded when create_graph); an array by the same
    reduction on the array."""
    if type(inp) is InputMeta:
        shape, dtype = inp.shape, inp.np_dtype
    else:
        shape, dtype = inp._array.shape, inp._array.dtype
    if isinstance(g, Tensor):
        if g._array.shape != shape:
            g = g.sum_to_size(shape)
        if g._array.dtype != dtype:
            g = g.to(backend.from_numpy_dtype(dtype))
        return g
    if g.shape != shape:
        g = sum_to_shape(g, shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def sum_to_shape(array, shape):
    """`array` summed over the dims broadcasting added to `shape` (leading dims, and dims of size 1)."""
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and array.shape[lead + i] != 1)
    out = array.sum(axis=axes, keepdims=True) if axes else array
    return out.reshape(shape) if lead else out


def _as_tensor(g):
    """A gradient as user code sees it: a Tensor (the plain walk carries raw arrays)."""
    return g if g is None or isinstance(g, Tensor) else Tensor._make(g)


class _Walk:
    """Where gradients end up: leaves' `.grad` (backward) or a list of results (autograd.grad)."""

    def __init__(self, create_graph, targets, accumulate):
        self.create_graph = create_graph
        self.accumulate = accumulate
        self.targets = targets
        self.captured = [None] * len(targets) if targets is not None else None
        self.target_of_leaf = {}
        self.target_of_node = {}
        for i, t in enumerate(targets or ()):
            if t.grad_fn is None:
                self.target_of_leaf[id(t)] = i
            else:
                self.target_of_node[id(t.grad_fn)] = i
        self.claimed = set()  # memory owners already handed to a .grad (never hand out one twice)
        self.grads = {}       # node -> the sum of the gradients its output received so far
        self.ready = []       # (-creation number, node) of each node in `grads`: a heap, newest first
        self.leaf_grads = {}  # id(leaf) -> [leaf, summed gradient]: hooks and .grad see the total, like torch
        self.sees_nodes = bool(self.target_of_node)
        # loss.backward() with no graph recorded: a leaf without hooks takes each gradient into .grad at once
        self.straight_to_grad = accumulate and targets is None and not create_graph

    def receive(self, tensor, node, g):
        """Add g, fitted to `tensor`, to what `tensor` (the output of `node`, or a leaf when node is None) has received."""
        # a NumPy gradient that already fits (the common case) is checked here, sparing a call per edge;
        # `is` compares the dtype objects (the same for equal built-in dtypes), else _fit_to_input decides
        if type(g) is not np.ndarray or type(tensor) is InputMeta or g.shape != tensor._array.shape \
                or g.dtype is not tensor._array.dtype:
            g = _fit_to_input(g, tensor)
            if not self.create_graph and isinstance(g, Tensor):  # the plain walk carries arrays
                g = g._array
        if node is not None:
            previous = self.grads.get(node)
            if previous is None:
                self.grads[node] = g
                heappush(self.ready, (-node.sequence_nr, node))
            else:
                self.grads[node] = previous + g
            return
        if self.straight_to_grad and not tensor._hooks:
            tensor.grad = self._stored(g) if tensor.grad is None else self._added(tensor.grad, g)
            return
        entry = self.leaf_grads.get(id(tensor))
        if entry is None:
            self.leaf_grads[id(tensor)] = [tensor, g]
        else:
            entry[1] = entry[1] + g

    def take(self, node):
        """The node's complete gradient, popped (refcount-style: no one adds to it again, so it can be freed)."""
        g = self.grads.pop(node)
        if node.tensor_hooks or node.retained or self.sees_nodes:
            g = self.at_node(node, g)
        return g

    def deliver_to_leaves(self):
        """Leaves get their summed gradient last, so their hooks and `.grad` see the total once."""
        for leaf, g in self.leaf_grads.values():
            self.deliver_to_leaf(leaf, g)

    def at_node(self, node, g):
        """A non-leaf's gradient is complete: run its hooks, retain_grad, capture for autograd.grad."""
        g = _as_tensor(g)
        if node.tensor_hooks:
            for hook in list(node.tensor_hooks.values()):
                replaced = hook(g)
                if replaced is not None:
                    g = replaced
        if node.retained and self.accumulate:
            for ref in node.retained:
                t = ref()
                if t is not None:
                    t.grad = self._stored(g) if t.grad is None else self._added(t.grad, g)
        i = self.target_of_node.get(id(node))
        if i is not None:
            self.captured[i] = g if self.captured[i] is None else self.captured[i] + g
        return g if self.create_graph else g._array

    def deliver_to_leaf(self, leaf, g):
        if leaf._hooks:
            g = _as_tensor(g)
            for hook in list(leaf._hooks.values()):
                replaced = hook(g)
                if replaced is not None:
                    g = replaced
        if self.targets is not None:
            i = self.target_of_leaf.get(id(leaf))
            if i is None:
                return
            if not self.accumulate:
                g = _as_tensor(g)
                self.captured[i] = g if self.captured[i] is None else self.captured[i] + g
                return
        leaf.grad = self._stored(g) if leaf.grad is None else self._added(leaf.grad, g)

    def _added(self, old, g):
        if self.create_graph or old._requires_grad:
            return old + g
        a = old._array
        g = g._array if isinstance(g, Tensor) else g
        owner = a.base if a.base is not None else a
        if id(owner) in self.claimed:  # taken in this walk: the memory may still feed a pending node
            old._array = a + g
        else:  # from an earlier backward: `.grad` owns it, add in place
            a += g
        return old

    def _stored(self, g):
        """A gradient to keep in `.grad`: with graph when create_graph, else an array nobody else holds."""
        if self.create_graph:
            return g
        a = g._array if isinstance(g, Tensor) else g
        owner = a.base
        if owner is None:
            owner = a
        flags = a.flags
        if id(owner) not in self.claimed and flags.c_contiguous and getattr(flags, "writeable", True):
            self.claimed.add(id(owner))
            return g if type(g) is Tensor and g.grad_fn is None else Tensor._make(a)
        copy = a.copy()
        self.claimed.add(id(copy))
        return Tensor._make(copy)


def zero_grads(parameters, set_to_none=True):
    """Reset each tensor's `.grad`: to None (frees the memory), or to zeros in place (detached first).

    What `Module.zero_grad` and `Optimizer.zero_grad` both do.
    """
    if set_to_none:
        for p in parameters:
            p.grad = None  # (no test first: reading .grad costs what the store does)
        return
    for p in parameters:
        if p.grad is None:
            continue
        if p.grad.grad_fn is not None:
            p.grad.detach_()
        else:
            p.grad.requires_grad_(False)
        p.grad.zero_()
