"""Every docstring example runs: each glasstorch module whose source has a `>>>` example is doctested, so the
docs cannot drift from the code. Examples are written as a user would (`import glasstorch as torch`), so
they see `torch` = glasstorch and `nn` = glasstorch.nn; one that cannot run here says `# doctest: +SKIP`."""
import doctest
import importlib
from pathlib import Path

import pytest

import glasstorch
from glasstorch import nn

PACKAGE = Path(glasstorch.__file__).resolve().parent


def _modules_with_examples():
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_the_examples_are_found():
    assert "glasstorch.optim.sgd" in MODULES and "glasstorch.nn.modules.linear" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    """doctest.testmod's run, with the report of every failing example kept for the assertion message."""
    glasstorch.manual_seed(0)  # examples that draw random numbers see the same ones every run
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    for test in doctest.DocTestFinder().find(module, name, globs={**vars(module), "torch": glasstorch, "nn": nn}):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
