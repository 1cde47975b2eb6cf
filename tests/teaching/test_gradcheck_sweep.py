"""`glasstorch gradcheck`: the sweep passes on the library, and catches a planted broken backward."""
import argparse
import io
import textwrap

import pytest

import glasstorch
from glasstorch.teaching import gradcheck_sweep


def _run(*argv):
    parser = argparse.ArgumentParser()
    gradcheck_sweep.add_arguments(parser)
    out = io.StringIO()
    return gradcheck_sweep.main(parser.parse_args(list(argv)), out=out), out.getvalue()


def test_the_whole_sweep_passes_on_the_library():
    code, out = _run("--all")
    assert code == 0, out
    summary = out.strip().splitlines()[-1]
    assert " 0 failed" in summary
    names = {line.split()[0] for line in out.splitlines()[1:] if line and not line.startswith(" ")}
    assert {"exp", "conv2d", "max_pool2d", "Linear", "Conv2d", "BatchNorm2d", "Embedding", "MSELoss",
            "CrossEntropyLoss"} <= names
    assert len(gradcheck_sweep.op_targets()) == sum(s.grad and s.check for s in gradcheck_sweep.op_specs.SPECS)


def test_a_planted_broken_backward_is_caught(monkeypatch):
    exp_node = type(glasstorch.ones(2, requires_grad=True).exp().grad_fn)  # the op class, whatever its name
    monkeypatch.setattr(exp_node, "backward", staticmethod(lambda ctx, grad: grad * 1.01 * ctx.output))
    code, out = _run("exp", "add")
    assert code == 1
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line and not line.startswith(" ")}
    assert rows["exp"].endswith("FAIL") and rows["add"].endswith("ok")
    assert "1 failed" in out and out.strip().endswith(": exp")


def test_float32_and_eps_pitfalls_are_named():
    code, out = _run("sigmoid", "--dtype", "float32", "--eps", "1e-7")  # float32 with a tiny eps: round-off
    assert code == 1
    assert "float32 is too coarse" in out
    code, out = _run("exp", "--eps", "1e-12")  # float64, eps far too small
    assert code == 1 and "eps too small" in out
    code, out = _run("exp", "--eps", "0.3")  # float64, eps far too large
    assert code == 1 and "eps too large" in out


USER = textwrap.dedent('''
    import glasstorch as torch
    from glasstorch import nn
    from glasstorch.autograd import Function

    class Cube(Function):
        """torch-style: y = x^3;  dL/dx = dL/dy * 3 x^2"""
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3
        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 3 * x * x

    class BrokenCube(Cube):
        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 2 * x * x

    class Noisy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.drop = nn.Dropout(0.5)
        def forward(self, x):
            return self.drop(self.fc(x))

    class Kinked(nn.Module):
        @staticmethod
        def example_inputs():
            return (torch.tensor([[0.0, 1.0, -2.0]], dtype=torch.float64),)
        def forward(self, x):
            return x.relu()
''')


def test_user_functions_and_modules(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(USER)
    code, out = _run("--module", f"{path}:Cube", "--shape", "2,3")
    assert code == 0, out
    code, out = _run("--module", f"{path}:BrokenCube")
    assert code == 1 and "BrokenCube" in out
    code, out = _run("--module", f"{path}:Noisy")  # dropout in training mode
    assert code == 1 and "different outputs on two runs" in out and "a kink" not in out
    code, out = _run("--module", f"{path}:Kinked")  # ReLU at 0: autograd says 0, the central difference 0.5
    assert code == 1 and "a kink" in out


def test_unknown_names_are_explained():
    with pytest.raises(SystemExit, match="unknown name 'expp'"):
        _run("expp")
    code, out = _run()
    assert code == 2 and "--all" in out
