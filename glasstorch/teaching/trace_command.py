"""`glasstorch trace`: the backward pass of a built-in example (or your script), one node at a time.

Examples: notes-autograd (the notes' x = ones(2, 2); out = ((x + 1) * 2).mean(): x.grad is 0.5 everywhere),
diamond (the notes' 2-layer sigmoid network, one step), tiny-cnn, lstm-step (nn.LSTMCell, where present).
A script (--script FILE.py) is run as a program; its tensor named `loss` (else `out`) is traced, and its
other tensors lend their names to the steps.
"""
import runpy
import sys

import numpy as np

from .. import backend, nn
from ..autograd.trace import trace
from ..nn import functional as F
from ..tensor import Tensor, ones, tensor
from . import trace_page

EPILOG = """examples:
  glasstorch trace notes-autograd                          the notes' example, as text
  glasstorch trace diamond --format markdown
  glasstorch trace tiny-cnn --format html --out cnn.html   a page: the graph beside the steps (arrow keys)
  glasstorch trace --script mine.py                        your program's `loss` (or `out`)
"""


def notes_autograd():
    """The notes' autograd cell: x = torch.ones(2, 2, requires_grad=True); y = x + 1; z = y * 2; out = z.mean()."""
    x = ones(2, 2, requires_grad=True)
    y = x + 1
    z = y * 2
    out = z.mean()
    return out, {"x": x, "y": y, "z": z, "out": out}


def diamond():
    """The notes' 2-layer sigmoid network (002, diamond data): 4 points with a bias column, W_1 (3x4), W_2 (4),
    summed binary cross-entropy; one backward step."""
    rng = np.random.default_rng(0)
    x_np = np.concatenate([rng.uniform(-1, 1, (4, 2)), np.ones((4, 1))], axis=1)
    X = tensor(x_np)
    y = tensor(((np.abs(x_np[:, 0]) + np.abs(x_np[:, 1])) < 1).astype(np.float64))
    W_1 = tensor(rng.uniform(-1, 1, (3, 4)), requires_grad=True)
    W_2 = tensor(rng.uniform(-1, 1, (4,)), requires_grad=True)
    z_2 = X @ W_1
    a_2 = z_2.sigmoid()
    z_3 = a_2 @ W_2
    y_pred = z_3.sigmoid()
    loss = -(y * y_pred.log() + (1 - y) * (1 - y_pred).log()).sum()
    return loss, {"W_1": W_1, "W_2": W_2, "z_2": z_2, "a_2": a_2, "z_3": z_3, "y_pred": y_pred, "loss": loss}


def tiny_cnn():
    """conv 1->2 channels (3x3) -> ReLU -> 2x2 max-pool -> linear to 3 classes -> cross-entropy, on one 6x6 image."""
    backend.manual_seed(0)
    conv, fc = nn.Conv2d(1, 2, 3), nn.Linear(8, 3)
    image = tensor(np.random.default_rng(0).standard_normal((1, 1, 6, 6)).astype(np.float32))
    h = conv(image)
    r = F.relu(h)
    p = F.max_pool2d(r, 2)
    logits = fc(p.flatten(1))
    loss = F.cross_entropy(logits, tensor([1]))
    return loss, {"conv.weight": conv.weight, "conv.bias": conv.bias, "fc.weight": fc.weight, "fc.bias": fc.bias,
                  "h": h, "relu": r, "pool": p, "logits": logits, "loss": loss}


def lstm_step():
    """One step of nn.LSTMCell (input 3, hidden 2) from a random state (h0, c0), batch of 1; loss = h.sum()."""
    if not hasattr(nn, "LSTMCell"):
        raise SystemExit("trace lstm-step: this glasstorch has no nn.LSTMCell yet (the sequence layers are not "
                         "installed); try notes-autograd, diamond or tiny-cnn")
    backend.manual_seed(0)
    cell = nn.LSTMCell(3, 2)
    rng = np.random.default_rng(0)
    x, h0, c0 = (tensor(rng.standard_normal(shape).astype(np.float32)) for shape in ((1, 3), (1, 2), (1, 2)))
    h, c = cell(x, (h0, c0))
    loss = h.sum()
    names = {f"cell.{n}": p for n, p in cell.named_parameters()}
    names.update({"x": x, "h0": h0, "c0": c0, "h": h, "c": c, "loss": loss})
    return loss, names


EXAMPLES = {"notes-autograd": notes_autograd, "diamond": diamond, "tiny-cnn": tiny_cnn, "lstm-step": lstm_step}


def add_arguments(parser):
    parser.add_argument("example", nargs="?", choices=sorted(EXAMPLES), help="a built-in example")
    parser.add_argument("--script", metavar="FILE", help="trace your program's `loss` (or `out`) instead")
    parser.add_argument("--format", choices=["text", "markdown", "html"], default="text")
    parser.add_argument("--out", metavar="FILE", help="write here instead of printing (html: default trace.html)")


def from_script(path):
    scope = runpy.run_path(path, run_name="__main__")
    names = {k: v for k, v in scope.items() if isinstance(v, Tensor) and not k.startswith("_")}
    for key in ("loss", "out"):
        if key in names:
            return names[key], names
    raise SystemExit(f"trace --script: {path} defines no tensor named `loss` or `out` to trace")


def main(args, out=sys.stdout):
    if (args.example is None) == (args.script is None):
        print("trace: give one example (" + ", ".join(EXAMPLES) + ") or --script FILE", file=out)
        return 2
    root, names = from_script(args.script) if args.script else EXAMPLES[args.example]()
    title = args.script or args.example
    recorded = trace(root, names=names)
    if args.format == "html":
        page = trace_page.render(recorded, title=f"glasstorch trace: {title}")
        path = args.out or "trace.html"
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        print(f"wrote {path} ({len(recorded.steps)} steps): open it in a browser; click a step or use the arrow keys",
              file=out)
        return 0
    text = recorded.markdown() if args.format == "markdown" else recorded.text()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"wrote {args.out}", file=out)
    else:
        print(text, file=out)
    return 0
