"""Tensor semantics against torch: dtypes and promotion, creation, printing, views, NumPy interop, in-place rules."""
import numpy as np
import pytest
import torch

import glasstorch


def both(fn):
    """Run `fn(L)` with L = glasstorch and L = torch."""
    return fn(glasstorch), fn(torch)


def same_dtype(g, t):
    return str(g.dtype).replace("glasstorch", "torch") == str(t.dtype)


# ----------------------------------------------------------------------------- dtype promotion
PROMOTION = [
    ("int + float scalar", lambda L: L.tensor([1, 2]) + 2.5),
    ("int * int scalar", lambda L: L.tensor([1, 2]) * 3),
    ("int / int", lambda L: L.tensor([7, 2]) / L.tensor([2, 2])),
    ("int / int scalar", lambda L: L.tensor([7, 3]) / 2),
    ("int32 + int64 0-dim", lambda L: L.tensor([1, 2], dtype=L.int32) + L.tensor(5)),
    ("int32 + int64 1-d", lambda L: L.tensor([1, 2], dtype=L.int32) + L.tensor([5, 6])),
    ("float32 + float64 0-dim", lambda L: L.tensor([1.0, 2.0]) + L.tensor(5.0, dtype=L.float64)),
    ("float32 + float64 1-d", lambda L: L.tensor([1.0, 2.0]) + L.tensor([5.0, 1.0], dtype=L.float64)),
    ("int64 + float64 0-dim", lambda L: L.tensor([1, 2]) + L.tensor(5.0, dtype=L.float64)),
    ("float32 * python float", lambda L: L.tensor([1.0], dtype=L.float32) * 1e-3),
    ("float64 * python float", lambda L: L.tensor([1.0], dtype=L.float64) * 0.1),
    ("bool + bool", lambda L: L.tensor([True]) + L.tensor([True])),
    ("bool + int scalar", lambda L: L.tensor([True, False]) + 1),
    ("bool * float scalar", lambda L: L.tensor([True, False]) * 1.5),
    ("uint8 + int scalar", lambda L: L.tensor([1, 2], dtype=L.uint8) + 300),
    ("uint8 + int8", lambda L: L.tensor([1], dtype=L.uint8) + L.tensor([1], dtype=L.int8)),
    ("comparison", lambda L: L.tensor([1.0, 2.0]) > 1),
    ("int comparison float", lambda L: L.tensor([1, 2]) == 2.0),
    ("int ** float", lambda L: L.tensor([1, 2]) ** 2.0),
    ("int ** int", lambda L: L.tensor([1, 2]) ** 2),
    ("float ** int tensor", lambda L: L.tensor([1.5, 2.0]) ** L.tensor([2, 3])),
    ("int // int", lambda L: L.tensor([7, -7]) // 2),
    ("float // int", lambda L: L.tensor([7.5, -7.5]) // 2),
    ("int % int", lambda L: L.tensor([7, -7]) % 3),
    ("sum of int", lambda L: L.tensor([1, 2], dtype=L.int32).sum()),
    ("sum of bool", lambda L: (L.tensor([1, 2]) > 0).sum()),
    ("mean of float64", lambda L: L.tensor([1.0, 2.0], dtype=L.float64).mean()),
    ("exp of int", lambda L: L.tensor([1, 2]).exp()),
    ("sqrt of int", lambda L: L.sqrt(L.tensor([4]))),
    ("where int/float", lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2]), 0.5)),
    ("cat int/float", lambda L: L.cat([L.tensor([1, 2]), L.tensor([0.5])])),
    ("max of int", lambda L: L.tensor([3, 1]).max()),
    ("argmax", lambda L: L.tensor([3.0, 5.0]).argmax()),
    ("neg int", lambda L: -L.tensor([3, 1])),
    ("abs int", lambda L: L.tensor([-3, 1]).abs()),
    ("clamp int by float", lambda L: L.tensor([-3, 1]).clamp(min=0.5)),
    ("np.float64 scalar", lambda L: L.tensor([1.0, 2.0]) * np.float64(2.0)),
    ("np.int64 scalar", lambda L: L.tensor([1, 2]) * np.int64(2)),
    ("matmul int", lambda L: L.tensor([[1, 2]]) @ L.tensor([[3], [4]])),
]


