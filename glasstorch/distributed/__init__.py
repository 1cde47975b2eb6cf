"""glasstorch.distributed: torch.distributed's API over MPI (CPU tensors) and NCCL (GPU tensors, via CuPy).

Data-parallel training in three lines on top of a one-process script:

    import glasstorch.distributed as dist
    dist.init_process_group("mpi")                       # rank and world size from MPI
    model = nn.parallel.DistributedDataParallel(model)   # same weights everywhere; gradients averaged

and launch it with `python -m glasstorch.distributed.run --nproc-per-node 4 train.py` (or `mpiexec -n 4
python train.py`, or `srun`). Files: `process_group` (who takes part), `collectives` (the operations on
tensors), `communicators` (the wire: MPI, NCCL), `abort` (one failing rank stops the job), `run` (the
launcher). DistributedDataParallel lives in glasstorch.nn.parallel, above both nn and this package.
"""
from .abort import install_excepthook
from .collectives import (Work, all_gather, all_gather_into_tensor, all_gather_object, all_reduce, barrier,
                          broadcast, broadcast_object_list, gather, gather_object, irecv, isend, recv, reduce, scatter,
                          send)
from .process_group import (GroupMember, ProcessGroup, ReduceOp, destroy_process_group, get_backend,
                            get_global_rank, get_process_group_ranks, get_rank, get_world_size, group,
                            init_process_group, is_available, is_initialized, is_mpi_available, is_nccl_available,
                            new_group)

__all__ = ["GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
           "all_gather_object", "all_reduce", "barrier", "broadcast", "broadcast_object_list",
           "destroy_process_group", "gather", "gather_object", "get_backend", "get_global_rank",
           "get_process_group_ranks", "get_rank", "get_world_size", "group", "init_process_group",
           "install_excepthook", "irecv", "is_available", "is_initialized", "is_mpi_available", "is_nccl_available",
           "isend", "new_group", "recv", "reduce", "scatter", "send"]
