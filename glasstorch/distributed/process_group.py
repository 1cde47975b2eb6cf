"""Process groups: who takes part (ranks), over which wire (MPI or NCCL), and torch's functions to ask.

    import glasstorch.distributed as dist
    dist.init_process_group("mpi")          # rank and world size come from MPI (mpiexec, srun, our launcher)
    dist.get_rank(), dist.get_world_size()

The default group holds every process of the job (MPI's COMM_WORLD, duplicated so that glasstorch's
messages never mix with the program's own mpi4py traffic). `new_group(ranks)` makes a smaller one;
ranks given to collectives (`src`, `dst`) are always global ranks, as in torch.
"""
import enum
import importlib.util
import os

from ..backend import cupy_module
from . import abort, communicators

BACKENDS = ("mpi", "nccl", "gloo")  # "gloo" (torch's CPU backend) runs over MPI here


class ReduceOp(enum.Enum):
    """How `all_reduce` and `reduce` combine the ranks' tensors, element by element."""
    SUM = communicators.SUM
    PRODUCT = communicators.PRODUCT
    MIN = communicators.MIN
    MAX = communicators.MAX
    BAND = communicators.BAND
    BOR = communicators.BOR
    BXOR = communicators.BXOR
    AVG = communicators.AVG

    def __repr__(self):
        return f"<RedOpType.{self.name}: {list(ReduceOp).index(self)}>"


class ProcessGroup:
    """A set of processes and the communicator that joins them. `ranks[i]` is the global rank of group rank i."""

    def __init__(self, comm, ranks, backend):
        self.comm, self.ranks, self.backend = comm, list(ranks), backend

    def rank(self):
        return self.comm.rank

    def size(self):
        return self.comm.size

    def group_rank(self, global_rank, what="rank"):
        if global_rank not in self.ranks:
            raise ValueError(f"{what} {global_rank} is not part of the group (its global ranks: {self.ranks})")
        return self.ranks.index(global_rank)

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, ranks={self.ranks})"


class _World:
    """The default group and the groups made from it (cleared by destroy_process_group)."""
    default = None
    groups = []


class _NonMember:
    def __repr__(self):
        return "NON_GROUP_MEMBER"


class GroupMember:
    """torch's names: `WORLD` (None: the default group) and what `new_group` returns on ranks outside it."""
    WORLD = None
    NON_GROUP_MEMBER = _NonMember()


class group:  # noqa: N801 (torch's spelling: dist.group.WORLD)
    WORLD = None


def is_available():
    """True when mpi4py is installed (the MPI backend can run); imports nothing."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available():
    return is_available()


def is_nccl_available():
    return is_available() and importlib.util.find_spec("cupy") is not None


def is_initialized():
    return _World.default is not None


def _check_initialized():
    if _World.default is None:
        raise RuntimeError("Default process group has not been initialized, please make sure to call "
                           "init_process_group.")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the job's processes into the default group. Call once per process, on every process.

    Args:
        backend: "mpi" (CPU tensors), "nccl" (CuPy GPU tensors: NCCL's communicator, its id sent over MPI),
            "gloo" (accepted for torch programs: runs over MPI), "cpu:mpi,cuda:nccl" style strings, or None
            (MPI).
        init_method, timeout, store, group_name, pg_options: accepted as torch's; MPI's process manager
            has already started and connected the processes, so there is nothing to rendezvous.
        world_size, rank: if given (not -1), they must equal MPI's, else a ValueError says so.
        device_id: accepted as torch's.
    """
    if _World.default is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = _backend_name(backend)
    MPI = communicators.mpi()
    abort.install_excepthook()
    world = communicators.MPICommunicator(MPI.COMM_WORLD.Dup())
    for given, actual, what in ((world_size, world.size, "world_size"), (rank, world.rank, "rank")):
        if given is not None and given != -1 and given != actual:
            world.free()
            raise ValueError(f"init_process_group({what}={given}), but MPI started this process with "
                             f"{what}={actual}: launch with `python -m glasstorch.distributed.run "
                             f"--nproc-per-node N script.py` or `mpiexec -n N python script.py`")
    expected = os.environ.get("WORLD_SIZE", "")
    if expected.isdigit() and int(expected) != world.size:
        world.free()
        raise RuntimeError(f"WORLD_SIZE={expected} in the environment, but MPI sees {world.size} process(es): "
                           "glasstorch.distributed starts its processes with MPI; launch with `python -m "
                           "glasstorch.distributed.run --nproc-per-node N script.py` or `mpiexec -n N ...`")
    comm = communicators.NCCLCommunicator(world) if name == "nccl" else world
    _World.default = ProcessGroup(comm, range(world.size), name)
    _World.groups = []


def _backend_name(backend):
    if backend is None:
        return "mpi"
    name = str(backend).lower()
    if ":" in name:  # "cpu:gloo,cuda:nccl": the device the program computes on decides
        pairs = dict(part.split(":", 1) for part in name.split(","))
        gpu = cupy_module() is not None and "cuda" in pairs
        name = pairs["cuda"] if gpu else pairs.get("cpu", "mpi")
    if name not in BACKENDS:
        raise ValueError(f"Invalid backend: '{backend}' (glasstorch.distributed offers {', '.join(BACKENDS)})")
    return name


def destroy_process_group(group=None):
    """Free the group's communicator (all groups, and the default one, when `group` is None)."""
    _check_initialized()
    if group is None or group is _World.default:
        for g in _World.groups:
            g.comm.free()
        _World.default.comm.free()
        _World.default, _World.groups = None, []
    elif isinstance(group, ProcessGroup):
        group.comm.free()
        _World.groups.remove(group)


def resolve(group):
    """The ProcessGroup a collective runs on (None: the default one); None if this rank is not in `group`."""
    _check_initialized()
    if group is None:
        return _World.default
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup from new_group (or None), got {type(group).__name__}")
    return group


def get_rank(group=None):
    """This process's rank in `group` (the default group: 0 .. world_size - 1); -1 outside the group."""
    g = resolve(group)
    return -1 if g is None else g.rank()


def get_world_size(group=None):
    g = resolve(group)
    return -1 if g is None else g.size()


def get_backend(group=None):
    g = resolve(group)
    if g is None:
        raise ValueError("Invalid process group specified")
    return g.backend


def get_global_rank(group, group_rank):
    g = resolve(group)
    return g.ranks[group_rank]


def get_process_group_ranks(group):
    return list(resolve(group).ranks)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False):
    """A group of some of the default group's ranks; every rank of the job must call it (collective).

    Ranks outside it get `GroupMember.NON_GROUP_MEMBER`; collectives called with that are skipped.
    """
    world = resolve(None)
    ranks = sorted(range(world.size()) if ranks is None else set(int(r) for r in ranks))
    for r in ranks:
        if not 0 <= r < world.size():
            raise ValueError(f"new_group: rank {r} is outside the world (size {world.size()})")
    host = world.comm.host if isinstance(world.comm, communicators.NCCLCommunicator) else world.comm
    sub = host.split(ranks)
    if sub is None:
        return GroupMember.NON_GROUP_MEMBER
    name = _backend_name(backend) if backend is not None else world.backend
    comm = communicators.NCCLCommunicator(sub) if name == "nccl" else sub
    g = ProcessGroup(comm, ranks, name)
    _World.groups.append(g)
    return g
