"""Every layer against torch: build it in both frameworks, copy torch's weights into ours with
load_state_dict, run the same random input, and compare outputs, input gradients, parameter gradients
and buffers (random upstream gradient, random shapes and settings)."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import nn

RTOL, ATOL = 1e-4, 1e-5


# ---------------------------------------------------------------------------------------------- inputs
def floats(*shape):
    return lambda rng: rng.standard_normal(shape).astype(np.float32)


def positive(*shape):
    return lambda rng: rng.uniform(0.1, 2.0, shape).astype(np.float32)


def probs(*shape):
    return lambda rng: rng.uniform(0.02, 0.98, shape).astype(np.float32)


def binary(*shape):
    return lambda rng: rng.integers(0, 2, shape).astype(np.float32)


def labels(high, *shape, ignore=None):
    def make(rng):
        y = rng.integers(0, high, shape).astype(np.int64)
        if ignore is not None:
            y.flat[::3] = ignore
        return y
    return make


def log_probs(*shape, dim=1):
    def make(rng):
        x = rng.standard_normal(shape)
        return (x - np.log(np.exp(x).sum(dim, keepdims=True))).astype(np.float32)
    return make


def soft_targets(*shape, dim=1):
    def make(rng):
        x = rng.uniform(0.1, 1.0, shape)
        return (x / x.sum(dim, keepdims=True)).astype(np.float32)
    return make


def signs(*shape):
    return lambda rng: rng.choice([-1.0, 1.0], shape).astype(np.float32)


# (id, build(nn) -> module, input makers, which inputs are differentiable)
SPECS = [
    ("Linear", lambda nn: nn.Linear(5, 3), [floats(4, 5)]),
    ("Linear-3d-nobias", lambda nn: nn.Linear(5, 3, bias=False), [floats(2, 4, 5)]),
    ("Linear-1d", lambda nn: nn.Linear(6, 2), [floats(6)]),
    ("Bilinear", lambda nn: nn.Bilinear(3, 4, 2), [floats(5, 3), floats(5, 4)]),
    ("Identity", lambda nn: nn.Identity(7, k=1), [floats(3, 2)]),
    ("Flatten", lambda nn: nn.Flatten(), [floats(2, 3, 4, 5)]),
    ("Flatten-0-2", lambda nn: nn.Flatten(0, 2), [floats(2, 3, 4, 5)]),
    ("Unflatten", lambda nn: nn.Unflatten(1, (2, 6)), [floats(3, 12)]),
    ("Conv1d", lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), [floats(2, 4, 11)]),
    ("Conv1d-same", lambda nn: nn.Conv1d(3, 2, 4, padding="same"), [floats(2, 3, 9)]),
    ("Conv2d-notes", lambda nn: nn.Conv2d(1, 8, 3, 1), [floats(2, 1, 10, 10)]),
    ("Conv2d-same", lambda nn: nn.Conv2d(3, 4, (3, 4), padding="same", dilation=2), [floats(2, 3, 9, 8)]),
    ("Conv2d-valid", lambda nn: nn.Conv2d(3, 4, 2, padding="valid", bias=False), [floats(1, 3, 5, 6)]),
    ("Conv2d-unbatched", lambda nn: nn.Conv2d(2, 3, 3, padding=1), [floats(2, 6, 5)]),
    ("Conv2d-reflect", lambda nn: nn.Conv2d(2, 3, 3, padding=2, padding_mode="reflect"), [floats(2, 2, 6, 7)]),
    ("Conv2d-replicate", lambda nn: nn.Conv2d(2, 3, (3, 2), padding=(1, 2), padding_mode="replicate"),
     [floats(2, 2, 6, 7)]),
    ("Conv2d-circular", lambda nn: nn.Conv2d(2, 2, 3, stride=2, padding=1, padding_mode="circular"),
     [floats(1, 2, 7, 6)]),
    ("Conv2d-same-reflect", lambda nn: nn.Conv2d(2, 3, (4, 3), padding="same", padding_mode="reflect"),
     [floats(2, 2, 7, 6)]),
    ("Conv1d-circular", lambda nn: nn.Conv1d(2, 3, 3, padding=1, padding_mode="circular"), [floats(2, 2, 8)]),
    ("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     [floats(2, 4, 5, 4)]),
    ("ConvTranspose2d-dilated", lambda nn: nn.ConvTranspose2d(2, 3, (2, 3), stride=(1, 2), dilation=2, bias=False),
     [floats(2, 2, 4, 5)]),
    ("MaxPool1d", lambda nn: nn.MaxPool1d(3, 2, 1), [floats(2, 3, 10)]),
    ("MaxPool2d-notes", lambda nn: nn.MaxPool2d(2), [floats(2, 3, 8, 8)]),
    ("MaxPool2d-ceil", lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True), [floats(2, 3, 8, 7)]),
    ("MaxPool2d-dilated", lambda nn: nn.MaxPool2d((2, 3), stride=(1, 2), dilation=2), [floats(1, 2, 9, 10)]),
    ("MaxPool2d-indices", lambda nn: nn.MaxPool2d(2, return_indices=True), [floats(2, 2, 6, 6)]),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(4, 2, 1), [floats(2, 3, 11)]),
    ("AvgPool2d", lambda nn: nn.AvgPool2d(2), [floats(2, 3, 8, 8)]),
    ("AvgPool2d-pad", lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False, ceil_mode=True),
     [floats(2, 3, 8, 7)]),
    ("AvgPool2d-divisor", lambda nn: nn.AvgPool2d(3, 1, 1, divisor_override=2), [floats(1, 2, 5, 5)]),
    ("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d(3), [floats(2, 3, 7, 8)]),
    ("AdaptiveAvgPool2d-None", lambda nn: nn.AdaptiveAvgPool2d((1, None)), [floats(2, 3, 5, 4)]),
    ("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(4), [floats(2, 3, 9)]),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d((2, 3)), [floats(2, 3, 7, 8)]),
    ("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(3), [floats(2, 3, 10)]),
    ("LayerNorm", lambda nn: nn.LayerNorm(6), [floats(3, 4, 6)]),
    ("LayerNorm-2d-noaffine", lambda nn: nn.LayerNorm([4, 6], eps=1e-3, elementwise_affine=False),
     [floats(3, 4, 6)]),
    ("GroupNorm", lambda nn: nn.GroupNorm(2, 6), [floats(3, 6, 4, 5)]),
    ("GroupNorm-noaffine", lambda nn: nn.GroupNorm(3, 3, affine=False), [floats(4, 3, 7)]),
    ("Embedding", lambda nn: nn.Embedding(10, 4), [labels(10, 3, 5)]),
    ("Embedding-padding", lambda nn: nn.Embedding(10, 4, padding_idx=2), [labels(4, 3, 5)]),
    ("Embedding-maxnorm", lambda nn: nn.Embedding(10, 4, max_norm=1.0), [labels(10, 3, 5)]),
    ("Sequential-inplace-relu", lambda nn: nn.Sequential(nn.Linear(4, 6), nn.ReLU(inplace=True), nn.Linear(6, 2),
                                                          nn.LeakyReLU(0.1, inplace=True)), [floats(5, 4)]),
    # conv1d / pool1d results are their own tensors (not views of the 4-D temporary), so in-place may follow them
    ("Conv1d-pool1d-inplace", lambda nn: nn.Sequential(nn.Conv1d(3, 4, 3), nn.ReLU(inplace=True), nn.MaxPool1d(2),
                                                        nn.LeakyReLU(0.1, inplace=True), nn.AvgPool1d(2),
                                                        nn.Hardtanh(inplace=True), nn.AdaptiveAvgPool1d(2),
                                                        nn.ReLU(inplace=True)), [floats(2, 3, 14)]),
    ("Conv1d-unbatched-inplace", lambda nn: nn.Sequential(nn.Conv1d(3, 4, 3), nn.ReLU(inplace=True)),
     [floats(3, 10)]),
    ("Conv2d-unbatched-inplace", lambda nn: nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(inplace=True)),
     [floats(2, 6, 6)]),
    ("ReLU", lambda nn: nn.ReLU(), [floats(4, 5)]),
    ("ReLU6", lambda nn: nn.ReLU6(), [lambda rng: (rng.standard_normal((4, 5)) * 5).astype(np.float32)]),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(0.2), [floats(4, 5)]),
    ("ELU", lambda nn: nn.ELU(alpha=0.7), [floats(4, 5)]),
    ("CELU", lambda nn: nn.CELU(alpha=0.7), [floats(4, 5)]),
    ("SELU", lambda nn: nn.SELU(), [floats(4, 5)]),
    ("GELU", lambda nn: nn.GELU(), [floats(4, 5)]),
    ("GELU-tanh", lambda nn: nn.GELU(approximate="tanh"), [floats(4, 5)]),
    ("SiLU", lambda nn: nn.SiLU(), [floats(4, 5)]),
    ("Mish", lambda nn: nn.Mish(), [floats(4, 5)]),
    ("Hardswish", lambda nn: nn.Hardswish(), [lambda rng: (rng.standard_normal((4, 5)) * 4).astype(np.float32)]),
    ("Hardsigmoid", lambda nn: nn.Hardsigmoid(), [lambda rng: (rng.standard_normal((4, 5)) * 4).astype(np.float32)]),
    ("Sigmoid", lambda nn: nn.Sigmoid(), [floats(4, 5)]),
    ("Tanh", lambda nn: nn.Tanh(), [floats(4, 5)]),
    ("LogSigmoid", lambda nn: nn.LogSigmoid(), [floats(4, 5)]),
    ("Softsign", lambda nn: nn.Softsign(), [floats(4, 5)]),
    ("Softplus", lambda nn: nn.Softplus(beta=2, threshold=3), [floats(4, 5)]),
    ("Hardtanh", lambda nn: nn.Hardtanh(-0.5, 1.5), [floats(4, 5)]),
    ("Softmax", lambda nn: nn.Softmax(dim=1), [floats(3, 4, 2)]),
    ("Softmax-last", lambda nn: nn.Softmax(dim=-1), [floats(3, 4, 2)]),
    ("LogSoftmax", lambda nn: nn.LogSoftmax(dim=1), [floats(3, 5)]),
    ("Softmin", lambda nn: nn.Softmin(dim=0), [floats(3, 5)]),
    ("Tanhshrink", lambda nn: nn.Tanhshrink(), [floats(4, 5)]),
    ("Threshold", lambda nn: nn.Threshold(0.1, -2.0), [floats(4, 5)]),
    ("PReLU", lambda nn: nn.PReLU(), [floats(4, 5)]),
    ("PReLU-channels", lambda nn: nn.PReLU(3, init=0.1), [floats(2, 3, 4)]),
    ("GLU", lambda nn: nn.GLU(dim=1), [floats(3, 6, 2)]),
    ("MSELoss", lambda nn: nn.MSELoss(), [floats(4, 3), floats(4, 3)]),
    ("MSELoss-sum", lambda nn: nn.MSELoss(reduction="sum"), [floats(4, 3), floats(4, 3)]),
    ("L1Loss-none", lambda nn: nn.L1Loss(reduction="none"), [floats(4, 3), floats(4, 3)]),
    ("HuberLoss", lambda nn: nn.HuberLoss(delta=0.5), [floats(6, 3), floats(6, 3)]),
    ("SmoothL1Loss", lambda nn: nn.SmoothL1Loss(beta=0.7, reduction="sum"), [floats(6, 3), floats(6, 3)]),
    ("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(), [floats(8, 5), labels(5, 8)]),
    ("CrossEntropyLoss-options",
     lambda nn: nn.CrossEntropyLoss(weight=_tensor(nn, [1.0, 2.0, 0.5, 1.0]), ignore_index=1, label_smoothing=0.2),
     [floats(9, 4), labels(4, 9)]),
    ("CrossEntropyLoss-nd-none", lambda nn: nn.CrossEntropyLoss(reduction="none", ignore_index=0),
     [floats(2, 4, 3, 5), labels(4, 2, 3, 5, ignore=0)]),
    ("CrossEntropyLoss-probs", lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1),
     [floats(5, 4), soft_targets(5, 4)]),
    ("NLLLoss", lambda nn: nn.NLLLoss(weight=_tensor(nn, [0.3, 1.0, 2.0])), [log_probs(7, 3), labels(3, 7)]),
    ("NLLLoss-sum-ignore", lambda nn: nn.NLLLoss(reduction="sum", ignore_index=2),
     [log_probs(6, 4, 3), labels(4, 6, 3, ignore=2)]),
    ("BCELoss", lambda nn: nn.BCELoss(), [probs(5, 3), binary(5, 3)]),
    ("BCELoss-weight", lambda nn: nn.BCELoss(weight=_tensor(nn, [1.0, 0.5, 2.0]), reduction="sum"),
     [probs(5, 3), probs(5, 3)]),
    ("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(), [floats(5, 3), binary(5, 3)]),
    ("BCEWithLogitsLoss-pos",
     lambda nn: nn.BCEWithLogitsLoss(pos_weight=_tensor(nn, [2.0, 0.5, 1.0]), reduction="none"),
     [floats(5, 3), probs(5, 3)]),
    ("SoftMarginLoss", lambda nn: nn.SoftMarginLoss(), [floats(5, 3), signs(5, 3)]),
    ("MarginRankingLoss", lambda nn: nn.MarginRankingLoss(margin=0.3), [floats(6), floats(6), signs(6)]),
    ("CosineEmbeddingLoss", lambda nn: nn.CosineEmbeddingLoss(margin=0.2), [floats(6, 4), floats(6, 4), signs(6)]),
    ("PoissonNLLLoss", lambda nn: nn.PoissonNLLLoss(), [floats(5, 3), positive(5, 3)]),
    ("PoissonNLLLoss-full", lambda nn: nn.PoissonNLLLoss(log_input=False, full=True), [positive(5, 3),
                                                                                       positive(5, 3)]),
    ("GaussianNLLLoss", lambda nn: nn.GaussianNLLLoss(), [floats(5, 3), floats(5, 3), positive(5, 3)]),
    ("KLDivLoss-batchmean", lambda nn: nn.KLDivLoss(reduction="batchmean"), [log_probs(4, 5), soft_targets(4, 5)]),
    ("KLDivLoss-logtarget", lambda nn: nn.KLDivLoss(reduction="sum", log_target=True),
     [log_probs(4, 5), log_probs(4, 5)]),
]


def _tensor(nn_module, values):
    return (torch if nn_module is torch.nn else glasstorch).tensor(values)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def run_side_by_side(build, makers, seed=0, train=True, steps=1):
    """Forward and backward through the same layer in torch and glasstorch; assert everything agrees."""
    rng = np.random.default_rng(seed)
    theirs = build(torch.nn)
    ours = build(nn)
    ours.load_state_dict(theirs.state_dict())
    ours.train(train)
    theirs.train(train)
    for _ in range(steps):
        arrays = [make(rng) for make in makers]
        # only the first input of a loss is differentiated (targets are data)
        grad_flags = [a.dtype == np.float32 and (i == 0 or not _is_loss(theirs)) for i, a in enumerate(arrays)]
        t_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_flags)]
        o_in = [glasstorch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_flags)]
        t_out, o_out = theirs(*t_in), ours(*o_in)
        if isinstance(t_out, tuple):  # (values, indices)
            for a, b in zip(o_out, t_out):
                np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=RTOL, atol=ATOL)
        t_out, o_out = _first(t_out), _first(o_out)
        assert tuple(o_out.shape) == tuple(t_out.shape)
        assert o_out.dtype.name == str(t_out.dtype).replace("torch.", "")
        np.testing.assert_allclose(o_out.detach().numpy(), t_out.detach().numpy(), rtol=RTOL, atol=ATOL)
        if t_out.requires_grad:
            upstream = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
            t_out.backward(torch.tensor(upstream))
            o_out.backward(glasstorch.tensor(upstream))
            for i, (a, b) in enumerate(zip(o_in, t_in)):
                if b.requires_grad:
                    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL,
                                               err_msg=f"grad of input {i}")
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert (p.grad is None) == (q.grad is None), name
        if q.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)
    return ours, theirs


def _is_loss(module):
    return "Loss" in type(module).__name__


@pytest.mark.parametrize("name, build, makers", SPECS, ids=[s[0] for s in SPECS])
def test_layer_matches_torch(name, build, makers):
    run_side_by_side(build, makers)


# ---------------------------------------------------------------------------------------------- random settings
def _conv_cases(count, seed=1234):
    """Random Conv2d settings (stride, padding, dilation, groups, bias, rectangular kernels)."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        groups = int(rng.choice([1, 2, 3]))
        cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        padding = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        bias = bool(rng.integers(0, 2))
        h = dilation[0] * (k[0] - 1) + 1 + int(rng.integers(0, 6))
        w = dilation[1] * (k[1] - 1) + 1 + int(rng.integers(0, 6))
        cases.append(dict(cin=cin, cout=cout, k=k, stride=stride, padding=padding, dilation=dilation, groups=groups,
                          bias=bias, shape=(int(rng.integers(1, 4)), cin, h, w)))
    return cases


