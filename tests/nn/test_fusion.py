"""nn.Sequential's fusion of a Conv2d and the ReLU after it (nn/modules/fusion.py): the same values and gradients as
the two modules run apart and as torch's, one graph node where fused, and no fusion wherever the convolution's own
output could be seen (hooks, other padding modes, subclasses, a tracer, the switch off)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import glasstorch as gt
from glasstorch import nn
from glasstorch.autograd import function, gradcheck
from glasstorch.nn.modules import fusion


def graph_names(tensor):
    """The names of every node behind `tensor`, by a walk of grad_fn.next_functions."""
    names, seen, stack = [], set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(type(node).__name__ if not hasattr(node, "name") else node.name())
        stack.extend(edge for edge, _ in node.next_functions)
    return names


def copy_weights(mine, theirs):
    mine.load_state_dict({k: gt.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def run(model, x, upstream, framework):
    xt = framework.tensor(x, requires_grad=True)
    out = model(xt)
    (out * framework.tensor(upstream)).sum().backward()
    return [out.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]


def assert_fused_equals_apart_and_torch(mine, theirs, x, upstream):
    """glasstorch's Sequential `mine` as it runs (fused), with fusion.enabled off (every module on its own, no
    fused node left in its graph), and torch's `theirs` with the same weights: outputs and every gradient."""
    fused = run(mine, x, upstream, gt)
    mine.zero_grad()
    fusion.enabled = False
    try:
        apart = run(mine, x, upstream, gt)
        assert not [name for name in graph_names(mine(gt.tensor(x, requires_grad=True))) if "Relu" in name
                    and "Conv" in name]
    finally:
        fusion.enabled = True
    expected = run(theirs, x, upstream, torch)
    for a, b, c in zip(fused, apart, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(c).max())))


@settings(max_examples=25, deadline=None)
@given(channels=st.integers(1, 4), outs=st.lists(st.integers(1, 7), min_size=2, max_size=2),
       kernel=st.integers(1, 5), padding=st.integers(0, 2), stride=st.integers(1, 2), batch=st.integers(1, 5),
       inplace=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_sequential_conv_relu_equals_torch_and_the_modules_run_apart(channels, outs, kernel, padding, stride, batch,
                                                                     inplace, seed):
    def build(fw):
        return fw.nn.Sequential(fw.nn.Conv2d(channels, outs[0], kernel, stride, padding), fw.nn.ReLU(inplace),
                                fw.nn.Conv2d(outs[0], outs[1], 3, padding=1, bias=False), fw.nn.ReLU(),
                                fw.nn.Flatten())
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, 9, 8)).astype(np.float32)
    theirs, mine = build(torch), build(gt)
    copy_weights(mine, theirs)
    upstream = rng.standard_normal(tuple(theirs(torch.tensor(x)).shape)).astype(np.float32)
    assert graph_names(mine(gt.tensor(x, requires_grad=True))).count("Conv2dReluBackward0") == 2
    assert_fused_equals_apart_and_torch(mine, theirs, x, upstream)


@settings(max_examples=25, deadline=None)
@given(size=st.integers(3, 10), kernel=st.integers(1, 3), pool=st.sampled_from([1, 2, 3, (2, 1)]),
       divisor=st.sampled_from([None, 5]), batch=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_sequential_conv_relu_avg_pool_equals_torch_and_the_modules_run_apart(size, kernel, pool, divisor, batch,
                                                                              seed):
    """LeNet's layer pattern, fused into one op where the pool's windows tile the ReLU's output, the pool apart
    where they do not; the same numbers either way, and torch's."""
    def build(fw):
        return fw.nn.Sequential(fw.nn.Conv2d(2, 3, kernel, padding=1), fw.nn.ReLU(),
                                fw.nn.AvgPool2d(pool, divisor_override=divisor), fw.nn.Flatten())
    out_size = size + 3 - kernel
    pool_hw = (pool, pool) if isinstance(pool, int) else pool
    if out_size < max(pool_hw):
        return
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 2, size, size)).astype(np.float32)
    theirs, mine = build(torch), build(gt)
    copy_weights(mine, theirs)
    upstream = rng.standard_normal(tuple(theirs(torch.tensor(x)).shape)).astype(np.float32)
    tiles = all(out_size % k == 0 for k in pool_hw)
    assert ("Conv2dReluAvgPool2dBackward0" in graph_names(mine(gt.tensor(x, requires_grad=True)))) == tiles
    assert_fused_equals_apart_and_torch(mine, theirs, x, upstream)


def test_fused_pair_passes_gradcheck_in_float64():
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU()).double()
    x = gt.randn(2, 2, 4, 6, dtype=gt.float64, requires_grad=True)
    assert graph_names(model(x))[0] == "Conv2dReluBackward0"
    assert gradcheck(lambda x, w, b: model(x), (x, model[0].weight, model[0].bias))
    model.append(nn.AvgPool2d(2))
    assert graph_names(model(x))[0] == "Conv2dReluAvgPool2dBackward0"
    assert gradcheck(lambda x, w, b: model(x), (x, model[0].weight, model[0].bias))


def conv_seen_by_hook(model, x):
    seen = []
    model[0].register_forward_hook(lambda module, args, out: seen.append(out.detach().numpy()))
    model(x)
    return seen


