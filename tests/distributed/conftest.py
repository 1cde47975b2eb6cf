"""Distributed tests start real jobs: `python -m glasstorch.distributed.run --nproc-per-node N worker.py`.

The workers (tests/distributed/workers/) check their results themselves and raise on a mismatch; the abort
hook then ends the whole job with that rank's traceback, so a failure shows here as a non-zero status and
the rank's message, never as a hang (each job also runs under a timeout). Skipped without mpi4py/mpiexec.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKERS = Path(__file__).resolve().parent / "workers"
TIMEOUT = 120  # seconds for one job (a few seconds normally; a hang fails the test instead of blocking CI)


def mpi_missing():
    """Why distributed jobs cannot run here, or None."""
    try:
        import mpi4py  # noqa: F401  (the package only: importing mpi4py.MPI would start MPI in pytest)
    except ImportError:
        return "mpi4py is not installed (pip install -e '.[distributed]')"
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if not os.path.exists(beside) and shutil.which("mpiexec") is None:
        return "no mpiexec (pip install -e '.[distributed]' brings MPICH's)"
    return None


def environment(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.pop("OMP_NUM_THREADS", None)
    env.update(extra)
    return env


@pytest.fixture
def launch():
    """launch(script, nproc, *args, launcher=...) -> CompletedProcess (text output; `.report` for messages)."""
    missing = mpi_missing()
    if missing is not None:
        pytest.skip(missing)

    def run(script, nproc, *args, launcher=None, timeout=TIMEOUT, env=None):
        script = str(WORKERS / script) if not os.path.isabs(str(script)) else str(script)
        if launcher is None:
            launcher = [sys.executable, "-m", "glasstorch.distributed.run", "--nproc-per-node", str(nproc)]
        result = subprocess.run(launcher + [script, *map(str, args)], cwd=REPO, env=env or environment(),
                                capture_output=True, text=True, timeout=timeout)
        result.report = report(result)
        return result
    return run


def report(result):
    return f"exit status {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
