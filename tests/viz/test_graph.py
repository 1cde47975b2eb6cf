"""draw_graph: the DOT text of small graphs has the expected nodes and edges."""
import re
import shutil

import numpy as np
import pytest

import glasstorch
from glasstorch import nn
from glasstorch.viz import draw_graph


def labels(g):
    return {node_id: label.split("\n") for node_id, label in g.nodes.items()}


def by_first_line(g):
    return {label[0]: node_id for node_id, label in labels(g).items()}


def test_small_expression_nodes_and_edges():
    a = glasstorch.randn(2, 3, requires_grad=True)
    b = glasstorch.randn(3, requires_grad=True)
    c = glasstorch.randn(2, 3)  # needs no grad: not drawn
    y = ((a * b + c).exp()).sum()
    g = draw_graph(y, params={"a": a, "b": b})
    ids = by_first_line(g)
    assert set(ids) == {"output", "SumBackward0", "ExpBackward0", "AddBackward0", "MulBackward0", "a", "b"}
    expected = {("a", "MulBackward0"), ("b", "MulBackward0"), ("MulBackward0", "AddBackward0"),
                ("AddBackward0", "ExpBackward0"), ("ExpBackward0", "SumBackward0"), ("SumBackward0", "output")}
    names = {v: k for k, v in ids.items()}
    assert {(names[x], names[z]) for x, z in g.edges} == expected
    shapes = {lines[0]: lines[1] for lines in labels(g).values()}
    assert shapes == {"output": "()", "SumBackward0": "()", "ExpBackward0": "(2, 3)", "AddBackward0": "(2, 3)",
                      "MulBackward0": "(2, 3)", "a": "(2, 3)", "b": "(3)"}
    src = g.source
    assert src.startswith("digraph autograd {") and src.rstrip().endswith("}")
    for x, z in g.edges:
        assert f"  {x} -> {z};" in src
    assert len(re.findall(r"->", src)) == 6


def test_shared_subexpression_and_gradient_norms():
    x = glasstorch.randn(4, requires_grad=True)
    h = x.tanh()
    y = (h * h + h).sum()  # h is used three times: one node, edges deduplicated
    g = draw_graph(y, params={"x": x})
    assert sum(1 for lines in labels(g).values() if lines[0] == "TanhBackward0") == 1
    y.backward(retain_graph=True)
    g = draw_graph(y, params={"x": x})  # after backward: ||grad|| of the leaves
    leaf = labels(g)[by_first_line(g)["x"]]
    assert leaf[2] == f"|grad| = {np.linalg.norm(x.grad.numpy().astype(np.float64)):.4g}"
    assert labels(g)[by_first_line(g)["TanhBackward0"]][1] == "(4)"
    y.backward()  # frees the saved tensors: the graph still draws, without the shapes it lost
    g = draw_graph(y, params={"x": x})
    assert set(by_first_line(g)) == {"output", "SumBackward0", "AddBackward0", "MulBackward0", "TanhBackward0",
                                     "x"}
    assert len(labels(g)[by_first_line(g)["x"]]) == 3


def test_module_parameter_names_and_long_chain(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    out = model(glasstorch.randn(5, 3)).mean()
    g = draw_graph(out, params=dict(model.named_parameters()), save_path=tmp_path / "g.dot")
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= set(by_first_line(g))
    assert (tmp_path / "g.dot").read_text() == g.source
    x = glasstorch.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):  # deep chain: the walk is iterative
        y = y * 1.0
    assert len(draw_graph(y).nodes) == 3002


def test_leaf_only_and_errors(tmp_path):
    x = glasstorch.ones(2, requires_grad=True)
    g = draw_graph(x)
    assert len(g.nodes) == 2 and len(g.edges) == 1
    with pytest.raises(TypeError):
        draw_graph(np.ones(2))
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="Graphviz"):
            g.save(tmp_path / "g.svg")
        assert g._repr_svg_() is None
    else:
        g.save(tmp_path / "g.svg")
        assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
