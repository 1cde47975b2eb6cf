"""Rank 1 calls sys.exit(3) (no exception: no excepthook runs) while rank 0 waits in an all_reduce: the job
must still end, with a non-zero status, not hang."""
import sys

import glasstorch
import glasstorch.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    print("rank 1 gives up", flush=True)
    sys.exit(3)
dist.all_reduce(glasstorch.ones(3))  # rank 0 would wait here forever without the abort
print("unreachable: the all_reduce completed", flush=True)
