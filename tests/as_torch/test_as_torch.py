"""The import hook: torch names resolve to glasstorch's own modules, a missing API is named with the
program's line, --report lists what was touched, and the real torch already imported is refused."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def python(argv, cwd=REPO):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def script(tmp_path, text, name="script.py"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_install_maps_torch_and_torchvision_to_the_glasstorch_modules():
    code = ("import glasstorch.as_torch as a; a.install()\n"
            "import torch, glasstorch, torchvision\nimport torch.nn.functional as F\n"
            "from torch.utils.data import DataLoader\nfrom torchvision import transforms\n"
            "import torch.autograd.functional\n"
            "assert torch is glasstorch and F is glasstorch.nn.functional and torchvision is glasstorch.vision\n"
            "assert transforms is glasstorch.vision.transforms and DataLoader is glasstorch.utils.data.DataLoader\n"
            "assert torch.autograd.functional is glasstorch.autograd.functional\n"
            "assert glasstorch.__spec__.name == 'glasstorch'\nprint('ok')")
    result = python(["-c", code])
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("body, api, line", [
    ("import torch\nx = torch.ones(3)\ny = torch.fft.rfft(x)\n", "torch.fft", 3),
    ("import torch\nimport torch.nn.functional as F\n\nF.no_such_function(torch.ones(2))\n",
     "torch.nn.functional.no_such_function", 4),
    ("import torch\nx = torch.ones(2)\nx.no_such_method()\n", "torch.Tensor.no_such_method", 3),
    ("import torch\nfrom torch.nn import NoSuchLayer\n", "torch.nn.NoSuchLayer", 2),
    ("import torch\nimport torch.no_such_module\n", "torch.no_such_module", 2),
])
def test_a_missing_api_is_named_with_the_programs_line(tmp_path, body, api, line):
    path = script(tmp_path, body)
    result = python(["-m", "glasstorch.as_torch", path])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"glasstorch has no {api} yet (script.py:{line})"


def test_other_errors_keep_their_traceback(tmp_path):
    path = script(tmp_path, "import torch\nraise ValueError('mine')\n")
    result = python(["-m", "glasstorch.as_torch", path])
    assert result.returncode == 1 and "ValueError: mine" in result.stderr and "glasstorch has no" not in result.stderr


def test_argv_exit_code_and_the_cli_subcommand(tmp_path):
    path = script(tmp_path, "import sys, torch\nprint(sys.argv[1:], __name__)\nsys.exit(3)\n")
    for argv in (["-m", "glasstorch.as_torch", path, "--lr", "1"], ["-m", "glasstorch", "as-torch", path, "--lr", "1"]):
        result = python(argv)
        assert result.returncode == 3 and result.stdout.strip() == "['--lr', '1'] __main__", result.stderr


def test_report_lists_touched_and_missing_apis(tmp_path):
    path = script(tmp_path, "import torch\nfrom torch import nn\nm = nn.Linear(2, 1)\n"
                            "y = m(torch.ones(1, 2)).sum()\nprint(hasattr(torch, 'no_such'))\n")
    result = python(["-m", "glasstorch.as_torch", "--report", path])
    assert result.returncode == 0, result.stderr
    report = result.stderr
    assert "torch.ones" in report and "torch.nn.Linear" in report and "torch.Tensor.sum" in report
    assert "MISSING  torch.no_such  (script.py:5)" in report and "1 missing" in report


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch not installed")
def test_refuses_when_the_real_torch_is_already_imported():
    code = "import torch\nimport glasstorch.as_torch as a\na.install()\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    assert "RuntimeError: the real torch is already imported" in result.stderr


@pytest.mark.parametrize("body, message", [
    ("import torch.nn as nn\nnn.Relu()\n", "glasstorch has no torch.nn.Relu (script.py:2); did you mean "
     "torch.nn.ReLU? (names are case-sensitive)"),
    ("import torch\ntorch.nn.Sequental()\n", "glasstorch has no torch.nn.Sequental yet (script.py:2); did you mean "
     "torch.nn.Sequential?"),
])
def test_a_misspelt_name_gets_the_name_it_is_close_to(tmp_path, body, message):
    """The notes write nn.Relu() once: torch has no such name either, so say which one was meant."""
    result = python(["-m", "glasstorch.as_torch", script(tmp_path, body)])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == message


def test_a_script_given_by_a_relative_path_sees_its_absolute_file(tmp_path):
    """`python script.py` makes __file__ absolute (Python 3.9+), and warnings name the absolute path: as_torch too.
    (sys.argv[0] is the absolute path while the script runs, as runpy sets it; argparse's prog, its base name, is
    the same.)"""
    script(tmp_path, "import os, sys\nprint(__file__)\nprint(os.path.basename(sys.argv[0]))\n")
    ours = python(["-m", "glasstorch.as_torch", "script.py"], cwd=tmp_path)
    plain = python(["script.py"], cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == plain.stdout and ours.stdout.splitlines() == [str(tmp_path / "script.py"), "script.py"]
