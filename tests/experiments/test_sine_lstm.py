"""sine-lstm's L-BFGS: why the example's defaults froze the loss (torch's LBFGS does the same, step for step), and
that the lesson's optimizer keeps lowering the loss below 1e-6."""
import numpy as np
import pytest

import glasstorch
from glasstorch.experiments import sine_lstm as lesson

torch = pytest.importorskip("torch")


def _frozen_run(fw, steps):
    """LBFGS with tolerance_change 1e-3 on f(w) = sum(c w^2): the slope g.d falls under the tolerance after a few
    steps. Returns per step (closure calls, w after the step)."""
    w = fw.tensor([1.0, -2.0, 0.5], dtype=fw.float64, requires_grad=True)
    c = fw.tensor([1.0, 3.0, 10.0], dtype=fw.float64)
    optimizer = fw.optim.LBFGS([w], lr=0.8, max_iter=4, tolerance_change=1e-3)
    calls = [0]

    def closure():
        calls[0] += 1
        optimizer.zero_grad()
        loss = (c * w * w).sum()
        loss.backward()
        return loss

    trace = []
    for _ in range(steps):
        before = calls[0]
        optimizer.step(closure)
        trace.append((calls[0] - before, w.detach().numpy().copy()))
    return trace


def test_lbfgs_freezes_once_the_slope_is_under_tolerance_change_as_torch_does():
    ours, theirs = _frozen_run(glasstorch, 8), _frozen_run(torch, 8)
    for (calls, w), (ref_calls, ref_w) in zip(ours, theirs):
        assert calls == ref_calls
        np.testing.assert_allclose(w, ref_w, rtol=1e-12, atol=1e-15)
    # the last steps: one closure call each, and the parameters never move again
    assert [calls for calls, _ in ours[-3:]] == [1, 1, 1]
    np.testing.assert_array_equal(ours[-1][1], ours[-3][1])
    assert np.abs(ours[-1][1]).max() > 1e-3  # frozen short of the minimum w = 0


def test_the_lessons_lbfgs_keeps_lowering_the_loss_below_1e_6():
    """With torch's default tolerance_change (1e-9) this loss froze after step 8 at 3.1e-6 (every later step one
    closure call, the same loss); the lesson's settings keep it going down."""
    cfg = lesson.Config.quick()
    data = lesson.waves(cfg, cfg.length)
    x, y = glasstorch.from_numpy(data[3:, :-1].copy()), glasstorch.from_numpy(data[3:, 1:].copy())
    glasstorch.manual_seed(cfg.seed)
    model = lesson.build(glasstorch, cfg)
    optimizer = lesson.make_optimizer(glasstorch, model, cfg)
    criterion = glasstorch.nn.MSELoss()

    def closure():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    losses = [optimizer.step(closure).item() for _ in range(12)]
    assert losses[-1] < 1e-6
    assert all(later < earlier for earlier, later in zip(losses[7:], losses[8:])), losses