@pytest.mark.parametrize("name,fn", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_dtype_promotion_matches_torch(name, fn):
    g, t = both(fn)
    assert same_dtype(g, t), f"{name}: {g.dtype} vs torch {t.dtype}"
    np.testing.assert_allclose(np.asarray(g.tolist(), dtype=float), np.asarray(t.tolist(), dtype=float))
    assert tuple(g.shape) == tuple(t.shape)


CREATION = [
    ("tensor ints", lambda L: L.tensor([1, 2, 3])),
    ("tensor floats", lambda L: L.tensor([[1.0, 2], [3, 4]])),
    ("tensor bools", lambda L: L.tensor([True, False])),
    ("tensor scalar", lambda L: L.tensor(3.5)),
    ("tensor from float64 ndarray", lambda L: L.tensor(np.array([1.0, 2.0]))),
    ("tensor from int32 ndarray", lambda L: L.tensor(np.array([1, 2], dtype=np.int32))),
    ("tensor with dtype", lambda L: L.tensor([1, 2], dtype=L.float64)),
    ("tensor of tensors", lambda L: L.tensor([L.tensor(1.0), L.tensor(2.0)])),
    ("empty list", lambda L: L.tensor([])),
    ("zeros", lambda L: L.zeros(2, 3)),
    ("zeros tuple", lambda L: L.zeros((2, 3), dtype=L.int64)),
    ("ones", lambda L: L.ones([3])),
    ("full float", lambda L: L.full((2,), 1.5)),
    ("full int", lambda L: L.full((2, 2), 7)),
    ("full bool", lambda L: L.full((2,), True)),
    ("arange int", lambda L: L.arange(5)),
    ("arange start step", lambda L: L.arange(1, 10, 3)),
    ("arange float", lambda L: L.arange(0, 1, 0.25)),
    ("arange float end", lambda L: L.arange(2.5)),
    ("arange negative step", lambda L: L.arange(5, 0, -2)),
    ("linspace", lambda L: L.linspace(0, 1, 5)),
    ("linspace int args", lambda L: L.linspace(-2, 2, 3)),
    ("eye", lambda L: L.eye(3)),
    ("eye rect", lambda L: L.eye(2, 3)),
    ("zeros_like int", lambda L: L.zeros_like(L.tensor([1, 2]))),
    ("ones_like dtype", lambda L: L.ones_like(L.tensor([1, 2]), dtype=L.float32)),
    ("full_like", lambda L: L.full_like(L.tensor([1.0, 2.0]), 3)),
]


@pytest.mark.parametrize("name,fn", CREATION, ids=[c[0] for c in CREATION])
def test_creation_matches_torch(name, fn):
    g, t = both(fn)
    assert same_dtype(g, t), f"{name}: {g.dtype} vs torch {t.dtype}"
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(np.asarray(g.tolist(), dtype=float), np.asarray(t.tolist(), dtype=float), rtol=1e-6)


def test_random_creation_shapes_dtypes_and_seed():
    for fn in (lambda L: L.rand(2, 3), lambda L: L.randn((4,)), lambda L: L.randint(0, 5, (3, 2)),
               lambda L: L.randint(5, (3,)), lambda L: L.randperm(6), lambda L: L.normal(0, 0.01, size=(3, 2)),
               lambda L: L.rand_like(L.zeros(2, dtype=L.float64)), lambda L: L.randn(2, 2, dtype=L.float64)):
        g, t = both(fn)
        assert same_dtype(g, t) and tuple(g.shape) == tuple(t.shape)
    glasstorch.manual_seed(42)
    a = glasstorch.randn(5)
    glasstorch.manual_seed(42)
    assert glasstorch.equal(a, glasstorch.randn(5))
    assert not glasstorch.equal(a, glasstorch.randn(5))
    assert sorted(glasstorch.randperm(10).tolist()) == list(range(10))
    r = glasstorch.randint(3, 7, (1000,))
    assert r.min().item() >= 3 and r.max().item() <= 6
    u = glasstorch.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1


def test_properties():
    x = glasstorch.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(-1) == 4 and x.size(1) == 3
    assert repr(x.shape) == "glasstorch.Size([2, 3, 4])"
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24
    assert x.device == glasstorch.device("cpu") and str(x.device) == "cpu"
    assert x.is_leaf and x.grad is None and x.grad_fn is None and not x.requires_grad
    y = (glasstorch.ones(2, requires_grad=True) * 2)
    assert not y.is_leaf and y.requires_grad and type(y.grad_fn).__name__ == "Mul"
    assert glasstorch.cuda.is_available() == (glasstorch.cuda.device_count() > 0)  # True only with CuPy and a GPU
    for lib in (glasstorch, torch):  # the device flags programs test (DCGAN: `input.is_cuda or input.is_xpu`)
        t = lib.zeros(2)
        assert t.is_cpu and not (t.is_cuda or t.is_xpu or t.is_mps or t.is_meta)


# ----------------------------------------------------------------------------- repr
REPRS = [
    lambda L: L.tensor([1, 2, 3]),
    lambda L: L.tensor([[1.0, 2.0]]),
    lambda L: L.tensor([1.5, 2.25, 3.0]),
    lambda L: L.tensor([0.1234567, 12.5]),
    lambda L: L.tensor(3.0),
    lambda L: L.tensor(7),
    lambda L: L.tensor([True, False]),
    lambda L: L.tensor([[1.0, 2.0]], requires_grad=True),
    lambda L: L.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda L: L.tensor([1.0, 2.0], requires_grad=True) + 1,
    lambda L: L.tensor([1.0, 2.0], requires_grad=True).sum(),
    lambda L: L.tensor([1.0, 2.0], requires_grad=True).mean(),
    lambda L: L.tensor([1, 2], dtype=L.int32),
    lambda L: L.tensor([1.0, 2.5], dtype=L.float64),
    lambda L: L.tensor([1.0, 2.0], dtype=L.float64),
    lambda L: L.tensor([-1.0, 0.5]),
    lambda L: L.zeros(2, 3),
    lambda L: L.arange(12).reshape(3, 4),
    lambda L: L.tensor([1e-5, 1.0]),
    lambda L: L.tensor([123456.0, 1.0]),
    lambda L: L.tensor([]),
    lambda L: L.zeros(0, 3),
    lambda L: L.tensor([float("nan"), 1.0, float("inf")]),
    lambda L: L.tensor([[-1.5, 2.0], [3.25, -4.0]]),
]


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_repr_matches_torch(i):
    g, t = both(REPRS[i])
    assert repr(g).replace("glasstorch", "torch") == repr(t)
    assert str(g).replace("glasstorch", "torch") == str(t)


# ----------------------------------------------------------------------------- views and aliasing
def test_setitem_slice_keeps_identity():
    X, Y = glasstorch.ones(3), glasstorch.arange(3.0)
    before = id(Y)
    Y[:] = X + Y
    assert id(Y) == before and Y.tolist() == [1.0, 2.0, 3.0]
    Z = glasstorch.zeros(3)
    Z += X
    Z.add_(X)
    assert Z.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("make_view", [lambda b: b[1:], lambda b: b.reshape(3, 2), lambda b: b.view(6),
                                       lambda b: b.t(), lambda b: b.transpose(0, 1), lambda b: b[0],
                                       lambda b: b.unsqueeze(0), lambda b: b.detach(), lambda b: b.data,
                                       lambda b: b.permute(1, 0), lambda b: b.flatten(), lambda b: b.narrow(1, 0, 2)])
def test_views_see_writes_to_base(make_view):
    def run(L):
        base = L.zeros(2, 3)
        view = make_view(base)
        base.add_(1)
        base[0, 0] = 5
        seen = view.clone()
        view.mul_(2)  # and the other way round
        view[..., 0] = -1
        return base, view, seen
    for g, t in zip(*both(run)):
        assert g.tolist() == t.tolist()
    base = glasstorch.zeros(2, 3)
    assert np.shares_memory(make_view(base).numpy(), base.numpy())


def test_from_numpy_and_numpy_share_memory():
    a = np.zeros(3, dtype=np.float32)
    t = glasstorch.from_numpy(a)
    a[0] = 4
    t[1] = 7
    assert t.tolist() == [4.0, 7.0, 0.0] and a.tolist() == [4.0, 7.0, 0.0]
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    assert glasstorch.from_numpy(np.arange(3)).dtype == glasstorch.int64
    assert glasstorch.as_tensor(a).numpy() is a
    c = glasstorch.tensor(a)
    c[0] = 100
    assert a[0] == 4  # tensor() copies


def test_numpy_raises_when_requires_grad():
    w = glasstorch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0, 1.0]


