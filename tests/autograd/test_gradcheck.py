"""numerical_gradient (central differences, as in the notes) and gradcheck / gradgradcheck."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.autograd import GradcheckError, gradcheck, gradgradcheck, numerical_gradient


def test_numerical_gradient_of_sum_of_squares_on_arrays():
    """The notes' example: f(x0, x1) = x0^2 + x1^2 has gradient (6, 8) at (3, 4)."""
    def f(x):
        return x[0] ** 2 + x[1] ** 2
    grad = numerical_gradient(f, np.array([3.0, 4.0]))
    np.testing.assert_allclose(grad, [6.0, 8.0], rtol=1e-6)
    np.testing.assert_allclose(numerical_gradient(f, np.array([0.0, 2.0])), [0.0, 4.0], atol=1e-6)


def test_numerical_gradient_on_tensors_restores_x_and_matches_autograd():
    rng = np.random.default_rng(0)
    x = glasstorch.tensor(rng.standard_normal((3, 4)), dtype=glasstorch.float64)
    before = x.numpy().copy()
    num = numerical_gradient(lambda t: (t.sin() * t).sum(), x)
    assert isinstance(num, glasstorch.Tensor) and num.shape == (3, 4)
    np.testing.assert_array_equal(x.numpy(), before)
    tx = torch.tensor(before, requires_grad=True)
    (tx.sin() * tx).sum().backward()
    np.testing.assert_allclose(num.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-8)


def test_numerical_gradient_rejects_integers():
    with pytest.raises(TypeError, match="floating-point"):
        numerical_gradient(lambda x: x.sum(), np.array([1, 2]))


def test_gradcheck_passes_on_correct_ops():
    rng = np.random.default_rng(1)
    a = glasstorch.tensor(rng.standard_normal((2, 3)), dtype=glasstorch.float64, requires_grad=True)
    b = glasstorch.tensor(rng.standard_normal((3,)), dtype=glasstorch.float64, requires_grad=True)
    assert gradcheck(lambda a, b: (a * b).tanh() @ b, (a, b))
    assert gradgradcheck(lambda a, b: (a * b).tanh().sum(1) * b[:2], (a, b))
    assert glasstorch.autograd.gradcheck(lambda x: x.exp(), a)


class WrongSquare(glasstorch.autograd.Function):
    """y = x^2 with a wrong derivative (3x instead of 2x) at one element: what gradcheck must catch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x * 2 + (x * 0 + glasstorch.tensor([0.0, 0.0, 1.0], dtype=x.dtype)) * x


def test_gradcheck_failure_names_input_index_and_values():
    x = glasstorch.tensor([0.5, 1.0, 2.0], dtype=glasstorch.float64, requires_grad=True)
    y = glasstorch.tensor([1.0], dtype=glasstorch.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda y, x: WrongSquare.apply(x) * y, (y, x))
    message = str(info.value)
    assert "input 1" in message and "index (2,)" in message
    assert "analytical" in message and "numerical" in message
    analytical = float(message.split("analytical ")[1].split()[0])
    numerical = float(message.split("numerical ")[1].split()[0])
    assert abs(analytical - numerical) > 1e-3
    assert gradcheck(lambda y, x: WrongSquare.apply(x) * y, (y, x), raise_exception=False) is False


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * 2, (glasstorch.ones(2, dtype=glasstorch.float64),))
