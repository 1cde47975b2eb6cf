"""Every exercise: its starter fails its check, its reference solution passes, and each planted common
mistake gets its own hint."""
import argparse
import io

import pytest

from glasstorch import exercises
from glasstorch.exercises import command
from glasstorch.exercises.framework import HINTS

CASES = [(name, mistake) for name, ex in exercises.EXERCISES.items() for mistake in ex.mistakes]


def test_the_issue_lists_every_exercise():
    wanted = {"sigmoid", "tanh", "relu", "softmax", "log-softmax-nll", "cross-entropy", "mse", "matmul", "linear",
              "conv2d-forward", "conv2d-backward", "max-pool", "batch-norm", "dropout", "sgd-momentum", "adam",
              "two-layer-net", "numerical-gradient", "rnn-cell", "lstm-cell", "attention"}
    assert wanted == set(exercises.EXERCISES)


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_the_starter_fails_and_the_solution_passes(name, tmp_path):
    starter = exercises.start(name, tmp_path)
    passed, lines = exercises.check(name, starter)
    assert not passed and "not implemented" in lines[0] and lines[1] == "hint: " + HINTS["not_implemented"]
    reference = tmp_path / "reference.py"
    reference.write_text(exercises.solution(name))
    for seed in (0, 1):
        passed, lines = exercises.check(name, reference, seed=seed)
        assert passed, lines


@pytest.mark.parametrize("name,mistake", CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_each_planted_mistake_gets_its_hint(name, mistake, tmp_path):
    path = tmp_path / "wrong.py"
    path.write_text(exercises.get(name).planted(mistake))
    passed, lines = exercises.check(name, path)
    assert not passed
    assert lines[-1] == "hint: " + HINTS[mistake], lines


def test_the_first_mismatching_element_is_named(tmp_path):
    path = tmp_path / "wrong.py"
    path.write_text(exercises.get("relu").planted("relu_mask"))
    passed, lines = exercises.check("relu", path)
    assert "element (0" in lines[0] and "expected" in lines[0]


def test_a_file_that_does_not_load_is_reported(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def forward(x):\n    return x +\n")
    passed, lines = exercises.check("relu", path)
    assert not passed and "does not load" in lines[0] and "SyntaxError" in lines[0]


def run(*argv):
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    out = io.StringIO()
    status = command.main(parser.parse_args(list(argv)), out=out)
    return status, out.getvalue()


def test_the_command_lists_starts_checks_and_writes_solutions(tmp_path):
    status, text = run("list")
    assert status == 0 and len(text.splitlines()) == len(exercises.EXERCISES) and "attention" in text
    status, text = run("start", "softmax", "--dir", str(tmp_path))
    starter = tmp_path / "softmax.py"
    assert status == 0 and starter.exists() and "raise NotImplementedError" in starter.read_text()
    with pytest.raises(FileExistsError):
        run("start", "softmax", "--dir", str(tmp_path))  # never overwrites a learner's work
    assert run("check", "softmax", str(starter))[0] == 1
    status, text = run("solution", "softmax", "--write", str(tmp_path / "ref.py"))
    assert status == 0 and "elementwise.py:" in text
    status, text = run("check", "softmax", str(tmp_path / "ref.py"))
    assert status == 0 and text.startswith("PASS softmax")
