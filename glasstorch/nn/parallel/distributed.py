"""DistributedDataParallel: each process trains a replica on its share of the batch; gradients are averaged.

    dist.init_process_group("mpi")
    model = DistributedDataParallel(model)        # rank 0's weights, copied to every rank
    loss_fn(model(x_shard), y_shard).backward()   # here every rank's .grad becomes the average over ranks
    optimizer.step()                              # same gradient, same step: the replicas stay identical

Why this equals one process on the whole batch: with a mean loss over equal shards, the gradient of the
global batch is the average of the shards' gradients, and all-reduce (sum over ranks, then / world size)
computes exactly that average on every rank.

How: a hook on every parameter notes when its gradient is ready. Parameters are packed into buckets in
reverse order (backward reaches the last layers first) of about `bucket_cap_mb`; a full bucket is flattened
into one array and its all-reduce starts at once (async), while backward goes on with earlier layers. When
the last gradient arrives, every bucket is waited for, divided by the world size and unpacked into `.grad`.

Its place in the floors: it needs nn (Module) and distributed (the collectives), so it sits above both
(floor 7), as torch.nn.parallel.DistributedDataParallel itself imports torch.distributed.
"""
import contextlib

import numpy as np

from ... import backend
from ...autograd import grad_mode
from ...distributed import collectives
from ...distributed.process_group import resolve
from ...tensor import Tensor
from ..module import Module


def _tensors_in(output):
    """The tensors of a forward's output (a tensor, or tuples, lists and dicts of them)."""
    if isinstance(output, Tensor):
        yield output
    elif isinstance(output, (list, tuple)):
        for item in output:
            yield from _tensors_in(item)
    elif isinstance(output, dict):
        for item in output.values():
            yield from _tensors_in(item)


def _reached_leaves(outputs):
    """ids of the leaf tensors that backward from `outputs` will reach (a walk over the graph)."""
    reached, seen = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    for t in outputs:
        if t.grad_fn is None and t.requires_grad:
            reached.add(id(t))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for inp, fn in zip(node.inputs, node.edges):
            if fn is not None:
                stack.append(fn)
            elif isinstance(inp, Tensor) and inp.requires_grad:
                reached.add(id(inp))
    return reached


class _Reduction:
    """One backward's worth of bookkeeping: which gradients are ready, which buckets are in flight."""

    def __init__(self, n):
        self.ready = set()
        self.locally_used = np.zeros(n, dtype=np.int64)
        self.next_bucket = 0
        self.in_flight = []   # (bucket index, flat Tensor, Work)
        self.current = None   # (parameter index, its gradient) while its hook runs


