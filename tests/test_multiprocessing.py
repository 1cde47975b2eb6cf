"""glasstorch.multiprocessing (torch.multiprocessing): spawn runs fn(i, *args) in new processes, re-raises a
failure with the process's traceback, and a PyTorch program that imports it runs under as_torch."""
import os
import subprocess
import sys

import pytest

import glasstorch
import glasstorch.multiprocessing as mp


def write_square(i, folder, array):
    (folder / f"{i}.txt").write_text(str(float((glasstorch.from_numpy(array) * i).sum())))


def fail_on_one(i):
    if i == 1:
        raise ValueError(f"process {i} found a bad batch")


def exit_with_status(i):
    raise SystemExit(3 if i == 0 else 0)


def test_spawn_calls_fn_with_each_index_and_the_args(tmp_path):
    assert mp.spawn(write_square, args=(tmp_path, glasstorch.ones(3).numpy()), nprocs=3) is None
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["0.0", "3.0", "6.0"]


def test_spawn_reraises_a_processs_exception_with_its_traceback():
    raised = "(?s)Process 1 terminated.*ValueError: process 1 found"
    with pytest.raises(mp.ProcessRaisedException, match=raised) as info:
        mp.spawn(fail_on_one, nprocs=2)
    assert info.value.error_index == 1 and "fail_on_one" in info.value.msg


def test_spawn_reports_a_non_zero_exit_and_join_false_returns_the_context():
    context = mp.spawn(exit_with_status, nprocs=2, join=False)
    assert isinstance(context, mp.ProcessContext) and len(context.pids()) == 2
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3") as info:
        while not context.join():
            pass
    assert info.value.exit_code == 3


def test_tensors_are_not_pickled_into_another_process():
    with pytest.raises(TypeError, match="glasstorch tensors are not pickled"):
        mp.spawn(write_square, args=(None, glasstorch.ones(3)), nprocs=1)


def test_the_stdlib_names_are_multiprocessings_own():
    import multiprocessing
    assert mp.Process is multiprocessing.Process and mp.get_context is multiprocessing.get_context
    assert mp.cpu_count() >= 1


SPAWNING_PROGRAM = """
import sys
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

def which(rank, out):
    open(f"{out}/{rank}.txt", "w").write(torch.__name__)

def ddp_by_spawn(rank, world_size):
    dist.init_process_group("gloo", rank=rank, world_size=world_size)

if __name__ == "__main__":
    mp.spawn(which, args=(sys.argv[1],), nprocs=2)
    mp.spawn(ddp_by_spawn, args=(2,), nprocs=2)
"""


def test_under_as_torch_spawned_processes_run_glasstorch_and_ddp_by_spawn_says_to_use_the_launcher(tmp_path):
    """A spawned process is a fresh Python: it would import the real torch. Under as_torch they are forked (the
    hook is inherited); DDP started by mp.spawn ends with init_process_group's pointer to the launcher."""
    script = tmp_path / "spawning.py"
    script.write_text(SPAWNING_PROGRAM)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(glasstorch.__file__))] +
                                                      [p for p in [os.environ.get("PYTHONPATH")] if p]))
    result = subprocess.run([sys.executable, "-m", "glasstorch.as_torch", str(script), str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert sorted(p.read_text() for p in tmp_path.glob("*.txt")) == ["glasstorch", "glasstorch"], result.stderr
    assert result.returncode != 0
    assert "ProcessRaisedException" in result.stderr and "python -m glasstorch.distributed.run" in result.stderr
