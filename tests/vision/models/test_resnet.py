"""ResNet: torchvision's names, shapes and counts; a forward equal to the same network built from torch.nn
(torchvision's code, written here with torch's layers as the oracle) with copied weights; torchvision's init."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.vision import models


# ---- the oracle: torchvision's ResNet, written with torch.nn layers (torchvision itself is not installed) ----
class TorchBlock(torch.nn.Module):
    def __init__(self, kind, inplanes, planes, stride):
        super().__init__()
        self.kind = kind
        expansion = 1 if kind == "basic" else 4
        conv = torch.nn.Conv2d
        if kind == "basic":
            self.conv1 = conv(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(planes)
            self.conv2 = conv(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = torch.nn.BatchNorm2d(planes)
        else:
            self.conv1 = conv(inplanes, planes, 1, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(planes)
            self.conv2 = conv(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = torch.nn.BatchNorm2d(planes)
            self.conv3 = conv(planes, planes * 4, 1, bias=False)
            self.bn3 = torch.nn.BatchNorm2d(planes * 4)
        self.relu = torch.nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes * expansion:
            self.downsample = torch.nn.Sequential(conv(inplanes, planes * expansion, 1, stride, bias=False),
                                                  torch.nn.BatchNorm2d(planes * expansion))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        if self.kind == "basic":
            out = self.bn2(self.conv2(out))
        else:
            out = self.bn3(self.conv3(self.relu(self.bn2(self.conv2(out)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet(torch.nn.Module):
    def __init__(self, kind, layers, num_classes):
        super().__init__()
        expansion = 1 if kind == "basic" else 4
        self.conv1 = torch.nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(64)
        self.relu = torch.nn.ReLU(inplace=True)
        self.maxpool = torch.nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for k in range(n):
                blocks.append(TorchBlock(kind, inplanes, planes, 2 if (k == 0 and i > 0) else 1))
                inplanes = planes * expansion
            setattr(self, f"layer{i + 1}", torch.nn.Sequential(*blocks))
        self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = torch.nn.Linear(512 * expansion, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def copy_into_torch(ours, theirs):
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("builder, kind, layers, params", [("resnet18", "basic", [2, 2, 2, 2], 11_689_512),
                                                          ("resnet34", "basic", [3, 4, 6, 3], 21_797_672),
                                                          ("resnet50", "bottleneck", [3, 4, 6, 3], 25_557_032)])
def test_names_shapes_and_counts_are_torchvisions(builder, kind, layers, params):
    ours = getattr(models, builder)()
    theirs = TorchResNet(kind, layers, 1000)
    assert count(ours) == params == sum(p.numel() for p in theirs.parameters())
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)  # names and order, buffers included
    assert all(tuple(ours_sd[k].shape) == tuple(theirs_sd[k].shape) for k in ours_sd)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_resnet18_forward_equals_torch_with_copied_weights(mode):
    glasstorch.manual_seed(0)
    ours = models.resnet18(num_classes=7)
    theirs = TorchResNet("basic", [2, 2, 2, 2], 7)
    for m in ours.modules():  # non-trivial BN statistics and affine parameters, so eval mode is tested too
        if isinstance(m, glasstorch.nn.BatchNorm2d):
            m.running_mean.copy_(glasstorch.randn(m.num_features) * 0.1)
            m.running_var.copy_(glasstorch.rand(m.num_features) + 0.5)
            m.bias.data.copy_(glasstorch.randn(m.num_features) * 0.1)
    copy_into_torch(ours, theirs)
    getattr(ours, mode)(), getattr(theirs, mode)()
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 40)).astype(np.float32)
    out = ours(glasstorch.tensor(x))
    assert tuple(out.shape) == (2, 7)
    np.testing.assert_allclose(out.detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-4)


def test_bottleneck_block_forward_and_backward_equal_torch():
    glasstorch.manual_seed(1)
    ours = models.resnet.Bottleneck(32, 16, stride=2, downsample=glasstorch.nn.Sequential(
        models.resnet.conv1x1(32, 64, 2), glasstorch.nn.BatchNorm2d(64)))
    theirs = TorchBlock("bottleneck", 32, 16, 2)
    copy_into_torch(ours, theirs)
    x = np.random.default_rng(1).standard_normal((2, 32, 9, 9)).astype(np.float32)
    xg, xt = glasstorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_g, out_t = ours(xg), theirs(xt)
    np.testing.assert_allclose(out_g.detach().numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    out_g.sum().backward()
    out_t.sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.conv2.weight.grad.numpy(), theirs.conv2.weight.grad.numpy(), rtol=1e-3, atol=1e-4)


def test_torchvision_initialisation_and_zero_init_residual():
    glasstorch.manual_seed(2)
    model = models.resnet18()
    w = model.layer3[0].conv1.weight.detach().numpy()  # 256 out channels × 3×3: fan_out = 2304
    assert abs(w.std() - np.sqrt(2.0 / (256 * 9))) < 0.05 * np.sqrt(2.0 / (256 * 9)) and abs(w.mean()) < 1e-3
    assert (model.bn1.weight.detach().numpy() == 1).all() and (model.bn1.bias.detach().numpy() == 0).all()
    bound = 1 / np.sqrt(512)  # fc keeps nn.Linear's own initialisation
    assert np.abs(model.fc.weight.detach().numpy()).max() <= bound
    zero = models.resnet18(zero_init_residual=True)
    assert all((b.bn2.weight.detach().numpy() == 0).all() for layer in (zero.layer1, zero.layer4) for b in layer)
    assert (models.resnet50(zero_init_residual=True).layer2[1].bn3.weight.detach().numpy() == 0).all()


def test_state_dict_saved_by_pytorch_loads(tmp_path):
    glasstorch.manual_seed(3)
    source = TorchResNet("basic", [2, 2, 2, 2], 5)
    torch.nn.init.normal_(source.fc.weight)
    torch.save(source.state_dict(), tmp_path / "resnet18.pth")
    model = models.resnet18(num_classes=5)
    model.load_state_dict(glasstorch.load(tmp_path / "resnet18.pth"))
    model.eval(), source.eval()
    x = np.random.default_rng(3).standard_normal((1, 3, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(model(glasstorch.tensor(x)).detach().numpy(), source(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_errors_like_torchvisions():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        models.resnet18(replace_stride_with_dilation=[False, False, True])
    dilated = models.resnet50(replace_stride_with_dilation=[False, True, True], num_classes=3)
    assert dilated.layer4[0].conv2.dilation == (2, 2) and tuple(dilated(glasstorch.randn(1, 3, 32, 32)).shape) == (1, 3)
