"""The suite of PyTorch programs in programs/: each runs unchanged through `python -m glasstorch.as_torch`
and, where PyTorch is installed, on PyTorch itself; the numbers both print must agree.

The programs are written the way tutorials and textbook chapters write them (quickstart, polynomial fit,
custom Functions, jacobians, device boilerplate, torch.compile, out=, least squares ...), with fixed data
and initial weights so that both libraries compute the same thing (their random generators differ).
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROGRAMS = sorted((HERE / "programs").glob("p*.py"))
ARGS = {"p16_linear_regression_scratch.py": ["--epochs", "3", "--lr", "0.03"]}
NUMBER = re.compile(r"(?<![A-Za-z_\d.])(?:[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|True|False|nan|inf)"
                    r"(?![A-Za-z_])")
RTOL, ATOL = 1e-4, 1e-5


def numbers(text):
    """Every number a program printed, in order (True/False count as 1/0, as printed flags)."""
    out = []
    for token in NUMBER.findall(text):
        out.append({"True": 1.0, "False": 0.0}.get(token, None) if token in ("True", "False") else float(token))
    return np.array(out, dtype=np.float64)


def run(argv, cwd, env=None):
    result = subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(argv)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def glasstorch_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    # the programs' ops are small: BLAS threads only spin on a busy machine (p44: 1.6 s with one, 12 s with two)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def test_there_are_at_least_thirty_programs():
    assert len(PROGRAMS) >= 30


def test_the_number_parser():
    got = numbers("loss: 0.25 [ 30/180] True False -1.5e-08 x^2 + 3.0 x nan layer1 float32")
    np.testing.assert_array_equal(got[:7], [0.25, 30, 180, 1, 0, -1.5e-08, 2])
    assert np.isnan(got[8]) and len(got) == 9  # (layer1 and float32 are names: not numbers)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_program_runs_unchanged_and_matches_pytorch(program, tmp_path):
    args = ARGS.get(program.name, [])
    ours = run(["-m", "glasstorch.as_torch", str(program), *args], cwd=REPO, env=glasstorch_env())
    ours_numbers = numbers(ours)
    assert len(ours_numbers) > 3, ours
    # (a program that imports torchvision inside try/except, indented, runs without it)
    needs = ["torch"] + (["torchvision"] if re.search(r"^(import|from) torchvision", program.read_text(), re.M) else [])
    if any(importlib.util.find_spec(name) is None for name in needs):
        pytest.skip(f"{' and '.join(needs)} not installed: ran on glasstorch only")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.setdefault("OMP_NUM_THREADS", "1")  # (as for glasstorch: torch's pool spun p42 from 5 s to 80 s)
    theirs = run([str(program), *args], cwd=tmp_path, env=env)
    theirs_numbers = numbers(theirs)
    assert len(ours_numbers) == len(theirs_numbers), f"glasstorch printed:\n{ours}\nPyTorch printed:\n{theirs}"
    close = np.isclose(ours_numbers, theirs_numbers, rtol=RTOL, atol=ATOL, equal_nan=True)
    if not close.all():
        i = int(np.argmin(close))
        pytest.fail(f"number {i} differs: glasstorch {ours_numbers[i]!r}, PyTorch {theirs_numbers[i]!r}\n"
                    f"glasstorch printed:\n{ours}\nPyTorch printed:\n{theirs}")
