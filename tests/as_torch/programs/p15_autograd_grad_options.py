"""torch.autograd.grad with its options, and the legacy Variable spelling old code still uses."""
import torch
from torch.autograd import Variable

x = Variable(torch.tensor([1.0, 2.0, 3.0]), requires_grad=True)
print("Variable is a Tensor", isinstance(x, torch.Tensor), isinstance(x, Variable), x.requires_grad)
y = x ** 3
g, = torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y), create_graph=True)
print("first", g.tolist())
g2, = torch.autograd.grad(g.sum(), x)
print("second", g2.tolist())
w = torch.tensor([0.5, -0.5], requires_grad=True)
unused = torch.tensor([1.0], requires_grad=True)
out = (w * w).sum()
gw, gu = torch.autograd.grad(out, [w, unused], retain_graph=True, allow_unused=True)
print("allow_unused", gw.tolist(), gu is None)
gw, gu = torch.autograd.grad(out, [w, unused], retain_graph=True, materialize_grads=True)
print("materialize_grads", gu.tolist())
try:
    torch.autograd.grad(out, [w, unused], retain_graph=True)
except RuntimeError as error:
    print("unused refused", "allow_unused" in str(error))
gw, = torch.autograd.grad(out, w, retain_graph=True)
gw_again, = torch.autograd.grad(out, w)
print("retain_graph", (gw - gw_again).abs().sum().item())
try:
    torch.autograd.grad(out, w)
except RuntimeError as error:
    print("freed", "second time" in str(error))
a = torch.tensor(2.0, requires_grad=True)
b = a * a
c = torch.autograd.grad([b, 3 * a], [a])
print("several outputs", c[0].item())