@pytest.mark.parametrize("case", _conv_cases(12), ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_conv2d_random_settings(case):
    def build(nn):
        return nn.Conv2d(case["cin"], case["cout"], case["k"], case["stride"], case["padding"], case["dilation"],
                         case["groups"], case["bias"])
    run_side_by_side(build, [floats(*case["shape"])])


@pytest.mark.parametrize("case", _conv_cases(6, seed=99), ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_conv_transpose2d_random_settings(case):
    stride = case["stride"]
    output_padding = tuple(min(s - 1, d - 1 if d > 1 else s - 1) for s, d in zip(stride, case["dilation"]))

    def build(nn):
        return nn.ConvTranspose2d(case["cin"], case["cout"], case["k"], stride, case["padding"], output_padding,
                                  case["groups"], case["bias"], case["dilation"])
    shape = case["shape"]
    run_side_by_side(build, [floats(shape[0], case["cin"], 4, 5)])


@pytest.mark.parametrize("seed", range(6))
def test_pooling_random_settings(seed):
    rng = np.random.default_rng(seed)
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    ceil_mode = bool(rng.integers(0, 2))
    shape = (2, 3, 9 + int(rng.integers(0, 4)), 8 + int(rng.integers(0, 4)))
    run_side_by_side(lambda nn: nn.MaxPool2d(k, stride, padding, dilation, ceil_mode=ceil_mode), [floats(*shape)])
    run_side_by_side(lambda nn: nn.AvgPool2d(k, stride, padding, ceil_mode=ceil_mode,
                                             count_include_pad=bool(seed % 2)), [floats(*shape)])


# ---------------------------------------------------------------------------------------------- batch norm
BN_CASES = [
    ("1d", lambda nn: nn.BatchNorm1d(4), (8, 4)),
    ("1d-3d-input", lambda nn: nn.BatchNorm1d(3, momentum=0.3), (5, 3, 6)),
    ("1d-cumulative", lambda nn: nn.BatchNorm1d(4, momentum=None), (6, 4)),
    ("2d", lambda nn: nn.BatchNorm2d(3), (4, 3, 5, 5)),
    ("2d-noaffine", lambda nn: nn.BatchNorm2d(3, affine=False, eps=1e-3), (4, 3, 3, 2)),
    ("2d-nobias", lambda nn: nn.BatchNorm2d(3, bias=False), (4, 3, 3, 2)),
    ("2d-untracked", lambda nn: nn.BatchNorm2d(2, track_running_stats=False), (3, 2, 4, 4)),
]


@pytest.mark.parametrize("name, build, shape", BN_CASES, ids=[c[0] for c in BN_CASES])
def test_batchnorm_train_then_eval(name, build, shape):
    """Three training steps (running statistics, unbiased var, num_batches_tracked), then eval mode."""
    ours, theirs = run_side_by_side(build, [floats(*shape)], train=True, steps=3)
    ours.eval()
    theirs.eval()
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    tx, ox = torch.tensor(x, requires_grad=True), glasstorch.tensor(x, requires_grad=True)
    t_out, o_out = theirs(tx), ours(ox)
    np.testing.assert_allclose(o_out.detach().numpy(), t_out.detach().numpy(), rtol=RTOL, atol=ATOL)
    t_out.sum().backward()
    o_out.sum().backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=RTOL, atol=ATOL)
    if theirs.track_running_stats:
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 3


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(glasstorch.randn(2, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(glasstorch.randn(2, 3, 2, 2))


# ---------------------------------------------------------------------------------------------- dropout
def test_dropout_train_and_eval():
    glasstorch.manual_seed(0)
    m = nn.Dropout(0.3)
    x = glasstorch.ones(200, 500, requires_grad=True)
    y = m(x)
    a = y.detach().numpy()
    kept = a != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(a[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7, rtol=1e-6)
    m.eval()
    assert np.array_equal(m(x).detach().numpy(), x.detach().numpy())
    assert nn.Dropout(0.0)(x).detach().numpy().min() == 1.0
    assert nn.Dropout(1.0)(x).detach().numpy().max() == 0.0
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_dropout2d_zeros_whole_channels():
    glasstorch.manual_seed(1)
    y = nn.Dropout2d(0.5)(glasstorch.ones(20, 30, 4, 4)).numpy()
    per_channel = y.reshape(20, 30, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.4 < (per_channel[..., 0] == 0).mean() < 0.6


def test_dropout_in_model_train_vs_eval():
    net = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), nn.Dropout(0.5), nn.Linear(10, 2))
    x = glasstorch.randn(8, 10)
    net.eval()
    first, second = net(x).detach().numpy(), net(x).detach().numpy()
    assert np.array_equal(first, second)
    net.train()
    assert not np.array_equal(net(x).detach().numpy(), first)


# ---------------------------------------------------------------------------------------------- others
def test_embedding_padding_row_gets_no_gradient_and_from_pretrained():
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert emb.weight[0].abs().sum().item() == 0.0
    emb(glasstorch.tensor([[0, 1, 0, 4]])).sum().backward()
    assert emb.weight.grad[0].abs().sum().item() == 0.0 and emb.weight.grad[1].sum().item() == 3.0
    table = glasstorch.randn(4, 2)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(glasstorch.tensor([3])).numpy(), table[3:4].numpy())


def test_lazy_conv2d_matches_conv2d():
    lazy = nn.LazyConv2d(5, 3, padding=1)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    y = lazy(glasstorch.tensor(x))
    assert type(lazy) is nn.Conv2d and lazy.in_channels == 3 and lazy.weight.shape == (5, 3, 3, 3)
    theirs = torch.nn.Conv2d(3, 5, 3, padding=1)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lazy.state_dict().items()})
    np.testing.assert_allclose(y.detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=RTOL, atol=ATOL)


