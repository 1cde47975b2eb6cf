"""The floors of STYLE.md, read from the source with `ast`: imports only point down.

Fails on an upward import edge, on `import numpy` inside glasstorch/ops/ (ops compute with `ctx.xp` /
`backend.xp`), on `import cupy` outside backend.py, on star imports, and on library modules importing
the package root. The one documented back-edge: tensor.py may import `.ops` and `.autograd` lazily,
inside functions (its methods forward to the ops at call time).
"""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "glasstorch"

# module prefix (dotted, relative to glasstorch) -> floor; the longest matching prefix wins
FLOORS = {
    "backend": 0, "cuda": 0, "accelerator": 0, "backends": 0, "errors": 0,
    "tensor": 1, "_tensor_str": 1,
    "autograd": 2, "autograd.functional": 3,  # (jacobian/hessian stack rows with ops)
    "ops": 3, "linalg": 3,
    "nn": 4,
    "optim": 5, "utils": 5, "utils.data": 5, "utils.tensorboard": 8, "distributed": 5,
    "multiprocessing": 5,
    "vision": 6, "datasets": 6, "metrics": 6,
    "train": 7, "serialization": 7, "interop": 7, "nn.parallel": 7,  # DDP: above nn and distributed
    "viz": 8,
    "experiments": 9, "lab": 9, "as_torch": 9, "teaching": 9, "exercises": 9, "cli": 9, "__main__": 9,
    "pt_format": 7, "onnx": 7,
    # issue 14: special functions, distributions, mixed precision (autocast's state is read by the ops)
    "special": 3, "distributions": 4, "autocast_mode": 2, "amp": 5, "cpu": 0, "cpu.amp": 5, "cuda.amp": 5,
}
# floor -> the floors it may import (STYLE.md's table; vision.models builds nn layers and joins maps with ops' cat)
ALLOWED = {0: {0}, 1: {0, 1}, 2: {0, 1, 2}, 3: {0, 1, 2, 3}, 4: {0, 1, 2, 3, 4}, 5: {0, 1, 2, 5},
           6: {0, 1, 3, 4, 5, 6}, 7: set(range(8)), 8: set(range(9)), 9: set(range(10))}
LAZY_BACK_EDGES = {("tensor", "ops"), ("tensor", "autograd")}


def floor_of(module):
    """The floor of a dotted module name inside glasstorch ('' is the package root: None)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in FLOORS:
            return FLOORS[prefix]
    return None


def module_name(path):
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def is_package(path):
    return path.name == "__init__.py"


def imports(path, module=None):
    """(target module inside glasstorch or None, external top-level name or None, node, inside_function)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module = module_name(path) if module is None else module
    parts = module.split(".") if module else []
    package = parts if is_package(path) else parts[:-1]
    function_nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            function_nodes.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        lazy = id(node) in function_nodes
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top == "glasstorch":
                    yield alias.name[len("glasstorch."):] if "." in alias.name else "", None, node, lazy
                else:
                    yield None, top, node, lazy
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                top = (node.module or "").split(".")[0]
                if top != "glasstorch":
                    yield None, top, node, lazy
                    continue
                base = (node.module or "")[len("glasstorch"):].lstrip(".")
            else:
                anchor = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join(anchor + ([node.module] if node.module else []))
            if node.module is None or node.level and not node.module:
                # `from . import x, y`: each name is a submodule (or a name of the package itself)
                for alias in node.names:
                    yield (f"{base}.{alias.name}" if base else alias.name), None, node, lazy
            else:
                yield base, None, node, lazy


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_package_has_modules():
    names = {module_name(p) for p in MODULES}
    assert {"backend", "tensor", "autograd.engine", "ops.arithmetic"} <= names


def problems_in(path, module):
    source_floor = floor_of(module) if module else None
    problems = []
    for target, external, node, lazy in imports(path, module):
        where = f"{path.name}:{node.lineno}"
        if any(alias.name == "*" for alias in getattr(node, "names", [])):
            problems.append(f"{where}: star import")
        if external == "cupy" and module != "backend":
            problems.append(f"{where}: `import cupy` outside backend.py (ask backend.cupy_module())")
        if external == "numpy" and module.startswith("ops"):
            problems.append(f"{where}: `import numpy` inside ops/ (use ctx.xp in forward, or backend.xp)")
        if target is None or source_floor is None:
            continue  # external modules; the package root re-exports everything and is exempt
        if target == "":
            if source_floor < 9:
                problems.append(f"{where}: imports the package root `glasstorch` (import the defining module)")
            continue
        target_floor = floor_of(target)
        if target_floor is None or target_floor in ALLOWED[source_floor]:
            continue
        if lazy and (module.split(".")[0], target.split(".")[0]) in LAZY_BACK_EDGES:
            continue  # the documented back-edge: tensor -> ops/autograd at call time
        problems.append(f"{where}: floor {source_floor} ({module}) imports floor {target_floor} ({target})")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) or "__init__" for p in MODULES])
