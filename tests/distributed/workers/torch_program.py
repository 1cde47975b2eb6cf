"""A DDP program written for PyTorch (torchrun), run unchanged: `python -m glasstorch.distributed.run --as-torch
--nproc-per-node N torch_program.py OUT`. Nothing here names glasstorch; under --as-torch, torch is glasstorch.

The global batch (12) is split among the processes, so N processes train exactly as one does: the test
compares the checkpoints that rank 0 saves for N = 1, 2, 3.
"""
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp  # noqa: F401  (imported, unused, as PyTorch's torchrun examples do)
import torch.nn as nn
import torch.optim as optim
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def main(out):
    dist.init_process_group(backend="gloo", init_method="env://")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ["LOCAL_RANK"])
    g = torch.Generator().manual_seed(0)
    X = torch.randn(96, 10, generator=g, dtype=torch.float64)
    y = X[:, :3].sum(dim=1, keepdim=True) - X[:, 5:6]
    dataset = TensorDataset(X, y)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=1)
    loader = DataLoader(dataset, batch_size=12 // world_size, sampler=sampler, shuffle=False, pin_memory=False)

    torch.manual_seed(100 + rank)  # DDP makes every replica start from rank 0's weights
    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    ddp_model = DDP(model)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(ddp_model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        for source, targets in loader:
            optimizer.zero_grad()
            loss = loss_fn(ddp_model(source), targets)
            loss.backward()
            optimizer.step()
        total = torch.tensor([loss.item()], dtype=torch.float64)
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        if rank == 0:
            print(f"epoch {epoch}: mean loss {total.item() / world_size:.6f}", flush=True)
    if rank == 0:
        torch.save(ddp_model.module.state_dict(), os.path.join(out, f"model-{world_size}.pt"))
    lines = [None] * world_size  # rank 0 prints every rank's line: lines of different processes interleave
    dist.all_gather_object(lines, f"rank {rank}/{world_size} local_rank {local_rank} done on {torch.__name__}")
    if rank == 0:
        print("\n".join(lines), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