class DistributedDataParallel(Module):
    """Data parallelism over processes: wrap the model after `init_process_group`, train as usual.

    Args:
        module: the model (its parameters are overwritten with rank 0's at construction).
        device_ids: None for CPU models; `[i]` for a model on GPU i (one device per process).
        broadcast_buffers: copy rank 0's buffers (BatchNorm's running stats) to every rank before each forward.
        bucket_cap_mb: the size of a gradient bucket, in MiB (torch's default: 25).
        find_unused_parameters: walk the graph after forward and count the parameters it does not reach as
            ready (else such a parameter makes the next forward raise, as torch does).
        process_group: the group to average over (default: all ranks).
    `no_sync()` skips the all-reduce (gradients accumulate locally); `.module` is the wrapped model, and
    `state_dict()` keys carry the `module.` prefix, as torch's.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps an nn.Module, got {type(module).__name__}")
        self.module = module
        self.process_group = resolve(process_group)
        if self.process_group is None:
            raise ValueError("this rank is not a member of process_group")
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.device_ids = device_ids
        self._named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not self._named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        on_gpu = any(backend.on_device(p._array) for _, p in self._named)
        if device_ids is not None and not on_gpu:
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                             f"single-device GPU modules, but got device_ids {device_ids} and module parameters "
                             "on cpu")
        self._check_same_shapes()
        self._broadcast_coalesced([p for _, p in module.named_parameters()] + list(module.buffers()))
        self._buckets = self._make_buckets()
        self._reduction = None
        self._hook_handles = [p.register_hook(self._make_hook(i)) for i, (_, p) in enumerate(self._named)]

    # ------------------------------------------------------------------ construction
    def _check_same_shapes(self):
        """Every rank must wrap the same architecture (else the all-reduces would mix unrelated numbers)."""
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in self.module.named_parameters()]
        everyone = [None] * self.process_group.size()
        collectives.all_gather_object(everyone, mine, group=self.process_group)
        for rank, theirs in enumerate(everyone):
            if theirs != everyone[0]:
                diff = next((a, b) for a, b in zip(everyone[0] + [None], theirs + [None]) if a != b)
                raise RuntimeError(f"DistributedDataParallel: rank {self.process_group.ranks[rank]}'s model differs "
                                   f"from rank {self.process_group.ranks[0]}'s: {diff[1]} vs {diff[0]} "
                                   "(name, shape, dtype); every rank must build the same model")

    def _broadcast_coalesced(self, tensors):
        """Copy rank 0's values into `tensors`, one broadcast per dtype (packed into one flat array)."""
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault((t._array.dtype, backend.on_device(t._array)), []).append(t)
        root = self.process_group.ranks[0]
        with grad_mode.no_grad():
            for group in by_dtype.values():
                xp = backend.array_module(group[0]._array)
                flat = Tensor._make(xp.concatenate([t._array.reshape(-1) for t in group]))
                collectives.broadcast(flat, src=root, group=self.process_group)
                offset = 0
                for t in group:
                    t._array[...] = flat._array[offset:offset + t._array.size].reshape(t._array.shape)
                    t._version_counter[0] += 1
                    offset += t._array.size

    def _make_buckets(self):
        """Parameter indices in reverse order, cut into buckets of at most bucket_bytes_cap (one dtype each)."""
        buckets, current, size, dtype = [], [], 0, None
        for i in reversed(range(len(self._named))):
            a = self._named[i][1]._array
            if current and (size + a.nbytes > self.bucket_bytes_cap or a.dtype != dtype):
                buckets.append(current)
                current, size = [], 0
            current.append(i)
            size, dtype = size + a.nbytes, a.dtype
        buckets.append(current)
        return buckets

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        syncing = grad_mode.is_grad_enabled() and self.require_backward_grad_sync
        if syncing and self._reduction is not None:
            missing = [self._named[i][0] for i in range(len(self._named)) if i not in self._reduction.ready]
            raise RuntimeError("Expected to have finished reduction in the prior iteration before starting a new "
                               "one. This error indicates that your module has parameters that were not used in "
                               "producing loss. You can enable unused parameter detection by passing the keyword "
                               "argument `find_unused_parameters=True` to DistributedDataParallel. Parameters "
                               f"which did not receive grad: {', '.join(missing)}")
        if self.broadcast_buffers and self.require_forward_param_sync:
            buffers = list(self.module.buffers())
            if buffers:
                self._broadcast_coalesced(buffers)
        output = self.module(*inputs, **kwargs)
        if syncing:
            self._reduction = _Reduction(len(self._named))
            if self.find_unused_parameters:
                reached = _reached_leaves(list(_tensors_in(output)))
                for i, (_, p) in enumerate(self._named):
                    if id(p) not in reached:
                        self._reduction.ready.add(i)  # ready now, with nothing from this rank
                self._start_ready_buckets()
                if len(self._reduction.ready) == len(self._named):
                    self._finish()
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside it, forward/backward only accumulate local gradients; the next synced backward averages
        everything accumulated (gradient accumulation without an all-reduce per micro-batch)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ------------------------------------------------------------------ backward: the reducer
    def _make_hook(self, index):
        def hook(grad):
            state = self._reduction
            if state is None or index in state.ready:
                return None  # not syncing (no_sync, no_grad forward, or backward through .module)
            state.ready.add(index)
            state.locally_used[index] = 1
            state.current = (index, grad)
            self._start_ready_buckets()
            if len(state.ready) < len(self._named):
                state.current = None
                return None
            return self._finish()
        return hook

    def _local_gradient(self, index):
        """What this parameter's .grad holds after this backward (its hook may be running right now)."""
        p = self._named[index][1]
        state = self._reduction
        if state.current is not None and state.current[0] == index:
            g = state.current[1]._array
            return g if p.grad is None else p.grad._array + g
        if p.grad is not None:
            return p.grad._array
        return backend.array_module(p._array).zeros(p._array.shape, dtype=p._array.dtype)

    def _start_ready_buckets(self):
        """Start the all-reduce of every bucket whose gradients are all ready, in bucket order (the same
        order on every rank: collectives must be called in the same sequence everywhere)."""
        state = self._reduction
        while state.next_bucket < len(self._buckets) and all(i in state.ready for i in
                                                               self._buckets[state.next_bucket]):
            bucket = self._buckets[state.next_bucket]
            xp = backend.array_module(self._named[bucket[0]][1]._array)
            flat = Tensor._make(xp.concatenate([xp.reshape(self._local_gradient(i), -1) for i in bucket]))
            work = collectives.all_reduce(flat, group=self.process_group, async_op=True)
            state.in_flight.append((bucket, flat, work))
            state.next_bucket += 1

    def _finish(self):
        """Wait for every bucket, average, write `.grad`; returns the gradient the running hook hands on."""
        state, world = self._reduction, self.process_group.size()
        used = None
        if self.find_unused_parameters:  # a parameter no rank used keeps its .grad untouched, as in torch
            used = Tensor._make(state.locally_used.copy())
            collectives.all_reduce(used, op="max", group=self.process_group)
        replacement = None
        for bucket, flat, work in state.in_flight:
            work.wait()
            averaged = flat._array
            averaged /= world  # in place: the bucket is this reducer's own array
            offset = 0
            for i in bucket:
                p = self._named[i][1]
                n = p._array.size
                if used is None or used._array[i]:  # .grad: a view of the bucket (torch's gradient_as_bucket_view)
                    p.grad = Tensor._make(averaged[offset:offset + n].reshape(p._array.shape))
                offset += n
                if state.current is not None and state.current[0] == i:  # the engine adds this to .grad
                    replacement = Tensor._make(backend.array_module(p._array).zeros_like(state.current[1]._array))
        self._reduction = None
        return replacement
