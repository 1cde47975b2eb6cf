"""AlexNet (Krizhevsky et al., 2012; torchvision follows the "one weird trick" variant): five convs, three linears."""
from ... import nn
from ._weights import WeightsEnum, check_no_weights


class AlexNet(nn.Module):
    """features (5 convs, 3 max-pools) -> avgpool to 6×6 -> classifier 9216 -> 4096 -> 4096 -> num_classes.
    The layers keep their default initialisation, as in torchvision."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x)).flatten(1)
        return self.classifier(x)


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = ("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth", 61100840)
    DEFAULT = IMAGENET1K_V1


def alexnet(*, weights=None, progress=True, **kwargs):
    """AlexNet, 61,100,840 parameters."""
    check_no_weights("alexnet", AlexNet_Weights, weights, kwargs)
    return AlexNet(**kwargs)
