"""The `glasstorch` command: every subcommand runs and leaves what it promises."""
import json
import subprocess
import sys

import pytest

from glasstorch import cli


def test_help_everywhere_has_examples(capsys):
    for command in ([], ["run"], ["compare"], ["train"], ["data"], ["list"], ["doctor"], ["results"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(command + ["--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert "usage: glasstorch" in out
        assert "example" in out


def test_list_names_every_experiment(capsys):
    from glasstorch.lab.registry import names
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in names():
        assert name in out
    assert "target:" in out


def test_run_quick_writes_a_run_folder_and_results(tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert cli.main(["run", "logic-gates", "--quick", "-q", "--out", str(out_dir)]) == 0
    (folder,) = out_dir.iterdir()
    assert folder.name.startswith("logic-gates-")
    assert {"report.md", "metrics.json", "history.csv", "perceptron.png"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "metrics.json").read_text())["passed"]
    printed = capsys.readouterr().out
    assert "| metric" in printed and "all targets met" in printed
    results = tmp_path / "RESULTS.md"
    assert cli.main(["results", "--out", str(out_dir), "--write", str(results)]) == 0
    assert "logic-gates" in results.read_text()


def test_run_unknown_name_is_a_clear_error(capsys):
    assert cli.main(["run", "nope", "--out", "/tmp/none"]) == 2
    assert "glasstorch list" in capsys.readouterr().err


def test_train_quick_on_digits(tmp_path):
    assert cli.main(["train", "--model", "softmax", "--dataset", "digits", "--quick", "-q",
                     "--out", str(tmp_path)]) == 0
    (folder,) = tmp_path.iterdir()
    assert (folder / "report.md").is_file()


def test_compare_agrees_on_a_small_model(capsys):
    pytest.importorskip("torch")
    assert cli.main(["compare", "xor-mlp", "--steps", "5"]) == 0
    out = capsys.readouterr().out
    assert "|Δloss|" in out and "agreed" in out


def test_compare_names_the_diverging_parameter():
    pytest.importorskip("torch")
    from glasstorch.lab.compare import compare
    lines = []
    result = compare("linear-regression", steps=3, tol=0.0, out=lines.append)  # zero tolerance: any bit differs
    if not result.agreed:
        assert result.parameter in ("0.weight", "0.bias", "loss")
        assert "DIVERGED" in lines[-1]


def test_data_verify_and_path(shared_data, capsys):
    assert cli.main(["data", "verify", "--data-dir", str(shared_data)]) == 0
    out = capsys.readouterr().out
    assert out.count("ok") >= 10
    assert cli.main(["data", "path", "--data-dir", str(shared_data)]) == 0


def test_data_fetch_imports_from_a_folder(shared_data, tmp_path, capsys):
    assert cli.main(["data", "fetch", "mnist", "--from", str(shared_data / "mnist"), "--data-dir", str(tmp_path)]) == 0
    assert len(list((tmp_path / "mnist").glob("*.gz"))) == 4
    assert cli.main(["data", "verify", "mnist", "--data-dir", str(tmp_path)]) == 0


def test_doctor_reports_each_component(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    for component in ("Python", "NumPy", "BLAS", "PyTorch", "matplotlib", "Graphviz", "data: mnist"):
        assert component in out


def test_python_dash_m_glasstorch():
    done = subprocess.run([sys.executable, "-m", "glasstorch", "list"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "digits-cnn" in done.stdout