def test_imports_point_down(path):
    problems = problems_in(path, module_name(path))
    assert not problems, "\n".join(problems)


BAD_SOURCES = {
    "autograd.engine": ("from ..ops import sum_to_shape\n", "floor 2 (autograd.engine) imports floor 3 (ops)"),
    "backend": ("def f():\n    from .tensor import Tensor\n", "floor 0 (backend) imports floor 1 (tensor)"),
    "optim.sgd": ("from ..nn import Module\n", "floor 5 (optim.sgd) imports floor 4 (nn)"),
    "ops.shape": ("import numpy as np\n", "`import numpy` inside ops/"),
    "nn.functional": ("import cupy\n", "`import cupy` outside backend.py"),
    "nn.module": ("from ..ops import *\n", "star import"),
    "vision.mnist": ("import glasstorch\n", "imports the package root"),
    "datasets.toy": ("from ..autograd import no_grad\n", "floor 6 (datasets.toy) imports floor 2 (autograd)"),
    "ops.common": ("def f():\n    from ..nn import functional\n", "floor 3 (ops.common) imports floor 4 (nn)"),
}


@pytest.mark.parametrize("module", sorted(BAD_SOURCES))
def test_checker_catches_violations(module, tmp_path):
    source, expected = BAD_SOURCES[module]
    path = tmp_path / "mod.py"
    path.write_text(source)
    problems = problems_in(path, module)
    assert any(expected in p for p in problems), problems


def test_checker_allows_documented_edges(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("from . import backend\ndef f():\n    from . import ops\n    from .autograd import engine\n")
    assert problems_in(path, "tensor") == []
    path.write_text("from . import ops\n")
    assert problems_in(path, "tensor") != []  # at import time it would be a cycle


# ---- import loops: every edge counts, imports inside functions included ----

def module_graph(root=PACKAGE):
    """module -> set of modules of the same tree it imports (at top level or inside functions).

    The documented call-time back-edges (tensor -> ops, tensor -> autograd) are left out: they are the
    one place the floors bend, and `test_checker_allows_documented_edges` pins where they may appear.
    """
    paths = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    names = {p: ".".join(p.relative_to(root).with_suffix("").parts).removesuffix("__init__").rstrip(".")
             for p in paths}
    known = set(names.values())
    graph = {}
    for path in paths:
        module = names[path]
        edges = set()
        for target, external, _node, lazy in imports(path, module):
            if root.name != "glasstorch" and external == root.name:  # `from benchmarks import x`
                target = ""
            if not target:
                continue
            while target and target not in known:  # `from .x import name`: name is not a module
                target = target.rpartition(".")[0]
            if not target or target == module:
                continue
            if lazy and (module.split(".")[0], target.split(".")[0]) in LAZY_BACK_EDGES:
                continue
            edges.add(target)
        graph[module] = edges
    return graph


def import_loops(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, loops = {}, {}, set(), [], []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    loops.append(sorted(component))
    return loops


@pytest.mark.parametrize("root", [PACKAGE, PACKAGE.parent / "benchmarks"], ids=lambda p: p.name)
def test_no_import_loops(root):
    loops = import_loops(module_graph(root))
    assert not loops, "import loops (function-level imports count):\n" + "\n".join(" <-> ".join(c) for c in loops)


def test_loop_finder_finds_loops():
    assert import_loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_loops({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("path", [p for p in MODULES if module_name(p).startswith("ops")],
                         ids=lambda p: module_name(p))
def test_no_imports_inside_functions_in_ops(path):
    lazy = [f"{path.name}:{node.lineno}" for _t, _e, node, inside in imports(path) if inside]
    assert not lazy, "imports inside functions in ops/ (import at the top, in the fixed file order): " + ", ".join(lazy)
