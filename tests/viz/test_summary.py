"""model_summary and capture_outputs: layer rows, output shapes and parameter counts (checked against torch)."""
import torch as real_torch

import glasstorch
from glasstorch import nn
from glasstorch.viz import capture_outputs, model_summary


def simple_cnn(lib):
    """The notes' SimpleCNN, built from either library."""
    return lib.nn.Sequential(lib.nn.Conv2d(1, 32, 3), lib.nn.ReLU(), lib.nn.Conv2d(32, 64, 3), lib.nn.ReLU(),
                             lib.nn.MaxPool2d(2), lib.nn.Dropout(0.25), lib.nn.Flatten(), lib.nn.Linear(9216, 128),
                             lib.nn.ReLU(), lib.nn.Linear(128, 10), lib.nn.LogSoftmax(dim=1))


def test_summary_rows_against_torch(capsys):
    model = simple_cnn(glasstorch)
    model.train()
    summary = model_summary(model, (1, 28, 28))
    printed = capsys.readouterr().out
    assert "Conv2d-1" in printed and "Total params: 1,199,882" in printed
    reference = simple_cnn(real_torch)
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append([-1] + list(o.shape[1:])))
             for m in reference]
    reference(real_torch.zeros(2, 1, 28, 28))
    for h in hooks:
        h.remove()
    assert [r[1] for r in summary.rows] == shapes
    assert [r[2] for r in summary.rows] == [sum(p.numel() for p in m.parameters()) for m in reference]
    assert [r[0] for r in summary.rows][:3] == ["Conv2d-1", "ReLU-2", "Conv2d-3"]
    assert summary.total_params == sum(p.numel() for p in reference.parameters())
    assert summary.output_shape == [-1, 10]
    assert model.training  # mode restored
    assert not any(m._forward_hooks for m in model.modules())  # hooks removed


def test_non_trainable_and_quiet(capsys):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model[0].weight.requires_grad_(False)
    s = model_summary(model, input=glasstorch.randn(5, 3), print_summary=False)
    assert capsys.readouterr().out == ""
    assert s.total_params == 12 + 4 + 8 + 10 and s.trainable_params == s.total_params - 12
    assert "Non-trainable params: 12" in str(s)


def test_capture_outputs():
    model = simple_cnn(glasstorch)
    x = glasstorch.randn(1, 1, 28, 28)
    outs = capture_outputs(model, x, nn.Conv2d)
    assert list(outs) == ["0", "2"]
    assert tuple(outs["2"].shape) == (1, 64, 24, 24)
    assert list(capture_outputs(model, x, "7")) == ["7"]
