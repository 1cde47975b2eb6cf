"""The launcher (torchrun's flags over mpiexec), the abort-on-exception hook, and the MPI installation."""
import os
import re
import subprocess
import sys

import pytest

from glasstorch.distributed import run, worker


def fields(line):
    return dict(item.split("=", 1) for item in line.split() if "=" in item)


def test_launcher_sets_torchruns_environment(launch):
    result = launch("check_env.py", 3, "mpi")
    assert result.returncode == 0, result.report
    lines = sorted(line for line in result.stdout.splitlines() if line.startswith("rank="))
    assert len(lines) == 3, result.report
    for rank, line in enumerate(lines):
        f = fields(line)
        assert f["rank"] == f["RANK"] == f["LOCAL_RANK"] == str(rank)
        assert f["world"] == f["WORLD_SIZE"] == f["LOCAL_WORLD_SIZE"] == "3"
        assert (f["MASTER_ADDR"], f["MASTER_PORT"], f["OMP_NUM_THREADS"]) == ("127.0.0.1", "29500", "1")
        assert f["backend"] == "mpi" and "argv=['mpi']" in line


def test_torchrun_spelling_of_the_flags_and_gloo(launch):
    launcher = [sys.executable, "-m", "glasstorch.distributed.run", "--nproc_per_node=2", "--nnodes", "1",
                "--master_addr", "10.0.0.1", "--master-port", "1234", "--standalone"]
    result = launch("check_env.py", 2, "gloo", launcher=launcher)
    assert result.returncode == 0, result.report
    lines = [fields(line) for line in result.stdout.splitlines() if line.startswith("rank=")]
    assert sorted(f["rank"] for f in lines) == ["0", "1"]
    assert {(f["MASTER_ADDR"], f["MASTER_PORT"], f["backend"]) for f in lines} == {("10.0.0.1", "1234", "gloo")}


def test_plain_mpiexec_works_too(launch):
    launcher = [run.find_mpiexec(), "-n", "2", sys.executable]
    result = launch("check_env.py", 2, launcher=launcher)
    assert result.returncode == 0, result.report
    ranks = sorted(fields(line)["rank"] for line in result.stdout.splitlines() if line.startswith("rank="))
    assert ranks == ["0", "1"]


def test_an_exception_on_one_rank_ends_the_job_with_its_traceback(launch):
    result = launch("fail_on_rank_1.py", 2, timeout=60)  # a hang would raise TimeoutExpired
    assert result.returncode != 0, result.report
    assert "[rank 1]: ValueError: rank 1 found a bad batch" in result.stderr, result.report
    assert "[rank 1]:   File" in result.stderr and "fail_on_rank_1.py" in result.stderr
    assert "unreachable" not in result.stdout


def test_mpiexec_is_the_venvs_and_mpi4py_uses_the_same_mpi(launch):
    mpiexec = run.find_mpiexec()
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(beside):
        assert mpiexec == beside  # the mpich wheel's, in the venv's bin
    version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    library = subprocess.run([sys.executable, "-c", "from mpi4py import MPI; print(MPI.Get_library_version())"],
                             capture_output=True, text=True, timeout=30).stdout
    launcher_version = re.search(r"Version:\s*([\d.]+)", version)
    library_version = re.search(r"MPICH Version:\s*([\d.]+)", library)
    if launcher_version is None or library_version is None:
        pytest.skip(f"not MPICH (a site MPI): mpiexec says {version[:80]!r}, mpi4py {library[:80]!r}")
    assert launcher_version.group(1) == library_version.group(1)


def test_dry_run_shows_the_mpiexec_command(capsys):
    assert run.main(["--nproc-per-node", "4", "--nnodes", "2", "--dry-run", "train.py", "--lr", "0.1"]) == 0
    line = capsys.readouterr().out.split()
    assert line[1:5] == ["-n", "8", "-ppn", "4"]
    assert line[-5:] == ["-m", "glasstorch.distributed.worker", "train.py", "--lr", "0.1"]


def test_launcher_environment_and_bad_flags(monkeypatch, tmp_path):
    args = run.parser().parse_args(["--nproc_per_node", "3", "-m", "mypackage.train", "--epochs", "2"])
    cmd, env = run.command(args)
    assert cmd[1:3] == ["-n", "3"] and cmd[-4:] == ["-m", "mypackage.train", "--epochs", "2"]
    assert env["WORLD_SIZE"] == "3" and env["LOCAL_WORLD_SIZE"] == "3"
    assert env["OMP_NUM_THREADS"] == os.environ.get("OMP_NUM_THREADS", "1")
    with pytest.raises(SystemExit):
        run.parser().parse_args(["--nproc-per-node", "0", "train.py"])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"glasstorch\[distributed\]"):
        run.find_mpiexec()
    assert run.find_mpiexec("/opt/mpi/bin/mpiexec") == "/opt/mpi/bin/mpiexec"


def test_worker_reads_the_rank_from_each_process_manager():
    assert worker.launcher_ranks({"PMI_RANK": "2", "MPI_LOCALRANKID": "0", "PMI_SIZE": "4"}) == (2, 0, 4)
    assert worker.launcher_ranks({"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
                                  "OMPI_COMM_WORLD_SIZE": "6"}) == (3, 1, 6)
    assert worker.launcher_ranks({"SLURM_PROCID": "5", "SLURM_LOCALID": "1", "SLURM_NTASKS": "8"}) == (5, 1, 8)
    assert worker.launcher_ranks({}) == (0, 0, 1)


