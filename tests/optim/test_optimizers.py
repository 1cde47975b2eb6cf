"""Optimizers stepped side by side with torch (the oracle) on identical parameters and gradients."""
import copy
import zlib

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import optim

SHAPES = [(7, 5), (5,), (3, 2, 4)]
K = 20

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=1)),  # an int learning rate takes the plain loop too
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), decoupled_weight_decay=True, weight_decay=0.1)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, maximize=True, eps=1e-6)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, alpha=0.9, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.7, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=1e-2)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]


def make_params(rng, dtype):
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def set_grads(rng, ours, theirs, step, dtype):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        if i == 1 and step % 4 == 3:  # a parameter without gradient this step is skipped by both
            p.grad, q.grad = None, None
            continue
        g = rng.standard_normal(p.shape).astype(dtype)
        p.grad = glasstorch.tensor(g)
        q.grad = torch.tensor(g)


def assert_params_close(ours, theirs, dtype, step):
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-12)
    for p, q in zip(ours, theirs):
        assert p.dtype == (glasstorch.float32 if dtype == np.float32 else glasstorch.float64)
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"step {step}")


def assert_state_close(ours, theirs, dtype):
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert sd["state"].keys() == tsd["state"].keys()
    for index, tstate in tsd["state"].items():
        assert sd["state"][index].keys() == tstate.keys()
        for key, tvalue in tstate.items():
            value = sd["state"][index][key]
            assert isinstance(value, glasstorch.Tensor)
            expected = tvalue.numpy()
            assert value.numpy().dtype == expected.dtype, key
            np.testing.assert_allclose(value.numpy(), expected, rtol=1e-5, atol=1e-6, err_msg=key)
    for group, tgroup in zip(sd["param_groups"], tsd["param_groups"]):
        assert group == tgroup


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_matches_torch_for_k_steps_with_a_save_and_restore(name, kwargs, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{name}{kwargs}".encode()))
    ours, theirs = make_params(rng, dtype)
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(K):
        set_grads(rng, ours, theirs, step, dtype)
        opt.step()
        topt.step()
        assert_params_close(ours, theirs, dtype, step)
        if step == K // 2:
            assert_state_close(opt, topt, dtype)
            saved = opt.state_dict()
            opt = getattr(optim, name)(ours, **kwargs)
            opt.load_state_dict(saved)
            tsaved = topt.state_dict()
            topt = getattr(torch.optim, name)(theirs, **kwargs)
            topt.load_state_dict(tsaved)
            # the restored state is a copy: the old optimizer's buffers are not shared
            for index, state in saved["state"].items():
                for key, value in state.items():
                    if key != "step":
                        assert value._array is not opt.state[ours[index]][key]._array
    assert_state_close(opt, topt, dtype)


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)),
                                          ("RMSprop", dict(momentum=0.5, centered=True))])
def test_param_groups_with_their_own_options(name, kwargs):
    rng = np.random.default_rng(1)
    ours, theirs = make_params(rng, np.float64)
    opt = getattr(optim, name)([{"params": ours[:2]}, {"params": ours[2], "lr": 0.3}], **kwargs)
    topt = getattr(torch.optim, name)([{"params": theirs[:2]}, {"params": theirs[2], "lr": 0.3}], **kwargs)
    assert opt.param_groups[1]["params"] == [ours[2]] and opt.param_groups[1]["lr"] == 0.3
    assert repr(opt).replace("glasstorch", "torch") == repr(topt)
    for step in range(10):
        set_grads(rng, ours, theirs, step, np.float64)
        opt.step()
        topt.step()
        assert_params_close(ours, theirs, np.float64, step)
    assert_state_close(opt, topt, np.float64)


def test_load_state_dict_from_torch_and_continue():
    rng = np.random.default_rng(2)
    ours, theirs = make_params(rng, np.float32)
    topt = torch.optim.Adam(theirs, lr=0.01, amsgrad=True)
    for step in range(5):
        set_grads(rng, ours, theirs, step, np.float32)
        topt.step()
    for p, q in zip(ours, theirs):
        p.data.copy_(glasstorch.tensor(q.detach().numpy()))
    opt = optim.Adam(ours, lr=0.5)
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["lr"] == 0.01
    for step in range(5, 10):
        set_grads(rng, ours, theirs, step, np.float32)
        opt.step()
        topt.step()
        assert_params_close(ours, theirs, np.float32, step)