def test_data_bypasses_autograd():
    w = glasstorch.ones(3, requires_grad=True)
    (w * w).sum().backward()
    lr = 0.1
    w.data -= lr * w.grad
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 0.8, 0.8], rtol=1e-6)
    w.data.normal_(0, 0.01)
    assert abs(w.detach().numpy()).max() < 0.1 and w.is_leaf
    d = w.data
    assert not d.requires_grad and np.shares_memory(d.numpy(), w.detach().numpy())
    w.data = glasstorch.zeros(3)
    assert w.tolist() == [0.0, 0.0, 0.0] and w.requires_grad


def test_numpy_interop_gives_tensors():
    t = glasstorch.tensor([1.0, 2.0])
    for out in (np.array([1.0, 1.0]) + t, np.float32(2) * t, t * np.float64(2), np.array(3.0) - t, t * np.ones(2)):
        assert isinstance(out, glasstorch.Tensor)
    out = np.array([1.0, 1.0], dtype=np.float32) + t
    assert out.dtype == glasstorch.float32 and out.tolist() == [2.0, 3.0]
    assert np.asarray(t).tolist() == [1.0, 2.0]
    assert float(np.sum(np.asarray(t))) == 3.0


def test_conversions():
    x = glasstorch.tensor([[1.5, -2.0]])
    assert x.tolist() == [[1.5, -2.0]] and x[0, 0].item() == 1.5 and isinstance(x.sum().item(), float)
    assert x.long().dtype == glasstorch.int64 and x.long().tolist() == [[1, -2]]
    assert x.int().dtype == glasstorch.int32 and x.double().dtype == glasstorch.float64
    assert x.bool().tolist() == [[True, True]] and x.long().float().dtype == glasstorch.float32
    assert x.to(glasstorch.float64).dtype == glasstorch.float64 and x.to("cpu") is x
    assert x.type(glasstorch.int64).dtype == glasstorch.int64 and x.type() == "glasstorch.FloatTensor"
    c = x.clone()
    c[0, 0] = 0
    assert x[0, 0].item() == 1.5
    assert float(glasstorch.tensor(2.5)) == 2.5 and int(glasstorch.tensor(3)) == 3
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()


