"""VGG and AlexNet: torchvision's parameter names, shapes and counts; forwards equal to torch.nn with copied weights."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.vision import models
from glasstorch.vision.models import vgg as vgg_module


def count(model):
    return sum(p.numel() for p in model.parameters())


def shapes(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def torch_features(cfg):
    """torchvision's make_layers, with torch's layers (the oracle)."""
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(c, v, 3, padding=1), torch.nn.ReLU(inplace=True)]
            c = v
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("builder, params, convs", [("vgg11", 132_863_336, 8), ("vgg16", 138_357_544, 13)])
def test_vgg_names_shapes_counts_and_init(builder, params, convs):
    glasstorch.manual_seed(0)
    model = getattr(models, builder)()
    assert count(model) == params
    s = shapes(model)
    assert s["features.0.weight"] == (64, 3, 3, 3) and s["classifier.0.weight"] == (4096, 25088)
    assert s["classifier.6.weight"] == (1000, 4096) and len(s) == 2 * convs + 6
    assert sorted(k for k in s if k.startswith("classifier")) == [
        "classifier.0.bias", "classifier.0.weight", "classifier.3.bias", "classifier.3.weight",
        "classifier.6.bias", "classifier.6.weight"]
    linear = model.classifier[3].weight.detach().numpy()
    assert abs(linear.std() - 0.01) < 0.0005 and (model.classifier[3].bias.detach().numpy() == 0).all()
    conv = model.features[0].weight.detach().numpy()  # kaiming normal, fan_out = 64 * 9
    assert abs(conv.std() - np.sqrt(2 / 576)) < 0.1 * np.sqrt(2 / 576)
    assert (model.features[0].bias.detach().numpy() == 0).all()


def test_vgg_features_and_head_equal_torch():
    glasstorch.manual_seed(1)
    ours = vgg_module.make_layers(vgg_module.cfgs["A"])
    theirs = torch_features(vgg_module.cfgs["A"])
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(ours(glasstorch.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    small = models.VGG(vgg_module.make_layers([8, "M"]), num_classes=3)  # avgpool makes any input 7×7
    small.features[0] = glasstorch.nn.Conv2d(3, 512, 3, padding=1)
    assert tuple(small(glasstorch.randn(1, 3, 20, 20)).shape) == (1, 3)


class TorchAlexNet(torch.nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        nn = torch.nn
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(),
            nn.MaxPool2d(3, 2), nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(), nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(),
                                        nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def test_alexnet_count_names_and_forward_equal_torch():
    glasstorch.manual_seed(2)
    ours = models.alexnet(num_classes=10)
    assert count(models.alexnet()) == 61_100_840
    theirs = TorchAlexNet(10)
    assert shapes(ours) == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    ours.eval(), theirs.eval()
    x = np.random.default_rng(2).standard_normal((2, 3, 100, 100)).astype(np.float32)  # 100: avgpool upsamples 2×2
    np.testing.assert_allclose(ours(glasstorch.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    ours.train()
    assert not np.allclose(ours(glasstorch.tensor(x)).detach().numpy(), ours(glasstorch.tensor(x)).detach().numpy())
