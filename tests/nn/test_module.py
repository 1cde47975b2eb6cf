"""nn.Module, Parameter and the containers, checked against torch by building the same model in both.

Every architecture below is written once as `build(nn)` and built with torch.nn and glasstorch.nn:
names, state_dict keys, reprs, errors and hook results must agree.
"""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import nn


def same_text(ours, theirs):
    """Equal up to the framework's name (glasstorch.Size vs torch.Size, glasstorch.float32 ...)."""
    assert str(ours).replace("glasstorch", "torch") == str(theirs)


class Net:
    """A model class written against an `nn` module argument, so torch and glasstorch build the same thing."""

    @staticmethod
    def build(nn):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
                self.bn = nn.BatchNorm2d(4)
                self.register_buffer("scale", torch_or_gt(nn).ones(1))
                self.register_buffer("cache", torch_or_gt(nn).zeros(2), persistent=False)

            def forward(self, x):
                return self.bn(self.conv(x)) * self.scale

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.block = Block()
                self.pool = nn.MaxPool2d(2)
                self.head = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Dropout(0.25),
                                          nn.Linear(8, 3))
                self.extra = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3), nn.Tanh()])
                self.table = nn.ModuleDict({"emb": nn.Embedding(5, 2, padding_idx=0), "ln": nn.LayerNorm(2)})
                self.alpha = nn.Parameter(torch_or_gt(nn).ones(2))

        return Model()


def torch_or_gt(nn_module):
    return torch if nn_module is torch.nn else glasstorch


@pytest.fixture
def pair():
    ours, theirs = Net.build(nn), Net.build(torch.nn)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


# ---------------------------------------------------------------------------------------------- registration
def test_names_and_order_match_torch(pair):
    ours, theirs = pair
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in theirs.named_parameters(prefix="m", recurse=False)]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]


def test_state_dict_values_are_detached_views(pair):
    ours, _ = pair
    sd = ours.state_dict()
    w = sd["head.1.weight"]
    assert not isinstance(w, nn.Parameter) and not w.requires_grad
    assert np.shares_memory(w.numpy(), ours.head[1].weight.detach().numpy())
    assert sd["block.bn.num_batches_tracked"].dtype == glasstorch.int64
    assert isinstance(ours.state_dict(keep_vars=True)["alpha"], nn.Parameter)
    assert "block.cache" not in sd


def test_shared_parameters_counted_once():
    def build(nn):
        shared = nn.Linear(4, 4)
        return nn.Sequential(shared, nn.ReLU(), shared)
    ours, theirs = build(nn), build(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in theirs.named_parameters(remove_duplicate=False)]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


