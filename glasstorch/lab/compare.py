"""`glasstorch compare NAME`: glasstorch and PyTorch in lockstep, from identical weights on identical batches.

After every optimizer step it prints |Δloss|, the largest |Δgrad| and the largest |Δweight| (and which
parameter they belong to); it stops at the first difference beyond `tol` (relative to the parameter's size)
and names the parameter. Float32 arithmetic differs in the last bits between any two libraries, so agreement
means differences around 1e-6 relative, not zero. Dropout is switched off (the engines draw different masks).
"""
import dataclasses
from dataclasses import dataclass

import numpy as np

from ..experiments.common import image_arrays
from ..experiments.linear_regression import TRUE_B, TRUE_W, synthetic_data
from ..experiments.xor_mlp import X_XOR, Y_XOR
from .registry import get


@dataclass
class CompareResult:
    agreed: bool
    steps: int
    diverged_at: int = None
    parameter: str = None
    worst: float = 0.0


def _digits(data_dir, n):
    return image_arrays("digits", train=True, limit=n)


def _mnist(data_dir, n):
    return image_arrays("mnist", data_dir, train=True, limit=n)


def _fashion(data_dir, n):
    return image_arrays("fashion-mnist", data_dir, train=True, limit=n)


def _xor(data_dir, n):
    return X_XOR, Y_XOR


def _linear(data_dir, n):
    return synthetic_data(np.random.default_rng(0), TRUE_W, TRUE_B, n)


def _cfg(name):
    return get(name).Config()


# experiment -> (data, default batch, default lr, loss name, optimizer name, model builder(fw))
SPECS = {
    "xor-mlp": (_xor, 4, 0.05, "bce_logits", "Adam", lambda fw: get("xor-mlp").build(fw, _cfg("xor-mlp"))),
    "digits-cnn": (_digits, 32, 2e-3, "nll", "Adam", lambda fw: get("digits-cnn").build(fw)),
    "hooks-and-attacks": (_digits, 32, 2e-3, "nll", "Adam", lambda fw: get("digits-cnn").build(fw)),
    "cnn-mnist": (_mnist, 16, 1e-3, "nll", "Adam", lambda fw: get("cnn-mnist").build(fw)),
    "mlp": (_fashion, 64, 0.1, "cross_entropy", "SGD", lambda fw: get("mlp").build(fw)),
    "softmax-regression": (_fashion, 64, 0.1, "cross_entropy", "SGD", lambda fw: get("softmax-regression").build(fw)),
    "batchnorm": (_mnist, 32, 1.0, "cross_entropy", "SGD", lambda fw: get("batchnorm").build(fw, batch_norm=True)),
    "linear-regression": (_linear, 10, 0.03, "mse", "SGD", lambda fw: fw.nn.Sequential(fw.nn.Linear(2, 1))),
}


def _loss(fw, name, out, y):
    F = fw.nn.functional
    return {"bce_logits": F.binary_cross_entropy_with_logits, "nll": F.nll_loss, "cross_entropy": F.cross_entropy,
            "mse": F.mse_loss}[name](out, y)


def _no_dropout(fw, model):
    for m in model.modules():
        if isinstance(m, fw.nn.Dropout):
            m.p = 0.0


def _relative(a, b):
    return float(np.abs(a - b).max() / (np.abs(b).max() + 1e-8))


def compare(name, steps=10, tol=1e-4, batch_size=None, lr=None, seed=0, data_dir=None, verbose=False, out=print):
    import glasstorch
    try:
        import torch
    except ImportError:
        out("compare needs PyTorch: pip install torch (the CPU build is enough)")
        return CompareResult(False, 0)
    if name not in SPECS:
        raise SystemExit(f"compare works for: {', '.join(SPECS)} (got {name!r})")
    load, default_batch, default_lr, loss_name, opt_name, builder = SPECS[name]
    batch_size, lr = batch_size or default_batch, lr or default_lr
    X, y = load(data_dir, max(batch_size * steps, 64))
    glasstorch.manual_seed(seed)
    g_model, t_model = builder(glasstorch), builder(torch)
    state = {k: torch.from_numpy(v.detach().numpy().copy()) for k, v in g_model.state_dict().items()}
    t_model.load_state_dict(state)  # identical initial weights (and buffers)
    for fw, model in ((glasstorch, g_model), (torch, t_model)):
        _no_dropout(fw, model)
        model.train()
    g_opt = getattr(glasstorch.optim, opt_name)(g_model.parameters(), lr=lr)
    t_opt = getattr(torch.optim, opt_name)(t_model.parameters(), lr=lr)
    g_params, t_params = dict(g_model.named_parameters()), dict(t_model.named_parameters())
    rng = np.random.default_rng(seed)
    out(f"compare {name}: {opt_name}(lr={lr}), batch {batch_size}, {steps} steps, tolerance {tol:g} (relative); "
        f"{sum(p.numel() for p in g_params.values())} parameters in {len(g_params)} tensors")
    out(f"{'step':>4}  {'loss (glass)':>12}  {'|Δloss|':>9}  {'max |Δgrad|':>11}  {'in':<18} {'max |Δweight|':>13}  in")
    result = CompareResult(True, 0)
    for step in range(1, steps + 1):
        idx = rng.choice(len(y), batch_size, replace=len(y) < batch_size)
        xb, yb = np.ascontiguousarray(X[idx]), np.ascontiguousarray(y[idx])
        losses = []
        for fw, model, opt in ((glasstorch, g_model, g_opt), (torch, t_model, t_opt)):
            opt.zero_grad()
            loss = _loss(fw, loss_name, model(fw.from_numpy(xb.copy())), fw.from_numpy(yb.copy()))
            loss.backward()
            losses.append(loss.item())
        dloss = abs(losses[0] - losses[1])
        grad_diffs = {k: _relative(g_params[k].grad.numpy(), t_params[k].grad.numpy()) for k in g_params}
        g_opt.step()
        t_opt.step()
        weight_diffs = {k: _relative(g_params[k].detach().numpy(), t_params[k].detach().numpy()) for k in g_params}
        gk, wk = max(grad_diffs, key=grad_diffs.get), max(weight_diffs, key=weight_diffs.get)
        out(f"{step:>4}  {losses[0]:>12.6f}  {dloss:>9.2e}  {grad_diffs[gk]:>11.2e}  {gk:<18} {weight_diffs[wk]:>13.2e}"
            f"  {wk}")
        if verbose:
            for k in g_params:
                out(f"        {k:<24} |Δgrad| {grad_diffs[k]:.2e}  |Δweight| {weight_diffs[k]:.2e}")
        result.steps = step
        result.worst = max(result.worst, grad_diffs[gk], weight_diffs[wk])
        bad = [(k, v, "gradient") for k, v in grad_diffs.items() if v > tol]
        bad += [(k, v, "weight") for k, v in weight_diffs.items() if v > tol]
        if dloss > tol * max(1.0, abs(losses[1])) or bad:
            k, v, what = max(bad, key=lambda b: b[1]) if bad else ("loss", dloss, "loss")
            out(f"DIVERGED at step {step}: the {what} of {k!r} differs by {v:.2e} (> {tol:g}). "
                "Look at the op(s) this parameter feeds; `--verbose` lists every parameter.")
            return dataclasses.replace(result, agreed=False, diverged_at=step, parameter=k)
    out(f"agreed: {steps} steps within {tol:g} (largest relative difference {result.worst:.1e})")
    return result