def test_axis_alias_of_dim():
    x = glasstorch.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert x.argmax(axis=1).tolist() == [1, 0] and x.sum(axis=0).tolist() == [8.0, 7.0]
    assert x.mean(axis=1).tolist() == [3.0, 4.5] and glasstorch.max(x, axis=0).values.tolist() == [7.0, 5.0]


# ----------------------------------------------------------------------------- in-place rules
def test_inplace_on_leaf_requiring_grad():
    w = glasstorch.ones(2, requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.__setitem__(0, 3.0),
               lambda: w.normal_(), lambda: w.fill_(1)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            op()
    with glasstorch.no_grad():
        w.add_(1)
        w[0] = 5.0
        w.mul_(2)
    assert w.tolist() == [10.0, 4.0] and w.is_leaf and w.requires_grad


def test_inplace_cast_rules():
    x = glasstorch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        x.add_(glasstorch.tensor([0.5, 0.5]))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        x.mul_(1.5)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        x /= 2
    x.add_(3)
    assert x.tolist() == [4, 5] and x.dtype == glasstorch.int64
    f = glasstorch.tensor([1.0, 2.0])
    f.add_(glasstorch.tensor([1, 1]))
    assert f.dtype == glasstorch.float32 and f.tolist() == [2.0, 3.0]


def test_inplace_on_non_leaf_is_recorded():
    a = glasstorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2
    b.add_(1)
    b[0] = 0.0
    b.mul_(a)
    b.sum().backward()
    ta = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tb = ta * 2
    tb.add_(1)
    tb[0] = 0.0
    tb.mul_(ta)
    tb.sum().backward()
    assert b.tolist() == tb.tolist()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())


