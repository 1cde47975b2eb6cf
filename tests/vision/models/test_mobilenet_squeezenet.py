"""MobileNetV2 and SqueezeNet: counts and names, their blocks (depthwise convs, ReLU6, ceil-mode pools) against
the same blocks built from torch.nn with copied weights, torchvision's init."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.vision import models
from glasstorch.vision.models.mobilenetv2 import InvertedResidual, _make_divisible
from glasstorch.vision.models.squeezenet import Fire


def count(model):
    return sum(p.numel() for p in model.parameters())


def copy_into_torch(ours, theirs):
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def torch_conv_bn_relu6(cin, cout, k, stride=1, groups=1):
    return torch.nn.Sequential(torch.nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                               torch.nn.BatchNorm2d(cout), torch.nn.ReLU6(inplace=True))


class TorchInvertedResidual(torch.nn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = int(round(inp * t))
        layers = [torch_conv_bn_relu6(inp, hidden, 1)] if t != 1 else []
        layers += [torch_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
                   torch.nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), torch.nn.BatchNorm2d(oup)]
        self.conv = torch.nn.Sequential(*layers)
        self.residual = stride == 1 and inp == oup

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


@pytest.mark.parametrize("inp, oup, stride, t", [(16, 16, 1, 6), (16, 24, 2, 6), (32, 16, 1, 1)])
def test_inverted_residual_equals_torch(inp, oup, stride, t):
    glasstorch.manual_seed(0)
    ours, theirs = InvertedResidual(inp, oup, stride, t), TorchInvertedResidual(inp, oup, stride, t)
    copy_into_torch(ours, theirs)
    assert ours.use_res_connect == theirs.residual
    x = np.random.default_rng(0).standard_normal((2, inp, 9, 9)).astype(np.float32) * 3  # reaches ReLU6's cap
    xg, xt = glasstorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_g, out_t = ours(xg), theirs(xt)
    np.testing.assert_allclose(out_g.detach().numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    out_g.square().sum().backward()
    out_t.square().sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)


def test_mobilenet_v2_count_names_init_and_forward():
    glasstorch.manual_seed(1)
    model = models.mobilenet_v2()
    assert count(model) == 3_504_872
    sd = model.state_dict()
    assert tuple(sd["features.0.0.weight"].shape) == (32, 3, 3, 3)
    assert tuple(sd["features.1.conv.0.0.weight"].shape) == (32, 1, 3, 3)  # depthwise: one filter per channel
    assert tuple(sd["features.2.conv.1.0.weight"].shape) == (96, 1, 3, 3)
    assert tuple(sd["features.18.0.weight"].shape) == (1280, 320, 1, 1)
    assert tuple(sd["classifier.1.weight"].shape) == (1000, 1280)
    assert model.features[1].conv[0][2].__class__.__name__ == "ReLU6"
    assert abs(model.classifier[1].weight.detach().numpy().std() - 0.01) < 0.001
    assert (model.features[0][1].weight.detach().numpy() == 1).all()
    small = models.mobilenet_v2(num_classes=4, width_mult=0.5)
    assert small.last_channel == 1280 and small.features[0][0].out_channels == 16
    assert tuple(small(glasstorch.randn(2, 3, 32, 32)).shape) == (2, 4)
    assert _make_divisible(32 * 0.75, 8) == 24 and _make_divisible(1280 * 1.4, 8) == 1792


class TorchFire(torch.nn.Module):
    def __init__(self, inplanes, s, e1, e3):
        super().__init__()
        self.squeeze = torch.nn.Conv2d(inplanes, s, 1)
        self.expand1x1 = torch.nn.Conv2d(s, e1, 1)
        self.expand3x3 = torch.nn.Conv2d(s, e3, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1x1(x)), torch.relu(self.expand3x3(x))], 1)


def test_fire_equals_torch_and_ceil_mode_pooling():
    glasstorch.manual_seed(2)
    ours, theirs = Fire(16, 4, 8, 8), TorchFire(16, 4, 8, 8)
    copy_into_torch(ours, theirs)
    x = np.random.default_rng(2).standard_normal((2, 16, 7, 7)).astype(np.float32)
    xg, xt = glasstorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_g, out_t = ours(xg), theirs(xt)
    np.testing.assert_allclose(out_g.detach().numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    out_g.sum().backward()
    out_t.sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    pool = models.squeezenet1_1().features[2]
    y = np.random.default_rng(3).standard_normal((1, 2, 8, 8)).astype(np.float32)
    theirs_pool = torch.nn.MaxPool2d(3, 2, ceil_mode=True)(torch.tensor(y)).numpy()
    assert theirs_pool.shape == (1, 2, 4, 4)  # ceil((8 - 3) / 2) + 1
    np.testing.assert_array_equal(pool(glasstorch.tensor(y)).numpy(), theirs_pool)


@pytest.mark.parametrize("builder, params", [("squeezenet1_0", 1_248_424), ("squeezenet1_1", 1_235_496)])
def test_squeezenet_counts_names_init_forward(builder, params):
    glasstorch.manual_seed(4)
    model = getattr(models, builder)(num_classes=1000)
    assert count(model) == params
    sd = model.state_dict()
    assert tuple(sd["classifier.1.weight"].shape) == (1000, 512, 1, 1)
    assert "features.3.squeeze.weight" in sd and "features.3.expand3x3.bias" in sd
    assert abs(model.classifier[1].weight.detach().numpy().std() - 0.01) < 0.001
    assert (model.features[3].squeeze.bias.detach().numpy() == 0).all()
    model.eval()
    assert tuple(model(glasstorch.randn(1, 3, 64, 64)).shape) == (1, 1000)
    with pytest.raises(ValueError, match="Unsupported SqueezeNet version"):
        models.SqueezeNet("2_0")
