"""The documentation site's generated parts: one page per lesson, the API reference pages, and the nav.

    python -m glasstorch.lab.docs             write docs/lessons/*.md
    python -m glasstorch.lab.docs --check     exit 1 (naming the files) if any of them is out of date
    python -m glasstorch.lab.docs --figures   first run every lesson and keep its figures in docs/lessons/figures/
    make docs                                 write the pages, then `mkdocs build --strict` into site/

A lesson's page is made from what the lesson module says about itself (its docstring, NAME, NOTE, SUMMARY,
Config, EXPECTED and QUICK_EXPECTED), the achieved numbers of docs/RESULTS.md (`glasstorch results`), and the
figures of a real run kept in docs/lessons/figures/NAME/ with a `run.json` that says how they were made
(full size when a full-size run folder under out/ has them, else a quick-size run made by --figures). The
API pages list every public module of each floor, so a new module appears without editing anything; mkdocstrings
renders their docstrings. The API pages and the nav are made while mkdocs builds (this file is its hook:
`on_config`, `on_files`), so a new module or lesson needs no edit; the lesson pages are committed, and a test
checks that they equal what this writes.
"""
import argparse
import dataclasses
import inspect
import json
import re
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

# absolute imports: mkdocs loads this file by its path as a hook (see mkdocs.yml)
from glasstorch.lab.registry import REGISTRY, describe_targets, get, names

try:  # only mkdocs needs it: the griffe extension at the end of this file
    import griffe
except ImportError:  # pragma: no cover
    griffe = None

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parent
DOCS = ROOT / "docs"
LESSONS = DOCS / "lessons"
FIGURES = LESSONS / "figures"

# (page, title, intro, module paths relative to glasstorch/: a folder stands for every public module inside it)
API_PAGES = [
    ("tensor", "Tensor and backend", "Floors 0-1: the NumPy/CuPy switch, dtypes and devices; the Tensor and its "
     "creation functions.", ["__init__.py", "backend.py", "cuda", "cpu", "errors.py", "tensor.py"]),
    ("autograd", "autograd", "Floor 2: `Function` (the graph node), the backward walk, grad modes and `gradcheck`.",
     ["autograd"]),
    ("ops", "ops", "Floor 3: every differentiable primitive, forward and backward side by side. Each op's docstring "
     "starts with its math.", ["ops", "special.py"]),
    ("nn", "nn", "Floor 4: Module, Parameter, the layers, `functional`, `init` and the losses.", ["nn"]),
    ("distributions", "distributions", "Floor 4: probability distributions (sample, rsample, log_prob, entropy), "
     "their constraints and `kl_divergence`.", ["distributions"]),
    ("amp", "amp: mixed precision", "Floors 2 and 5: `autocast` (which ops run in float16) and `GradScaler`.",
     ["autocast_mode.py", "amp"]),
    ("optim", "optim", "Floor 5: the optimizers and `lr_scheduler`.", ["optim"]),
    ("data", "utils.data", "Floor 5: Dataset, DataLoader, samplers, K-fold.", ["utils/__init__.py", "utils/data", "utils/hooks.py"]),
    ("vision", "vision, datasets, metrics", "Floor 6: MNIST/FashionMNIST/Digits and transforms, toy data sets, "
     "scikit-learn-equal metrics.", ["vision", "datasets", "metrics.py"]),
    ("train", "train, serialization, interop", "Floor 7: the training loop, safe save/load, torch <-> glasstorch.",
     ["train.py", "serialization.py", "interop.py"]),
    ("viz", "viz and TensorBoard", "Floor 8: plots, autograd-graph drawing, model summary; "
     "`utils.tensorboard.SummaryWriter`.", ["viz", "utils/tensorboard"]),
]

# not API: the lessons and the machinery that runs them (they have their own pages)
NOT_API = ("experiments", "lab", "exercises", "cli.py", "__main__.py")
OTHER_PAGE = ("other", "More modules", "Public modules that no page above names yet.")

HAND_WRITTEN = [("Home", "index.md"), ("Getting started", "getting-started.md"), ("A tour of the floors", "tour.md"),
                ("Teaching tools", "teaching-tools.md")]
REFERENCE_PAGES = [("Differences from PyTorch", "DIFFERENCES.md"), ("Performance", "PERFORMANCE.md"),
                   ("Results", "RESULTS.md"), ("Reliability", "RELIABILITY.md")]


