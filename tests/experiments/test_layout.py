"""The layout of floor 9, read with `ast`: experiments/ holds lessons that never import each other, lab/ the
machinery; no import loop in lab/, experiments/ or benchmarks/ (imports inside functions count as edges)."""
import ast
import pathlib

import pytest

from glasstorch.lab.registry import REGISTRY

ROOT = pathlib.Path(__file__).resolve().parents[2]
LESSON_HELPERS = {"common"}  # the one module of helpers lessons share


def module_edges(package):
    """{module: {modules of the same package it imports, anywhere in the file}} for glasstorch/<package> or
    benchmarks/ (dotted names relative to the repository root)."""
    folder = ROOT / package
    prefix = package.replace("/", ".")
    modules = {f"{prefix}.{p.stem}" if p.stem != "__init__" else prefix: p for p in folder.glob("*.py")}
    edges = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = prefix.rsplit(".", node.level - 1)[0] if node.level > 1 else prefix
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module or ""
                candidates = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            targets |= {c for c in candidates if c in modules and c != name}
        edges[name] = targets
    return edges


def find_cycle(edges):
    """One import loop as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_cycle_finder_finds_a_loop_through_a_function_level_import():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("package", ["glasstorch/experiments", "glasstorch/lab", "benchmarks"])
def test_no_import_loop(package):
    cycle = find_cycle(module_edges(package))
    assert cycle is None, " -> ".join(cycle)


def test_no_loop_between_lab_and_experiments():
    edges = {**module_edges("glasstorch/experiments"), **module_edges("glasstorch/lab")}
    for name, path in [(n, ROOT / "glasstorch" / "experiments" / f"{n.split('.')[-1]}.py") for n in edges
                       if n.startswith("glasstorch.experiments.")]:
        text = path.read_text()
        assert "glasstorch.lab" not in text and "from ..lab" not in text, f"{name} imports the lab"


def test_experiments_holds_only_lessons_and_one_helper_module():
    files = {p.stem for p in (ROOT / "glasstorch" / "experiments").glob("*.py")} - {"__init__"}
    assert files == set(REGISTRY.values()) | LESSON_HELPERS


def test_lessons_do_not_import_each_other():
    edges = module_edges("glasstorch/experiments")
    for name, targets in edges.items():
        lessons = {t for t in targets if t.split(".")[-1] not in LESSON_HELPERS}
        assert not lessons, f"{name} imports the lesson(s) {sorted(lessons)}: move the shared piece to common.py"