def test_load_state_dict_casts_to_the_parameter_dtype():
    p64 = glasstorch.randn(4, dtype=glasstorch.float64, requires_grad=True)
    p32 = glasstorch.randn(4, requires_grad=True)
    opt = optim.Adam([p64])
    p64.grad = glasstorch.ones(4, dtype=glasstorch.float64)
    opt.step()
    opt32 = optim.Adam([p32])
    opt32.load_state_dict(opt.state_dict())
    state = opt32.state[p32]
    assert state["exp_avg"].dtype == glasstorch.float32 and state["exp_avg_sq"].dtype == glasstorch.float32
    assert state["step"].dtype == glasstorch.float32 and state["step"].item() == 1.0


def test_load_state_dict_accepts_a_plain_number_step():
    w = glasstorch.zeros(3, requires_grad=True)
    opt = optim.Adam([w])
    w.grad = glasstorch.ones(3)
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["step"] = 1  # the format of older torch versions
    opt.load_state_dict(saved)
    opt.step()
    assert opt.state[w]["step"].item() == 2.0 and opt.state[w]["step"].dtype == glasstorch.float32


def test_load_state_dict_rejects_mismatched_groups():
    a, b = glasstorch.zeros(2, requires_grad=True), glasstorch.zeros(3, requires_grad=True)
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam"])
def test_float32_updates_in_place_and_stay_float32(name):
    kwargs = dict(momentum=0.9, weight_decay=0.01) if name in ("SGD", "RMSprop") else dict(weight_decay=0.01)
    w = glasstorch.randn(30, 20, requires_grad=True)
    array, version = w._array, w._version
    opt = getattr(optim, name)([w], lr=0.01, **kwargs)
    for _ in range(3):
        w.grad = glasstorch.randn(30, 20)
        opt.step()
    assert w._array is array and w.dtype == glasstorch.float32
    assert w._version > version
    for key, value in opt.state[w].items():
        assert value.dtype == glasstorch.float32, key


