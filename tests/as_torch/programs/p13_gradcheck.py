"""torch.autograd.gradcheck / gradgradcheck on a custom Function and on composite functions (float64)."""
import torch
from torch.autograd import gradcheck, gradgradcheck


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return 3 * x ** 2 * grad


inputs = (torch.linspace(-1, 1, 6, dtype=torch.double).reshape(2, 3).requires_grad_(),)
print("custom", gradcheck(Cube.apply, inputs, eps=1e-6, atol=1e-4))
print("double", gradgradcheck(Cube.apply, inputs))
w = torch.linspace(0.5, 1.5, 12, dtype=torch.double).reshape(3, 4).requires_grad_()
print("composite", gradcheck(lambda x, w: torch.tanh(x @ w).sum(1), (inputs[0], w)))
M = (torch.eye(3, dtype=torch.double) * 2 + 0.1).requires_grad_()
print("linalg", gradcheck(torch.linalg.inv, (M,)), gradcheck(torch.linalg.det, (M,)))
