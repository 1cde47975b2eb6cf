"""torch.distributed's collectives on Tensors: every rank calls the same function, in the same order.

    x = glasstorch.tensor([float(rank)])
    dist.all_reduce(x)                      # every rank now holds 0 + 1 + ... + (world_size - 1)

They work in place on the tensor's array (as torch's do); `async_op=True` returns a `Work` whose `wait()`
blocks until the result is there, so that computation can overlap communication. `src`/`dst` are global
ranks (`group_src`/`group_dst`: ranks inside `group`). A rank outside `group` skips the call.
"""
import numpy as np

from .. import backend
from ..tensor import Tensor
from . import communicators
from .process_group import ReduceOp, resolve


class Work:
    """A collective in flight: `wait()` blocks until it is done (then the tensors hold the result)."""

    def __init__(self, request, finish=None, result=()):
        self._request, self._finish, self._result = request, finish, list(result)
        self._completed = False

    def wait(self, timeout=None):
        if not self._completed:
            self._request.wait()
            if self._finish is not None:
                self._finish()
            self._completed = True
        return True

    def is_completed(self):
        if not self._completed and self._request.test():
            self.wait()
        return self._completed

    def is_success(self):
        return self.is_completed()

    def result(self):
        return list(self._result)


def _run(post, finish=None, async_op=False, result=()):
    """Post the operation; with async_op hand back the Work, else wait for it and return None."""
    work = Work(post(not async_op), finish, result)
    if async_op:
        return work
    work.wait()
    return None


def _check_tensor(tensor, name="tensor"):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a glasstorch Tensor, got {type(tensor).__name__}")


def _buffer(pg, tensor, name="tensor"):
    """(flat contiguous array the wire can use, commit): commit() copies it back into `tensor` if needed.

    MPI moves host memory: a GPU tensor is staged through a host copy. NCCL needs GPU tensors.
    """
    _check_tensor(tensor, name)
    array = tensor._array
    on_gpu = backend.on_device(array)
    nccl = isinstance(pg.comm, communicators.NCCLCommunicator)
    if nccl and not on_gpu:
        raise RuntimeError(f"backend 'nccl' communicates CUDA tensors, but {name} is on cpu: move it with "
                           ".cuda() (or use backend='mpi' for CPU tensors)")
    if on_gpu and not nccl:
        work = np.ascontiguousarray(backend.to_host(array))
    elif array.flags.c_contiguous:
        work = array
    else:
        work = backend.array_module(array).ascontiguousarray(array)

    def commit():
        if work is not array:
            array[...] = backend.like(array, work) if on_gpu else work
        tensor._version_counter[0] += 1
    return work.reshape(-1), commit


