"""The data-parallel lesson: its jobs start through the launcher (MPI), so it has tests of its own beside the
quick run of test_experiments.py: the same lesson on PyTorch (gloo), bad sizes refused before any process
starts, and a failing job reported with its rank's traceback instead of hanging."""
import dataclasses
import json

import numpy as np
import pytest

from glasstorch import cli
from glasstorch.distributed import run as launcher
from glasstorch.experiments import data_parallel
from glasstorch.lab.runner import run_experiment


@pytest.fixture
def mpi():
    """Skip where no job can start: mpi4py or mpiexec missing (pip install -e '.[distributed]')."""
    pytest.importorskip("mpi4py")
    try:
        launcher.find_mpiexec()
    except FileNotFoundError as error:
        pytest.skip(str(error))


def test_on_pytorch_with_gloo_two_processes_equal_one(mpi, shared_data, tmp_path):
    pytest.importorskip("torch")
    record = run_experiment("data-parallel", ("torch",), quick=True, data_dir=str(shared_data),
                            folder=tmp_path / "torch", verbose=False)
    (run,) = record.runs
    assert run.error == "" and record.passed, run.error or run.checks
    assert run.results["max_weight_diff_float64"] <= 1e-10
    metrics = json.loads((tmp_path / "torch" / "metrics.json").read_text())
    assert metrics["engines"]["torch"]["results"]["samples_per_s_2p"] > 0
    assert {"throughput.png", "weight_difference.png"} <= {p.name for p in (tmp_path / "torch").iterdir()}


def test_each_job_trains_from_rank_0s_weights_and_its_trace_starts_equal(mpi, shared_data, tmp_path):
    """One job of 2 processes, by hand: what the lesson collects (weights, trace, timings) from rank 0."""
    cfg = dataclasses.replace(data_parallel.Config.quick(), epochs=1, train_limit=256)
    folders = [tmp_path / "one", tmp_path / "two"]
    jobs = []
    for n, folder in zip((1, 2), folders):
        folder.mkdir()
        jobs.append(data_parallel.launch("glass", cfg, "float64", n, shared_data, folder))
    (one, w1), (two, w2) = jobs
    assert (one["world"], two["world"]) == (1, 2) and one["steps"] == two["steps"] == 256 // 64
    assert one["samples"] == two["samples"] == 256
    assert list(w1) == ["1.weight", "1.bias", "3.weight", "3.bias"] and w1["1.weight"].shape == (32, 784)
    assert data_parallel.max_difference(w2, w1) < 1e-12
    assert not np.allclose(w1["1.weight"], 0)
    assert np.abs(two["trace"] - one["trace"]).max() < 1e-12 and len(one["trace_steps"]) == 4


def test_bad_sizes_are_refused_before_any_process_starts():
    quick = data_parallel.Config.quick()
    with pytest.raises(ValueError, match="must include 1"):
        data_parallel.check_config(dataclasses.replace(quick, nprocs=(2, 4)))
    with pytest.raises(ValueError, match="among 3 processes.*--batch-size 63"):
        data_parallel.check_config(dataclasses.replace(quick, nprocs=(1, 3)))
    with pytest.raises(ValueError, match="float32 or float64"):
        data_parallel.check_config(dataclasses.replace(quick, dtypes=("float16",)))


def test_a_failing_job_raises_with_the_ranks_traceback(mpi, tmp_path):
    cfg = data_parallel.Config.quick()
    failed = r"(?s)2-process float64 job failed.*\[rank \d\]: RuntimeError: Dataset MNIST not found"
    with pytest.raises(RuntimeError, match=failed) as info:
        data_parallel.launch("glass", cfg, "float64", 2, tmp_path / "no-data-here", tmp_path)
    last = str(info.value).splitlines()[-1]  # what the cli's one-line summary shows
    assert "RuntimeError: Dataset MNIST not found" in last and last.startswith("[rank ")


def test_cli_nproc_is_checked_before_anything_runs(tmp_path, capsys):
    out = str(tmp_path / "out")
    assert cli.main(["run", "data-parallel", "--quick", "--nproc", "0", "--out", out]) == 2
    assert "--nproc must be >= 1" in capsys.readouterr().err
    assert cli.main(["run", "data-parallel", "--quick", "--nproc", "3", "--out", out]) == 2
    assert "global batch 64 must divide evenly among 3 processes" in capsys.readouterr().err
    assert cli.main(["run", "xor-mlp", "--nproc", "2", "--out", out]) == 2
    assert "--nproc is for lessons that start several processes" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*-*"))  # no run folder: nothing started


def test_cli_nproc_adds_the_one_process_reference():
    args = cli.build_parser().parse_args(["run", "data-parallel", "--nproc", "4", "2"])
    assert cli._overrides(args)["nprocs"] == (1, 2, 4)
    assert "nprocs" not in cli._overrides(cli.build_parser().parse_args(["run", "data-parallel"]))


def test_failure_line_is_the_failing_ranks_exception():
    stderr = ("[rank 1]: Traceback (most recent call last):\n[rank 1]:   File \"w.py\", line 3, in <module>\n"
              "[rank 1]:     f(x)\n[rank 1]:     ^^^^\n[rank 1]: ValueError: bad batch:\n[rank 1]:     details\n"
              "[rank 1]: aborting the job (MPI_Abort) after an exception on this rank\nAbort(1) on node 1\n")
    assert data_parallel.failure_line(stderr) == "[rank 1]: ValueError: bad batch:"
    assert data_parallel.failure_line("[rank 0]: exited with status 3; aborting the job (MPI_Abort)\nAbort(3)\n") \
        == "[rank 0]: exited with status 3; aborting the job (MPI_Abort)"
    assert "see the output above" in data_parallel.failure_line("Segmentation fault\n")
