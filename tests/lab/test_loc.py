"""The README's table of sizes: every .py file counted once, and --write replaces only the marked table."""
from glasstorch.lab import loc


def test_every_file_and_line_is_counted_once():
    rows = loc.count()
    files = [p for p in loc.PACKAGE.rglob("*.py") if "__pycache__" not in p.parts]
    assert sum(r[2] for r in rows) == len(files)
    assert sum(r[3] for r in rows) == sum(len(p.read_text().splitlines()) for p in files)
    assert [r[1] for r in rows][:2] == ["backend.py + cuda.py", "tensor.py"]


def test_write_replaces_the_table_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{loc.BEGIN}\n| stale | table |\n{loc.END}\n\nafter\n")
    table = loc.write(readme)
    text = readme.read_text()
    assert "stale" not in text and text.startswith("# title\n") and text.endswith("\nafter\n")
    assert f"{loc.BEGIN}\n{table}\n{loc.END}" in text
    assert "| | total |" in table