def test_conv_argument_errors_match_torch():
    for kwargs, message in [(dict(groups=0), "groups must be a positive integer"),
                            (dict(groups=2, in_channels=3), "in_channels must be divisible by groups"),
                            (dict(padding="full"), "Invalid padding string 'full'"),
                            (dict(padding="same", stride=2), "padding='same' is not supported for strided"),
                            (dict(padding_mode="mirror"), "padding_mode must be one of")]:
        args = dict(in_channels=4, out_channels=4, kernel_size=3)
        args.update(kwargs)
        with pytest.raises(ValueError, match=message):
            torch.nn.Conv2d(**args)
        with pytest.raises(ValueError, match=message):
            nn.Conv2d(**args)


def test_conv_transpose_output_size():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    ours.load_state_dict(theirs.state_dict())
    for size in [(7, 7), (8, 8), (1, 3, 8, 7)]:
        a = ours(glasstorch.tensor(x), output_size=size)
        b = theirs(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match="requested an output size of"):
        ours(glasstorch.tensor(x), output_size=(10, 10))


def test_cross_entropy_is_stable_for_huge_logits():
    logits = glasstorch.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]], requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, glasstorch.tensor([2, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad.numpy()).all()
    assert loss.item() == pytest.approx(1e4)


def test_float64_layers():
    m = nn.Linear(3, 2).double()
    assert m(glasstorch.randn(4, 3, dtype=glasstorch.float64)).dtype == glasstorch.float64
    c = nn.Conv2d(2, 2, 3, dtype=glasstorch.float64)
    assert c.weight.dtype == glasstorch.float64
