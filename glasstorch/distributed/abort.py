"""One rank fails, the whole job stops: print that rank's traceback, then MPI_Abort (no rank left hanging).

Without this, an exception on one rank leaves the others blocked forever in their next collective,
waiting for a message that never comes. `init_process_group` and the launcher's worker install it.
"""
import os
import sys
import time
import traceback


def rank_label():
    """The rank as MPI's process manager tells it (before MPI is initialised), or '?'."""
    for name in ("RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if os.environ.get(name, "").isdigit():
            return os.environ[name]
    return "?"


_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")


def _launcher_frame(filename):
    return filename in (_WORKER, "<frozen runpy>") or os.path.basename(filename) == "runpy.py"


def abort_on_exception(exc_type, exc, tb):
    """sys.excepthook: the traceback, each line prefixed with the rank; then abort every rank of the job."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
    else:
        label = f"[rank {rank_label()}]"
        while tb is not None and tb.tb_next is not None and _launcher_frame(tb.tb_frame.f_code.co_filename):
            tb = tb.tb_next  # start at the user's script, not at the launcher's runpy frames
        lines = "".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n").split("\n")
        sys.stderr.write("".join(f"{label}: {line}\n" for line in lines))
        sys.stderr.write(f"{label}: aborting the job (MPI_Abort) after an exception on this rank\n")
    abort_job(1)


def abort_on_failed_exit(code):
    """`sys.exit(1)` on one rank is no exception (no excepthook runs), yet the other ranks would wait for it
    forever, and so would its own MPI_Finalize at exit: abort the job as for an exception. The launcher's
    worker calls this with the code of a SystemExit; 0 and None return (a normal exit)."""
    if code is None or code == 0:
        return
    if not isinstance(code, int):  # sys.exit("message"): Python prints the message, status 1
        sys.stderr.write(f"{code}\n")
        code = 1
    sys.stderr.write(f"[rank {rank_label()}]: exited with status {code}; aborting the job (MPI_Abort)\n")
    abort_job(code)


def abort_job(status):
    """Flush what this rank printed, then MPI_Abort every rank of the job (or just exit, before MPI started)."""
    sys.stderr.flush()
    sys.stdout.flush()
    MPI = sys.modules.get("mpi4py.MPI")  # never initialise MPI here just to abort it
    if MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized():
        # MPI_Abort makes the process manager kill every process at once, its own output forwarders
        # included: give them a moment to pass on this rank's message (seen lost on a busy 2-core machine)
        time.sleep(1.0)
        MPI.COMM_WORLD.Abort(status)
    os._exit(status)  # MPI not started: exit non-zero, and the process manager stops the other ranks


def install_excepthook():
    if sys.excepthook is not abort_on_exception:
        sys.excepthook = abort_on_exception
