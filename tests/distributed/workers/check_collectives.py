"""Run by tests/distributed/test_collectives.py under the launcher: every collective against NumPy.

Rank r's data is drawn from NumPy's generator seeded with r, so every rank can compute what every other
rank holds, and so the expected result of each collective. Any failed check raises: the launcher's abort
hook then ends the job with this rank's traceback, and the test sees a non-zero status.
"""
import numpy as np

import glasstorch
import glasstorch.distributed as dist

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi"


def data(r, shape=(3, 4), dtype=np.float64):
    values = np.random.default_rng(r).standard_normal(shape) * 4
    return values.astype(dtype) if np.dtype(dtype).kind == "f" else np.round(values).astype(dtype)


def mine(shape=(3, 4), dtype=np.float64):
    return glasstorch.tensor(data(rank, shape, dtype))


def everyone(shape=(3, 4), dtype=np.float64):
    return np.stack([data(r, shape, dtype) for r in range(world)])


def check(got, expected, what, tol=1e-12):
    got = got.numpy() if isinstance(got, glasstorch.Tensor) else np.asarray(got)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    assert np.allclose(got, expected, rtol=tol, atol=tol), f"{what}: {got} != {expected}"


# ----------------------------------------------------------------------------- all_reduce, every op
REFERENCE = {"SUM": np.sum, "PRODUCT": np.prod, "MIN": np.min, "MAX": np.max, "AVG": np.mean}
for name, ref in REFERENCE.items():
    for dtype in (np.float32, np.float64, np.int64, np.int32):
        if name == "AVG" and np.dtype(dtype).kind != "f":
            continue
        x = mine(dtype=dtype)
        array_before = x._array
        dist.all_reduce(x, op=getattr(dist.ReduceOp, name))
        assert x._array is array_before, "all_reduce must work in place on the tensor's array"
        expected = ref(everyone(dtype=dtype), axis=0).astype(dtype)
        check(x, expected, f"all_reduce {name} {np.dtype(dtype)}", tol=1e-5 if dtype == np.float32 else 1e-12)
for name, ref in (("BAND", np.bitwise_and.reduce), ("BOR", np.bitwise_or.reduce), ("BXOR", np.bitwise_xor.reduce)):
    x = mine(dtype=np.int64)
    dist.all_reduce(x, op=getattr(dist.ReduceOp, name))
    check(x, ref(everyone(dtype=np.int64), axis=0), f"all_reduce {name}")

# float16 (reduced in float32), bool (logical or), a 0-dim tensor, a non-contiguous view
x = mine(dtype=np.float16)
dist.all_reduce(x)
check(x, everyone(dtype=np.float32).sum(0).astype(np.float16), "all_reduce float16", tol=1e-2)
flags = glasstorch.tensor(np.arange(world * 2).reshape(world, 2)[rank] == 2 * rank)  # rank r sets [r, 0]
dist.all_reduce(flags)
check(flags, np.array([True, False]), "all_reduce bool")
scalar = glasstorch.tensor(float(rank + 1))
dist.all_reduce(scalar, op=dist.ReduceOp.PRODUCT)
check(scalar, np.array(float(np.prod(np.arange(1, world + 1)))).astype(np.float32), "all_reduce 0-dim")
base = mine((4, 6))
view = base.t()  # non-contiguous: the result must land in base's memory
dist.all_reduce(view)
check(base, everyone((4, 6)).sum(0), "all_reduce on a transposed view")

# async_op: a Work handle; the tensor holds the result after wait()
x = mine()
work = dist.all_reduce(x, async_op=True)
assert work.wait() is True and work.is_completed()
check(x, everyone().sum(0), "all_reduce async_op")
assert work.result()[0] is x

try:
    dist.all_reduce(mine(dtype=np.int64), op=dist.ReduceOp.AVG)
    raise AssertionError("AVG on an integer tensor must raise")
except ValueError as error:
    assert "floating" in str(error)

# ----------------------------------------------------------------------------- reduce, broadcast
for dst in range(world):
    x = mine()
    dist.reduce(x, dst=dst, op=dist.ReduceOp.MAX)
    check(x, everyone().max(0) if rank == dst else data(rank), f"reduce MAX to {dst}")
x = mine()
work = dist.reduce(x, dst=world - 1, op=dist.ReduceOp.AVG, async_op=True)
work.wait()
check(x, everyone().mean(0) if rank == world - 1 else data(rank), "reduce AVG async")
for src in range(world):
    x = mine(dtype=np.int64)
    dist.broadcast(x, src=src)
    check(x, data(src, dtype=np.int64), f"broadcast from {src}")
