"""Creation functions take torch's spellings; multinomial and topk as torch's."""
import numpy as np
import pytest
import torch

import glasstorch


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
@pytest.mark.parametrize("call", [lambda f: f(2, 3), lambda f: f((2, 3)), lambda f: f([2, 3]), lambda f: f(size=(2, 3)),
                                  lambda f: f(glasstorch.Size([2, 3])), lambda f: f(2, 3, dtype=glasstorch.float64),
                                  lambda f: f(2, 3, requires_grad=True), lambda f: f(2, 3, device="cpu")])
def test_sized_creation_spellings(name, call):
    t = call(getattr(glasstorch, name))
    assert t.shape == (2, 3)
    assert t.dtype in (glasstorch.float32, glasstorch.float64)


def test_creation_options_match_torch():
    for lib in (glasstorch, torch):
        assert lib.zeros(size=(2,)).dtype == lib.float32
        assert lib.full((2, 2), 3).dtype == lib.int64
        assert lib.full(size=(2,), fill_value=1.5).dtype == lib.float32
        assert lib.arange(5).dtype == lib.int64 and lib.arange(0, 1, 0.25).shape == (4,)
        assert lib.linspace(0, 1, steps=5).shape == (5,) and lib.eye(2, 3).shape == (2, 3)
        assert lib.randint(5, (3,)).dtype == lib.int64 and lib.randint(1, 5, size=(2, 2)).shape == (2, 2)
        assert lib.randint(3, size=(4,)).max() < 3 and lib.randint(low=1, high=4, size=(9,)).min() >= 1
        assert lib.rand_like(lib.zeros(2, 3), requires_grad=True).requires_grad
        assert lib.zeros_like(lib.ones(2), dtype=lib.float64).dtype == lib.float64
        assert lib.empty(2, 3, layout=lib.strided, pin_memory=False).shape == (2, 3)
    g = glasstorch.Generator().manual_seed(3)
    a = glasstorch.rand(4, generator=g)
    g.manual_seed(3)
    np.testing.assert_array_equal(a.numpy(), glasstorch.rand(size=(4,), generator=g).numpy())
    with pytest.raises(RuntimeError, match="negative dimension"):
        glasstorch.zeros(2, -1)
    with pytest.raises(TypeError):
        glasstorch.zeros(2, size=(2,))


def test_multinomial():
    g = glasstorch.Generator().manual_seed(0)
    weights = glasstorch.tensor([[0.0, 1.0, 3.0, 0.0], [5.0, 0.0, 0.0, 5.0]])
    draws = glasstorch.multinomial(weights, 2, generator=g)
    assert draws.shape == (2, 2) and draws.dtype == glasstorch.int64
    assert sorted(draws[0].tolist()) == [1, 2] and sorted(draws[1].tolist()) == [0, 3]  # no repeats, never weight 0
    many = weights[0].multinomial(20000, replacement=True, generator=g)
    assert many.shape == (20000,)
    counts = np.bincount(many.numpy(), minlength=4)
    assert counts[0] == counts[3] == 0 and abs(counts[2] / 20000 - 0.75) < 0.02
    for bad, message in [((glasstorch.tensor([1.0, 2.0]), 3), "without replacement"),
                         ((glasstorch.tensor([1.0, -1.0]), 1), "element < 0"),
                         ((glasstorch.tensor([0.0, 0.0]), 1), "sum of probabilities"),
                         ((glasstorch.tensor([1.0, 0.0]), 2), "not enough non-negative category"),
                         ((glasstorch.tensor([1, 2]), 1), "floating-point"),
                         ((glasstorch.ones(2, 2, 2), 1), "1 or 2 dim"),
                         ((glasstorch.ones(2), 0), "n_sample <= 0")]:
        with pytest.raises(RuntimeError, match=message):
            glasstorch.multinomial(*bad)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_any_dim_matches_torch_with_gradient(dim, largest):
    rng = np.random.default_rng(dim + 5 + 10 * largest)
    x = rng.permutation(60).reshape(3, 4, 5).astype(np.float64)  # distinct values: the order is unique
    a, b = glasstorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (va, ia), (vb, ib) = a.topk(3, dim=dim, largest=largest), b.topk(3, dim=dim, largest=largest)
    np.testing.assert_array_equal(va.detach().numpy(), vb.detach().numpy())
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    w = rng.standard_normal(tuple(vb.shape))
    (va * glasstorch.tensor(w)).sum().backward()
    (vb * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    values, indices = glasstorch.topk(a, 2, dim, largest, sorted=False)  # some order, the same set
    assert sorted(values.detach().numpy().ravel().tolist()) == sorted(
        vb.narrow(dim, 0, 2).detach().numpy().ravel().tolist())


LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
          "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_typed_constructors_match_torch(name):
    """torch.LongTensor([...]) and friends, as older tutorials write them: data (lists, NumPy arrays of another
    dtype) cast to the type's dtype, a shape makes a tensor of that shape, isinstance checks the dtype."""
    data = np.array([[0, 1, 2], [1, 0, 3]], dtype=np.int32)
    for make in (lambda L: getattr(L, name)(data.tolist()), lambda L: getattr(L, name)(data)):
        ours, theirs = make(glasstorch), make(torch)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert tuple(getattr(glasstorch, name)(2, 3).shape) == tuple(getattr(torch, name)(2, 3).shape) == (2, 3)
    for lib in (glasstorch, torch):
        t = getattr(lib, name)([1, 0])
        assert [isinstance(t, getattr(lib, other)) for other in LEGACY] == [other == name for other in LEGACY]
        assert isinstance(t, lib.Tensor) and not isinstance(t.tolist(), getattr(lib, name))
        assert lib.tensor([1.5, 2.5]).type(getattr(lib, name)).dtype == t.dtype


def test_an_object_array_is_refused_in_torchs_words():
    """pandas' `df.values` of mixed columns (the notes' data preprocessing) is an object array: torch's message."""
    torch = pytest.importorskip("torch")
    for data in (np.array([1.0, "a"], dtype=object), np.array(["ab"])):
        with pytest.raises(TypeError) as ours:
            glasstorch.tensor(data)
        with pytest.raises(TypeError) as theirs:
            torch.tensor(data)
        assert str(ours.value).split(". ")[0] == str(theirs.value).split(". ")[0]
