"""What each process of `glasstorch.distributed.run` runs: torchrun's environment, the abort hook, the script.

    python -m glasstorch.distributed.worker [-m] script.py args...

The rank comes from the MPI process manager's environment (MPICH's PMI_RANK, Open MPI's, Slurm's), read
without starting MPI: the script starts it with init_process_group.
"""
import os
import runpy
import sys

from .abort import abort_on_failed_exit, install_excepthook

# (rank, local rank, size) as each process manager names them
_MANAGERS = (("PMI_RANK", "MPI_LOCALRANKID", "PMI_SIZE"),
             ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_SIZE"),
             ("PMIX_RANK", "MPI_LOCALRANKID", "PMI_SIZE"),
             ("SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS"))


def launcher_ranks(environ=os.environ):
    """(rank, local_rank, world_size) from the process manager's variables; (0, 0, 1) outside any."""
    for rank, local, size in _MANAGERS:
        if environ.get(rank, "").isdigit():
            world = environ.get(size, environ.get("WORLD_SIZE", "1"))
            return int(environ[rank]), int(environ.get(local, environ[rank])), int(world)
    return 0, 0, 1


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    as_module = bool(argv) and argv[0] == "-m"
    if as_module:
        argv = argv[1:]
    if not argv:
        sys.exit("usage: python -m glasstorch.distributed.worker [-m] script.py args...")
    rank, local_rank, world_size = launcher_ranks()
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(local_rank), WORLD_SIZE=str(world_size),
                      GROUP_RANK=os.environ.get("GROUP_RANK", "0"))
    install_excepthook()
    sys.argv = argv
    try:
        if as_module:
            runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exit_:
        abort_on_failed_exit(exit_.code)
        raise


if __name__ == "__main__":
    main()