def test_a_hook_on_the_convolution_sees_its_own_output_with_negatives():
    gt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    seen = conv_seen_by_hook(model, gt.randn(2, 1, 6, 6))
    assert len(seen) == 1 and (seen[0] < 0).any()
    assert "Conv2dReluBackward0" not in graph_names(model(gt.randn(2, 1, 6, 6, requires_grad=True)))


def observed(model):
    """Whether the pair ran unfused: the names of the ops run, as onnx.export's tracer sees them."""
    ops = []
    function.forward_observer = lambda cls, inputs, attrs, result: ops.append(cls.__name__)
    try:
        model(gt.randn(1, 1, 6, 6))
    finally:
        function.forward_observer = None
    return ops


class MyReLU(nn.ReLU):
    pass


@pytest.mark.parametrize("model, fused, apart", [
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), 1, 0),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 1), nn.ReLU(inplace=True)), 1, 1),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 1)), 1, 1),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), nn.ReLU()), 0, 1),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), MyReLU()), 0, 1),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh()), 0, 1),
    (lambda: nn.Sequential(nn.ReLU(), nn.Conv2d(1, 2, 3)), 0, 1),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2)), 1, 0),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2, stride=1)), 1, 0),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2, padding=1)), 1, 0),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True)), 1, 0),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(3)), 1, 0),  # (4 x 4 in windows of 3)
])
def test_which_pairs_fuse(model, fused, apart):
    m = model()
    names = graph_names(m(gt.randn(1, 1, 6, 6, requires_grad=True)))
    assert (names.count("Conv2dReluBackward0"), names.count("ConvolutionBackward0")) == (fused, apart)
    assert "Conv2dReluAvgPool2dBackward0" not in names
    # with a tracer watching, nothing fuses: every op the tracer sees is one it knows
    assert "FastConv2dReLUFunction" not in observed(m)
    assert observed(m).count("FastConv2dFunction") == fused + apart


@pytest.mark.parametrize("pool", [lambda: nn.AvgPool2d(2), lambda: nn.AvgPool2d((2, 1), divisor_override=3),
                                  lambda: nn.AvgPool2d(1)])
def test_conv_relu_and_a_tiling_average_pool_are_one_node(pool):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), pool(), nn.Flatten())
    names = graph_names(model(gt.randn(2, 1, 6, 6, requires_grad=True)))
    assert names.count("Conv2dReluAvgPool2dBackward0") == 1
    assert not {"Conv2dReluBackward0", "ConvolutionBackward0", "ReluBackward0", "AvgPool2DBackward0"} & set(names)
    model[2].register_forward_hook(lambda module, args, out: None)
    names = graph_names(model(gt.randn(2, 1, 6, 6, requires_grad=True)))
    assert names.count("Conv2dReluBackward0") == names.count("AvgPool2DBackward0") == 1


def test_hooks_on_the_relu_and_the_switch_keep_the_modules_apart():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    x = gt.randn(1, 1, 6, 6, requires_grad=True)
    handle = model[1].register_forward_pre_hook(lambda module, args: None)
    assert "Conv2dReluBackward0" not in graph_names(model(x))
    handle.remove()
    assert "Conv2dReluBackward0" in graph_names(model(x))
    fusion.enabled = False
    try:
        assert "Conv2dReluBackward0" not in graph_names(model(x))
    finally:
        fusion.enabled = True


def test_fused_sequential_takes_an_unbatched_image_and_runs_under_no_grad():
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
    x = gt.randn(2, 7, 7)
    with gt.no_grad():
        y = model(x)
    fusion.enabled = False
    try:
        expected = model(x)
    finally:
        fusion.enabled = True
    assert tuple(y.shape) == (3, 5, 5) and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), expected.detach().numpy())


def test_changing_the_fused_output_in_place_before_backward_is_refused_as_for_a_relu():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    y = model(gt.randn(1, 1, 5, 5, requires_grad=True))
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_arguments_avg_pool2d_refuses_still_raise_its_error():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2, divisor_override=0))
    for size in (6, 7):  # (a 4 x 4 output, which 2 x 2 windows tile, and 5 x 5, which they do not)
        with pytest.raises(RuntimeError, match="divisor must be not zero"):
            model(gt.randn(1, 1, size, size))


def test_a_forward_set_on_an_instance_runs_as_module_call_would():
    gt.manual_seed(0)
    x = gt.randn(1, 1, 6, 6)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2))
    model[1].forward = lambda t: gt.relu(t) * 10
    expected = nn.functional.avg_pool2d(gt.relu(model[0](x)) * 10, 2)
    np.testing.assert_allclose(model(x).detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    conv = model[0]
    conv.forward = lambda t: -nn.functional.conv2d(t, conv.weight, conv.bias)
    del model[1].forward
    expected = nn.functional.avg_pool2d(gt.relu(-nn.functional.conv2d(x, conv.weight, conv.bias)), 2)
    np.testing.assert_allclose(model(x).detach().numpy(), expected.detach().numpy(), rtol=1e-6)


def test_a_none_module_fails_as_in_torch():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    model.add_module("head", None)
    with pytest.raises(TypeError, match="not callable"):
        model(gt.randn(1, 1, 5, 5))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())
    theirs.add_module("head", None)
    with pytest.raises(TypeError, match="not callable"):
        theirs(torch.randn(1, 1, 5, 5))
