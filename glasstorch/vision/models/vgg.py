"""VGG (Simonyan & Zisserman, 2014): stacks of 3×3 convs and 2×2 max-pools, then three big linear layers.

`features` holds the convs (cfg: a number is a conv's output channels, "M" a max-pool), `avgpool` makes
the maps 7×7 whatever the input size, `classifier` is 25088 -> 4096 -> 4096 -> num_classes with dropout.
"""
from ... import nn
from ...nn import init
from ._weights import WeightsEnum, check_no_weights

cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """Initialisation as torchvision: convs kaiming_normal_(fan_out, relu) with bias 0, linears normal(0, 0.01)
    with bias 0, BN weight 1 and bias 0 (init_weights=False keeps the layers' own defaults)."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    init.constant_(m.weight, 1)
                    init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    init.normal_(m.weight, 0, 0.01)
                    init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x)).flatten(1)
        return self.classifier(x)


def make_layers(cfg, batch_norm=False):
    """The `features` Sequential of a VGG configuration (3×3 convs with padding 1, ReLU, 2×2 max-pools)."""
    layers, in_channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = ("https://download.pytorch.org/models/vgg11-8a719046.pth", 132863336)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = ("https://download.pytorch.org/models/vgg16-397923af.pth", 138357544)
    DEFAULT = IMAGENET1K_V1


def _vgg(cfg, batch_norm, kwargs):
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


def vgg11(*, weights=None, progress=True, **kwargs):
    """VGG-11 (configuration "A": 8 convs + 3 linears), 132,863,336 parameters."""
    check_no_weights("vgg11", VGG11_Weights, weights, kwargs)
    return _vgg("A", False, kwargs)


def vgg16(*, weights=None, progress=True, **kwargs):
    """VGG-16 (configuration "D": 13 convs + 3 linears), 138,357,544 parameters."""
    check_no_weights("vgg16", VGG16_Weights, weights, kwargs)
    return _vgg("D", False, kwargs)