x = mine(dtype=np.float16)
dist.broadcast(x, src=world - 1, async_op=True).wait()
check(x, data(world - 1, dtype=np.float16), "broadcast float16 async")

# ----------------------------------------------------------------------------- gathers and scatter
out = [glasstorch.zeros(3, 4, dtype=glasstorch.float64) for _ in range(world)]
dist.all_gather(out, mine())
for r in range(world):
    check(out[r], data(r), f"all_gather slot {r}")
out = [glasstorch.zeros(2, dtype=glasstorch.int64) for _ in range(world)]
dist.all_gather(out, glasstorch.tensor([rank, 10 * rank]), async_op=True).wait()
check(glasstorch.stack(out), np.array([[r, 10 * r] for r in range(world)]), "all_gather async int64")
flat = glasstorch.zeros(world * 3, 4, dtype=glasstorch.float64)
dist.all_gather_into_tensor(flat, mine())
check(flat, everyone().reshape(world * 3, 4), "all_gather_into_tensor")
try:
    dist.all_gather([glasstorch.zeros(3, 4)], mine())
    raise AssertionError("a tensor_list of the wrong length must raise")
except RuntimeError as error:
    assert "tensor_list" in str(error)

for dst in range(world):
    slots = [glasstorch.zeros(3, 4, dtype=glasstorch.float64) for _ in range(world)] if rank == dst else None
    dist.gather(mine(), gather_list=slots, dst=dst)
    if rank == dst:
        check(glasstorch.stack(slots), everyone(), f"gather to {dst}")
for src in range(world):
    parts = [glasstorch.tensor(data(100 + r)) for r in range(world)] if rank == src else None
    x = glasstorch.zeros(3, 4, dtype=glasstorch.float64)
    dist.scatter(x, scatter_list=parts, src=src)
    check(x, data(100 + rank), f"scatter from {src}")

# ----------------------------------------------------------------------------- point to point (a ring)
right, left = (rank + 1) % world, (rank - 1) % world
if world > 1:
    if rank % 2 == 0:
        dist.send(mine(), dst=right, tag=7)
        got = glasstorch.zeros(3, 4, dtype=glasstorch.float64)
        assert dist.recv(got, src=left, tag=7) == left
    else:
        got = glasstorch.zeros(3, 4, dtype=glasstorch.float64)
        assert dist.recv(got, src=left, tag=7) == left
        dist.send(mine(), dst=right, tag=7)
    check(got, data(left), "send/recv around the ring")
    incoming = glasstorch.zeros(3, 4, dtype=glasstorch.float64)
    receiving = dist.irecv(incoming, src=left)
    sending = dist.isend(mine(), dst=right)
    sending.wait()
    receiving.wait()
    check(incoming, data(left), "isend/irecv")
    try:
        dist.send(mine(), dst=rank)
        raise AssertionError("sending to oneself must raise")
    except ValueError as error:
        assert "same as the rank" in str(error)

# ----------------------------------------------------------------------------- objects
objects = [None] * world
dist.all_gather_object(objects, {"rank": rank, "name": f"worker-{rank}"})
assert objects == [{"rank": r, "name": f"worker-{r}"} for r in range(world)], objects
payload = [rank, "x" * rank, None]
dist.broadcast_object_list(payload, src=world - 1)
assert payload == [world - 1, "x" * (world - 1), None], payload
gathered = [None] * world if rank == 0 else None
dist.gather_object(rank * rank, gathered, dst=0)
if rank == 0:
    assert gathered == [r * r for r in range(world)], gathered

# ----------------------------------------------------------------------------- a sub-group
if world >= 3:
    members = [0, world - 1]
    pair = dist.new_group(members)
    if rank in members:
        assert dist.get_world_size(pair) == 2 and dist.get_rank(pair) == members.index(rank)
        x = mine()
        dist.all_reduce(x, group=pair)
        check(x, everyone()[members].sum(0), "all_reduce on new_group([0, last])")
        y = mine()
        dist.broadcast(y, src=world - 1, group=pair)  # src is a global rank
        check(y, data(world - 1), "broadcast on a group from a global rank")
    else:
        assert pair is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(pair) == -1
        x = mine()
        assert dist.all_reduce(x, group=pair) is None
        check(x, data(rank), "a non-member's tensor is untouched")

dist.barrier()
dist.barrier(async_op=True).wait()
done = [None] * world
dist.all_gather_object(done, rank)
if rank == 0:  # one process prints (lines of different processes can interleave)
    print("\n".join(f"rank {r}/{world}: collectives ok" for r in done), flush=True)
dist.destroy_process_group()
assert not dist.is_initialized()
