"""The wire: collectives on raw arrays, over MPI (host arrays) or NCCL (CuPy arrays on GPUs).

`collectives.py` speaks torch's API on Tensors; this file only moves contiguous arrays between processes.
Every method posts its operation and returns a request with `wait()`; a blocking call waits at once.

MPI moves bytes: everything but a reduction is sent as a `uint8` view of the array, so every dtype
travels unchanged. A reduction needs a type MPI can add: float16 is reduced in float32, bool as uint8
with logical or/and.

`mpi4py.MPI` initialises MPI when it is imported, so it is imported here at first use, never when
glasstorch is imported.
"""
import numpy as np

from .. import backend

SUM, PRODUCT, MIN, MAX, BAND, BOR, BXOR, AVG = "sum", "product", "min", "max", "band", "bor", "bxor", "avg"


def mpi():
    """The `mpi4py.MPI` module (initialises MPI on first call); ImportError with the fix if it is missing."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError("glasstorch.distributed needs mpi4py and an MPI runtime: "
                          "pip install 'glasstorch[distributed]' (or `pip install mpi4py` built against your "
                          "cluster's MPI)") from error
    return MPI


class _Done:
    """A request that has already completed (a blocking call, or work done locally)."""

    def wait(self):
        pass

    def test(self):
        return True


class _Requests:
    """MPI requests waited together."""

    def __init__(self, requests):
        self.requests = list(requests)

    def wait(self):
        mpi().Request.Waitall(self.requests)

    def test(self):
        return mpi().Request.Testall(self.requests)


class MPICommunicator:
    """One MPI communicator (a duplicate of COMM_WORLD, or a sub-group's) and the array collectives on it."""

    def __init__(self, comm):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    # ------------------------------------------------------------------ helpers
    def _op(self, op):
        MPI = mpi()
        return {SUM: MPI.SUM, AVG: MPI.SUM, PRODUCT: MPI.PROD, MIN: MPI.MIN, MAX: MPI.MAX, BAND: MPI.BAND,
                BOR: MPI.BOR, BXOR: MPI.BXOR}[op]

    @staticmethod
    def _reducible(array, op):
        """(array MPI can reduce, MPI op name, how to write the result back)."""
        if array.dtype == np.float16:
            return array.astype(np.float32), op, lambda r: array.__setitem__(Ellipsis, r)
        if array.dtype == np.bool_:
            logical = {SUM: BOR, MAX: BOR, BOR: BOR, PRODUCT: BAND, MIN: BAND, BAND: BAND, BXOR: BXOR}[op]
            return array.view(np.uint8), logical, lambda r: None
        return array, op, lambda r: None

    # ------------------------------------------------------------------ collectives
    def allreduce(self, array, op, blocking=True):
        work, op, finish = self._reducible(array, op)
        request = self.comm.Iallreduce(mpi().IN_PLACE, work, op=self._op(op))
        return _Finishing(request, lambda: finish(work), blocking)

    def reduce(self, array, op, root, blocking=True):
        work, op, finish = self._reducible(array, op)
        MPI = mpi()
        if self.rank == root:
            request = self.comm.Ireduce(MPI.IN_PLACE, work, op=self._op(op), root=root)
            return _Finishing(request, lambda: finish(work), blocking)
        request = self.comm.Ireduce(work, None, op=self._op(op), root=root)
        return _Finishing(request, lambda: None, blocking)

    def broadcast(self, array, root, blocking=True):
        return _Finishing(self.comm.Ibcast(array.view(np.uint8), root=root), lambda: None, blocking)

    def allgather(self, array, out, blocking=True):
        """out: (size, *array.shape), contiguous."""
        request = self.comm.Iallgather(array.view(np.uint8), out.view(np.uint8))
        return _Finishing(request, lambda: None, blocking)

    def gather(self, array, out, root, blocking=True):
        recv = out.view(np.uint8) if self.rank == root else None
        return _Finishing(self.comm.Igather(array.view(np.uint8), recv, root=root), lambda: None, blocking)

    def scatter(self, chunks, out, root, blocking=True):
        send = chunks.view(np.uint8) if self.rank == root else None
        return _Finishing(self.comm.Iscatter(send, out.view(np.uint8), root=root), lambda: None, blocking)

    def send(self, array, dst, tag, blocking=True):
        if blocking:
            self.comm.Send(array.view(np.uint8), dest=dst, tag=tag)
            return _Done()
        return _Requests([self.comm.Isend(array.view(np.uint8), dest=dst, tag=tag)])

    def recv(self, array, src, tag, blocking=True):
        """src None: any source. Returns (request, a function giving the sender's rank once done)."""
        MPI = mpi()
        status = MPI.Status()
        source = MPI.ANY_SOURCE if src is None else src
        if blocking:
            self.comm.Recv(array.view(np.uint8), source=source, tag=tag, status=status)
            return _Done(), status.Get_source
        request = self.comm.Irecv(array.view(np.uint8), source=source, tag=tag)
        statuses = [MPI.Status()]
        return _StatusRequest(request, statuses), lambda: statuses[0].Get_source()

    def barrier(self, blocking=True):
        return _Finishing(self.comm.Ibarrier(), lambda: None, blocking)

    # ------------------------------------------------------------------ Python objects (pickled between ranks)
    def allgather_object(self, obj):
        return self.comm.allgather(obj)

    def broadcast_object(self, obj, root):
        return self.comm.bcast(obj, root=root)

    def gather_object(self, obj, root):
        return self.comm.gather(obj, root=root)

    def split(self, ranks):
        """A communicator over `ranks` (ranks of this one); None on the ranks outside it. Collective."""
        group = self.comm.Get_group().Incl(list(ranks))
        sub = self.comm.Create(group)
        group.Free()
        return None if sub == mpi().COMM_NULL else MPICommunicator(sub)

    def free(self):
        MPI = mpi()
        if not MPI.Is_finalized() and self.comm != MPI.COMM_NULL:
            self.comm.Free()


class _Finishing:
    """An MPI request and what to do once it completes (copy a float32 result back to float16)."""

    def __init__(self, request, finish, blocking):
        self.request, self.finish, self.done = request, finish, False
        if blocking:
            self.wait()

    def wait(self):
        if not self.done:
            self.request.Wait()
            self.finish()
            self.done = True

    def test(self):
        if not self.done and self.request.Test():
            self.finish()
            self.done = True
        return self.done


class _StatusRequest:
    def __init__(self, request, statuses):
        self.request, self.statuses = request, statuses

    def wait(self):
        self.request.Wait(self.statuses[0])

    def test(self):
        return self.request.Test(self.statuses[0])


# ----------------------------------------------------------------------------- NCCL (GPUs, through CuPy)
class NCCLCommunicator:
    """NCCL on CuPy arrays: rank 0 makes the unique id, MPI broadcasts it, every rank joins the communicator.

    Operations run on the current CuPy stream; a blocking call synchronises it. Python objects, the barrier
    and the unique id itself travel over the MPI communicator `host`.
    Not tested in CI (it needs one GPU per rank); the MPI backend is the tested path.
    """

    def __init__(self, host):
        cupy = backend.cupy_module()
        if cupy is None:
            raise RuntimeError("backend='nccl' needs CuPy and a GPU (pip install 'glasstorch[gpu]'); "
                               "use backend='mpi' on CPUs")
        self.cupy, self.nccl = cupy, cupy.cuda.nccl
        self.host, self.rank, self.size = host, host.rank, host.size
        unique_id = self.nccl.get_unique_id() if host.rank == 0 else None
        unique_id = host.broadcast_object(unique_id, 0)
        self.comm = self.nccl.NcclCommunicator(host.size, unique_id, host.rank)

    def _type(self, array):
        n = self.nccl
        types = {np.float16: n.NCCL_FLOAT16, np.float32: n.NCCL_FLOAT32, np.float64: n.NCCL_FLOAT64,
                 np.int8: n.NCCL_INT8, np.uint8: n.NCCL_UINT8, np.int32: n.NCCL_INT32, np.int64: n.NCCL_INT64,
                 np.bool_: n.NCCL_UINT8}
        return types[array.dtype.type]

    def _op(self, op):
        n = self.nccl
        if op not in (SUM, PRODUCT, MIN, MAX, AVG):
            raise ValueError(f"ReduceOp.{op.upper()} is not supported by NCCL")
        return {SUM: n.NCCL_SUM, PRODUCT: n.NCCL_PROD, MIN: n.NCCL_MIN, MAX: n.NCCL_MAX, AVG: n.NCCL_AVG}[op]

    def _done(self, blocking):
        stream = self.cupy.cuda.get_current_stream()
        if blocking:
            stream.synchronize()
            return _Done()
        return _StreamRequest(stream)

    @staticmethod
    def _ptr(array):
        return array.data.ptr

    def allreduce(self, array, op, blocking=True):
        stream = self.cupy.cuda.get_current_stream().ptr
        self.comm.allReduce(self._ptr(array), self._ptr(array), array.size, self._type(array), self._op(op),
                            stream)
        return self._done(blocking)

    def reduce(self, array, op, root, blocking=True):
        stream = self.cupy.cuda.get_current_stream().ptr
        self.comm.reduce(self._ptr(array), self._ptr(array), array.size, self._type(array), self._op(op), root,
                         stream)
        return self._done(blocking)

    def broadcast(self, array, root, blocking=True):
        stream = self.cupy.cuda.get_current_stream().ptr
        bytes_ = array.view(np.uint8)
        self.comm.broadcast(self._ptr(bytes_), self._ptr(bytes_), bytes_.size, self.nccl.NCCL_UINT8, root, stream)
        return self._done(blocking)

    def allgather(self, array, out, blocking=True):
        stream = self.cupy.cuda.get_current_stream().ptr
        send, recv = array.view(np.uint8), out.view(np.uint8)
        self.comm.allGather(self._ptr(send), self._ptr(recv), send.size, self.nccl.NCCL_UINT8, stream)
        return self._done(blocking)

    def _p2p_all(self, pairs):
        """pairs: (send or recv, array, peer) posted together in one NCCL group."""
        stream = self.cupy.cuda.get_current_stream().ptr
        self.nccl.groupStart()
        for kind, array, peer in pairs:
            data = array.view(np.uint8)
            if kind == "send":
                self.comm.send(self._ptr(data), data.size, self.nccl.NCCL_UINT8, peer, stream)
            else:
                self.comm.recv(self._ptr(data), data.size, self.nccl.NCCL_UINT8, peer, stream)
        self.nccl.groupEnd()

    def gather(self, array, out, root, blocking=True):
        if self.rank == root:
            pairs = [("recv", out[r], r) for r in range(self.size) if r != root]
            out[root][...] = array
        else:
            pairs = [("send", array, root)]
        self._p2p_all(pairs)
        return self._done(blocking)

    def scatter(self, chunks, out, root, blocking=True):
        if self.rank == root:
            pairs = [("send", chunks[r], r) for r in range(self.size) if r != root]
            out[...] = chunks[root]
        else:
            pairs = [("recv", out, root)]
        self._p2p_all(pairs)
        return self._done(blocking)

    def send(self, array, dst, tag, blocking=True):
        self._p2p_all([("send", array, dst)])
        return self._done(blocking)

    def recv(self, array, src, tag, blocking=True):
        if src is None:
            raise ValueError("recv from any source is not supported by NCCL: give src")
        self._p2p_all([("recv", array, src)])
        return self._done(blocking), lambda: src

    def barrier(self, blocking=True):
        self.cupy.cuda.get_current_stream().synchronize()
        return self.host.barrier(blocking)

    def allgather_object(self, obj):
        return self.host.allgather_object(obj)

    def broadcast_object(self, obj, root):
        return self.host.broadcast_object(obj, root)

    def gather_object(self, obj, root):
        return self.host.gather_object(obj, root)

    def split(self, ranks):
        sub = self.host.split(ranks)
        return None if sub is None else NCCLCommunicator(sub)

    def free(self):
        self.comm.destroy()
        self.host.free()


class _StreamRequest:
    def __init__(self, stream):
        self.stream = stream

    def wait(self):
        self.stream.synchronize()

    def test(self):
        return self.stream.done

