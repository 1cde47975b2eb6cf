"""GradScaler against torch.amp.GradScaler("cpu"): the same scale trajectory, growth tracker, skipped steps and
parameters over iterations with injected infs and NaNs; unscale_ with clipping; the errors torch raises;
state_dict round trips; the disabled scaler. On a GPU (the `device` fixture) the same loop runs on CUDA."""
import warnings

import numpy as np
import pytest
import torch

import glasstorch

torch.set_num_threads(1)
BAD = {2: float("inf"), 3: float("nan"), 9: float("-inf")}  # iteration -> the value injected into one gradient


def _loop(L, device, scaler_device, iterations=12, clip=False, **scaler_kw):
    w = L.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, device=device)
    b = L.tensor([0.1, -0.2], requires_grad=True, device=device)
    opt = L.optim.SGD([w, b], lr=0.1, momentum=0.9)
    scaler = L.amp.GradScaler(scaler_device, **scaler_kw)
    x = L.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], device=device)
    trace = []
    for it in range(iterations):
        opt.zero_grad()
        loss = ((x @ w + b) ** 2).mean()
        scaler.scale(loss).backward()
        if it in BAD:
            with L.no_grad():
                w.grad[0, 1] = BAD[it]
        if clip:
            scaler.unscale_(opt)
            L.nn.utils.clip_grad_norm_([w, b], 1.0)
        scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), scaler.state_dict()["_growth_tracker"], w.detach().cpu().numpy().copy(),
                      b.detach().cpu().numpy().copy()))
    return trace, scaler


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("kw", [{}, {"init_scale": 8.0, "growth_interval": 3},
                                {"init_scale": 2.0 ** 20, "growth_factor": 4.0, "backoff_factor": 0.25,
                                 "growth_interval": 2}])
def test_scale_trajectory_and_steps_match_torch(kw, clip, device):
    ours, _ = _loop(glasstorch, device, device, clip=clip, **kw)
    theirs, _ = _loop(torch, "cpu", "cpu", clip=clip, **kw)
    for it, ((s, t, w, b), (ts, tt, tw, tb)) in enumerate(zip(ours, theirs)):
        assert s == ts and t == tt, f"iteration {it}: scale {s} tracker {t}, torch {ts} {tt}"
        np.testing.assert_allclose(w, tw, rtol=1e-5, atol=1e-6, err_msg=f"iteration {it}")
        np.testing.assert_allclose(b, tb, rtol=1e-5, atol=1e-6, err_msg=f"iteration {it}")
    skipped = [it for it in range(1, len(ours)) if np.array_equal(ours[it][2], ours[it - 1][2])]
    assert skipped == [it for it in sorted(BAD) if it < len(ours)]  # (a skipped step leaves the weights alone)


def test_unscale_divides_the_gradients_by_the_scale():
    w = glasstorch.tensor([1.0, 2.0], requires_grad=True)
    opt = glasstorch.optim.SGD([w], lr=0.1)
    scaler = glasstorch.amp.GradScaler("cpu", init_scale=1024.0)
    scaler.scale((w * w).sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), [2048.0, 4096.0])
    scaler.unscale_(opt)
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called since the last update"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
        scaler.unscale_(opt)
    scaler.update()
    scaler.scale((w * w).sum()).backward()
    scaler.step(opt)  # (a new iteration after update)


def test_errors_like_torch():
    for L in (glasstorch, torch):
        w = L.tensor([1.0], requires_grad=True)
        opt = L.optim.SGD([w], lr=0.1)
        scaler = L.amp.GradScaler("cpu")
        with pytest.raises(AssertionError, match="did not use scaler.scale"):
            scaler.step(opt)
        with pytest.raises(AssertionError, match="The growth factor must be > 1.0"):
            L.amp.GradScaler("cpu", growth_factor=1.0)
        with pytest.raises(AssertionError, match="The backoff factor must be < 1.0"):
            L.amp.GradScaler("cpu", backoff_factor=1.5)
        h = L.tensor([1.0], dtype=L.float16, requires_grad=True)
        opt16 = L.optim.SGD([h], lr=0.1)
        scaler.scale((h * h).sum()).backward()
        with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
            scaler.unscale_(opt16)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            scaler.step(opt, closure=lambda: None)


def test_state_dict_round_trip_matches_torch():
    _, ours = _loop(glasstorch, "cpu", "cpu", iterations=5, init_scale=16.0, growth_interval=2)
    _, theirs = _loop(torch, "cpu", "cpu", iterations=5, init_scale=16.0, growth_interval=2)
    assert ours.state_dict() == theirs.state_dict()
    fresh = glasstorch.amp.GradScaler("cpu")
    fresh.load_state_dict(ours.state_dict())
    assert fresh.state_dict() == ours.state_dict() and fresh.get_scale() == ours.get_scale()
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        fresh.load_state_dict({})


def test_disabled_scaler_passes_everything_through():
    w = glasstorch.tensor([3.0], requires_grad=True)
    opt = glasstorch.optim.SGD([w], lr=0.5)
    scaler = glasstorch.amp.GradScaler("cpu", enabled=False)
    loss = (w * w).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    loss.backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(w.detach().numpy(), [0.0])
    assert not scaler.is_enabled()


def test_scale_takes_lists_and_tuples():
    scaler = glasstorch.amp.GradScaler("cpu", init_scale=4.0)
    a, b = glasstorch.tensor([1.0]), glasstorch.tensor([2.0])
    out = scaler.scale([a, (b, a)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    np.testing.assert_allclose(out[1][0].numpy(), [8.0])


@pytest.mark.skipif(glasstorch.cuda.is_available(), reason="checks the behaviour without a GPU")
def test_cuda_scaler_without_a_gpu_warns_and_disables_itself_like_torch():
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        scaler = glasstorch.amp.GradScaler()
    assert not scaler.is_enabled()
    with pytest.warns(FutureWarning, match="is deprecated"):
        old = glasstorch.cuda.amp.GradScaler(init_scale=8.0)
    assert not old.is_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not torch.cuda.amp.GradScaler().is_enabled()