def _reduce_op(op, tensor):
    if isinstance(op, str):
        op = ReduceOp(op)
    if not isinstance(op, ReduceOp):
        raise TypeError(f"op must be a dist.ReduceOp (SUM, PRODUCT, MIN, MAX, AVG, BAND, BOR, BXOR), got {op!r}")
    floating = tensor._array.dtype.kind in "fc"
    if op is ReduceOp.AVG and not floating:
        raise ValueError(f"ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and floating:
        raise ValueError(f"ReduceOp.{op.name} needs an integer or bool tensor, got {tensor.dtype}")
    return op


def _root(pg, rank, group_rank, name):
    """The root as a rank of `pg`, from a global rank (`src`/`dst`) or a group rank (`group_src`/...)."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {name} and group_{name}")
    if group_rank is not None:
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"group_{name}={group_rank} is outside the group (size {pg.size()})")
        return group_rank
    if rank is None:
        raise ValueError(f"give {name} (a global rank) or group_{name}")
    return pg.group_rank(rank, name)


def _averaged(pg, op, flat, commit):
    """After a SUM standing in for AVG (MPI has no average), divide by the group's size; then commit."""
    def finish():
        if op is ReduceOp.AVG and not isinstance(pg.comm, communicators.NCCLCommunicator):
            flat[...] = flat / pg.size()
        commit()
    return finish


# ----------------------------------------------------------------------------- reductions
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Every rank's `tensor` becomes op(tensor of rank 0, tensor of rank 1, ...), element by element."""
    pg = resolve(group)
    if pg is None:
        return None
    op = _reduce_op(op, tensor)
    flat, commit = _buffer(pg, tensor)
    return _run(lambda blocking: pg.comm.allreduce(flat, op.value, blocking),
                _averaged(pg, op, flat, commit), async_op, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Like all_reduce, but only rank `dst` receives the result (the others' tensors are left as they are)."""
    pg = resolve(group)
    if pg is None:
        return None
    op = _reduce_op(op, tensor)
    root = _root(pg, dst, group_dst, "dst")
    flat, commit = _buffer(pg, tensor)
    finish = _averaged(pg, op, flat, commit) if pg.rank() == root else (lambda: None)
    return _run(lambda blocking: pg.comm.reduce(flat, op.value, root, blocking), finish, async_op, [tensor])


# ----------------------------------------------------------------------------- copies
def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Every rank's `tensor` becomes rank `src`'s (same shape and dtype on every rank)."""
    pg = resolve(group)
    if pg is None:
        return None
    root = _root(pg, src, group_src, "src")
    flat, commit = _buffer(pg, tensor)
    return _run(lambda blocking: pg.comm.broadcast(flat, root, blocking), commit, async_op, [tensor])


def _check_list(tensors, like, size, name):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != size:
        got = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise RuntimeError(f"{name} must be a list of {size} tensors (one per rank of the group), got {got}")
    for i, t in enumerate(tensors):
        _check_tensor(t, f"{name}[{i}]")
        if t._array.shape != like._array.shape or t._array.dtype != like._array.dtype:
            raise RuntimeError(f"{name}[{i}] has shape {tuple(t.shape)} and dtype {t.dtype}, but the tensor "
                               f"has shape {tuple(like.shape)} and dtype {like.dtype}: they must match")


def _stack_like(flat, size):
    return backend.array_module(flat).empty((size, flat.size), dtype=flat.dtype)


def _unstack_into(out, tensors):
    def finish():
        for i, t in enumerate(tensors):
            t._array[...] = backend.like(t._array, out[i].reshape(t._array.shape))
            t._version_counter[0] += 1
    return finish


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] becomes rank i's `tensor`, on every rank."""
    pg = resolve(group)
    if pg is None:
        return None
    _check_tensor(tensor)
    _check_list(tensor_list, tensor, pg.size(), "tensor_list")
    flat, _ = _buffer(pg, tensor)
    out = _stack_like(flat, pg.size())
    return _run(lambda blocking: pg.comm.allgather(flat, out, blocking), _unstack_into(out, tensor_list),
                async_op, tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor (world_size * n, ...) or (world_size, n, ...) holds every rank's input, in rank order."""
    pg = resolve(group)
    if pg is None:
        return None
    flat, _ = _buffer(pg, input_tensor, "input_tensor")
    if output_tensor.numel() != flat.size * pg.size() or output_tensor.dtype != input_tensor.dtype:
        raise ValueError(f"output_tensor must hold world_size ({pg.size()}) x {flat.size} elements of "
                         f"{input_tensor.dtype}, got shape {tuple(output_tensor.shape)} of {output_tensor.dtype}")
    out_flat, commit = _buffer(pg, output_tensor, "output_tensor")
    out = out_flat.reshape(pg.size(), flat.size)
    return _run(lambda blocking: pg.comm.allgather(flat, out, blocking), commit, async_op, [output_tensor])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """On rank `dst`, gather_list[i] becomes rank i's `tensor`; other ranks pass no gather_list."""
    pg = resolve(group)
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "dst")
    _check_tensor(tensor)
    if pg.rank() == root:
        _check_list(gather_list, tensor, pg.size(), "gather_list")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    flat, _ = _buffer(pg, tensor)
    out = _stack_like(flat, pg.size()) if pg.rank() == root else None
    finish = _unstack_into(out, gather_list) if pg.rank() == root else None
    return _run(lambda blocking: pg.comm.gather(flat, out, root, blocking), finish, async_op, gather_list or [])


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank i's `tensor` becomes scatter_list[i] of rank `src`; other ranks pass no scatter_list."""
    pg = resolve(group)
    if pg is None:
        return None
    root = _root(pg, src, group_src, "src")
    _check_tensor(tensor)
    flat, commit = _buffer(pg, tensor)
    chunks = None
    if pg.rank() == root:
        _check_list(scatter_list, tensor, pg.size(), "scatter_list")
        chunks = _stack_like(flat, pg.size())
        for i, t in enumerate(scatter_list):
            part, _ = _buffer(pg, t, f"scatter_list[{i}]")
            chunks[i] = part
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    return _run(lambda blocking: pg.comm.scatter(chunks, flat, root, blocking), commit, async_op, [tensor])


# ----------------------------------------------------------------------------- point to point
def _peer(pg, rank, group_rank, name):
    if rank is None and group_rank is None:
        raise ValueError(f"give {name} (a global rank) or group_{name}")
    peer = _root(pg, rank, group_rank, name)
    if peer == pg.rank():
        raise ValueError(f"Invalid {name} rank: should not be the same as the rank of the current process.")
    return peer


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending `tensor` to rank `dst`; returns a Work (keep `tensor` unchanged until it is done)."""
    pg = resolve(group)
    if pg is None:
        return None
    peer = _peer(pg, dst, group_dst, "dst")
    flat, _ = _buffer(pg, tensor)
    return _run(lambda blocking: pg.comm.send(flat, peer, tag, blocking), None, True, [tensor])


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to rank `dst` (which calls recv with the same tag); returns when it is sent."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into `tensor` from rank `src` (None: any rank); returns a Work."""
    pg = resolve(group)
    if pg is None:
        return None
    peer = None if src is None and group_src is None else _peer(pg, src, group_src, "src")
    flat, commit = _buffer(pg, tensor)
    state = {}

    def post(blocking):
        request, state["source"] = pg.comm.recv(flat, peer, tag, blocking)
        return request
    work = _run(post, commit, True, [tensor])
    work.source_rank = lambda: pg.ranks[state["source"]()]
    return work


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` from rank `src` (None: any rank); returns the sender's global rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work.source_rank()


def barrier(group=None, async_op=False, device_ids=None):
    """Return only when every rank of the group has called barrier."""
    pg = resolve(group)
    if pg is None:
        return None
    return _run(lambda blocking: pg.comm.barrier(blocking), None, async_op)


# ----------------------------------------------------------------------------- Python objects
# They travel pickled, and only between the processes of one job: never unpickle what came from a file.
def all_gather_object(object_list, obj, group=None):
    """object_list[i] becomes rank i's `obj` (object_list has world_size slots)."""
    pg = resolve(group)
    if pg is None:
        return None
    if len(object_list) != pg.size():
        raise ValueError(f"object_list must have {pg.size()} slots (one per rank), got {len(object_list)}")
    object_list[:] = pg.comm.allgather_object(obj)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Every rank's object_list becomes rank `src`'s (same length on every rank)."""
    pg = resolve(group)
    if pg is None:
        return None
    root = _root(pg, src, group_src, "src")
    received = pg.comm.broadcast_object(list(object_list) if pg.rank() == root else None, root)
    if len(received) != len(object_list):
        raise ValueError(f"object_list has {len(object_list)} slots here, {len(received)} on rank {src}")
    object_list[:] = received


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """On rank `dst`, object_gather_list[i] becomes rank i's `obj`."""
    pg = resolve(group)
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "dst")
    if pg.rank() == root and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError(f"object_gather_list must have {pg.size()} slots on the destination rank")
    received = pg.comm.gather_object(obj, root)
    if pg.rank() == root:
        object_gather_list[:] = received