def test_setattr_rules():
    m = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="cannot assign 'glasstorch.FloatTensor' as parameter 'weight'"):
        m.weight = glasstorch.zeros(3, 2)
    m.weight = nn.Parameter(glasstorch.zeros(3, 2))
    assert m.weight.shape == (3, 2) and "weight" in m._parameters
    m.bias = None
    assert m.bias is None and list(m.state_dict()) == ["weight"]
    m.sub = nn.ReLU()
    assert "sub" in m._modules and "sub" in dir(m) and "weight" in dir(m)
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nothing'"):
        m.nothing
    with pytest.raises(KeyError, match="attribute 'in_features' already exists"):
        m.register_buffer("in_features", glasstorch.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'glasstorch.FloatTensor' object to parameter 'p'"):
        m.register_parameter("p", glasstorch.zeros(1))
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor"):
        m.register_parameter("p", _non_leaf_parameter())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(glasstorch.zeros(1))
    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__"):
        Early()


def _non_leaf_parameter():
    p = nn.Parameter(glasstorch.zeros(1))
    q = p * 2
    q.__class__ = nn.Parameter
    return q


def test_buffers_and_register_module():
    m = nn.Module()
    m.register_buffer("b", glasstorch.ones(2))
    m.b = glasstorch.zeros(2)  # assigning to a registered buffer keeps it a buffer
    assert m.b.tolist() == [0.0, 0.0] and list(m.state_dict()) == ["b"]
    with pytest.raises(TypeError):
        m.b = 3
    m.register_module("lin", nn.Linear(1, 1))
    m.add_module("act", nn.ReLU())
    assert list(m._modules) == ["lin", "act"]
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("bad", 3)
    with pytest.raises(KeyError, match="module name can"):
        m.add_module("a.b", nn.ReLU())


def test_parameter_basics():
    p = nn.Parameter(glasstorch.tensor([1.0, 2.0]))
    q = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert isinstance(p, glasstorch.Tensor) and p.requires_grad and p.is_leaf
    same_text(repr(p), repr(q))
    same_text(str(p), str(q))
    assert not nn.Parameter(glasstorch.zeros(2), requires_grad=False).requires_grad
    assert type(p * 2) is glasstorch.Tensor
    c = copy.deepcopy(p)
    assert type(c) is nn.Parameter and c.requires_grad and not np.shares_memory(c.detach().numpy(), p.detach().numpy())
    assert nn.Parameter().shape == (0,)


# ---------------------------------------------------------------------------------------------- state_dict
def test_load_state_dict_roundtrip_and_copy(pair):
    ours, theirs = pair
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    weight = ours.head[1].weight
    result = ours.load_state_dict({k: v.numpy() * 0 for k, v in theirs.state_dict().items()})
    assert weight is ours.head[1].weight and float(weight.abs().sum()) == 0.0  # copied in place
    assert repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_load_state_dict_errors_match_torch(pair):
    ours, theirs = pair
    sd = theirs.state_dict()
    del sd["head.1.bias"], sd["block.bn.running_var"]
    sd["head.9.weight"] = torch.zeros(1)
    sd["bogus"] = torch.zeros(1)
    sd["extra.0.weight"] = torch.zeros(2, 3)
    with pytest.raises(RuntimeError) as theirs_err:
        theirs.load_state_dict(sd)
    with pytest.raises(RuntimeError) as ours_err:
        ours.load_state_dict(sd)
    same_text(ours_err.value, theirs_err.value)

    del sd["extra.0.weight"]
    theirs_result = theirs.load_state_dict(sd, strict=False)
    ours_result = ours.load_state_dict(sd, strict=False)
    assert ours_result.missing_keys == theirs_result.missing_keys
    assert ours_result.unexpected_keys == theirs_result.unexpected_keys
    assert ours_result == tuple(theirs_result)


# ---------------------------------------------------------------------------------------------- modes, grads, dtype
def test_train_eval_propagate(pair):
    ours, theirs = pair
    for m in (ours, theirs):
        m.eval()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()] == \
        [False] * len(list(ours.modules()))
    ours.head.train()
    assert not ours.training and ours.head[3].training and not ours.block.bn.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        ours.train("yes")


