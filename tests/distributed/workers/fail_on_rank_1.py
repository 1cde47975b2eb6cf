"""Rank 1 raises while rank 0 waits in an all_reduce that can never complete: the job must end, not hang."""
import glasstorch
import glasstorch.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    raise ValueError("rank 1 found a bad batch")
dist.all_reduce(glasstorch.ones(3))  # rank 0 would wait here forever without the abort hook
print("unreachable: the all_reduce completed", flush=True)
