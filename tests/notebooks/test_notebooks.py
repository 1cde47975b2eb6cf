"""The lesson notebooks: every lesson has a jupytext source, `glasstorch notebook` turns it into a valid .ipynb,
and each notebook's quick size runs headless (nbclient + a real ipykernel on this Python) with no cell error and
its last cell asserting the lesson's QUICK_EXPECTED targets."""
import nbformat
import pytest

from glasstorch import cli
from glasstorch.lab import notebook, registry

# lessons allowed to lack a notebook (a new lesson must either get one or be listed here, knowingly)
WITHOUT_NOTEBOOK = []

LESSONS = list(notebook.available())


def test_every_lesson_has_a_notebook_or_is_listed_as_missing():
    assert notebook.missing() == WITHOUT_NOTEBOOK
    assert list(notebook.available()) == [n for n in registry.names() if n in notebook.available()]  # course order
    assert sorted(list(notebook.available()) + notebook.missing()) == sorted(registry.names())
    assert len(LESSONS) == len(registry.names()) - len(WITHOUT_NOTEBOOK)


@pytest.mark.parametrize("name", LESSONS)
def test_source_reads_like_the_notes(name):
    """A size switch first, markdown with the idea, learner code (`import glasstorch as torch`, not the lab's
    machinery), and the targets asserted in the last cell."""
    nb = notebook.notebook(name, quick=True)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []) and "QUICK = True" in code[0].source
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 3
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    text = "\n".join(c.source for c in code)
    assert "import glasstorch as torch" in text
    assert "glasstorch.lab" not in text and "from glasstorch.experiments.common" not in text
    last = code[-1].source
    module = registry.REGISTRY[name]
    assert f"from glasstorch.experiments import {module} as lesson" in last
    assert "lesson.QUICK_EXPECTED if QUICK else lesson.EXPECTED" in last and "assert" in last


def test_parameters_are_set_with_their_comments_kept():
    src = "QUICK = False  # the size\nDATA_DIR = None\nOTHER = 1"
    out = notebook._set_parameter(notebook._set_parameter(src, "QUICK", True), "DATA_DIR", "/d")
    assert out == "QUICK = True  # the size\nDATA_DIR = '/d'\nOTHER = 1"
    assert notebook._set_parameter(src, "MISSING", 1) == src


def test_the_command_writes_valid_notebooks(tmp_path, capsys):
    assert cli.main(["notebook", "xor-mlp", "--out", str(tmp_path)]) == 0
    nb = nbformat.read(str(tmp_path / "xor_mlp.ipynb"), as_version=4)
    nbformat.validate(nb)
    assert "QUICK = False" in nb.cells[1].source and nb.metadata["kernelspec"]["name"] == "python3"
    assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert cli.main(["notebook", "--all", "--out", str(tmp_path / "all")]) == 0
    written = sorted(p.stem for p in (tmp_path / "all").glob("*.ipynb"))
    assert written == sorted(registry.REGISTRY[n] for n in LESSONS)
    out = capsys.readouterr().out
    assert ("no notebook yet for" in out) == bool(WITHOUT_NOTEBOOK)


def test_the_command_explains_bad_input(tmp_path):
    with pytest.raises(SystemExit, match="unknown experiment 'xor'.*xor-mlp"):
        cli.main(["notebook", "xor", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="name one lesson, or --all"):
        cli.main(["notebook", "--out", str(tmp_path)])


def _needs_data(name):
    return "DATA_DIR" in notebook.notebook(name).cells[1].source


@pytest.mark.parametrize("name", LESSONS)
def test_quick_notebook_runs_and_meets_its_targets(name, tmp_path, request):
    data_dir = request.getfixturevalue("shared_data") if _needs_data(name) else None
    path = notebook.write(name, tmp_path, quick=True, data_dir=data_dir)
    nb = notebook.execute(path, cwd=tmp_path, timeout=300)  # raises CellExecutionError on any cell error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert "all targets met" in "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure displayed inline"


def test_the_kernel_runs_this_python_and_this_glasstorch(tmp_path):
    import sys

    import glasstorch
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, glasstorch\nprint(sys.executable)\nprint(glasstorch.__file__)")])
    path = tmp_path / "which.ipynb"
    nbformat.write(nb, str(path))
    printed = notebook.execute(path, cwd=tmp_path, timeout=120).cells[0].outputs[0]["text"].split()
    assert printed == [sys.executable, glasstorch.__file__]
