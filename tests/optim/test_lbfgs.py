"""LBFGS against torch.optim.LBFGS: the same iterates on Rosenbrock and a least-squares model."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import nn, optim


def rosenbrock(lib, xy):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _run(lib, opt_cls, start, steps, **kwargs):
    xy = lib.tensor(start, requires_grad=True)
    opt = opt_cls([xy], **kwargs)
    losses, evals, iterates = [], [0], []

    def closure():
        opt.zero_grad()
        loss = rosenbrock(lib, xy)
        loss.backward()
        evals[0] += 1
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        iterates.append(xy.detach().numpy().copy())
    state = opt.state[xy]
    return np.array(iterates), np.array(losses), evals[0], state["n_iter"], state["func_evals"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("kwargs", [dict(), dict(lr=0.5, max_iter=7, history_size=3), dict(max_iter=1),
                                    dict(max_iter=4, max_eval=3), dict(tolerance_change=1e-4, history_size=1, max_iter=8)])
def test_iterates_equal_torch_on_rosenbrock(line_search_fn, kwargs):
    # Rosenbrock's curved valley amplifies last-bit differences (torch's add with alpha may fuse a multiply-add):
    # over 60 iterations they grow from 1e-16 to about 1e-6, so the run is kept to 2 steps here
    start = np.array([-1.5, 2.0])
    ours = _run(glasstorch, optim.LBFGS, start, 2, line_search_fn=line_search_fn, **kwargs)
    theirs = _run(torch, torch.optim.LBFGS, start, 2, line_search_fn=line_search_fn, **kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-8, atol=1e-10)
    assert ours[2:] == theirs[2:]  # closure calls, n_iter and func_evals


def test_strong_wolfe_reaches_rosenbrocks_minimum():
    iterates, losses, *_ = _run(glasstorch, optim.LBFGS, np.array([-1.5, 2.0]), 10, line_search_fn="strong_wolfe",
                                max_iter=100)
    np.testing.assert_allclose(iterates[-1], [1.0, 1.0], atol=1e-5)  # stops once the loss changes < 1e-9


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_iterates_equal_torch_on_a_model_float32(line_search_fn):
    glasstorch.manual_seed(0)  # the model's initial weights (then copied into torch's)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = (x @ rng.standard_normal((5, 2)) + 0.1 * rng.standard_normal((40, 2))).astype(np.float32)
    results = []
    for lib, module in ((glasstorch, nn), (torch, torch.nn)):
        model = module.Sequential(module.Linear(5, 8), module.Tanh(), module.Linear(8, 2))
        if lib is torch:
            model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in results[0][1].items()})
        opt = (optim.LBFGS if lib is glasstorch else torch.optim.LBFGS)(model.parameters(), max_iter=10,
                                                                         line_search_fn=line_search_fn)
        start = {k: v.detach().clone() for k, v in model.state_dict().items()}

        def closure():
            opt.zero_grad()
            loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
            loss.backward()
            return loss

        losses = [float(opt.step(closure).detach()) for _ in range(3)]
        results.append((losses, start, [p.detach().numpy().copy() for p in model.parameters()]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-4)
    for a, b in zip(results[0][2], results[1][2]):  # float32 rounding, amplified over 30 iterations
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-3)


def test_options_and_errors_as_torch():
    p = glasstorch.zeros(2, requires_grad=True)
    opt = optim.LBFGS([p], max_iter=8)
    assert opt.defaults["max_eval"] == 10 and opt.defaults["history_size"] == 100
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [glasstorch.zeros(1, requires_grad=True)]}])
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        optim.LBFGS([p], line_search_fn="armijo").step(lambda: (p ** 2).sum())
    # already optimal: one closure call, the loss returned, nothing moves
    calls = []

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        calls.append(1)
        return loss

    assert float(opt.step(closure)) == 0.0 and len(calls) == 1
