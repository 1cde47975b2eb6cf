"""Prints what a rank sees: torchrun's variables, and MPI's rank after init_process_group."""
import os
import sys

import glasstorch.distributed as dist

dist.init_process_group(backend=sys.argv[1] if len(sys.argv) > 1 else "mpi", init_method="env://")
names = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "OMP_NUM_THREADS")
line = (f"rank={dist.get_rank()} world={dist.get_world_size()} backend={dist.get_backend()} argv={sys.argv[1:]} "
        + " ".join(f"{n}={os.environ.get(n)}" for n in names))
lines = [None] * dist.get_world_size()
dist.all_gather_object(lines, line)  # rank 0 prints them all: lines of different processes can interleave
if dist.get_rank() == 0:
    print("\n".join(lines), flush=True)