# ----------------------------------------------------------------------------- what the pages are made of
def results_table(path=DOCS / "RESULTS.md"):
    """{experiment: {"size", "glass": {metric: text}, "torch": {...}, "glass_time", "torch_time"}} from RESULTS.md."""
    out = {}
    if not Path(path).exists():
        return out
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or cells[0] not in REGISTRY:
            continue
        name, size, targets = cells[:3]
        metrics = [t.split()[0] for t in targets.split(", ") if t]
        row = {"size": size}
        for engine, value, time in (("glass", *cells[3:5]), ("torch", *(cells[5:7] if len(cells) >= 7 else ("", "")))):
            values = value.replace("✓", "").replace("✗", "").strip().split(", ") if value else []
            row[engine] = dict(zip(metrics, values)) if len(values) == len(metrics) else {}
            row[f"{engine}_time"] = time
            row[f"{engine}_ok"] = "✓" in value
        out[name] = row
    return out


def lesson_figures(name):
    """(run description dict, [(file, caption)]) of the figures kept for lesson `name` (({}, []) when none)."""
    meta = FIGURES / name / "run.json"
    if not meta.exists():
        return {}, []
    run = json.loads(meta.read_text(encoding="utf-8"))
    figures = [(f, CURVES_CAPTION if f == "curves.png" else c.removesuffix(" (glass)"))
               for f, c in run.get("figures", []) if (FIGURES / name / f).exists()]
    return run, sorted(figures, key=lambda fc: fc[0] == "curves.png")  # the lesson's own figures first


def _config_rows(module):
    full, quick = module.Config(), module.Config.quick()
    return [(f.name, getattr(full, f.name), getattr(quick, f.name)) for f in dataclasses.fields(full)]


def _target(expected, metric):
    return f"{expected[metric][0]} {expected[metric][1]:g}" if metric in expected else ""


def _docstring_markdown(module):
    """The lesson's docstring as markdown: prose as it is, lines laid out in columns kept so (fenced as text)."""
    return torch_style((inspect.getdoc(module) or "").strip(), module=True)


def lesson_page(name, results):
    module = get(name)
    source = Path(inspect.getfile(module)).relative_to(ROOT).as_posix()
    full, quick = module.EXPECTED, getattr(module, "QUICK_EXPECTED", module.EXPECTED)
    lines = [f"# {name}", "", f"**{module.SUMMARY}**", "", f"**From the notes:** {module.NOTE}", "",
             _docstring_markdown(module), "",
             "## Run it", "", "```bash",
             f"glasstorch run {name}                   # full size: report, figures, checkpoint in out/",
             f"glasstorch run {name} --quick           # the seconds-long size the tests use",
             f"glasstorch run {name} --engine both     # on glasstorch and on PyTorch",
             f"glasstorch run {name} --tensorboard runs  # then: tensorboard --logdir runs",
             "```", "", f"The lesson is one file: [`{source}`](#the-lessons-code) (below).", ""]
    lines += ["## Configuration", "", "| field | full size | quick size |", "|---|---|---|"]
    lines += [f"| `{field}` | {a!r} | {b!r} |" for field, a, b in _config_rows(module)]
    row = results.get(name)
    lines += ["", "## Targets and results", ""]
    if row:
        lines.append(f"Achieved: the {row['size']}-size run of [RESULTS](../RESULTS.md) (`glasstorch results`; "
                     f"wall time {row['glass_time']} s on glasstorch, {row['torch_time'] or '-'} s on PyTorch).")
    else:
        lines.append("No run of this lesson is recorded in [RESULTS](../RESULTS.md) yet.")
    lines += ["", "| metric | target (full) | target (quick) | glasstorch | PyTorch |", "|---|---|---|---|---|"]
    for metric in dict.fromkeys([*full, *quick]):
        glass = row["glass"].get(metric, "") if row else ""
        torch = row["torch"].get(metric, "") if row else ""
        lines.append(f"| `{metric}` | {_target(full, metric)} | {_target(quick, metric)} | {glass} | {torch} |")
    run, figures = lesson_figures(name)
    lines += ["", "## Figures", ""]
    if figures:
        if run.get("size") == "quick":
            lines += ['!!! note "Quick-size figures"',
                      f"    No full-size run folder was at hand when these were made, so they come from the quick "
                      f"size: `{run.get('command', '')}` ({run.get('date', '')}). `glasstorch run {name}` draws "
                      "them at full size.", ""]
        else:
            lines += [f"From a full-size run: `{run.get('command', '')}` ({run.get('date', '')}).", ""]
        for file, caption in figures:
            lines += [f"![{caption}](figures/{name}/{file})", "", f"*{caption}*", ""]
    else:
        lines += ["This lesson draws no figure; it prints its results (see `glasstorch run "
                  f"{name}` and the run's report.md).", ""]
    lines += ["## The lesson's code", "", f'??? example "{source}"', f'    ```python',
              f'    --8<-- "{source}"', "    ```", ""]
    return "\n".join(lines)