def test_zero_grad_and_requires_grad():
    m = nn.Linear(3, 2)
    m(glasstorch.randn(4, 3)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert m.weight.grad.abs().sum().item() == 0.0
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_dtype_keeps_parameter_objects(pair):
    ours, _ = pair
    ours.head[1](glasstorch.randn(2, 16)).sum().backward()
    weight = ours.head[1].weight
    assert ours.double() is ours
    assert weight is ours.head[1].weight and weight.dtype == glasstorch.float64
    assert weight.grad.dtype == glasstorch.float64
    assert ours.block.bn.running_mean.dtype == glasstorch.float64
    assert ours.block.bn.num_batches_tracked.dtype == glasstorch.int64
    ours.to(glasstorch.float32)
    assert weight.dtype == glasstorch.float32 and ours.to("cpu") is ours and ours.float() is ours


def test_apply_and_init_function():
    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.constant_(m.weight, 0.5)
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert net.apply(init_weights) is net
    assert net[1].weight.detach().numpy().tolist() == [[0.5] * 4] * 3
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Flatten", "Linear", "ReLU", "Linear", "Sequential"]


def test_deepcopy_is_independent(pair):
    ours, _ = pair
    clone = copy.deepcopy(ours)
    assert type(clone.head[1].weight) is nn.Parameter
    with glasstorch.no_grad():
        clone.head[1].weight.fill_(0)
    assert ours.head[1].weight.abs().sum().item() > 0
    assert list(clone.state_dict()) == list(ours.state_dict())


def test_get_submodule(pair):
    ours, _ = pair
    assert ours.get_submodule("head.1") is ours.head[1]
    assert ours.get_parameter("head.1.weight") is ours.head[1].weight
    with pytest.raises(AttributeError):
        ours.get_submodule("head.nothing")


# ---------------------------------------------------------------------------------------------- repr
def test_repr_matches_torch(pair):
    ours, theirs = pair
    same_text(repr(ours), repr(theirs))


def test_repr_of_layers_matches_torch():
    def layers(nn):
        return nn.Sequential(
            nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False),
            nn.Conv2d(3, 6, (3, 5), padding="same"), nn.Conv2d(3, 6, 3, padding_mode="reflect", padding=1),
            nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1), nn.MaxPool2d(3, 1, 1, ceil_mode=True),
            nn.AvgPool2d(2), nn.AdaptiveAvgPool2d((1, 1)), nn.AdaptiveMaxPool2d(2), nn.MaxPool1d(2),
            nn.BatchNorm1d(5, momentum=None), nn.BatchNorm2d(3, affine=False, track_running_stats=False),
            nn.LayerNorm([2, 3]), nn.GroupNorm(2, 4), nn.Embedding(10, 3, padding_idx=-1, max_norm=1.0),
            nn.Dropout(), nn.Dropout2d(0.1), nn.ReLU(inplace=True), nn.ReLU6(), nn.LeakyReLU(0.2), nn.ELU(),
            nn.GELU("tanh"), nn.SiLU(), nn.Sigmoid(), nn.Tanh(), nn.Softplus(beta=2), nn.Hardtanh(-2, 2),
            nn.Softmax(dim=1), nn.LogSoftmax(1), nn.Identity(), nn.Unflatten(1, (2, 5)), nn.Flatten(0),
            nn.MSELoss(), nn.CrossEntropyLoss(label_smoothing=0.1), nn.BCEWithLogitsLoss(), nn.PReLU(3),
            nn.Bilinear(2, 3, 4), nn.LazyLinear(4), nn.Linear(3, 1, bias=False),
            nn.ParameterList([nn.Parameter(torch_or_gt(nn).zeros(2, 3))]),
            nn.ParameterDict({"a": nn.Parameter(torch_or_gt(nn).zeros(4))}),
            nn.ModuleList(), nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.ReLU()]))
    same_text(repr(layers(nn)), repr(layers(torch.nn)))


# ---------------------------------------------------------------------------------------------- hooks
def test_forward_hooks_modify_and_remove():
    for lib in (nn, torch.nn):
        m = lib.Linear(3, 3)
        calls = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
        h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
        tensor = glasstorch if lib is nn else torch
        y = m(tensor.ones(2, 3))
        expected = m.bias.detach().numpy() + 1
        np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(expected, (2, 3)), rtol=1e-6)
        assert len(calls) == 1
        h1.remove()
        h2.remove()
        m(tensor.ones(2, 3))
        assert len(calls) == 1
        with m.register_forward_hook(lambda mod, args, out: calls.append(1)):
            m(tensor.ones(2, 3))
        m(tensor.ones(2, 3))
        assert len(calls) == 2


def test_forward_hook_order_and_prepend():
    m = nn.Identity()
    order = []
    m.register_forward_hook(lambda *a: order.append("a"))
    m.register_forward_hook(lambda *a: order.append("b"))
    m.register_forward_hook(lambda *a: order.append("first"), prepend=True)
    m(glasstorch.zeros(1))
    assert order == ["first", "a", "b"]


def _backward_hook_run(lib, tensor, weights, x_array, replace):
    lin = lib.Linear(4, 3)
    lin.load_state_dict(weights)
    seen = {}

    def hook(module, grad_input, grad_output):
        seen["in"] = [None if g is None else g.numpy().copy() for g in grad_input]
        seen["out"] = [g.numpy().copy() for g in grad_output]
        if replace:
            return tuple(g * 2 for g in grad_input)

    def pre_hook(module, grad_output):
        seen["pre"] = grad_output[0].numpy().copy()

    lin.register_full_backward_hook(hook)
    lin.register_full_backward_pre_hook(pre_hook)
    x = tensor.tensor(x_array, requires_grad=True)
    (lin(x) ** 2).sum().backward()
    return seen, x.grad.numpy(), lin.weight.grad.numpy()


