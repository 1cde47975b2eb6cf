"""Every experiment at its quick size: it runs, meets its quick targets, and leaves a valid run folder.

The quick runs are the experiments' own tests (STYLE.md, floor 9). The cheap ones also run on PyTorch
(`--engine torch`), which is the same experiment code on the other framework.
"""
import csv
import json

import pytest

from glasstorch.lab.registry import get, names
from glasstorch.lab.runner import run_experiment

NEEDS_MNIST = {"softmax-regression", "mlp", "cnn-mnist", "two-layer-net", "optimizers", "batchnorm",
               "data-parallel"}
CHEAP = ["tensors", "logic-gates", "xor-mlp", "forward-pass", "numerical-diff", "gradient-descent", "losses",
         "linear-regression", "preprocessing", "activations"]


def _explain(record):
    lines = []
    for run in record.runs:
        lines += [f"[{run.engine}] {m} {op} {t}: achieved {a}" for m, op, t, a, ok in run.checks if not ok]
        if run.error:
            lines.append(f"[{run.engine}] error: {run.error}")
    return "\n".join(lines)


def _run(name, engine, tmp_path, request):
    data_dir = request.getfixturevalue("shared_data") if name in NEEDS_MNIST else None
    return run_experiment(name, (engine,), quick=True, data_dir=str(data_dir) if data_dir else None,
                          folder=tmp_path / name, verbose=False)


@pytest.mark.parametrize("name", names())
def test_quick_size_meets_targets_on_glasstorch(name, tmp_path, request):
    record = _run(name, "glass", tmp_path, request)
    assert record.passed, _explain(record)
    folder = record.folder
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["experiment"] == name and metrics["passed"] is True
    assert set(metrics["targets"]) <= set(metrics["engines"]["glass"]["results"])
    report = (folder / "report.md").read_text()
    assert report.startswith(f"# {name}") and "## Results" in report
    for png in folder.glob("*.png"):  # every figure is a real PNG and is shown in the report
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({png.name})" in report
    with open(folder / "history.csv") as f:
        rows = list(csv.reader(f))
    assert rows and rows[0][0] == "engine"


@pytest.mark.parametrize("name", CHEAP)
def test_quick_size_meets_targets_on_torch(name, tmp_path, request):
    pytest.importorskip("torch")
    record = _run(name, "torch", tmp_path, request)
    assert record.passed, _explain(record)


def test_every_experiment_declares_the_protocol():
    for name in names():
        module = get(name)
        assert module.NAME == name
        assert module.NOTE and module.SUMMARY and module.EXPECTED
        cfg, quick = module.Config(), module.Config.quick()
        assert type(cfg) is type(quick)
        assert callable(module.run)


def test_both_engines_share_one_folder_and_one_curves_figure(tmp_path):
    pytest.importorskip("torch")
    record = run_experiment("xor-mlp", ("glass", "torch"), quick=True, folder=tmp_path / "both", verbose=False)
    assert record.passed, _explain(record)
    files = {p.name for p in (tmp_path / "both").iterdir()}
    assert {"curves.png", "decision_boundary-glass.png", "decision_boundary-torch.png", "metrics.json"} <= files
    metrics = json.loads((tmp_path / "both" / "metrics.json").read_text())
    assert set(metrics["engines"]) == {"glass", "torch"}
    engines = {row[0] for row in csv.reader(open(tmp_path / "both" / "history.csv"))}
    assert engines == {"engine", "glass", "torch"}


def test_unknown_experiment_names_the_choices():
    with pytest.raises(KeyError, match="glasstorch list"):
        get("no-such-experiment")


@pytest.mark.slow
@pytest.mark.parametrize("name", names())
def test_full_size_meets_targets_on_glasstorch(name, tmp_path, request):
    """The issue's full-size targets (minutes to hours on a laptop): pytest --runslow."""
    data_dir = request.getfixturevalue("shared_data")
    record = run_experiment(name, ("glass",), quick=False, data_dir=str(data_dir), folder=tmp_path / name,
                            verbose=False)
    assert record.passed, _explain(record)
