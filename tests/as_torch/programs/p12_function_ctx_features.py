"""Custom Functions using the rest of ctx: needs_input_grad, non-differentiable outputs, in-place (mark_dirty),
materialize_grads, the setup_context style and once_differentiable."""
import torch
from torch.autograd.function import once_differentiable


class ScaledMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a @ b * scale

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = grad @ b.T * ctx.scale
        if ctx.needs_input_grad[1]:
            grad_b = a.T @ grad * ctx.scale
        print("needs_input_grad", ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2])
        return grad_a, grad_b, None


a = torch.linspace(-1, 1, 6).reshape(2, 3).requires_grad_()
b = torch.linspace(0, 2, 12).reshape(3, 4)
out = ScaledMatmul.apply(a, b, 0.5)
out.sum().backward()
print("grad a", a.grad.flatten().tolist(), b.grad is None)


class SortWithIndices(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = x.sort()
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        indices, = ctx.saved_tensors
        grad = torch.zeros_like(grad_values)
        grad.scatter_(0, indices, grad_values)
        return grad


x = torch.tensor([0.3, -1.2, 2.5, 0.0], requires_grad=True)
values, indices = SortWithIndices.apply(x)
print("sorted", values.tolist(), indices.tolist(), indices.requires_grad)
(values * torch.arange(4.0)).sum().backward()
print("grad through sort", x.grad.tolist())


class MulTwoInPlace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


leaf = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = leaf * 1
y = MulTwoInPlace.apply(h)
print("in place", y is h, h.tolist())
(y * y).sum().backward()
print("grad", leaf.grad.tolist())


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x.exp()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * result


z = torch.tensor([0.0, 1.0, -1.0], requires_grad=True)
Exp.apply(z).sum().backward()
print("setup_context", z.grad.tolist())


class TwoOutputs(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        x, = ctx.saved_tensors
        total = torch.zeros_like(x)
        if g1 is not None:
            total = total + 2 * g1
        if g2 is not None:
            total = total + 3 * g2
        return total


q = torch.ones(3, requires_grad=True)
first, second = TwoOutputs.apply(q)
first.sum().backward()
print("only the first output used", q.grad.tolist())
