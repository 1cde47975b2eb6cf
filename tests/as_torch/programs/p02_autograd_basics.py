"""Autograd: requires_grad, backward, .grad, no_grad, detach (the 'Automatic differentiation' tutorial)."""
import torch

x = torch.ones(5)
y = torch.zeros(3)
w = torch.linspace(-1, 1, 15).reshape(5, 3).requires_grad_()
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print("loss", loss.item())
print("grad_fn is set", z.grad_fn is not None, loss.grad_fn is not None)
loss.backward()
print("w.grad", w.grad.tolist())
print("b.grad", b.grad.tolist())
z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z_det = (torch.matmul(x, w) + b).detach()
print(z_det.requires_grad)

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print("first call", inp.grad.sum().item())
out.backward(torch.ones_like(out), retain_graph=True)
print("second call", inp.grad.sum().item())
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print("after zeroing", inp.grad.sum().item())

a = torch.tensor([2.0, 3.0], requires_grad=True)
q = 3 * a ** 3 - a.exp().sum() * a
q.sum().backward()
print("a.grad", a.grad.tolist())
