"""torch.autograd.functional: Jacobians, Hessians and their products, on functions with known derivatives."""
import torch
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp


def exp_reducer(x):
    return x.exp().sum(dim=1)


inputs = torch.linspace(0, 1, 8, dtype=torch.float64).reshape(2, 4)
J = jacobian(exp_reducer, inputs)
print("jacobian shape", list(J.shape))
print("jacobian", J.flatten().tolist())


def f(x, y):
    return (x * y.sin()).sum(), x.pow(2) * y


x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
y = torch.tensor([1.0, 0.25, -0.5], dtype=torch.float64)
jx, jy = jacobian(lambda a, b: a * b.exp(), (x, y))
print("two inputs", jx.diagonal().tolist(), jy.diagonal().tolist())


def pow_reducer(x):
    return x.pow(3).sum()


H = hessian(pow_reducer, x)
print("hessian", H.flatten().tolist())
Hxy = hessian(lambda a, b: (a * a * b).sum(), (x, y))
print("hessian blocks", Hxy[0][0].diagonal().tolist(), Hxy[0][1].diagonal().tolist(), Hxy[1][1].sum().item())

v = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
out, vj = vjp(lambda a: a.pow(2) * 3, x, v)
print("vjp", out.tolist(), vj.tolist())
out, jv = jvp(lambda a: a.pow(2) * 3, x, v)
print("jvp", jv.tolist())
out, hv = hvp(pow_reducer, x, v)
print("hvp", out.item(), hv.tolist())
out, vh = vhp(pow_reducer, x, v)
print("vhp", vh.tolist())
Jc = jacobian(exp_reducer, inputs, create_graph=True)
print("create_graph", Jc.requires_grad)
Jv = jacobian(exp_reducer, inputs, vectorize=True)
print("vectorize same", (Jv - J).abs().max().item())
