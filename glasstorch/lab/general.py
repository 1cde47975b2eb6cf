"""`glasstorch train --model M --dataset D`: a general training run with the lab's outputs (report, curves,
checkpoint). Models: softmax (linear), mlp (one hidden layer of 256), lenet (d2l's LeNet with batch normalization),
cnn (the notes' SimpleCNN shape, sized for the dataset's images)."""
from dataclasses import dataclass

from ..experiments import batchnorm, digits_cnn
from ..experiments.common import accuracy, fit_and_log, image_arrays, make_loader

NAME = "train"
NOTE = "a general run: any of the notes' models on digits, MNIST or Fashion-MNIST"
SUMMARY = "general training run"


@dataclass
class Config:
    model: str = "mlp"
    dataset: str = "digits"
    optimizer: str = None      # sgd / momentum / adam; default: sgd for softmax/mlp, adam for lenet/cnn
    epochs: int = 5
    lr: float = None
    batch_size: int = 64
    limit: int = None
    seed: int = 0
    device: str = "cpu"

    @classmethod
    def quick(cls):
        return cls(epochs=1, limit=1000)


EXPECTED = {"test_acc": (">=", 0.9)}
QUICK_EXPECTED = {"test_acc": (">=", 0.3)}


def build(fw, cfg, image_size):
    nn = fw.nn
    features = image_size * image_size
    if cfg.model == "softmax":
        return nn.Sequential(nn.Flatten(), nn.Linear(features, 10))
    if cfg.model == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(features, 256), nn.ReLU(), nn.Linear(256, 10))
    if cfg.model == "lenet":
        if image_size != 28:
            raise ValueError("lenet needs 28x28 images: use --dataset mnist or fashion-mnist")
        return batchnorm.build(fw, batch_norm=True)
    if cfg.model == "cnn":
        return digits_cnn.build(fw, image_size=image_size)
    raise ValueError(f"unknown model {cfg.model!r}; choose from softmax, mlp, lenet, cnn")


def run(fw, cfg, lab):
    X_train, y_train = image_arrays(cfg.dataset, lab.data_dir, True, cfg.limit, cfg.seed)
    X_test, y_test = image_arrays(cfg.dataset, lab.data_dir, False)
    lab.say(f"{cfg.model} on {cfg.dataset}: {len(y_train)} training, {len(y_test)} test images")
    train = make_loader(fw, X_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed, device=cfg.device)
    test = make_loader(fw, X_test, y_test, 1000, device=cfg.device)
    model = build(fw, cfg, X_train.shape[-1]).to(cfg.device)
    kind = cfg.optimizer or ("adam" if cfg.model in ("lenet", "cnn") else "sgd")
    lr = cfg.lr or {"adam": 1e-3, "sgd": 0.1, "momentum": 0.02}[kind]
    optim = fw.optim
    optimizer = (optim.Adam(model.parameters(), lr=lr) if kind == "adam" else
                 optim.SGD(model.parameters(), lr=lr, momentum=0.9 if kind == "momentum" else 0.0))
    lab.say(f"optimizer {kind}, lr {lr}, {cfg.epochs} epoch(s), batch {cfg.batch_size}")
    fit_and_log(model, fw.nn.CrossEntropyLoss(), optimizer, train, test, cfg.epochs, lab, device=cfg.device)
    lab.checkpoint(model)
    return {"test_acc": accuracy(model, test)}
