"""Faults under DistributedDataParallel: a rank killed mid-training (SIGKILL, as the OOM killer does) ends the
whole job within seconds, says which process died and how, and leaves no process behind. (A rank that
raises is tests/distributed/test_run.py's `test_an_exception_on_one_rank_ends_the_job_with_its_traceback`.)"""
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

KILLED_RANK = textwrap.dedent("""
    import os, signal, time
    import glasstorch as torch
    import glasstorch.distributed as dist
    from glasstorch import nn
    from glasstorch.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    rank = dist.get_rank()
    print(f"rank {rank} pid {os.getpid()}", flush=True)
    torch.manual_seed(0)
    model = DDP(nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(100000):
        if rank == 1 and step == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # rank 0 is then waiting in the gradients' all-reduce
        optimizer.zero_grad()
        model(torch.randn(4, 8)).sum().backward()
        optimizer.step()
        time.sleep(0.01)
    print("unreachable", flush=True)
""")


def group_members(pgid):
    """Processes still alive in a process group (zombies waiting to be reaped don't count)."""
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state, _, group = f.read().rsplit(")", 1)[1].split()[:3]
        except OSError:
            continue
        if int(group) == pgid and state != "Z":
            alive.append(int(pid))
    return alive


def test_a_killed_rank_ends_the_job_within_seconds_and_leaves_no_process(tmp_path):
    pytest.importorskip("mpi4py")
    if not os.path.exists(os.path.join(os.path.dirname(sys.executable), "mpiexec")) and not shutil.which("mpiexec"):
        pytest.skip("no mpiexec (pip install -e '.[distributed]' brings MPICH's)")
    script = tmp_path / "killed_rank.py"
    script.write_text(KILLED_RANK)
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "glasstorch.distributed.run", "--nproc-per-node", "2", str(script)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)  # a hang would fail here
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    seconds = time.monotonic() - began
    assert proc.returncode != 0, out + err
    assert "unreachable" not in out
    pids = dict(re.findall(r"(rank \d) pid (\d+)", out))  # the two ranks' lines may arrive interleaved
    assert set(pids) == {"rank 0", "rank 1"}, out
    # MPICH names the process that died and the signal: the user can tell which rank it was from its pid
    assert f"PID {pids['rank 1']}" in out + err and "signal 9" in out + err, out + err
    assert seconds < 45, f"the job took {seconds:.0f} s to end after a rank was killed"
    deadline = time.monotonic() + 10
    while group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert group_members(proc.pid) == [], "processes of the job were left running"