def test_modified_saved_tensor_raises():
    a = glasstorch.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = b * b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


# ----------------------------------------------------------------------------- errors
def test_matmul_error_names_both_shapes():
    for a, b in (((64, 784), (785, 10)), ((3,), (4, 2)), ((2, 3, 4), (5, 6)), ((2, 3), (4,)), ((2, 3, 4), (2, 5, 6)),
                 ((5, 6), (2, 3, 4))):
        with pytest.raises(RuntimeError) as g:
            glasstorch.zeros(*a) @ glasstorch.zeros(*b)
        with pytest.raises(RuntimeError) as t:
            torch.zeros(*a) @ torch.zeros(*b)
        assert str(g.value) == str(t.value)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(64x784 and 785x10\)"):
        glasstorch.ops.linear(glasstorch.zeros(64, 784), glasstorch.zeros(10, 785))


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / b,
                                lambda a, b: a == b, lambda a, b: glasstorch.maximum(a, b),
                                lambda a, b: glasstorch.where(a > 0, a, b)])
def test_broadcast_error_names_both_shapes(op):
    a, b = glasstorch.ones(2, 3), glasstorch.ones(4)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at "
                                           r"non-singleton dimension 1"):
        op(a, b)


def test_backward_needs_gradient_for_non_scalar():
    y = glasstorch.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        glasstorch.ones(1).backward()


def test_bad_inputs_give_clear_errors():
    with pytest.raises(RuntimeError, match="shape '\\[4, 4\\]' is invalid for input of size 6"):
        glasstorch.zeros(2, 3).reshape(4, 4)
    with pytest.raises(IndexError, match="Dimension out of range"):
        glasstorch.zeros(2, 3).sum(2)
    with pytest.raises(IndexError):
        glasstorch.zeros(2, 3)[5]
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        glasstorch.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        glasstorch.cat([glasstorch.zeros(2, 3), glasstorch.zeros(2, 4)])
    with pytest.raises(TypeError):
        glasstorch.tensor(["a"])
    with pytest.raises(RuntimeError, match="diag\\(\\): Supports 1D or 2D tensors. Got 3D"):
        glasstorch.zeros(2, 2, 2).diag()


def test_reduction_results_hold_arrays_and_support_inplace():
    x = glasstorch.tensor([[1.0, 2.0], [3.0, 4.0]])
    for r in (x.sum(), x.mean(), x.max(), x.prod(), x.norm(), x[0, 0], x.var()):
        assert isinstance(r.numpy(), np.ndarray) and r.numpy().shape == ()
    s = x.sum()
    s += 1
    assert s.item() == 11.0



INPLACE = [
    lambda x, L: x.add_(L.tensor([1.0, 2.0, 3.0])), lambda x, L: x.add_(2, alpha=0.5),
    lambda x, L: x.sub_(x * 0.5, alpha=2), lambda x, L: x.mul_(L.tensor(2.0)), lambda x, L: x.div_(4),
    lambda x, L: x.zero_(), lambda x, L: x.fill_(2.5), lambda x, L: x.copy_(L.tensor([7, 8, 9])),
    lambda x, L: x.copy_(L.tensor(3.0)), lambda x, L: x.clamp_(-0.5, 0.5), lambda x, L: x.clamp_(min=0),
    lambda x, L: x.__setitem__(slice(0, 2), L.tensor([5.0, 6.0])), lambda x, L: x.__setitem__(x > 0, 0.0),
    lambda x, L: x.__setitem__(L.tensor([0, 2]), 1.5), lambda x, L: x.__iadd__(1), lambda x, L: x.__imul__(x),
    lambda x, L: x.neg_(), lambda x, L: x.abs_(), lambda x, L: x.pow_(2), lambda x, L: x.exp_(),
    lambda x, L: x.unsqueeze_(-1), lambda x, L: x.unsqueeze_(0).t_(), lambda x, L: x.unsqueeze_(0).squeeze_(),
    lambda x, L: x.unsqueeze_(1).transpose_(0, 1).squeeze_(0).mul_(2),
]


