"""The documentation site: generated pages up to date with the registry, and `mkdocs build --strict` clean."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from glasstorch.lab import docs
from glasstorch.lab.registry import get, names

ROOT = Path(docs.__file__).resolve().parents[2]


def test_generated_pages_are_up_to_date():
    stale = [str(p.relative_to(ROOT)) for p in docs.stale()]
    assert stale == [], f"out of date: {stale}; run `make docs` (python -m glasstorch.lab.docs) and commit"


def test_every_lesson_has_a_page_with_its_notes_targets_and_code():
    results = docs.results_table()
    for name in names():
        module = get(name)
        page = (docs.LESSONS / f"{name}.md").read_text(encoding="utf-8")
        assert module.NOTE in page and module.SUMMARY in page
        assert module.__doc__.strip().split("\n")[0] in page
        for metric, (op, value) in module.EXPECTED.items():
            assert f"| `{metric}` | {op} {value:g} |" in page
            if name in results and results[name]["glass"]:
                assert f"| {results[name]['glass'][metric]} |" in page
        assert f'--8<-- "glasstorch/experiments/{module.__name__.rsplit(".", 1)[1]}.py"' in page
        assert f"[{name}]({name}.md)" in (docs.LESSONS / "index.md").read_text(encoding="utf-8")


def test_results_table_reads_the_achieved_values():
    results = docs.results_table()
    row = results["xor-mlp"]
    assert row["size"] in ("full", "quick") and set(row["glass"]) == set(get("xor-mlp").EXPECTED)
    assert row["glass_ok"] is True


def test_figures_say_where_they_come_from():
    for name in names():
        run, figures = docs.lesson_figures(name)
        page = (docs.LESSONS / f"{name}.md").read_text(encoding="utf-8")
        for file, _ in figures:
            assert (docs.FIGURES / name / file).is_file() and f"(figures/{name}/{file})" in page
        if figures and run["size"] == "quick":
            assert "Quick-size figures" in page and f"glasstorch run {name} --quick" in page


def test_full_size_run_folders_are_preferred_to_quick_runs(tmp_path, monkeypatch):
    out = tmp_path / "out"
    folder = out / "xor-mlp-20260101-000000"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps({"size": "full", "started": "2026-01-01 00:00:00 UTC",
                                                     "passed": True}))
    (folder / "report.md").write_text("![The boundary (glass)](decision_boundary.png)\n")
    (folder / "decision_boundary.png").write_bytes(b"\x89PNG fake")
    (folder / "curves.png").write_bytes(b"\x89PNG fake2")
    quick = out / "xor-mlp-20270101-000000"  # newer, but quick: not taken
    quick.mkdir()
    (quick / "metrics.json").write_text(json.dumps({"size": "quick"}))
    (quick / "other.png").write_bytes(b"x")
    monkeypatch.setattr(docs, "FIGURES", tmp_path / "figures")
    docs.collect_figures(str(out), only=["xor-mlp"])
    run, figures = docs.lesson_figures("xor-mlp")
    assert run["size"] == "full" and run["date"] == "2026-01-01 00:00:00 UTC"
    assert figures == [("decision_boundary.png", "The boundary"), ("curves.png", docs.CURVES_CAPTION)]
    assert (tmp_path / "figures" / "xor-mlp" / "curves.png").read_bytes() == b"\x89PNG fake2"


def test_api_pages_name_every_public_module_once():  # made at build time, so a new module is never missed
    text = "".join(docs.api_files().values())
    expected = set()
    for path in (ROOT / "glasstorch").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[1] in ("experiments", "lab", "exercises", "cli", "__main__") or any(
                p.startswith("_") and p != "__init__" for p in parts):
            continue
        expected.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    listed = [line[4:] for line in text.splitlines() if line.startswith("::: ")]
    assert sorted(listed) == sorted(expected)
    assert "glasstorch.nn.modules.linear" in listed and "glasstorch.lab.docs" not in listed


def test_torch_style_docstrings():
    doc = "Linear layer.\n\nExample:\n    >>> 1 + 1\n    2\n"
    assert docs.torch_style(doc) == "Linear layer.\n\nExamples:\n    >>> 1 + 1\n    2\n"
    assert docs.torch_style("y[i] = x[index[i]];  dL/dx = scatter", math_first_line=True) == \
        "`y[i] = x[index[i]];  dL/dx = scatter`"
    table = "The ops.\n\narithmetic.py   + - * /\nmatmul.py       mm mv\n\nMore."
    assert docs.torch_style(table, module=True) == \
        "The ops.\n\n```text\narithmetic.py   + - * /\nmatmul.py       mm mv\n```\n\nMore."


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("material")
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    lesson = (site / "lessons" / "xor-mlp" / "index.html").read_text(encoding="utf-8")
    assert 'src="../figures/xor-mlp/decision_boundary.png"' in lesson
    assert "def run(fw, cfg, lab):" in re.sub(r"<[^>]+>", "", lesson)  # the lesson's code, inlined by snippets
    assert (site / "lessons" / "figures" / "xor-mlp" / "decision_boundary.png").is_file()
    api = (site / "api" / "nn" / "index.html").read_text(encoding="utf-8")
    assert 'id="glasstorch.nn.modules.linear.Linear"' in api and "in_features" in api
    assert "language-pycon" in api or "highlight" in api  # Example sections render as code
    for page in ("getting-started", "tour", "teaching-tools", "DIFFERENCES", "PERFORMANCE", "RESULTS", "api/ops"):
        assert (site / page / "index.html").is_file(), page
    home = (site / "index.html").read_text(encoding="utf-8")
    for name in names():  # the nav, made by the hook, lists every lesson
        assert f'href="lessons/{name}/"' in home, name
