"""LR schedulers: the lr (and momentum) sequences equal torch's, step by step, across a state_dict round trip."""
import warnings

import pytest
import torch

import glasstorch
from glasstorch import optim

STEPS = 30
SAVE_AT = 13


def make_optimizer(lib, kind="SGD"):
    groups = [{"params": [lib.zeros(3, requires_grad=True)]},
              {"params": [lib.zeros(2, requires_grad=True)], "lr": 0.2}]
    if kind == "Adam":
        return lib.optim.Adam(groups, lr=0.05)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def seq(lib, opt, *schedulers_and_milestones):
    """SequentialLR over schedulers built from (class name, kwargs) pairs."""
    *specs, milestones = schedulers_and_milestones
    inner = [getattr(lib.optim.lr_scheduler, name)(opt, **kw) for name, kw in specs]
    return lib.optim.lr_scheduler.SequentialLR(opt, inner, milestones=milestones)


def chain(lib, opt, *specs):
    inner = [getattr(lib.optim.lr_scheduler, name)(opt, **kw) for name, kw in specs]
    return lib.optim.lr_scheduler.ChainedScheduler(inner)


def simple(name, **kwargs):
    return lambda lib, opt: getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)


CASES = {
    "StepLR": simple("StepLR", step_size=7, gamma=0.5),
    "MultiStepLR": simple("MultiStepLR", milestones=[3, 10, 10, 20], gamma=0.3),
    "ExponentialLR": simple("ExponentialLR", gamma=0.9),
    "CosineAnnealingLR-restarting": simple("CosineAnnealingLR", T_max=10, eta_min=0.001),
    "CosineAnnealingLR": simple("CosineAnnealingLR", T_max=7),
    "LambdaLR": simple("LambdaLR", lr_lambda=lambda e: 0.95 ** e),
    "LambdaLR-per-group": simple("LambdaLR", lr_lambda=[lambda e: 1 / (e + 1), lambda e: 0.9 ** (e // 2)]),
    "MultiplicativeLR": simple("MultiplicativeLR", lr_lambda=lambda e: 0.93),
    "LinearLR-warmup": simple("LinearLR", start_factor=0.25, total_iters=8),
    "LinearLR-decay": simple("LinearLR", start_factor=1.0, end_factor=0.1, total_iters=10),
    "ConstantLR": simple("ConstantLR", factor=0.5, total_iters=4),
    "PolynomialLR": simple("PolynomialLR", total_iters=12, power=2.0),
    "OneCycleLR-cos": simple("OneCycleLR", max_lr=[0.5, 1.0], total_steps=STEPS + 1),
    "OneCycleLR-linear-3phase": simple("OneCycleLR", max_lr=0.5, total_steps=STEPS + 1, anneal_strategy="linear",
                                       three_phase=True, pct_start=0.25),
    "OneCycleLR-epochs": simple("OneCycleLR", max_lr=0.3, epochs=4, steps_per_epoch=8, div_factor=10.0,
                                final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9),
    "CosineAnnealingWarmRestarts": simple("CosineAnnealingWarmRestarts", T_0=4, T_mult=2, eta_min=0.01),
    "CosineAnnealingWarmRestarts-T_mult=1": simple("CosineAnnealingWarmRestarts", T_0=6),
    "CyclicLR-triangular": simple("CyclicLR", base_lr=0.01, max_lr=[0.1, 0.3], step_size_up=4, step_size_down=6),
    "CyclicLR-triangular2": simple("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2"),
    "CyclicLR-exp_range": simple("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range",
                                 gamma=0.97, cycle_momentum=False),
    "SequentialLR": lambda lib, opt: seq(lib, opt, ("LinearLR", dict(start_factor=0.1, total_iters=5)),
                                         ("ExponentialLR", dict(gamma=0.9)), [5]),
    "SequentialLR-3": lambda lib, opt: seq(lib, opt, ("ConstantLR", dict(factor=0.5, total_iters=2)),
                                           ("CosineAnnealingLR", dict(T_max=10)),
                                           ("StepLR", dict(step_size=3, gamma=0.5)), [4, 15]),
    "ChainedScheduler": lambda lib, opt: chain(lib, opt, ("ConstantLR", dict(factor=0.5, total_iters=3)),
                                               ("ExponentialLR", dict(gamma=0.9))),
}


def snapshot(opt, scheduler):
    groups = [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]
    return list(scheduler.get_last_lr()), groups


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("case", list(CASES))
def test_lr_sequence_matches_torch_across_a_state_dict_round_trip(case, kind):
    factory = CASES[case]
    opt, topt = make_optimizer(glasstorch, kind), make_optimizer(torch, kind)
    sched, tsched = factory(glasstorch, opt), factory(torch, topt)
    assert snapshot(opt, sched) == snapshot(topt, tsched)
    for step in range(STEPS):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert snapshot(opt, sched) == snapshot(topt, tsched), f"step {step}"
        assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
        if step == SAVE_AT:
            saved_opt, saved = opt.state_dict(), sched.state_dict()
            opt = make_optimizer(glasstorch, kind)
            sched = factory(glasstorch, opt)  # torch's recipe: build, then load the optimizer, then the scheduler
            opt.load_state_dict(saved_opt)
            sched.load_state_dict(saved)
            assert snapshot(opt, sched) == snapshot(topt, tsched)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=2, factor=0.5),
    dict(mode="max", patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(patience=0, cooldown=1, min_lr=[0.02, 0.05], factor=0.3),
    dict(patience=1, threshold=0.1, eps=0.05),
])
def test_reduce_lr_on_plateau_follows_a_scripted_metric(kwargs):
    metrics = [1.0, 0.9, 0.9, 0.91, 0.9, 0.95, 0.89999, 0.7, 0.7, 0.7, 0.7, 0.72, 0.69, 0.69, 0.5,
               0.5, 0.5, 0.5, 0.5, 0.5, 0.49, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8, 0.4, 0.4, 0.4]
    opt, topt = make_optimizer(glasstorch), make_optimizer(torch)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for step, metric in enumerate(metrics):
        sched.step(glasstorch.tensor(metric, dtype=glasstorch.float64) if step % 2 else metric)
        tsched.step(metric)
        assert sched.get_last_lr() == tsched.get_last_lr(), f"step {step}"
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == \
            (tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter)
        if step == SAVE_AT:
            saved = sched.state_dict()
            sched = optim.lr_scheduler.ReduceLROnPlateau(opt)
            sched.load_state_dict(saved)


def test_fractional_epochs_of_warm_restarts_match_torch():
    opt, topt = make_optimizer(glasstorch), make_optimizer(torch)
    sched = optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    tsched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=3, T_mult=2)
    for epoch in range(12):
        for batch in range(4):
            opt.step(), topt.step()
            sched.step(epoch + batch / 4)
            tsched.step(epoch + batch / 4)
            assert sched.get_last_lr() == tsched.get_last_lr()


def test_state_dict_has_torchs_keys_and_values():
    opt, topt = make_optimizer(glasstorch), make_optimizer(torch)
    sched = optim.lr_scheduler.StepLR(opt, step_size=3)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=3)
    for _ in range(4):
        opt.step(), topt.step(), sched.step(), tsched.step()
    assert sched.state_dict() == tsched.state_dict()
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2]


def test_closed_form_with_an_epoch_argument_warns_like_torch():
    opt, topt = make_optimizer(glasstorch), make_optimizer(torch)
    sched = optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 5])
    tsched = torch.optim.lr_scheduler.MultiStepLR(topt, milestones=[2, 5])
    opt.step(), topt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tsched.step(6)
    assert sched.get_last_lr() == tsched.get_last_lr()


def test_warns_when_the_scheduler_steps_before_the_optimizer():
    opt = make_optimizer(glasstorch)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_errors():
    opt = make_optimizer(glasstorch)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        optim.lr_scheduler.StepLR("sgd", step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        optim.lr_scheduler.StepLR(opt, step_size=1, last_epoch=3)
    with pytest.raises(ValueError, match="total_steps OR"):
        optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    opt.step()
    sched.step(), sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        sched.step()
