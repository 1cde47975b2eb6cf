"""Pretrained weights: their names (torchvision's `ResNet18_Weights.IMAGENET1K_V1` ...) and what to do for them.

glasstorch builds the models with `weights=None` only: it downloads nothing. Asking for weights
(`weights="IMAGENET1K_V1"`, `weights=ResNet18_Weights.DEFAULT`, `pretrained=True`) raises an error that
names the file to fetch and the two lines that load it: `torch.load` reads PyTorch's .pth files safely.
"""
import enum
import os
from pathlib import Path

from ...backend import float32
from ..transforms import v2

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class PretrainedWeightsError(RuntimeError):
    """Pretrained weights were asked for; glasstorch does not download them (the message says how to load them)."""


class WeightsEnum(enum.Enum):
    """A model's pretrained weights: `url` of torchvision's file, `meta["num_params"]`, and `transforms()`,
    the preprocessing the weights were trained with. A member's value: (url, num_params[, resize_size])."""

    @property
    def url(self):
        return self.value[0]

    @property
    def meta(self):
        return {"num_params": self.value[1]}

    def transforms(self):
        """torchvision's ImageClassification preset: shorter side to 256 (232 for the V2 recipes), centre crop
        224, float in [0, 1], ImageNet's mean and std."""
        resize_size = self.value[2] if len(self.value) > 2 else 256
        return v2.Compose([v2.Resize(resize_size), v2.CenterCrop(224), v2.ToImage(), v2.ToDtype(float32, scale=True),
                           v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)])

    @classmethod
    def verify(cls, weights):
        """None, a member, or its name ("IMAGENET1K_V1", "ResNet18_Weights.DEFAULT") -> the member (or None)."""
        if weights is None or isinstance(weights, cls):
            return weights
        if isinstance(weights, str):
            name = weights.split(".")[-1]
            if name in cls.__members__:
                return cls[name]
            raise ValueError(f"{weights!r} is not a valid {cls.__name__}: choose from {', '.join(cls.__members__)}")
        raise TypeError(f"weights should be None, a {cls.__name__} or its name, got {type(weights).__name__}")


def hub_checkpoint_dir():
    """Where torch.hub keeps downloaded weights: $TORCH_HOME/hub/checkpoints (default ~/.cache/torch)."""
    home = os.environ.get("TORCH_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "torch")
    return Path(home).expanduser() / "hub" / "checkpoints"


def check_no_weights(builder, weights_class, weights, kwargs):
    """Take `pretrained=` out of kwargs (torchvision's old spelling) and refuse any pretrained weights."""
    if kwargs.pop("pretrained", False):
        weights = weights_class.DEFAULT
    kwargs.pop("progress", None)
    weights = weights_class.verify(weights)
    if weights is None:
        return
    filename = weights.url.rsplit("/", 1)[-1]
    cached = hub_checkpoint_dir() / filename
    where = (f"It is already here: {cached}" if cached.is_file() else
             f"Download it first (on any machine with a browser or curl):\n    {weights.url}")
    raise PretrainedWeightsError(
        f"glasstorch does not download pretrained weights ({weights_class.__name__}.{weights.name} was asked "
        f"for). {where}\nthen build the model without weights and load the file into it:\n"
        f"    model = torchvision.models.{builder}()\n"
        f"    model.load_state_dict(torch.load({str(cached) if cached.is_file() else filename!r}))\n"
        f"(glasstorch's torch.load reads PyTorch's .pth files with a restricted unpickler; the parameter names "
        f"are torchvision's, so the state_dict fits.)")