def lessons_index(results):
    lines = ["# Lessons", "", "Every experiment of the course notes is one lesson: a file in "
             "`glasstorch/experiments/` that runs on glasstorch and, unchanged, on PyTorch "
             "(`glasstorch run NAME --engine both`). In the order a learner meets them:", "",
             "| # | lesson | what it shows | from the notes | target (full size) | met |", "|---|---|---|---|---|---|"]
    for i, name in enumerate(names(), start=1):
        module = get(name)
        row = results.get(name)
        met = ("✓" if row["glass_ok"] else "✗") if row else ""
        lines.append(f"| {i} | [{name}]({name}.md) | {module.SUMMARY} | {module.NOTE} | "
                     f"{describe_targets(module.EXPECTED)} | {met} |")
    lines += ["", "✓: the run recorded in [RESULTS](../RESULTS.md) met every target on glasstorch.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- API pages
def public_modules(rel):
    """(dotted name, is a package) of the public modules under glasstorch/<rel> (a file, or a folder, recursively)."""
    path = (PACKAGE / rel).resolve()
    if path.suffix == ".py":
        files = [path] if path.exists() else []
    else:
        files = sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
    out = []
    for file in files:
        parts = file.relative_to(PACKAGE).with_suffix("").parts
        if any(p.startswith("_") for p in parts if p != "__init__"):
            continue
        package = parts[-1] == "__init__"
        out.append((".".join(("glasstorch", *(parts[:-1] if package else parts))), package))
    return out


def api_pages():
    """[(page, title, intro, [(module, is_package)])]: API_PAGES, and a page for any module none of them names."""
    pages = [(page, title, intro, [m for rel in rels for m in public_modules(rel)])
             for page, title, intro, rels in API_PAGES]
    named = {m for *_, modules in pages for m in modules}
    rest = [m for m in public_modules(".") if m not in named
            and not any(m[0] == "glasstorch." + n.removesuffix(".py") or
                        m[0].startswith("glasstorch." + n + ".") for n in NOT_API)]
    return pages + ([(*OTHER_PAGE, rest)] if rest else [])


def api_page(title, intro, modules):
    lines = [f"# {title}", "", intro, ""]
    for module, package in modules:
        # a package's entry is its docstring: its names are documented where they are defined
        lines += [f"::: {module}"] + (["    options:", "      members: false"] if package else []) + [""]
    return "\n".join(lines)


def api_index():
    lines = ["# API reference", "", "Generated from the docstrings (torch-style `Args:`, `Shape:`, `Example:`; "
             "the examples are doctested, so what you read here runs). One page per floor:", ""]
    lines += [f"- [{title}]({page}.md): {intro}" for page, title, intro, _ in api_pages()]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- nav
def nav():
    """The site's navigation, as mkdocs.yml would spell it."""
    return ([{title: path} for title, path in HAND_WRITTEN]
            + [{"Lessons": ["lessons/index.md"] + [{n: f"lessons/{n}.md"} for n in names()]}]
            + [{"API reference": ["api/index.md"] + [{t: f"api/{p}.md"} for p, t, _, _ in api_pages()]}]
            + [{title: path} for title, path in REFERENCE_PAGES if (DOCS / path).exists()]
            + [{p.stem.title(): p.name} for p in sorted(DOCS.glob("*.md"))  # any other page of docs/
               if p.name not in {path for _, path in HAND_WRITTEN + REFERENCE_PAGES}])


# ----------------------------------------------------------------------------- all files
def generated():
    """{path: text} of the committed generated files: the lesson pages."""
    results = results_table()
    files = {LESSONS / "index.md": lessons_index(results)}
    for name in names():
        files[LESSONS / f"{name}.md"] = lesson_page(name, results)
    return files


def api_files():
    """{"api/<page>.md": text}: the API reference, made afresh at every build."""
    files = {"api/index.md": api_index()}
    for page, title, intro, modules in api_pages():
        files[f"api/{page}.md"] = api_page(title, intro, modules)
    return files


def stale():
    """The lesson pages whose committed text differs from what `generated()` writes, and stray pages."""
    files = generated()
    out = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    return out + [p for p in LESSONS.glob("*.md") if p not in files]


def write():
    files = generated()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for p in LESSONS.glob("*.md"):
        if p not in files:
            p.unlink()
    return list(files)


# ----------------------------------------------------------------------------- mkdocs hooks
def on_config(config, **kwargs):
    """mkdocs hook: the nav, from the registry and the API pages."""
    config["nav"] = nav()
    return config


def on_files(files, config, **kwargs):
    """mkdocs hook: add the API pages (generated in memory, never written into docs/)."""
    from mkdocs.structure.files import File
    for path, text in api_files().items():
        files.append(File.generated(config, path, content=text))
    return files


# ----------------------------------------------------------------------------- figures from a real run
def _report_figures(folder):
    """[(file, caption)] of the figures a run folder's report.md shows, curves.png last."""
    report = folder / "report.md"
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    figures = []
    for match in re.finditer(r"!\[([^\]]*)\]\(([^)]+\.png)\)", text):
        caption, file = match.groups()
        if (folder / file).exists() and file not in [f for f, _ in figures]:
            figures.append((file, caption))
    for png in sorted(folder.glob("*.png")):
        if png.name not in [f for f, _ in figures]:
            figures.append((png.name, CURVES_CAPTION if png.name == "curves.png" else png.stem.replace("_", " ")))
    return figures


CURVES_CAPTION = "Every metric the lesson logged, per epoch or step (the run's curves.png)"


def newest_full_run(name, out_root):
    """The newest full-size run folder of `name` under out_root that holds figures, and its metrics.json."""
    for folder in sorted(Path(out_root).glob(f"{name}-*"), reverse=True):
        metrics = folder / "metrics.json"
        if metrics.exists() and list(folder.glob("*.png")):
            data = json.loads(metrics.read_text(encoding="utf-8"))
            if data.get("size") == "full":
                return folder, data
    return None


def collect_figures(out_root="out", data_dir=None, only=None):
    """Keep each lesson's figures in docs/lessons/figures/NAME/ with run.json: from its newest full-size run
    folder under `out_root` when there is one, else from a quick-size run made now (on glasstorch)."""
    from glasstorch.lab.runner import run_experiment
    for name in only or names():
        target = FIGURES / name
        found = newest_full_run(name, out_root)
        if found is not None:
            folder, data = found
            run = {"size": "full", "command": f"glasstorch run {name}", "date": data.get("started", ""),
                   "passed": data.get("passed")}
        else:
            folder = Path(tempfile.mkdtemp(prefix=f"docs-{name}-"))
            record = run_experiment(name, quick=True, data_dir=data_dir, verbose=False, folder=folder)
            run = {"size": "quick", "command": f"glasstorch run {name} --quick", "date": record.started,
                   "passed": record.passed}
        figures = _report_figures(folder)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True, exist_ok=True)
        for file, _ in figures:
            shutil.copy2(folder / file, target / file)
        run["figures"] = [list(f) for f in figures]
        (target / "run.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if found is None:
            shutil.rmtree(folder, ignore_errors=True)
        print(f"{name}: {len(figures)} figure(s) from a {run['size']}-size run", flush=True)


# ----------------------------------------------------------------------------- how mkdocstrings reads docstrings
def torch_style(docstring, math_first_line=False, module=False):
    """A docstring (dedented, as griffe holds it) as mkdocstrings should read it: torch's `Example:` section is
    griffe's `Examples:` (so its `>>>` lines render as code); an op's first line, its math, is code (`y[i][j]`
    is no markdown link); in a module's docstring, lines laid out in columns (a table, a usage block) or
    indented as a block stay laid out (fenced as text)."""
    lines = ["Examples:" if line.rstrip() == "Example:" else line for line in docstring.split("\n")]
    if math_first_line and lines[0].strip() and "`" not in lines[0]:
        lines[0] = f"`{lines[0].strip()}`"
    if module:
        out, fenced = [], False
        for i, line in enumerate(lines):
            # columns (two spaces between words) or a block indented as code: one fence around the whole block
            aligned = (i > 0 and bool(re.search(r"\S {2,}\S", line) or line.startswith("    "))
                       and not line.lstrip().startswith(">>>"))
            if aligned and not fenced:
                out.append("```text")
            elif fenced and not aligned:
                out.append("```")
            fenced = aligned
            out.append(line)
        lines = out + (["```"] if fenced else [])
    return "\n".join(lines)


if griffe is not None:
    class TorchStyleDocstrings(griffe.Extension):
        """mkdocs.yml's griffe extension: `torch_style` on every docstring (the source files stay as they are)."""

        def on_instance(self, *, obj, **kwargs):
            if obj.docstring is not None:
                math = obj.path.startswith("glasstorch.ops.") and obj.is_class
                obj.docstring.value = torch_style(obj.docstring.value, math, module=obj.is_module)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m glasstorch.lab.docs", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the generated files are up to date")
    parser.add_argument("--figures", action="store_true", help="first collect every lesson's figures from a real run")
    parser.add_argument("--only", nargs="*", help="with --figures: only these lessons")
    parser.add_argument("--out", default="out", help="run folders to take full-size figures from (default out/)")
    parser.add_argument("--data-dir", default=None, help="dataset folder for the quick runs")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        for p in bad:
            print(f"out of date: {p.relative_to(ROOT)}")
        if bad:
            print("run `make docs` (python -m glasstorch.lab.docs) and commit the result")
        return 1 if bad else 0
    if args.figures:
        from glasstorch.cli import default_data_dir
        collect_figures(args.out, args.data_dir or default_data_dir(), args.only)
    files = write()
    print(f"wrote {len(files)} lesson pages into {LESSONS.relative_to(ROOT)}/ (the API pages and the nav are made "
          "by mkdocs build)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