def test_numpy_and_tensor_options_do_not_upcast_float32():
    """np.float64 options (a subclass of float!) would turn float32 updates into float64 ones under NumPy 2."""
    start = np.random.default_rng(4).standard_normal((6, 5)).astype(np.float32)
    a, b = glasstorch.tensor(start, requires_grad=True), glasstorch.tensor(start, requires_grad=True)
    plain = optim.Adam([a], lr=0.01, betas=(0.9, 0.999), weight_decay=0.01)
    numpy_options = optim.Adam([b], lr=np.float64(0.01), betas=(np.float64(0.9), np.float64(0.999)),
                               weight_decay=glasstorch.tensor(0.01, dtype=glasstorch.float64).item())
    numpy_options.param_groups[0]["eps"] = np.float64(1e-8)
    for _ in range(3):
        a.grad = glasstorch.ones(6, 5)
        b.grad = glasstorch.ones(6, 5)
        plain.step()
        numpy_options.step()
    assert b.dtype == glasstorch.float32
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("lr", [0.1, 1])
def test_plain_sgd_on_parameters_of_several_dtypes_in_one_group_matches_torch(lr):
    """Plain SGD multiplies by lr as a 0-d array of each parameter's dtype: a float64 parameter next to a
    float32 one must still get the float64 value of lr (a float32 0.1 would be off by 1.5e-9 relative)."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3), rng.standard_normal(2)]
    ours = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt, topt = optim.SGD(ours, lr=lr), torch.optim.SGD(theirs, lr=lr)
    for step in range(3):
        for p, t in zip(ours, theirs):
            g = rng.standard_normal(p.shape).astype(p.detach().numpy().dtype)
            p.grad, t.grad = glasstorch.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
        for p, t in zip(ours, theirs):
            assert p.detach().numpy().dtype == t.detach().numpy().dtype
            rtol = 1e-6 if p.dtype == glasstorch.float32 else 1e-14
            np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=rtol, err_msg=str(step))


def test_zero_grad_sets_to_none_or_zeros_in_place():
    w = glasstorch.randn(3, requires_grad=True)
    (w * w).sum().backward()
    opt = optim.SGD([w], lr=0.1)
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and np.all(grad.numpy() == 0)
    opt.zero_grad()
    assert w.grad is None
    opt.step()  # no gradient: nothing happens
    assert w.grad is None


def test_zero_grad_reaches_every_param_group():
    a, b, c = (glasstorch.randn(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1)
    (a * b * c).sum().backward()
    grads = [a.grad, b.grad, c.grad]
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is g and np.all(g.numpy() == 0) for p, g in zip((a, b, c), grads))
    opt.zero_grad()
    assert a.grad is None and b.grad is None and c.grad is None


def test_step_with_closure_returns_the_loss_and_uses_fresh_gradients():
    rng = np.random.default_rng(3)
    x, target = rng.standard_normal((8, 3)), rng.standard_normal(8)
    w = glasstorch.zeros(3, dtype=glasstorch.float64, requires_grad=True)
    tw = torch.zeros(3, dtype=torch.float64, requires_grad=True)

    def closure_for(weight, lib, opt):
        def closure():
            opt.zero_grad()
            loss = ((lib.tensor(x) @ weight - lib.tensor(target)) ** 2).mean()
            loss.backward()
            return loss
        return closure

    opt, topt = optim.SGD([w], lr=0.1, momentum=0.5), torch.optim.SGD([tw], lr=0.1, momentum=0.5)
    for _ in range(5):
        with glasstorch.no_grad():  # step enables grad for the closure itself, as torch does
            loss = opt.step(closure_for(w, glasstorch, opt))
        tloss = topt.step(closure_for(tw, torch, topt))
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12)


def test_constructor_errors_like_torch():
    w = glasstorch.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([w, 3], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([w], lr=0.1, nesterov=True)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": w})
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([w, w], lr=0.1)


def test_add_param_group_fills_defaults_and_named_parameters():
    a, b = glasstorch.zeros(2, requires_grad=True), glasstorch.zeros(3, requires_grad=True)
    opt = optim.Adam([("a", a)], lr=0.01)
    assert opt.param_groups[0]["param_names"] == ["a"] and opt.param_groups[0]["params"] == [a]
    opt.add_param_group({"params": [("b", b)], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [glasstorch.zeros(1, requires_grad=True)]})
    gen = (p for p in [a, b])
    assert optim.SGD(gen, lr=0.1).param_groups[0]["params"] == [a, b]


def test_repr_matches_torch():
    w, tw = glasstorch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    for name in ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam"]:
        kwargs = dict(lr=0.1)
        assert repr(getattr(optim, name)([w], **kwargs)) == repr(getattr(torch.optim, name)([tw], **kwargs))


def test_step_hooks_and_deepcopy():
    w = glasstorch.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    calls = []
    handle = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(o))
    w.grad = glasstorch.ones(2)
    opt.step()
    handle.remove()
    opt.step()
    assert calls == [opt]
    clone = copy.deepcopy(opt.state_dict())
    assert clone["param_groups"][0]["lr"] == 0.1


def test_deepcopy_of_an_optimizer_steps_its_own_copies():
    w = glasstorch.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = glasstorch.ones(2)
    opt.step()
    twin = copy.deepcopy(opt)
    twin_w = twin.param_groups[0]["params"][0]
    assert twin_w is not w and twin.state[twin_w]["momentum_buffer"] is not opt.state[w]["momentum_buffer"]
    twin_w.grad = glasstorch.ones(2)
    twin.step()
    np.testing.assert_allclose(w.detach().numpy(), [-0.1, -0.1], rtol=1e-6)
    np.testing.assert_allclose(twin_w.detach().numpy(), [-0.29, -0.29], rtol=1e-6)


def test_a_torch_style_custom_optimizer_subclass_works():
    class PlainSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @glasstorch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])

    w = glasstorch.ones(3, requires_grad=True)
    opt = PlainSGD([w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0, 0.0])
    assert "lr: 0.5" in repr(opt)


ADAM_CASES = [(name, kwargs) for name, kwargs in CASES if name in ("Adam", "AdamW")]


@pytest.mark.parametrize("name, kwargs", ADAM_CASES, ids=[IDS[CASES.index(c)] for c in ADAM_CASES])
def test_adam_blockwise_over_threads_gives_the_same_iterates(name, kwargs, monkeypatch):
    """Adam's update runs block by block over the elementwise thread pool for large parameters (tiny
    blocks here, so that these small ones take that path): the iterates are bit for bit those of one
    whole-array update, and torch's."""
    from glasstorch import backend

    def run(blocked):
        rng = np.random.default_rng(zlib.crc32(f"{name}{kwargs}".encode()))
        ours, theirs = make_params(rng, np.float32)
        opt, topt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
        with monkeypatch.context() as m:
            if blocked:
                m.setattr(backend, "BLOCK_ELEMENTS", 4)
                m.setattr(backend, "PARALLEL_MIN_ELEMENTS", 10)
                m.setattr(backend, "_num_threads", 2)
                m.setattr(backend, "_pool", None)
            for step in range(K):
                set_grads(rng, ours, theirs, step, np.float32)
                opt.step()
                topt.step()
                assert_params_close(ours, theirs, np.float32, step)
        return [p.detach().numpy().copy() for p in ours]

    for blocked, whole in zip(run(True), run(False)):
        np.testing.assert_array_equal(blocked, whole)
