"""The threaded ReLU (ops/elementwise_fast.py, what F.relu runs) equals the lesson's (ops/elementwise.py).

Random shapes, zeros among the inputs (ReLU's kink: gradient 0 there, as torch), float32 and float64,
with blocks and the pool threshold made tiny so that small arrays take the threaded, blocked path;
first-order gradients and a double backward. Also against torch, the oracle.
"""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glasstorch as gt
import glasstorch.nn.functional as F
from glasstorch import backend
from glasstorch.ops import activation
from glasstorch.ops import elementwise as lesson
from glasstorch.ops import elementwise_fast as fast


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}threads")
def threaded(request, monkeypatch):
    monkeypatch.setattr(backend, "BLOCK_ELEMENTS", 5)
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 12)
    before = gt.get_num_threads()
    backend.set_num_threads(request.param)
    yield request.param
    backend.set_num_threads(before)


def relu_and_grads(relu, x, upstream, create_graph=False):
    t, u = gt.tensor(x, requires_grad=True), gt.tensor(upstream, requires_grad=create_graph)
    y = relu(t)
    (g,) = gt.autograd.grad(y, t, u, create_graph=create_graph)
    return y, g, u


def assert_fast_equals_lesson(fast_op, lesson_op, x, upstream, node_name):
    """Same output and input gradient, bit for bit and in the same dtype, and torch's node name."""
    y_fast, g_fast, _ = relu_and_grads(fast_op, x, upstream)
    y_lesson, g_lesson, _ = relu_and_grads(lesson_op, x, upstream)
    assert y_fast.dtype == y_lesson.dtype and g_fast.dtype == g_lesson.dtype
    np.testing.assert_array_equal(y_fast.detach().numpy(), y_lesson.detach().numpy())
    np.testing.assert_array_equal(g_fast.numpy(), g_lesson.numpy())
    assert y_fast.grad_fn.name() == node_name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 7), min_size=0, max_size=4), seed=st.integers(0, 2 ** 16),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_relu_equals_lesson(threaded, shape, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x[rng.random(shape) < 0.2] = 0  # the kink: both give gradient 0 there
    upstream = rng.standard_normal(shape).astype(dtype)
    assert_fast_equals_lesson(fast.relu, lesson.relu, x, upstream, "ReluBackward0")


def test_fast_relu_matches_torch_on_a_conv_sized_activation(threaded):
    x = np.random.default_rng(0).standard_normal((4, 8, 9, 9)).astype(np.float32)
    upstream = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    y, g, _ = relu_and_grads(F.relu, x, upstream)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.relu(tx)
    ty.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(g.numpy(), tx.grad.numpy())


def test_fast_relu_double_backward_equals_lesson(threaded):
    x = np.random.default_rng(2).standard_normal((3, 11))
    upstream = np.random.default_rng(3).standard_normal(x.shape)
    results = []
    for relu in (fast.relu, lesson.relu):
        _, g, u = relu_and_grads(relu, x, upstream, create_graph=True)
        (gg,) = gt.autograd.grad((g * g).sum(), u)  # through relu's backward: 2 g * (y > 0)
        results.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_fast_relu_gradcheck():
    x = gt.tensor(np.random.default_rng(4).standard_normal((3, 5)) + 0.05, requires_grad=True)
    assert gt.autograd.gradcheck(fast.relu, (x,))


def test_fast_relu_on_integers_and_a_broadcast_upstream(threaded):
    ints = gt.tensor([-3, 0, 4])
    assert fast.relu(ints).tolist() == [0, 0, 4] and fast.relu(ints).dtype == gt.int64
    t = gt.tensor(np.linspace(-1, 1, 30), requires_grad=True)
    fast.relu(t).sum().backward()  # sum's backward hands relu an expanded (broadcast) gradient
    np.testing.assert_array_equal(t.grad.numpy(), (np.linspace(-1, 1, 30) > 0).astype(np.float64))


# ----------------------------------------------------------------------------- leaky_relu
def leaky_and_grads(leaky, x, upstream, slope, create_graph=False):
    return relu_and_grads(lambda t: leaky(t, slope), x, upstream, create_graph)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 7), min_size=0, max_size=4), seed=st.integers(0, 2 ** 16),
       dtype=st.sampled_from([np.float32, np.float64]), slope=st.sampled_from([0.01, 0.2, -0.5, 1.5]))
