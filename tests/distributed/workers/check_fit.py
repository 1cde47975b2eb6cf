"""fit under DDP: only rank 0 prints and writes the checkpoint; DistributedSampler.set_epoch is called."""
import os
import sys

import glasstorch
import glasstorch.distributed as dist
from glasstorch import nn
from glasstorch.nn.parallel import DistributedDataParallel as DDP
from glasstorch.train import fit
from glasstorch.utils.data import DataLoader, DistributedSampler, TensorDataset

dist.init_process_group("mpi")
rank = dist.get_rank()
glasstorch.manual_seed(rank)
X, y = glasstorch.randn(16, 4), glasstorch.randint(0, 3, (16,))
data = TensorDataset(X, y)
sampler = DistributedSampler(data, seed=1)
model = DDP(nn.Linear(4, 3))
out = os.path.join(sys.argv[1], f"rank{rank}")
fit(model, nn.CrossEntropyLoss(), glasstorch.optim.SGD(model.parameters(), lr=0.1),
    DataLoader(data, batch_size=4, sampler=sampler), epochs=2, checkpoint_dir=out)
assert sampler.epoch == 1, sampler.epoch
assert os.path.exists(os.path.join(out, "checkpoint.pt")) == (rank == 0)
