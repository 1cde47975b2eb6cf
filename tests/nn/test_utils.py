"""nn.utils: gradient clipping and parameter <-> vector conversion, against torch on the same gradients."""
import math

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import nn

SHAPES = [(5, 3), (3,), (2, 4, 2)]


def params_with_grads(rng, scale):
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        value = rng.standard_normal(shape).astype(np.float32)
        grad = (rng.standard_normal(shape) * scale).astype(np.float32)
        p, q = nn.Parameter(glasstorch.tensor(value)), torch.nn.Parameter(torch.tensor(value))
        if i != 1:  # a parameter without a gradient is skipped by both
            p.grad, q.grad = glasstorch.tensor(grad), torch.tensor(grad)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm, scale", [(1.0, 1.0), (100.0, 1.0), (0.5, 0.01)])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, scale):
    rng = np.random.default_rng(0)
    ours, theirs = params_with_grads(rng, scale)
    total_ours = nn.utils.clip_grad_norm_(iter(ours), max_norm, norm_type=norm_type)
    total_theirs = torch.nn.utils.clip_grad_norm_(iter(theirs), max_norm, norm_type=norm_type)
    assert total_ours.shape == () and total_ours.dtype == glasstorch.float32
    assert total_ours.item() == pytest.approx(total_theirs.item(), rel=1e-5)
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_single_tensor_and_empty():
    p = nn.Parameter(glasstorch.ones(4))
    p.grad = glasstorch.full((4,), 2.0)
    total = nn.utils.clip_grad_norm_(p, 1.0)
    assert total.item() == pytest.approx(4.0)
    assert np.linalg.norm(p.grad.numpy()) == pytest.approx(1.0, rel=1e-5)
    assert nn.utils.clip_grad_norm_([nn.Parameter(glasstorch.ones(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(glasstorch.ones(2))
    p.grad = glasstorch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="is non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("clip_value", [0.1, 1, 5.0])
def test_clip_grad_value_matches_torch(clip_value):
    rng = np.random.default_rng(1)
    ours, theirs = params_with_grads(rng, 2.0)
    assert nn.utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_parameters_to_vector_and_back():
    rng = np.random.default_rng(2)
    ours, theirs = params_with_grads(rng, 1.0)
    vec = nn.utils.parameters_to_vector(ours)
    np.testing.assert_array_equal(vec.detach().numpy(), torch.nn.utils.parameters_to_vector(theirs).detach().numpy())
    vec.sum().backward()  # differentiable: every parameter receives ones (added to the existing grads)
    new = rng.standard_normal(vec.shape[0]).astype(np.float32)
    weight = ours[0]
    nn.utils.vector_to_parameters(glasstorch.tensor(new), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    assert ours[0] is weight
    for p, q in zip(ours, theirs):
        assert tuple(p.shape) == tuple(q.shape)
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters(new, ours)


def test_clip_inside_a_training_step():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    loss = (model(glasstorch.randn(16, 4)) * 100).pow(2).mean()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    total = math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters()))
    assert total == pytest.approx(0.5, rel=1e-4)
