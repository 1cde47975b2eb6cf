"""Draw the autograd graph behind a tensor: what backward() will walk.

    loss = F.cross_entropy(model(x), y)
    g = draw_graph(loss, params=dict(model.named_parameters()))
    print(g.source)                 # Graphviz DOT text, always available
    g.save("graph.svg")             # .svg / .png / .pdf need Graphviz's `dot` program; .dot never does

Each op node is a `Function` (its name as torch prints it, e.g. `MulBackward0`, and the shape of what
it produced: draw before backward, or after `backward(retain_graph=True)`, since backward frees the
saved tensors the shapes are read from); arrows go from inputs to the op that used them, ending at the
tensor you started from.
Leaves (tensors you created with requires_grad=True: the parameters) are boxes named after the module's
parameters when `params` is given, with their gradient norm once backward has run. Tensors that need no
gradient (the data) are left out, as backward never visits them.
"""
import shutil
import subprocess

import numpy as np

from ..tensor import Tensor

_OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="#e8e8e8"'
_LEAF_STYLE = 'shape=box, style=filled, fillcolor="#cde4ff"'
_OUT_STYLE = 'shape=box, style=filled, fillcolor="#c9f0c9"'


def _shape_text(shape):
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class GraphDrawing:
    """The drawn graph: `source` (DOT text), `nodes` ({id: label}), `edges` ([(from_id, to_id)]).

    In Jupyter it shows itself as SVG when Graphviz is installed.
    """

    def __init__(self, nodes, styles, edges, title):
        self.nodes = nodes
        self.styles = styles
        self.edges = edges
        self.title = title

    @property
    def source(self):
        lines = ["digraph autograd {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];',
                 f"  label={_quote(self.title)}; labelloc=t; fontname=\"Helvetica\";"]
        for node_id, label in self.nodes.items():
            lines.append(f"  {node_id} [label={_quote(label)}, {self.styles[node_id]}];")
        for a, b in self.edges:
            lines.append(f"  {a} -> {b};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<GraphDrawing: {len(self.nodes)} nodes, {len(self.edges)} edges>"

    def render(self, fmt="svg"):
        """Bytes of the picture in `fmt` ('svg', 'png', 'pdf'), drawn by Graphviz's `dot`."""
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError("drawing the graph as an image needs Graphviz's `dot` program (e.g. "
                               "`apt install graphviz` or `conda install graphviz`); the DOT text is in .source, "
                               "and save('graph.dot') works without it")
        return subprocess.run([dot, f"-T{fmt}"], input=self.source.encode(), capture_output=True, check=True).stdout

    def save(self, path):
        """Write the graph: `.dot`/`.gv` as text, `.svg`/`.png`/`.pdf` through Graphviz."""
        path = str(path)
        ext = path.rsplit(".", 1)[-1].lower()
        data = self.source.encode() if ext in ("dot", "gv") else self.render(ext)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_svg_(self):
        return self.render("svg").decode() if shutil.which("dot") else None


def draw_graph(tensor, params=None, show_shapes=True, show_grad_norms=True, title=None, save_path=None):
    """Draw the autograd graph that produced `tensor`.

    Args:
        tensor: the result to draw from (a loss, or any tensor with a grad_fn).
        params: {name: tensor} naming the leaves, usually `dict(model.named_parameters())`.
        show_shapes: write each op's output shape and each leaf's shape.
        show_grad_norms: write ||grad|| of leaves that have a .grad (after backward).
        save_path: also save it (.dot always; .svg/.png when Graphviz is installed).
    Returns:
        GraphDrawing (`.source` is the DOT text).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph expects a glasstorch Tensor, got {type(tensor).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    nodes, styles, edges = {}, {}, []
    short = {}  # id(object) -> "op3" / "leaf4": short, stable node names in the DOT text

    def node_name(obj, kind):
        if id(obj) not in short:
            short[id(obj)] = f"{kind}{len(short) + 1}"
        return short[id(obj)]

    def leaf_node(t):
        node_id = node_name(t, "leaf")
        if node_id not in nodes:
            lines = [names.get(id(t), "leaf")]
            if show_shapes:
                lines.append(_shape_text(t.shape))
            if show_grad_norms and t.grad is not None:
                g = np.asarray(t.grad._array, dtype=np.float64)
                lines.append(f"|grad| = {np.sqrt((g * g).sum()):.4g}")
            nodes[node_id], styles[node_id] = "\n".join(lines), _LEAF_STYLE
        return node_id

    out_id = "output"
    out_label = "output" + (f"\n{_shape_text(tensor.shape)}" if show_shapes else "")
    nodes[out_id], styles[out_id] = out_label, _OUT_STYLE
    if tensor.grad_fn is None:
        if tensor.requires_grad:
            edges.append((leaf_node(tensor), out_id))
        return _finish(GraphDrawing(nodes, styles, edges, title or "autograd graph"), save_path)

    # the shape an op produced is the shape its consumer received as input: known before the op is visited
    out_shape = {id(tensor.grad_fn): tensor.shape}
    stack, seen = [tensor.grad_fn], {id(tensor.grad_fn)}
    edges.append((node_name(tensor.grad_fn, "op"), out_id))
    while stack:  # iterative: a 10,000-op chain must not hit the recursion limit
        fn = stack.pop()
        fn_id = node_name(fn, "op")
        label = fn.name()
        if show_shapes and id(fn) in out_shape:
            label += "\n" + _shape_text(out_shape[id(fn)])
        nodes[fn_id], styles[fn_id] = label, _OP_STYLE
        for inp, edge in zip(fn.inputs, fn.edges):
            if edge is not None:
                if inp is not None:  # after backward the walk frees saved inputs: their shapes are gone
                    out_shape.setdefault(id(edge), inp.shape)
                edges.append((node_name(edge, "op"), fn_id))
                if id(edge) not in seen:
                    seen.add(id(edge))
                    stack.append(edge)
            elif getattr(inp, "requires_grad", False) and isinstance(inp, Tensor):
                edges.append((leaf_node(inp), fn_id))
    drawing = GraphDrawing(nodes, styles, list(dict.fromkeys(edges)), title or "autograd graph")
    return _finish(drawing, save_path)


def _finish(drawing, save_path):
    if save_path is not None:
        drawing.save(save_path)
    return drawing
