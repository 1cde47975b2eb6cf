"""Run by tests/distributed/test_ddp.py under the launcher: DDP training equals one process on the global batch.

Every rank starts from different random weights (seeded with its rank); DDP must copy rank 0's. Each rank
also trains, alone, a plain copy of rank 0's initial model on the global batch (the union of every rank's
shard for that step, read from DistributedSampler with each rank's number): the weights must agree.
"""
import copy

import numpy as np

import glasstorch
import glasstorch.distributed as dist
from glasstorch import nn
from glasstorch.nn.parallel import DistributedDataParallel as DDP
from glasstorch.utils.data import DataLoader, DistributedSampler, TensorDataset

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
TOL = 1e-6


def make_model(seed):
    glasstorch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    model.register_buffer("scale", glasstorch.full((3,), float(seed), dtype=glasstorch.float64))
    return model


def gathered(t):
    out = [glasstorch.zeros_like(t) for _ in range(world)]
    dist.all_gather(out, t.detach().contiguous())
    return out


def max_diff(a, b):
    return max(float((pa - pb).abs().max()) for pa, pb in zip(a.parameters(), b.parameters()))


rng = np.random.default_rng(0)
X = glasstorch.tensor(rng.standard_normal((24, 5)))
Y = glasstorch.tensor(rng.standard_normal((24, 3)))
dataset = TensorDataset(X, Y)
loss_fn = nn.MSELoss()

# ----------------------------------------------------------------------------- construction
reference = make_model(seed=100)       # what rank 0 builds
model = make_model(seed=100 + rank)    # every rank builds different weights
if rank > 0:
    assert max_diff(model, reference) > 1e-3
for bucket_cap_mb in (25, 0.0001):     # one bucket, and one bucket per parameter
    model = make_model(seed=100 + rank)
    ddp = DDP(model, bucket_cap_mb=bucket_cap_mb)
    assert ddp.module is model
    assert max_diff(model, reference) == 0, "DDP must start every rank from rank 0's parameters"
    assert float(model.scale[0]) == 100.0, "and from rank 0's buffers"
    assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
    expected_buckets = len(list(model.parameters())) if bucket_cap_mb < 1 else 1
    assert len(ddp._buckets) == expected_buckets and ddp._buckets[0][0] == len(list(model.parameters())) - 1

    # ------------------------------------------------------------------------- training = global batch
    single = copy.deepcopy(reference)
    opt = glasstorch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    opt_single = glasstorch.optim.SGD(single.parameters(), lr=0.1, momentum=0.9)
    per_rank = 12 // world
    sampler = DistributedSampler(dataset, shuffle=True, seed=3)
    assert (sampler.num_replicas, sampler.rank) == (world, rank)
    loader = DataLoader(dataset, batch_size=per_rank, sampler=sampler)
    steps = 0
    for epoch in range(3):
        sampler.set_epoch(epoch)
        shards = []
        for r in range(world):
            s = DistributedSampler(dataset, num_replicas=world, rank=r, shuffle=True, seed=3)
            s.set_epoch(epoch)
            shards.append(list(s))
        for step, (x, y) in enumerate(loader):
            opt.zero_grad()
            loss_fn(ddp(x), y).backward()
            opt.step()
            steps += 1
            index = [i for r in range(world) for i in shards[r][step * per_rank:(step + 1) * per_rank]]
            opt_single.zero_grad()
            loss_fn(single(X[index]), Y[index]).backward()
            opt_single.step()
    assert steps == 3 * len(loader) >= 6
    diff = max_diff(model, single)
    assert diff < TOL, f"DDP ({world} ranks, bucket_cap_mb={bucket_cap_mb}) vs one process: {diff}"
    for p in model.parameters():  # and every replica holds the same weights
        assert all(float((q - p).abs().max()) == 0 for q in gathered(p))
    diffs = [None] * world
    dist.all_gather_object(diffs, diff)
    if rank == 0:  # one process prints (lines of different processes can interleave)
        print("\n".join(f"rank {r}: bucket_cap_mb={bucket_cap_mb}: max |DDP - one process| = {d:.2e}"
                        for r, d in enumerate(diffs)), flush=True)

