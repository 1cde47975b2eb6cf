"""Tensor and autograd basics, printed the way the notes print them (002 "Pytorch基础", 004 数据操作/自动求导).

Every claim the notes make is also checked: in-place ops keep the object, `.numpy()` shares memory,
broadcasting, reductions with keepdim, and the autograd example `out = ((x + 1) * 2).mean()` whose value
is 4 and whose gradient is 0.5 everywhere.
"""
from dataclasses import dataclass

import numpy as np

NAME = "tensors"
NOTE = "002 (PyTorch基础: dtypes, in-place, broadcasting, NumPy sharing, autograd), 004 (数据操作, 自动求导)"
SUMMARY = "tensor and autograd basics, printed as the notes print them"


@dataclass
class Config:
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls()


EXPECTED = {"checks_failed": ("==", 0), "autograd_out": ("==", 4.0), "autograd_grad": ("==", 0.5)}
QUICK_EXPECTED = EXPECTED


def run(fw, cfg, lab):
    failed = []

    def check(what, ok):
        lab.say(f"  check: {what}: {'ok' if ok else 'FAILED'}")
        if not ok:
            failed.append(what)

    lab.say("# 002: Tensor 的声明与初始化")
    x = fw.zeros(5, 3, dtype=fw.long)
    lab.say(x)
    check("zeros(5, 3, dtype=long) is int64 zeros", x.dtype == fw.int64 and int(x.sum()) == 0)
    x = fw.tensor([5.5, 3])
    lab.say(x)
    check("tensor([5.5, 3]) is float32", x.dtype == fw.float32)
    x = fw.empty(5, 3)
    y = fw.randn_like(x, dtype=fw.float)
    lab.say(y.shape, y.dtype)
    check("randn_like keeps the shape", tuple(y.shape) == (5, 3))

    lab.say("# 运算: x + y and x.add_(y) (int + float promotes to float)")
    x = fw.rand(5, 3)
    y = fw.ones(5, 3, dtype=fw.int)
    s = x + y
    lab.say(s)
    same = x.add_(y)
    check("x + y promotes int32 + float32 to float32", s.dtype == fw.float32)
    check("x.add_(y) returns x itself, changed in place", same is x and bool((x == s).all()))

    lab.say("# 切片与广播")
    x[2:] = fw.tensor([1, 2, 3])
    check("x[2:] = [1, 2, 3] broadcasts over rows", x[2:].tolist() == [[1.0, 2.0, 3.0]] * 3)
    z = x * fw.tensor([0, 1, 2])
    lab.say(z)
    check("x * [0, 1, 2] scales the columns", bool((z[:, 0] == 0).all()) and bool((z[:, 2] == 2 * x[:, 2]).all()))

    lab.say("# 与 NumPy ndarray 共享数据")
    a = fw.ones(5, dtype=fw.int)
    b = a.numpy()
    b += 1
    lab.say(a)
    a[3] = 6
    lab.say(b)
    check("a.numpy() shares memory both ways", a.tolist() == [2, 2, 2, 6, 2] and b.tolist() == [2, 2, 2, 6, 2])
    b = b + 1.0
    check("b = b + 1.0 makes a new float array, a unchanged", b.dtype == np.float64 and a.tolist()[0] == 2)

    lab.say("# 004: arange, reshape, cat, sum, broadcasting, in-place memory")
    X = fw.arange(12, dtype=fw.float32).reshape(3, 4)
    Y = fw.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
    check("cat dim=0 gives (6, 4), dim=1 gives (3, 8)",
          tuple(fw.cat((X, Y), dim=0).shape) == (6, 4) and tuple(fw.cat((X, Y), dim=1).shape) == (3, 8))
    check("X.sum() == 66", float(X.sum()) == 66.0)
    a, b = fw.arange(3).reshape((3, 1)), fw.arange(2).reshape((1, 2))
    lab.say(a + b)
    check("(3,1) + (1,2) broadcasts to [[0,1],[1,2],[2,3]]", (a + b).tolist() == [[0, 1], [1, 2], [2, 3]])
    before = id(Y)
    Y = Y + X
    check("Y = Y + X makes a new object", id(Y) != before)
    Z = fw.zeros_like(Y)
    before = id(Z)
    Z[:] = X + Y
    check("Z[:] = X + Y writes in place", id(Z) == before)
    A = fw.arange(20, dtype=fw.float32).reshape(5, 4)
    check("A.sum(axis=1, keepdims=True) has shape (5, 1)", tuple(A.sum(axis=1, keepdims=True).shape) == (5, 1))
    check("A / A.sum(axis=1, keepdims=True) rows sum to 1",
          bool(((A / A.sum(axis=1, keepdims=True)).sum(axis=1) - 1).abs().max() < 1e-6))
    check("cumsum along axis 0", A.cumsum(axis=0)[-1].tolist() == A.sum(axis=0).tolist())
    check("torch.norm([3, -4]) == 5", float(fw.norm(fw.tensor([3.0, -4.0]))) == 5.0)

    lab.say("# Autograd (002): x = ones(2, 2, requires_grad=True); out = ((x + 1) * 2).mean()")
    x = fw.ones(2, 2, requires_grad=True)
    y = x + 1
    z = y * 2
    out = z.mean()
    lab.say(x)
    lab.say(y)
    lab.say(z)
    lab.say(out)
    out.backward()
    lab.say(x.grad)
    grads = np.unique(x.grad.numpy())
    check("x.grad is 0.5 everywhere", grads.tolist() == [0.5])
    check("y has a grad_fn, x is a leaf", y.grad_fn is not None and x.grad_fn is None and x.is_leaf)

    lab.say("# Autograd (004): y = 2 * dot(x, x), dy/dx = 4x; detach makes a constant")
    x = fw.arange(4.0)
    x.requires_grad_(True)
    y = 2 * fw.dot(x, x)
    y.backward()
    check("x.grad == 4 * x", bool((x.grad == 4 * x).all()))
    x.grad.zero_()
    y = x * x
    u = y.detach()
    (u * x).sum().backward()
    check("d(u * x)/dx == u when u = detach(x * x)", bool((x.grad == u).all()))

    lab.say(f"{len(failed)} check(s) failed" + (f": {failed}" if failed else ""))
    return {"checks_failed": len(failed), "autograd_out": out.item(), "autograd_grad": float(grads.max())}
