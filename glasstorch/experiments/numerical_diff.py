"""Numerical differentiation (003 "数值微分"): forward vs central difference as h shrinks, partial derivatives,
and the numerical gradient of f(x0, x1) = x0² + x1² at (3, 4), checked against autograd.

The notes' functions are NumPy code (numerical_diff, numerical_gradient); autograd computes the same
gradient exactly, which is what the learner should compare with.
"""
from dataclasses import dataclass

import numpy as np

from .common import numerical_gradient  # the notes' version, shared with gradient-descent and two-layer-net

NAME = "numerical-diff"
NOTE = "003 (数值微分: 中心差分 vs 前向差分, 偏导数, 梯度)"
SUMMARY = "forward vs central difference, partial derivatives, numerical gradient (6, 8) at (3, 4)"


@dataclass
class Config:
    x: float = 1.0        # where d/dx log(x + 2) is taken (the notes' example)
    points: int = 15      # h = 1e-1 ... 1e-15

    @classmethod
    def quick(cls):
        return cls()


EXPECTED = {"partial_x0_error": ("<=", 1e-6), "partial_x1_error": ("<=", 1e-6),
            "gradient_error": ("<=", 1e-6), "autograd_error": ("==", 0.0),
            "forward_error_h1e-4": (">=", 1e-6), "central_error_h1e-4": ("<=", 1e-8)}
QUICK_EXPECTED = EXPECTED


def numerical_diff(f, x, h=1e-4):
    """Central difference, as in the notes: (f(x+h) - f(x-h)) / 2h."""
    return (f(x + h) - f(x - h)) / (2 * h)


def forward_diff(f, x, h=1e-4):
    return (f(x + h) - f(x)) / h


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def run(fw, cfg, lab):
    f, df = (lambda x: np.log(x + 2)), (lambda x: 1 / (x + 2))
    hs = 10.0 ** -np.arange(1, cfg.points + 1)
    fwd = np.array([abs(forward_diff(f, cfg.x, h) - df(cfg.x)) for h in hs])
    cen = np.array([abs(numerical_diff(f, cfg.x, h) - df(cfg.x)) for h in hs])
    lab.say(" h        forward error   central error")
    for h, a, b in zip(hs, fwd, cen):
        lab.say(f" {h:.0e}   {a:.3e}       {b:.3e}")
        lab.log(step=int(round(-np.log10(h))), forward_error=a, central_error=b)
    i4 = int(np.argmin(np.abs(hs - 1e-4)))
    lab.say(f"best h: forward {hs[np.argmin(fwd)]:.0e}, central {hs[np.argmin(cen)]:.0e} "
            "(smaller h is not better: rounding error grows as h shrinks)")

    def function_tmp1(x0):
        return x0 * x0 + 4.0 ** 2.0

    def function_tmp2(x1):
        return 3.0 ** 2.0 + x1 * x1

    p0, p1 = numerical_diff(function_tmp1, 3.0), numerical_diff(function_tmp2, 4.0)
    lab.say(p0)
    lab.say(p1)
    grad = numerical_gradient(function_2, np.array([3.0, 4.0]))
    lab.say("numerical_gradient(function_2, [3.0, 4.0]) =", grad)
    x = fw.tensor([3.0, 4.0], dtype=fw.float64, requires_grad=True)
    function_2(x).backward()
    lab.say("autograd: x.grad =", x.grad)
    auto_err = float(np.abs(x.grad.numpy() - [6.0, 8.0]).max())

    with lab.figure("difference_error", "Error of forward vs central difference for d/dx log(x+2) at x=1",
                    figsize=(6, 4)) as (_, ax):
        ax.loglog(hs, fwd, "o-", label="forward (f(x+h)-f(x))/h")
        ax.loglog(hs, cen, "s-", label="central (f(x+h)-f(x-h))/2h")
        ax.set(xlabel="h", ylabel="|error|")
        ax.invert_xaxis()
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    with lab.figure("tangents", "Tangent vs forward and central secants (h = 1, as in the notes)") as (_, ax):
        xs = np.linspace(-1.5, 3, 400)
        h, x0 = 1.0, cfg.x
        ax.plot(xs, f(xs), "k", lw=2, label="y = log(x + 2)")
        ax.plot(xs, f(x0) + df(x0) * (xs - x0), color="gray", label="true tangent")
        ax.plot(xs, f(x0) + forward_diff(f, x0, h) * (xs - x0), "b--", label="forward difference")
        ax.plot(xs, f(x0) + numerical_diff(f, x0, h) * (xs - x0), "r-.", label="central difference")
        ax.legend()
        ax.grid(alpha=0.3)
    return {"partial_x0_error": abs(p0 - 6.0), "partial_x1_error": abs(p1 - 8.0),
            "gradient_error": float(np.abs(grad - [6.0, 8.0]).max()), "autograd_error": auto_err,
            "forward_error_h1e-4": float(fwd[i4]), "central_error_h1e-4": float(cen[i4])}