# ----------------------------------------------------------------------------- no_sync accumulation
model = make_model(seed=7 + rank)
ddp = DDP(model, bucket_cap_mb=0.0001)
single = make_model(seed=7)
micro = [(X[m * 12:(m + 1) * 12]) for m in range(2)], [(Y[m * 12:(m + 1) * 12]) for m in range(2)]
per_rank = 12 // world
with ddp.no_sync():
    x, y = micro[0][0], micro[1][0]
    loss_fn(ddp(x[rank * per_rank:(rank + 1) * per_rank]), y[rank * per_rank:(rank + 1) * per_rank]).backward()
first = model[0].weight.grad.clone()
if world > 1:
    others = gathered(first)
    assert float((others[0] - others[1]).abs().max()) > 1e-6, "inside no_sync the gradients stay local"
x, y = micro[0][1], micro[1][1]
loss_fn(ddp(x[rank * per_rank:(rank + 1) * per_rank]), y[rank * per_rank:(rank + 1) * per_rank]).backward()
for m in range(2):
    loss_fn(single(micro[0][m]), micro[1][m]).backward()
for p, q in zip(model.parameters(), single.parameters()):
    diff = float((p.grad - q.grad).abs().max())
    assert diff < TOL, f"no_sync accumulation differs from one process by {diff}"

# ----------------------------------------------------------------------------- buffers, unused parameters
model = make_model(seed=11 + rank)
ddp = DDP(model)
model.scale.fill_(-1.0 * rank)
with glasstorch.no_grad():
    ddp(X[:2])
assert float(model.scale[0]) == 0.0, "broadcast_buffers: each forward starts from rank 0's buffers"


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head, self.spare = nn.Linear(5, 4), nn.Linear(4, 3), nn.Linear(4, 3)

    def forward(self, x, use_spare=False):
        h = self.body(x).tanh()
        return self.spare(h) if use_spare else self.head(h)


glasstorch.manual_seed(0)
two = TwoHeads().double()
ddp = DDP(two, find_unused_parameters=True)
loss_fn(ddp(X[:4], use_spare=(rank == 0)), Y[:4]).backward()
glasstorch.manual_seed(0)
alone = TwoHeads().double()
loss_fn(alone(X[:4], use_spare=True), Y[:4]).backward()
spare_expected = alone.spare.weight.grad / world  # only rank 0 used it: the average over ranks
assert float((two.spare.weight.grad - spare_expected).abs().max()) < TOL
if world > 1:
    glasstorch.manual_seed(0)
    plain = TwoHeads().double()
    loss_fn(plain(X[:4], use_spare=False), Y[:4]).backward()
    head_expected = plain.head.weight.grad * (world - 1) / world
    assert float((two.head.weight.grad - head_expected).abs().max()) < TOL
two.zero_grad()
loss_fn(ddp(X[:4]), Y[:4]).backward()  # spare unused on every rank: its .grad is left as it was (None)
assert two.spare.weight.grad is None and two.head.weight.grad is not None

ddp = DDP(TwoHeads().double())  # find_unused_parameters=False with an unused head: the next forward raises
loss_fn(ddp(X[:4]), Y[:4]).backward()
try:
    ddp(X[:4])
    raise AssertionError("an unused parameter without find_unused_parameters must raise")
except RuntimeError as error:
    assert "find_unused_parameters=True" in str(error) and "spare.weight" in str(error), error

try:
    DDP(nn.Linear(3 + rank, 2))
    raise AssertionError("different models on different ranks must raise") if world > 1 else None
except RuntimeError as error:
    assert "every rank must build the same model" in str(error)
try:
    DDP(nn.Linear(3, 2), device_ids=[0])
    raise AssertionError("device_ids with a CPU model must raise")
except ValueError as error:
    assert "device_ids" in str(error)

done = [None] * world
dist.all_gather_object(done, rank)
if rank == 0:
    print("\n".join(f"rank {r}/{world}: ddp ok" for r in done), flush=True)
