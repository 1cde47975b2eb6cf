"""The demo: the notes' CNN shape (000 "SimpleCNN": conv 32, conv 64, max-pool, dropout, fc 128, fc 10,
log-softmax, Adam) scaled to the 8x8 digits that ship with glasstorch, so it trains in seconds.

8x8 -> conv3 -> 6x6x32 -> conv3 -> 4x4x64 -> maxpool2 -> 2x2x64 = 256 -> fc 128 -> fc 10.
The 360 test digits are the last ones of the set (other writers than most of the training digits), so
the notes' data augmentation (000 "数据增强") matters: every epoch each training image is shifted by up to
one pixel; Adam gets a little L2 weight decay; inputs are normalized as the notes do (Normalize((0.5,), (0.5,))), the lr follows a cosine schedule.
The notes apply CrossEntropyLoss to the log-softmax output (it works, log_softmax is idempotent);
the model outputs log-probabilities, so NLLLoss is the matching loss.
"""
from dataclasses import dataclass

import numpy as np

from .common import EachEpoch, accuracy, fit_and_log, image_arrays, make_loader, predict, show_predictions, simple_cnn

NAME = "digits-cnn"
NOTE = "000 (SimpleCNN: Conv2d 32/64, MaxPool2d, Dropout, Linear 128/10, LogSoftmax, Adam) on 8x8 digits"
SUMMARY = "the notes' CNN shape on the embedded 8x8 digits: seconds, >= 97% test accuracy (make demo)"


@dataclass
class Config:
    epochs: int = 20
    lr: float = 3e-3
    weight_decay: float = 1e-4  # the notes' "Adam + L2 正则化" (000, 7.1)
    shift: int = 1          # augmentation: random shifts of up to this many pixels
    batch_size: int = 32
    seed: int = 0
    device: str = "cpu"

    @classmethod
    def quick(cls):
        return cls(epochs=1)


EXPECTED = {"test_acc": (">=", 0.97)}
QUICK_EXPECTED = {"test_acc": (">=", 0.5)}


def build(fw, cfg=None, image_size=8):
    """SimpleCNN of the notes (conv 32, conv 64, max-pool, dropout 0.25, fc 128, fc 10), for 8x8 inputs."""
    return simple_cnn(fw, image_size=image_size)


def random_shift(images, rng, pixels=1):
    """Each image moved by a random (dy, dx) in [-pixels, pixels]², zeros shifted in."""
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (pixels, pixels), (pixels, pixels)))
    dy, dx = rng.integers(0, 2 * pixels + 1, n), rng.integers(0, 2 * pixels + 1, n)
    rows = dy[:, None] + np.arange(h)[None, :]          # (n, h)
    cols = dx[:, None] + np.arange(w)[None, :]          # (n, w)
    return padded[np.arange(n)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None]


def normalize(images):
    return (images - 0.5) / 0.5  # the notes' transforms.Normalize((0.5,), (0.5,))


def run(fw, cfg, lab):
    X_train, y_train = image_arrays("digits", train=True)
    X_test, y_test = image_arrays("digits", train=False)
    X_test = normalize(X_test)
    lab.say(f"digits: {len(y_train)} training and {len(y_test)} test images of 8x8")
    rng = lab.rng(cfg.seed)

    def shifted_loader(epoch):  # a freshly shifted copy of the training set every epoch
        shifted = random_shift(X_train, rng, cfg.shift) if cfg.shift else X_train
        return make_loader(fw, normalize(shifted), y_train, cfg.batch_size, shuffle=True, seed=cfg.seed + epoch,
                           device=cfg.device)
    train = EachEpoch(shifted_loader, batches=-(-len(y_train) // cfg.batch_size))

    test = make_loader(fw, X_test, y_test, 500, device=cfg.device)
    model = build(fw, cfg).to(cfg.device)
    optimizer = fw.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = fw.optim.lr_scheduler.CosineAnnealingLR(optimizer, cfg.epochs)
    fit_and_log(model, fw.nn.NLLLoss(), optimizer, train, test, cfg.epochs, lab, scheduler=scheduler, device=cfg.device)
    test_acc = accuracy(model, test)
    preds = predict(fw, model, X_test, device=cfg.device)
    wrong = (preds != y_test).nonzero()[0]
    order = list(wrong[:6]) + [i for i in range(len(y_test)) if i not in set(wrong[:6])][:12 - min(6, len(wrong))]
    show_predictions(lab, X_test[order], y_test[order], preds[order], name="predictions",
                     caption="test digits, true (top) / predicted (bottom); red = wrong")
    lab.say(f"Test set: Accuracy: {int(round(test_acc * len(y_test)))}/{len(y_test)} ({100 * test_acc:.2f}%)")
    lab.checkpoint(model)
    return {"test_acc": test_acc}
