"""`glasstorch notebook NAME`: a lesson as a Jupyter notebook that reads like the course notes.

Each lesson's notebook is kept as a jupytext percent-format script, glasstorch/notebooks/<module>.py
(`# %% [markdown]` cells for the idea and the math, `# %%` cells of `import glasstorch as torch` code).
`write` reads it with jupytext, sets the size switch (the cell tagged `parameters`: QUICK, DATA_DIR),
and writes an .ipynb with nbformat; `execute` runs one headless with nbclient on an ipykernel of this
very Python, failing on the first cell error. The set of lessons comes from the registry: a lesson
without a notebook source is reported, never silently skipped.

    glasstorch notebook xor-mlp                 writes ./xor_mlp.ipynb
    glasstorch notebook --all --out notebooks/  every lesson
    glasstorch notebook mlp --quick --run       the quick size, executed (outputs kept in the file)
"""
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from . import registry

SOURCES = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL_NAME = "python3"
EPILOG = """examples:
  glasstorch notebook xor-mlp                       writes ./xor_mlp.ipynb (full size)
  glasstorch notebook mlp --quick --out nb/         the seconds-long size, in nb/mlp.ipynb
  glasstorch notebook --all --out notebooks/        every lesson (lessons without a notebook are reported)
  glasstorch notebook digits-cnn --quick --run      written, then executed headless (outputs saved)
  jupyter lab xor_mlp.ipynb                         then open it
"""


def source_path(name):
    """glasstorch/notebooks/<module>.py for the lesson `name` (dashes or underscores); KeyError if unknown."""
    registry.get(name)  # the registry's own error for an unknown lesson
    return SOURCES / f"{registry.REGISTRY[name.replace('_', '-')]}.py"


def available():
    """{lesson name: source path} for the lessons that have a notebook source, in course order."""
    return {name: source_path(name) for name in registry.names() if source_path(name).is_file()}


def missing():
    """The lessons (course order) that have no notebook source yet."""
    return [name for name in registry.names() if not source_path(name).is_file()]


def _set_parameter(source, name, value):
    """`NAME = ...` (keeping its trailing comment) set to repr(value) in a parameters cell's source."""
    pattern = re.compile(rf"^{name} = [^#\n]*?(\s*#.*)?$", re.M)
    if not pattern.search(source):
        return source
    return pattern.sub(lambda m: f"{name} = {value!r}{m.group(1) or ''}", source, count=1)


def notebook(name, quick=False, data_dir=None):
    """The nbformat notebook of lesson `name`: the jupytext source with its size switch set."""
    import jupytext
    import nbformat
    path = source_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"lesson {name!r} has no notebook source yet ({path})")
    nb = jupytext.read(path, fmt="py:percent")
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise ValueError(f"{path}: no cell tagged 'parameters' (the size switch QUICK = ...)")
    cells[0].source = _set_parameter(cells[0].source, "QUICK", bool(quick))
    if data_dir is not None:
        cells[0].source = _set_parameter(cells[0].source, "DATA_DIR", str(Path(data_dir).resolve()))
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.pop("jupytext", None)  # a plain .ipynb, not paired with the source
    nbformat.validate(nb)
    return nb


def write(name, out_dir=".", quick=False, data_dir=None):
    """Write OUT_DIR/<module>.ipynb for lesson `name`; returns its path."""
    import nbformat
    nb = notebook(name, quick, data_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{source_path(name).stem}.ipynb"
    nbformat.write(nb, str(target))
    return target


def _kernel_manager(kernel_dir):
    """A KernelManager whose kernel is ipykernel on this Python (sys.executable), whatever else is installed,
    importing this very glasstorch (its folder first on PYTHONPATH: a source checkout, not another install)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    spec = Path(kernel_dir) / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    root = str(SOURCES.parents[1])
    path = os.pathsep.join([root] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python", "env": {"PYTHONPATH": path}}))
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]))


def execute(path, cwd=None, timeout=600):
    """Run the notebook at `path` headless (nbclient + ipykernel) in `cwd` (default: its folder) and save the
    outputs into it. A cell error raises nbclient's CellExecutionError naming the cell and the traceback."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(str(path), as_version=4)
    with tempfile.TemporaryDirectory(prefix="glasstorch-kernel-") as kernel_dir:
        client = NotebookClient(nb, km=_kernel_manager(kernel_dir), timeout=timeout,
                                resources={"metadata": {"path": str(cwd or Path(path).parent)}})
        try:
            client.execute()
        finally:
            nbformat.write(nb, str(path))  # what ran, with the failing cell's traceback, for a look afterwards
    return nb


# ----------------------------------------------------------------------------- the command
def add_arguments(parser):
    parser.add_argument("name", nargs="?", help="the lesson (see `glasstorch list`)")
    parser.add_argument("--all", action="store_true", help="every lesson")
    parser.add_argument("--out", default=".", help="folder for the .ipynb files (default: here)")
    parser.add_argument("--quick", action="store_true", help="QUICK = True: the seconds-long size the tests run")
    parser.add_argument("--data-dir", default=None, help="dataset folder written into the notebook (default: "
                        "$GLASSTORCH_DATA, else ../shared/data if it exists, else ~/.cache/glasstorch/data)")
    parser.add_argument("--run", action="store_true", help="also execute each notebook headless (outputs saved)")


def main(args, data_dir=None, out=None):
    out = sys.stdout if out is None else out  # looked up at call time (captured output, redirected stdout)
    if args.all == bool(args.name):
        raise SystemExit("glasstorch notebook: name one lesson, or --all")
    if args.all:
        todo = list(available())
    else:
        try:
            source_path(args.name)
        except KeyError as error:
            raise SystemExit(f"glasstorch notebook: {error.args[0]}") from None
        todo = [args.name]
    status = 0
    for name in todo:
        try:
            path = write(name, args.out, args.quick, args.data_dir or data_dir)
        except FileNotFoundError as error:
            print(f"glasstorch notebook: {error}", file=sys.stderr)
            return 1
        print(f"wrote {path}", file=out)
        if args.run:
            from nbclient.exceptions import CellExecutionError
            try:
                execute(path)
                print(f"  ran {path}: every cell passed", file=out)
            except CellExecutionError as error:
                print(f"  FAILED {path}:\n{error}", file=out)
                status = 1
    if args.all and missing():
        print(f"no notebook yet for: {', '.join(missing())}", file=out)
    return status
