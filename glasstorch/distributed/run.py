"""The launcher: `python -m glasstorch.distributed.run --nproc-per-node 4 train.py --epochs 3`.

torchrun's common flags, and underneath a plain `mpiexec`: MPI's process manager starts the processes,
and each one runs `glasstorch.distributed.worker`, which sets torchrun's environment (RANK, LOCAL_RANK,
WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT; OMP_NUM_THREADS=1 unless set, so that N
processes do not each start a thread per core), installs the abort-on-exception hook and runs the script.

A program written for PyTorch runs unchanged on glasstorch with `--as-torch` (its `import torch`,
`import torch.distributed as dist` give glasstorch's modules); without it, `import torch` is PyTorch itself
(whose gloo backend meets at MASTER_ADDR:MASTER_PORT, which the launcher sets).

On several nodes, run it once (not once per node, as torchrun): `--nnodes 2 --nproc-per-node 4` starts
8 processes, 4 per node, on the hosts of the Slurm allocation or of `--hostfile`. `mpiexec -n 8 python
train.py` and `srun python train.py` work as well: init_process_group reads the rank from MPI.
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys


def find_mpiexec(explicit=None):
    """mpiexec: the one given, else the one beside this Python (the mpich wheel's, in the venv), else PATH's."""
    if explicit:
        return explicit
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(beside):
        return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError("mpiexec not found: pip install 'glasstorch[distributed]' (MPICH's mpiexec lands "
                                "beside python in the venv), or load your cluster's MPI, or pass --mpiexec PATH")
    return found


def _nproc(value):
    if value in ("auto", "cpu"):
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--nproc-per-node must be a positive integer or 'auto', got {value!r}")
    if n <= 0:
        raise argparse.ArgumentTypeError(f"--nproc-per-node must be a positive integer, got {n}")
    return n


def _nnodes(value):
    low, _, high = str(value).partition(":")
    try:
        low, high = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--nnodes must be a positive integer (or N:N), got {value!r}")
    if low != high:
        raise argparse.ArgumentTypeError(f"--nnodes {value}: elastic ranges are not supported (MPI starts a fixed "
                                         "number of processes); give one number")
    if low <= 0:
        raise argparse.ArgumentTypeError(f"--nnodes must be positive, got {low}")
    return low


def parser(prog="python -m glasstorch.distributed.run", add_help=True):
    p = argparse.ArgumentParser(prog=prog, add_help=add_help, description="Start N processes of a training script over MPI "
                                "(torchrun's flags; the script calls dist.init_process_group).")
    p.add_argument("--nproc-per-node", "--nproc_per_node", "-n", dest="nproc_per_node", type=_nproc, default=1,
                   help="processes per node (an integer, or 'auto': one per CPU core)")
    p.add_argument("--nnodes", type=_nnodes, default=1, help="nodes (hosts from Slurm or --hostfile); torchrun's "
                   "MIN:MAX form only with MIN == MAX (no elastic membership)")
    p.add_argument("--node-rank", "--node_rank", dest="node_rank", type=int, default=0,
                   help="accepted as torchrun's; MPI starts every node's processes from one command")
    p.add_argument("--master-addr", "--master_addr", dest="master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", dest="master_port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true", help="accepted as torchrun's (one node)")
    for flag in ("backend", "endpoint", "id", "conf"):  # torchrun's rendezvous: MPI has connected the processes
        p.add_argument(f"--rdzv-{flag}", f"--rdzv_{flag}", dest=f"rdzv_{flag}", default=None,
                       help="accepted as torchrun's; MPI's process manager connects the processes (no rendezvous)")
    p.add_argument("--max-restarts", "--max_restarts", dest="max_restarts", type=int, default=0,
                   help="accepted as torchrun's when 0: a failing rank aborts the job, nothing restarts it")
    p.add_argument("--hostfile", default=None, help="MPI host file for --nnodes > 1 outside Slurm")
    p.add_argument("--mpiexec", default=None, help="the mpiexec to use (default: the venv's, then PATH's)")
    p.add_argument("-m", "--module", dest="module", action="store_true", help="run the script as a module")
    p.add_argument("--as-torch", dest="as_torch", action="store_true",
                   help="a PyTorch program, unchanged: its `import torch` gives glasstorch (glasstorch.as_torch)")
    p.add_argument("--dry-run", action="store_true", help="print the mpiexec command line, run nothing")
    p.add_argument("script", help="the training script (or module, with -m)")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    return p


def command(args):
    """The mpiexec command line and the environment it runs with."""
    total = args.nproc_per_node * args.nnodes
    cmd = [find_mpiexec(args.mpiexec), "-n", str(total)]
    if args.nnodes > 1:
        cmd += ["-ppn", str(args.nproc_per_node)]
    if args.hostfile:
        cmd += ["-f", args.hostfile]
    if args.max_restarts:
        raise ValueError(f"--max-restarts {args.max_restarts}: glasstorch's launcher restarts nothing (a failing rank "
                         "aborts the whole job); leave it at 0")
    cmd += [sys.executable, "-m", "glasstorch.distributed.worker"]
    if args.as_torch:  # the worker runs glasstorch.as_torch, which runs the script with torch -> glasstorch
        if args.module:
            raise ValueError("--as-torch runs a script file (train.py), not a module (-m)")
        cmd += ["-m", "glasstorch.as_torch"]
    cmd += (["-m"] if args.module else []) + [args.script] + list(args.script_args)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(WORLD_SIZE=str(total), LOCAL_WORLD_SIZE=str(args.nproc_per_node), MASTER_ADDR=args.master_addr,
               MASTER_PORT=str(args.master_port))
    return cmd, env


def launch(args):
    """Run the job; return its exit status (non-zero when a rank failed)."""
    cmd, env = command(args)
    if args.dry_run:
        print(" ".join(shlex.quote(c) for c in cmd))
        return 0
    try:
        return subprocess.run(cmd, env=env).returncode
    except KeyboardInterrupt:
        return 130


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    try:
        return launch(args)
    except ValueError as error:  # flags that cannot go together
        p.error(str(error))


if __name__ == "__main__":
    sys.exit(main())