def test_fast_leaky_relu_equals_lesson(threaded, shape, seed, dtype, slope):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x[rng.random(shape) < 0.2] = 0  # the kink: both take the slope side there (x > 0 is false)
    upstream = rng.standard_normal(shape).astype(dtype)
    assert_fast_equals_lesson(lambda t: fast.leaky_relu(t, slope), lambda t: activation.leaky_relu(t, slope), x,
                              upstream, "LeakyReluBackward0")


def test_fast_leaky_relu_matches_torch_in_place_or_not(threaded):
    x = np.random.default_rng(0).standard_normal((4, 8, 9, 9)).astype(np.float32)
    upstream = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    for inplace in (False, True):  # in place on a non-leaf, as nn.LeakyReLU(0.2, inplace=True) after a conv
        t, tx = gt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y = F.leaky_relu(t * 1, 0.2, inplace=inplace)
        ty = torch.nn.functional.leaky_relu(tx * 1, 0.2, inplace=inplace)
        y.backward(gt.tensor(upstream))
        ty.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
        np.testing.assert_array_equal(t.grad.numpy(), tx.grad.numpy())


def test_fast_leaky_relu_double_backward_equals_lesson(threaded):
    x = np.random.default_rng(2).standard_normal((3, 11))
    upstream = np.random.default_rng(3).standard_normal(x.shape)
    results = []
    for leaky in (fast.leaky_relu, activation.leaky_relu):
        _, g, u = leaky_and_grads(leaky, x, upstream, 0.2, create_graph=True)
        (gg,) = gt.autograd.grad((g * g).sum(), u)  # through the backward: 2 g * (1 if x > 0 else 0.2)
        results.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_fast_leaky_relu_gradcheck_integers_and_a_broadcast_upstream(threaded):
    x = gt.tensor(np.random.default_rng(4).standard_normal((3, 5)) + 0.05, requires_grad=True)
    assert gt.autograd.gradcheck(lambda t: fast.leaky_relu(t, 0.2), (x,))
    ints = gt.tensor([-3, 0, 4])
    assert fast.leaky_relu(ints, 0.5).tolist() == activation.leaky_relu(ints, 0.5).tolist() == [-1.5, 0.0, 4.0]
    t = gt.tensor(np.linspace(-1, 1, 30), requires_grad=True)
    fast.leaky_relu(t, 0.2).sum().backward()  # sum's backward hands it an expanded (broadcast) gradient
    np.testing.assert_array_equal(t.grad.numpy(), np.where(np.linspace(-1, 1, 30) > 0, 1.0, 0.2))


@pytest.mark.parametrize("transpose", [False, True])
def test_fast_relu_forward_against_the_zero_block_or_a_number_equals_lesson(threaded, transpose):
    # contiguous parts are compared with a block of zeros (NumPy's SIMD loop); a strided array larger than the
    # block takes max(x, 0) whole; -0.0 becomes 0.0 and NaN stays NaN either way
    x = np.random.default_rng(3).standard_normal((6, 9)).astype(np.float32)
    x[0, :3] = [-0.0, np.nan, 0.0]
    t = gt.tensor(x).T if transpose else gt.tensor(x)  # (.T: a strided view)
    assert t.numpy().flags.c_contiguous != transpose
    y_fast, y_lesson = fast.relu(t), lesson.relu(t)
    np.testing.assert_array_equal(y_fast.numpy(), y_lesson.numpy())
    assert not np.signbit(y_fast.numpy()).any()