@pytest.mark.parametrize("i", range(len(INPLACE)))
def test_inplace_methods_match_torch(i):
    def run(L):
        x = L.tensor([-1.0, 0.25, 2.0])
        view = x[1:]
        out = INPLACE[i](x, L)
        assert out is None or out is x
        return x, view
    for g, t in zip(*both(run)):
        np.testing.assert_allclose(np.asarray(g.tolist()), np.asarray(t.tolist()), rtol=1e-6)


def test_inplace_on_non_leaf_gradients_match_torch():
    for i in range(len(INPLACE)):
        def run(L):
            w = L.tensor([-1.0, 0.25, 2.0], requires_grad=True)
            x = w * 1.5
            INPLACE[i](x, L)
            try:
                (x * L.tensor([1.0, 2.0, 3.0])).sum().backward()
            except RuntimeError as error:  # x *= x: the saved x was overwritten
                assert "modified by an inplace operation" in str(error)
                return x, None
            return x, w.grad
        (gx, gg), (tx, tg) = both(run)
        assert (gg is None) == (tg is None), f"in-place op {i}: torch {'raises' if tg is None else 'works'}"
        if tg is None:
            continue
        np.testing.assert_allclose(gx.detach().numpy(), tx.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(gg.numpy(), tg.numpy(), rtol=1e-6, err_msg=f"in-place op {i}")


def test_random_fills_and_device(device):
    glasstorch.manual_seed(0)
    w = glasstorch.empty(1000).normal_(0, 0.01)
    assert abs(w.mean().item()) < 2e-3 and 0.008 < w.std().item() < 0.012
    u = glasstorch.empty(1000).uniform_(-2, 3)
    assert -2 <= u.min().item() and u.max().item() < 3
    assert glasstorch.ones(2).to(device).device == glasstorch.device(device)
    assert glasstorch.Tensor([1, 2]).dtype == glasstorch.float32 and glasstorch.Tensor(2, 3).shape == (2, 3)


def notes_program(torch):
    """Tensor basics and autograd as the course notes write them (`import glasstorch as torch`)."""
    x = torch.arange(12)
    print(x, x.shape, x.numel())
    X = x.reshape(3, 4)
    print(X, torch.zeros((2, 3, 4)).shape, torch.ones((2, 3, 4))[0])
    x, y = torch.tensor([1.0, 2, 4, 8]), torch.tensor([2, 2, 2, 2])
    print(x + y, x - y, x * y, x / y, x ** y, torch.exp(x))
    X = torch.arange(12, dtype=torch.float32).reshape((3, 4))
    Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
    print(torch.cat((X, Y), dim=0), torch.cat((X, Y), dim=1), X == Y, X.sum())
    a, b = torch.arange(3).reshape((3, 1)), torch.arange(2).reshape((1, 2))
    print(a + b, X[-1], X[1:3])
    X[1, 2] = 9
    X[0:2, :] = 12
    print(X)
    a = torch.tensor([3.5])
    print(a, a.item(), float(a), int(a))
    x = torch.arange(4.0)
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    print(y, x.grad, x.grad == 4 * x)
    x.grad.zero_()
    x.sum().backward()
    print(x.grad)
    x.grad.zero_()
    y = x * x
    u = y.detach()
    (u * x).sum().backward()
    print(x.grad == u)
    A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
    print(A.T, A.sum(axis=0), A.mean(), A.sum(axis=[0, 1]), A.cumsum(axis=0), A / A.sum(axis=1, keepdims=True))
    print(torch.mv(A, torch.ones(4)), torch.mm(A, torch.ones(4, 3)), torch.norm(torch.tensor([3.0, -4.0])))
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = torch.tensor([0, 2])
    print(y_hat[[0, 1], y], -torch.log(y_hat[range(len(y_hat)), y]), y_hat.argmax(axis=1),
          float((y_hat.argmax(axis=1).type(y.dtype) == y).sum()))
    print(torch.tensor([[1., 2.], [3., 4.]]).max(dim=1), torch.tensor([[1., 2.], [3., 4.]]).sort(0, descending=True))


def test_notes_program_prints_what_torch_prints(capsys):
    notes_program(glasstorch)
    ours = capsys.readouterr().out.replace("glasstorch", "torch")
    notes_program(torch)
    assert ours == capsys.readouterr().out


# ----------------------------------------------------------------------------- print options
@pytest.mark.parametrize("options", [dict(precision=2), dict(profile="short"), dict(sci_mode=True),
                                     dict(sci_mode=False), dict(threshold=5, edgeitems=2), dict(linewidth=30)])
def test_set_printoptions_matches_torch(options):
    values = [[0.123456, -2.5, 1e-5, 3.0, 7.25, -0.5, 11.0, 2.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]
    try:
        for L in (glasstorch, torch):
            L.set_printoptions(**options)
        for rows in (values, values[1:]):
            g, t = both(lambda L: L.tensor(rows))
            assert repr(g) == repr(t)
    finally:
        for L in (glasstorch, torch):
            L.set_printoptions(profile="default")
    assert repr(glasstorch.tensor([1.123456])) == "tensor([1.1235])"


# ----------------------------------------------------------------------------- to() and hook handles
@pytest.mark.parametrize("call", [
    lambda L, x: x.to(L.float64), lambda L, x: x.to("cpu", L.float64), lambda L, x: x.to(dtype=L.int64),
    lambda L, x: x.to(L.zeros(1, dtype=L.float64)), lambda L, x: x.to(tensor=L.zeros(1, dtype=L.int32)),
    lambda L, x: x.to("cpu", L.float16, False, True), lambda L, x: x.to(L.float32, copy=True),
    lambda L, x: x.to(device="cpu", dtype=L.float64, non_blocking=True), lambda L, x: x.to(None),
])
def test_to_signatures_match_torch(call):
    g_x, t_x = both(lambda L: L.ones(2))
    g, t = call(glasstorch, g_x), call(torch, t_x)
    assert same_dtype(g, t) and (g is g_x) == (t is t_x) and g.tolist() == t.tolist()


@pytest.mark.parametrize("call", [lambda L, x: x.to(foo=1), lambda L, x: x.to(L.float64, dtype=L.float32)])
def test_to_rejects_bad_arguments(call):
    for L in (glasstorch, torch):
        with pytest.raises(TypeError):
            call(L, L.ones(2))


def test_one_removable_handle_class_for_tensor_module_and_optimizer_hooks():
    from glasstorch.utils.hooks import RemovableHandle
    x = glasstorch.ones(2, requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(1))
    with x.register_hook(lambda g: seen.append(2)) as second:
        (x * 2).sum().backward()
    (x * 2).sum().backward()
    handle.remove()
    (x * 2).sum().backward()
    assert seen == [1, 2, 1]
    module_handle = glasstorch.nn.Linear(2, 2).register_forward_hook(lambda *a: None)
    step_handle = glasstorch.optim.SGD([x], lr=0.1).register_step_pre_hook(lambda *a: None)
    handles = [handle, second, module_handle, step_handle]
    assert all(type(h) is RemovableHandle for h in handles) and len({h.id for h in handles}) == 4


@pytest.mark.parametrize("shape", [(), (7,), (30,), (2000,), (3, 4, 5), (40, 40), (2, 3, 4, 5), (1200, 3)])
@pytest.mark.parametrize("kind", ["normal", "wide", "tiny", "integral", "int64", "bool"])
def test_repr_layout_matches_torch_on_random_tensors(shape, kind):
    """Line breaks at linewidth, `...` summaries past 1000 elements, widths set by the widest value."""
    a = np.asarray(np.random.default_rng(len(shape) + len(kind)).standard_normal(shape), dtype=np.float32)
    a = {"normal": a, "wide": a * 1e9, "tiny": a * 1e-6, "integral": np.round(a * 10),
         "int64": (a * 1000).astype(np.int64), "bool": a > 0}[kind]
    g, t = glasstorch.from_numpy(np.array(a)), torch.from_numpy(np.array(a))
    assert repr(g) == repr(t)


# in-place writes into views in the graph: the base and its other views follow (torch's CopySlices)
VIEW_WRITES = [
    # d2l's masked_softmax: a reshape view of the scores, masked in place with -1e6
    lambda L, x, w: L.softmax(_d2l_mask(L, (x * w[:3, None]).reshape(-1, 4)).reshape(3, 4), dim=-1) * w[:4],
    # a view made before the write, overlapping it, is used after it (as is the base)
    lambda L, x, w: _overlap(L, x * 2, w),
    # a tensor that needs no grad takes a value that does, through a slice (the base joins the graph)
    lambda L, x, w: _copy_into_zeros(L, x, w),
    # a view of a view, written with an in-place arithmetic op
    lambda L, x, w: _view_of_view(x * 1.5, w),
]


def _d2l_mask(L, X):
    mask = L.arange(4, dtype=L.float32)[None, :] < L.tensor([1, 3, 2])[:, None]
    X[~mask] = -1e6
    return X


def _overlap(L, y, w):
    column = y[:, 1]
    row = y[1]
    row.mul_(w[:4])
    return y * 3 + column[:, None] * w[:3, None] + row


def _copy_into_zeros(L, x, w):
    z = L.zeros(4, 4, dtype=x.dtype)
    z[1:, :].copy_(x * w[:4])
    return z.cumsum(0)


def _view_of_view(y, w):
    v = y.t()[1:3]
    v[0].mul_(w[:3]).add_(1.5)
    return y * w[:4] + v.sum()


@pytest.mark.parametrize("i", range(len(VIEW_WRITES)))
def test_inplace_writes_into_views_match_torch(i):
    x0 = np.linspace(-1, 1, 12).reshape(3, 4)
    w0 = np.array([0.5, -1.0, 2.0, 1.5])
    outs, grads = [], []
    for L in (glasstorch, torch):
        x = L.tensor(x0, requires_grad=True)
        w = L.tensor(w0, requires_grad=True)
        out = VIEW_WRITES[i](L, x, w)
        (out * L.tensor(np.arange(out.numel()).reshape(tuple(out.shape)) % 5 - 2.0)).sum().backward()
        outs.append(out.detach().numpy())
        grads.append((x.grad.numpy(), w.grad.numpy()))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10)
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert glasstorch.autograd.gradcheck(lambda x, w: VIEW_WRITES[i](glasstorch, x, w),
                                         (glasstorch.tensor(x0, requires_grad=True),
                                          glasstorch.tensor(w0, requires_grad=True)))


def test_inplace_into_a_detached_view_in_the_graph_is_refused():
    y = glasstorch.ones(3, requires_grad=True) * 2
    d = y.detach()
    with pytest.raises(RuntimeError, match="view made by detach"):
        d.mul_(glasstorch.ones(3, requires_grad=True))


def test_float_of_a_tensor_that_requires_grad_warns_once_as_torch_does():
    """torch warns (once a process, in grad mode only) that float(t) leaves the graph; the notes' train_epoch_ch3
    calls float(l.sum()). A subprocess: the once-a-process state is the library's."""
    import subprocess
    import sys
    code = ("import glasstorch as torch, warnings\n"
            "t = torch.ones(2, requires_grad=True).sum()\n"
            "with torch.no_grad():\n"
            "    float(t)\n"
            "print(float(t), float(t), float(torch.ones(1)), int(t))\n")
    result = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2.0", "2.0", "1.0", "2"]
    assert result.stderr.count("UserWarning: Converting a tensor with requires_grad=True to a scalar") == 1
    assert result.stderr.startswith("<string>:5: UserWarning")


@pytest.mark.parametrize("expression", ["1 - b", "b - 1", "b - b", "f - True", "b - f", "f - b", "M.rsub(b, 1)",
                                        "M.sub(f, b)"])
def test_subtraction_with_a_bool_operand_raises_torchs_error(expression):
    """`1 - mask` is refused by torch with a hint to use `~`; glasstorch computed an int tensor."""
    torch = pytest.importorskip("torch")
    messages = []
    for M in (glasstorch, torch):
        b, f = M.tensor([True, False]), M.ones(2)
        with pytest.raises(RuntimeError) as error:
            eval(expression, {"M": M, "b": b, "f": f})
        messages.append(str(error.value))
    assert messages[0] == messages[1]
