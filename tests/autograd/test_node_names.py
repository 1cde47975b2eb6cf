"""Graph nodes print torch's names (`grad_fn=<MseLossBackward0>`): the notes print them, and learners compare.

Each case builds the same expression in both libraries and compares `grad_fn.name()`. The names that knowingly
differ (one fused node where torch has several, a reshape where torch has a view) are in docs/DIFFERENCES.md.
"""
import numpy as np
import pytest

import glasstorch

torch = pytest.importorskip("torch")

CASES = {
    "number minus a tensor (the notes' `true_b - b`)": lambda fw, x: 4.2 - x,
    "tensor minus a number": lambda fw, x: x - 4.2,
    "tensor ** number": lambda fw, x: x ** 2,
    "tensor ** tensor": lambda fw, x: x ** (x * 0 + 2),
    "MSELoss (the notes' `print(l)`)": lambda fw, x: fw.nn.MSELoss()(x, x.detach() + 1),
    "CrossEntropyLoss": lambda fw, x: fw.nn.CrossEntropyLoss()(x.reshape(2, 3), fw.tensor([0, 2])),
    "nll_loss": lambda fw, x: fw.nn.functional.nll_loss(x.reshape(2, 3), fw.tensor([0, 2])),
    "Linear on a batch (the notes' AddmmBackward0)": lambda fw, x: fw.nn.Linear(3, 2)(x.reshape(2, 3)),
    "Linear without a bias": lambda fw, x: fw.nn.Linear(3, 2, bias=False)(x.reshape(2, 3)),
    "x @ w": lambda fw, x: x.reshape(2, 3) @ x.reshape(3, 2),
    "Conv2d": lambda fw, x: fw.nn.Conv2d(1, 2, 2)(x.reshape(1, 1, 2, 3)),
    "ConvTranspose2d": lambda fw, x: fw.nn.ConvTranspose2d(1, 2, 2)(x.reshape(1, 1, 2, 3)),
    "MaxPool2d": lambda fw, x: fw.nn.MaxPool2d(2)(x.reshape(1, 1, 2, 3)),
    "AvgPool2d": lambda fw, x: fw.nn.AvgPool2d(2)(x.reshape(1, 1, 2, 3)),
    "sigmoid, tanh, relu, softmax": lambda fw, x: fw.softmax(fw.relu(fw.tanh(fw.sigmoid(x))), 0),
    "sum, mean": lambda fw, x: (x * 2 + 1).sum().mean(),
    "square": lambda fw, x: x.square() + fw.square(x),
    "reshape (a view)": lambda fw, x: x.reshape(2, 3),
    "reshape that copies": lambda fw, x: x.reshape(2, 3).t().reshape(-1),
    "view, flatten": lambda fw, x: x.view(3, 2).flatten(),
    "squeeze()": lambda fw, x: x.reshape(1, 6).squeeze(),
    "squeeze(dim)": lambda fw, x: x.reshape(1, 6).squeeze(0),
    "squeeze(dims)": lambda fw, x: x.reshape(1, 6).squeeze((0,)),
    "unsqueeze": lambda fw, x: x.unsqueeze(0),
    "stack (an LSTM's h_n)": lambda fw, x: fw.stack([x, x], 1),
    "bmm": lambda fw, x: fw.bmm(x.reshape(2, 1, 3), x.reshape(2, 3, 1)),
    "outer": lambda fw, x: fw.outer(x, x),
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_node_names_are_torchs(make):
    values = np.linspace(-1, 1, 6)
    ours = make(glasstorch, glasstorch.tensor(values, dtype=glasstorch.float32, requires_grad=True))
    theirs = make(torch, torch.tensor(values, dtype=torch.float32, requires_grad=True))
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert repr(ours).endswith(f"grad_fn=<{theirs.grad_fn.name()}>)")


def test_the_trace_shows_the_renamed_nodes_with_their_formulas():
    """The step-through trace strips `Backward0` and `Backward1` alike, and each renamed op's first docstring line
    (the trace's "local derivative") is its formula."""
    from glasstorch.autograd.trace import op_name, trace
    layer = glasstorch.nn.Linear(2, 2)
    x = glasstorch.ones(2, 2, requires_grad=True)
    text = str(trace((4.2 - layer(x) @ x).pow(2).sum()))
    for op in ("Rsub(4.2 ()", "Mm(", "Addmm(", "Pow("):
        assert op in text
    derivatives = [line for line in text.splitlines() if "local derivative" in line]
    assert len(derivatives) == 5 and all("dL/d" in line for line in derivatives)
    assert op_name("RsubBackward1") == "Rsub" and op_name("AddmmBackward0") == "Addmm"


def test_a_node_prints_as_torchs_does():
    x = glasstorch.ones(2, requires_grad=True)
    text = repr((x * 2).grad_fn)
    assert text.startswith("<MulBackward0 object at 0x") and text.endswith(">")
    node = (x * 2).grad_fn
    assert repr(node) == f"<MulBackward0 object at {id(node):#x}>"