@pytest.mark.parametrize("replace", [False, True])
def test_full_backward_hook_matches_torch(replace):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    weights = torch.nn.Linear(4, 3).state_dict()
    ours = _backward_hook_run(nn, glasstorch, weights, x, replace)
    theirs = _backward_hook_run(torch.nn, torch, weights, x, replace)
    for key in ("in", "out"):
        for a, b in zip(ours[0][key], theirs[0][key]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[0]["pre"], theirs[0]["pre"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)  # x.grad (doubled when replaced)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6)


def test_full_backward_hook_with_two_inputs_replaces_both():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32)
    theirs = torch.nn.Bilinear(2, 4, 3)
    ours = nn.Bilinear(2, 4, 3)
    ours.load_state_dict(theirs.state_dict())
    grads = []
    for m, lib in ((ours, glasstorch), (theirs, torch)):
        shapes = []
        m.register_full_backward_hook(lambda mod, gi, go: shapes.append(len(gi)) or (gi[0] * 2, gi[1] * -1))
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        (m(x, y) ** 2).sum().backward()
        assert shapes == [2]
        grads.append((x.grad.numpy(), y.grad.numpy(), m.weight.grad.numpy()))
    for ours_grad, theirs_grad in zip(*grads):
        np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-5, atol=1e-6)


