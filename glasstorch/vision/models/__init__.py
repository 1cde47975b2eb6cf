"""glasstorch.vision.models: torchvision's classification models, built as torchvision builds them.

    model = models.resnet18(num_classes=10)          # weights=None: freshly initialised, torchvision's init
    model.load_state_dict(torch.load("resnet18-f37072fd.pth"))   # torchvision's own file fits: same names

Pretrained weights are not downloaded: asking for them (`weights="IMAGENET1K_V1"`, `pretrained=True`)
raises PretrainedWeightsError, whose message says which file to fetch and how to load it.
"""
from ._weights import PretrainedWeightsError, WeightsEnum
from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from .resnet import ResNet, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights, resnet18, resnet34, resnet50
from .squeezenet import SqueezeNet, SqueezeNet1_0_Weights, SqueezeNet1_1_Weights, squeezenet1_0, squeezenet1_1
from .vgg import VGG, VGG11_Weights, VGG16_Weights, vgg11, vgg16

__all__ = ["AlexNet", "AlexNet_Weights", "MobileNetV2", "MobileNet_V2_Weights", "PretrainedWeightsError", "ResNet",
           "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "SqueezeNet", "SqueezeNet1_0_Weights",
           "SqueezeNet1_1_Weights", "VGG", "VGG11_Weights", "VGG16_Weights", "WeightsEnum", "alexnet",
           "mobilenet_v2", "resnet18", "resnet34", "resnet50", "squeezenet1_0", "squeezenet1_1", "vgg11", "vgg16"]
