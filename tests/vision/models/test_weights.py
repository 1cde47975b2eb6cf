"""Pretrained weights: asked for, they raise an error that names the file and the lines that load it."""
import pytest

from glasstorch.vision import models
from glasstorch.vision.models import PretrainedWeightsError


@pytest.mark.parametrize("builder", ["resnet18", "resnet34", "resnet50", "vgg11", "vgg16", "alexnet", "mobilenet_v2",
                                     "squeezenet1_1"])
def test_asking_for_weights_explains_how_to_load_a_local_file(builder, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(PretrainedWeightsError) as error:
        getattr(models, builder)(weights="IMAGENET1K_V1")
    message = str(error.value)
    assert "https://download.pytorch.org/models/" in message and ".pth" in message
    assert f"torchvision.models.{builder}()" in message and "load_state_dict(torch.load(" in message
    with pytest.raises(PretrainedWeightsError):
        getattr(models, builder)(pretrained=True)


def test_weights_enums_strings_and_the_cached_file(monkeypatch, tmp_path):
    assert models.ResNet50_Weights.DEFAULT is models.ResNet50_Weights.IMAGENET1K_V2
    assert models.ResNet18_Weights.IMAGENET1K_V1.meta["num_params"] == 11_689_512
    with pytest.raises(PretrainedWeightsError, match="resnet18-f37072fd.pth"):
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    with pytest.raises(PretrainedWeightsError):
        models.resnet18(weights="ResNet18_Weights.IMAGENET1K_V1")
    with pytest.raises(ValueError, match="not a valid ResNet18_Weights"):
        models.resnet18(weights="IMAGENET22K")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")
    with pytest.raises(PretrainedWeightsError, match="It is already here"):
        models.resnet18(weights="DEFAULT")
    # weights=None, progress=... and num_classes build the model
    assert models.resnet18(weights=None, progress=False, num_classes=3).fc.out_features == 3


def test_weights_transforms_are_the_imagenet_preset():
    import numpy as np

    import glasstorch
    from glasstorch.vision.transforms import v2

    image = glasstorch.tensor(np.random.default_rng(0).integers(0, 256, (3, 300, 400)).astype(np.uint8))
    out = models.ResNet18_Weights.IMAGENET1K_V1.transforms()(image)
    assert tuple(out.shape) == (3, 224, 224) and out.dtype == glasstorch.float32
    by_hand = v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])(v2.ToDtype(glasstorch.float32, scale=True)(
        v2.CenterCrop(224)(v2.Resize(256)(image))))
    np.testing.assert_array_equal(out.numpy(), by_hand.numpy())
    v2_recipe = models.ResNet50_Weights.DEFAULT.transforms()
    assert v2_recipe.transforms[0].size == [232]
