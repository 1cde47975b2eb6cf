"""The README's table of sizes, counted from the source: files and lines of Python per floor.

    python -m glasstorch.lab.loc            print the table (markdown)
    python -m glasstorch.lab.loc --write    replace the table in README.md (between its two marker comments)
    make loc                                the same as --write

Lines are every line of the .py files (docstrings and comments included: they are part of what a student
reads); a file the floors below do not name lands in a row "other", so nothing goes uncounted.
"""
import argparse
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE.parent / "README.md"
BEGIN, END = "<!-- loc table: begin (make loc) -->", "<!-- loc table: end -->"

# (floor, label, paths relative to glasstorch/) in STYLE.md's order; a folder counts with everything inside it
FLOORS = [
    (0, "backend.py + cuda.py", ["backend.py", "cuda/__init__.py"]),
    (1, "tensor.py", ["tensor.py"]),
    (2, "autograd/", ["autograd"]),
    (3, "ops/", ["ops"]),
    (4, "nn/", ["nn"]),
    (5, "optim/ + utils/", ["optim", "utils"]),
    (6, "vision/ + datasets/ + metrics.py", ["vision", "datasets", "metrics.py"]),
    (7, "train.py + serialization.py + interop.py", ["train.py", "serialization.py", "interop.py"]),
    (8, "viz/", ["viz"]),
    (9, "experiments/ (the lessons)", ["experiments"]),
    (9, "lab/ + cli.py + __main__.py (the machinery)", ["lab", "cli.py", "__main__.py"]),
    (None, "`__init__.py` (the re-exports)", ["__init__.py"]),
]


def _files(path):
    path = PACKAGE / path
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def count():
    """[(floor, label, files, lines)], plus an 'other' row for any .py file no floor names."""
    rows, seen = [], set()
    for floor, label, paths in FLOORS:
        files = [f for p in paths for f in _files(p)]
        seen.update(files)
        rows.append((floor, label, len(files), sum(len(f.read_text().splitlines()) for f in files)))
    other = [f for f in _files(".") if f not in seen]
    if other:
        rows.append((None, "other: " + ", ".join(str(f.relative_to(PACKAGE)) for f in other), len(other),
                     sum(len(f.read_text().splitlines()) for f in other)))
    return rows


def table(rows=None):
    rows = count() if rows is None else rows
    lines = ["| floor | rooms | files | lines of Python |", "|---|---|---|---|"]
    lines += [f"| {'' if floor is None else floor} | {label} | {files} | {n:,} |" for floor, label, files, n in rows]
    total_files, total_lines = sum(r[2] for r in rows), sum(r[3] for r in rows)
    lines.append(f"| | total | {total_files} | {total_lines:,} |")
    return "\n".join(lines)


def write(readme=README):
    """Replace the text between the README's two markers with a fresh table; returns the new table."""
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme} has no {BEGIN!r} ... {END!r} markers to put the table between")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = table()
    readme.write_text(f"{head}{BEGIN}\n{new}\n{END}{tail}")
    return new


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m glasstorch.lab.loc", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the table in README.md")
    args = parser.parse_args(argv)
    print(write() if args.write else table())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