def test_glasstorch_launch_subcommand(launch):
    result = launch("check_env.py", 2, launcher=[sys.executable, "-m", "glasstorch", "launch", "-n", "2"])
    assert result.returncode == 0, result.report
    assert sorted(fields(l)["RANK"] for l in result.stdout.splitlines() if l.startswith("rank=")) == ["0", "1"]


def test_fit_under_ddp_prints_and_checkpoints_on_rank_0_only(launch, tmp_path):
    result = launch("check_fit.py", 2, tmp_path)
    assert result.returncode == 0, result.report
    assert result.stdout.count("Epoch 2/2 | train loss") == 1, result.report  # one summary line per epoch, from rank 0
    assert (tmp_path / "rank0" / "checkpoint.pt").exists() and not (tmp_path / "rank1" / "checkpoint.pt").exists()


def test_sys_exit_with_an_error_status_on_one_rank_ends_the_job(launch):
    result = launch("exit_on_rank_1.py", 2, timeout=60)  # a hang would raise TimeoutExpired
    assert result.returncode != 0, result.report
    assert "[rank 1]: exited with status 3; aborting the job" in result.stderr, result.report
    assert "unreachable" not in result.stdout


def test_a_pytorch_ddp_program_runs_unchanged_with_as_torch(launch, tmp_path):
    """torch_program.py imports torch, torch.distributed, DDP, DistributedSampler and calls gloo; under
    --as-torch it runs on glasstorch, and 2 or 3 processes end with the weights of one process."""
    import glasstorch
    weights = {}
    for nproc in (1, 2, 3):
        launcher = [sys.executable, "-m", "glasstorch.distributed.run", "--as-torch", "--nproc-per-node", str(nproc)]
        result = launch("torch_program.py", nproc, tmp_path, launcher=launcher)
        assert result.returncode == 0, result.report
        done = sorted(line for line in result.stdout.splitlines() if line.endswith("done on glasstorch"))
        assert done == [f"rank {r}/{nproc} local_rank {r} done on glasstorch" for r in range(nproc)], result.report
        assert result.stdout.count("epoch 2: mean loss") == 1, result.report
        weights[nproc] = glasstorch.load(str(tmp_path / f"model-{nproc}.pt"))
    assert list(weights[1]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for nproc in (2, 3):
        for name, value in weights[1].items():
            assert float((weights[nproc][name] - value).abs().max()) < 1e-12, (nproc, name)


def test_as_torch_under_the_launcher_names_a_missing_api_and_ends_the_job(launch, tmp_path):
    script = tmp_path / "missing.py"
    script.write_text("import torch\nimport torch.distributed as dist\ndist.init_process_group('gloo')\n"
                      "if dist.get_rank() == 1:\n    torch.no_such_function(3)\ndist.barrier()\nprint('unreachable')\n")
    launcher = [sys.executable, "-m", "glasstorch", "launch", "--as-torch", "-n", "2"]
    result = launch(script, 2, launcher=launcher, timeout=60)
    assert result.returncode != 0, result.report
    assert "glasstorch has no torch.no_such_function yet (missing.py:5)" in result.stderr, result.report
    assert "[rank 1]: exited with status 1; aborting the job" in result.stderr
    assert "unreachable" not in result.stdout


def test_as_torch_flag_puts_glasstorch_as_torch_before_the_script(capsys):
    args = run.parser().parse_args(["--as-torch", "-n", "2", "train.py", "--lr", "0.1"])
    cmd, _ = run.command(args)
    assert cmd[-7:] == ["-m", "glasstorch.distributed.worker", "-m", "glasstorch.as_torch", "train.py", "--lr", "0.1"]
    with pytest.raises(SystemExit):
        run.main(["--as-torch", "-m", "mypackage.train"])
    assert "--as-torch runs a script file" in capsys.readouterr().err


def test_torchruns_rendezvous_flags_of_the_ddp_tutorial_are_accepted(capsys):
    """PyTorch's DDP tutorial: torchrun --nnodes=1 --nproc_per_node=2 --rdzv_id=100 --rdzv_backend=c10d
    --rdzv_endpoint=host:29400 elastic_ddp.py (MPI connects the processes: the rendezvous flags change nothing)."""
    flags = ["--nnodes=1:1", "--nproc_per_node=2", "--rdzv_id=100", "--rdzv_backend=c10d",
             "--rdzv-endpoint=localhost:29400", "--max_restarts=0", "--dry-run", "elastic_ddp.py"]
    assert run.main(flags) == 0
    line = capsys.readouterr().out.split()
    assert line[1:3] == ["-n", "2"] and line[-1] == "elastic_ddp.py"
    for bad, message in ((["--nnodes=1:4"], "elastic ranges are not supported"),
                         (["--max-restarts", "3"], "restarts nothing")):
        with pytest.raises(SystemExit):
            run.main(bad + ["--dry-run", "train.py"])
        assert message in capsys.readouterr().err