def test_backward_hook_without_input_grad_gets_none():
    lin = nn.Linear(2, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    lin(glasstorch.ones(3, 2)).sum().backward()
    assert seen == [((None,), (3, 2))]


# ---------------------------------------------------------------------------------------------- containers
def test_sequential_indexing_matches_torch():
    def build(nn):
        return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    ours, theirs = build(nn), build(torch.nn)
    assert len(ours) == len(theirs) == 5
    assert type(ours[-1]) is nn.Linear and ours[-1].in_features == 4
    for key in (slice(1, 4), slice(None, None, 2), slice(-2, None)):
        assert type(ours[key]) is nn.Sequential
        assert list(ours[key]._modules) == list(theirs[key]._modules)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    with pytest.raises(IndexError, match="index 5 is out of range"):
        ours[5]
    for seq, lib in ((ours, nn), (theirs, torch.nn)):
        del seq[1]
        seq.append(lib.Sigmoid())
        seq.insert(1, lib.ReLU6())
        seq[0] = lib.Identity()
        seq.extend([lib.ELU()])
        del seq[2:4]
    assert repr(ours).replace("glasstorch", "torch") == repr(theirs)


def test_sequential_from_ordered_dict_and_forward():
    net = nn.Sequential(OrderedDict([("fc", nn.Linear(3, 2)), ("act", nn.ReLU())]))
    assert list(net.state_dict()) == ["fc.weight", "fc.bias"]
    assert net.fc is net[0]
    x = glasstorch.randn(4, 3)
    np.testing.assert_allclose(net(x).detach().numpy(), net.act(net.fc(x)).detach().numpy())
    with pytest.raises(TypeError, match="is not a Module subclass"):
        nn.Sequential(nn.Flatten, nn.Linear(2, 2))  # the class instead of an instance (a common slip)


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.ReLU())
    layers.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in layers] == ["Tanh", "Linear", "Linear", "Linear", "ReLU"]
    assert type(layers[1:3]) is nn.ModuleList and len(layers[1:3]) == 2
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    assert len(list(layers.parameters())) == 6
    d = nn.ModuleDict({"a": nn.Linear(1, 1)})
    d["b"] = nn.ReLU()
    assert list(d.keys()) == ["a", "b"] and "a" in d and len(d) == 2
    assert [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias"]
    assert d.pop("b").__class__ is nn.ReLU and list(d) == ["a"]


def test_parameter_list_and_dict_register():
    plist = nn.ParameterList([glasstorch.zeros(2), nn.Parameter(glasstorch.ones(3))])
    assert all(isinstance(p, nn.Parameter) for p in plist) and len(plist) == 2
    plist.append(glasstorch.zeros(1))
    assert [n for n, _ in plist.named_parameters()] == ["0", "1", "2"]
    pdict = nn.ParameterDict({"w": glasstorch.zeros(2)})
    pdict["b"] = nn.Parameter(glasstorch.zeros(1))
    assert [n for n, _ in pdict.named_parameters()] == ["w", "b"] and list(pdict.keys()) == ["w", "b"]
    assert isinstance(pdict["w"], nn.Parameter)


# ---------------------------------------------------------------------------------------------- lazy modules
def test_lazy_linear_becomes_linear():
    m = nn.LazyLinear(4)
    assert isinstance(m.weight, nn.UninitializedParameter)
    assert repr(m) == "LazyLinear(in_features=0, out_features=4, bias=True)"
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        m.weight.shape
    y = m(glasstorch.randn(2, 7))
    assert type(m) == nn.Linear and type(m.weight) is nn.Parameter
    assert m.weight.shape == (4, 7) and m.in_features == 7 and y.shape == (2, 4)
    bound = 1 / np.sqrt(7)
    assert np.abs(m.weight.detach().numpy()).max() <= bound and np.abs(m.bias.detach().numpy()).max() <= bound
    assert not m._forward_pre_hooks


def test_lazy_in_sequential_then_state_dict():
    net = nn.Sequential(nn.Flatten(), nn.LazyLinear(3))
    net(glasstorch.randn(2, 2, 5))
    assert list(net.state_dict()) == ["1.weight", "1.bias"] and net[1].weight.shape == (3, 10)
    assert type(net[1]) is nn.Linear


def test_lazy_linear_loaded_from_state_dict():
    theirs = torch.nn.Linear(3, 2)
    lazy = nn.LazyLinear(2)
    lazy.load_state_dict(theirs.state_dict())  # materialises the weights from the checkpoint
    x = np.ones((1, 3), np.float32)
    y = lazy(glasstorch.tensor(x))
    assert type(lazy) is nn.Linear and lazy.in_features == 3
    np.testing.assert_allclose(y.detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_to_signatures_match_torch():
    for lib, L in ((nn, glasstorch), (torch.nn, torch)):
        m = lib.Linear(2, 2)
        assert m.to(L.zeros(1, dtype=L.float64)) is m and m.weight.dtype == L.float64
        assert m.to("cpu", L.float32, non_blocking=True).weight.dtype == L.float32
        with pytest.raises(RuntimeError, match="does not accept copy"):
            m.to(L.float64, copy=True)
        with pytest.raises(TypeError):
            m.to(foo=1)


# --- registered names found by the class-level shortcut (nn/module.py `_Registered`), same answers as __getattr__
def test_registered_names_read_like_torch_through_every_route(pair):
    for lib in (glasstorch, torch):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(2, 3)
                self.scale = lib.nn.Parameter(lib.ones(1))
                self.register_buffer("steps", lib.zeros(1))
                self.register_parameter("shift", None)

        net = Net()
        assert net.fc is net._modules["fc"] and net.scale is net._parameters["scale"]
        assert net.steps is net._buffers["steps"] and net.shift is None
        assert not hasattr(Net, "scale") and not hasattr(lib.nn.Linear, "weight")  # no class attribute shows
        # MAML-style: a registry entry replaced directly is what the attribute reads
        new = lib.ones(3, 2)
        net.fc._parameters["weight"] = new
        assert net.fc.weight is new
        # prune-style: the parameter removed, a plain tensor set under the same name
        del net.fc._parameters["weight"]
        with pytest.raises(AttributeError, match="'Linear' object has no attribute 'weight'"):
            net.fc.weight
        plain = lib.zeros(3, 2)
        net.fc.weight = plain
        assert net.fc.weight is plain and "weight" not in net.fc._parameters
        other = lib.nn.Linear(2, 3)  # the other instances are unaffected
        assert other.weight is other._parameters["weight"]
        del net.scale
        with pytest.raises(AttributeError, match="'Net' object has no attribute 'scale'"):
            net.scale
        net.scale = 5  # a plain value after the registered one is gone
        assert net.scale == 5 and "scale" not in net._parameters


@pytest.mark.parametrize("base_first", [False, True], ids=["subclass first", "base class first"])
def test_a_subclass_getattr_still_sees_registered_names(base_first):
    if base_first:
        nn.Linear(2, 2)  # the base class has its shortcuts before the subclass registers anything
    seen = []

    class Logged(nn.Linear):
        def __getattr__(self, name):
            seen.append(name)
            return super().__getattr__(name)

    layer = Logged(2, 2)
    seen.clear()  # (__init__ read its parameters too)
    assert layer.weight is layer._parameters["weight"] and seen == ["weight"]
    assert nn.Linear(2, 2).weight.shape == (2, 2) and seen == ["weight"]
