"""Pieces several experiments share, written once against the torch API (`fw` is glasstorch or torch).

- image_arrays:   MNIST / Fashion-MNIST / 8x8 digits as NumPy arrays (from glasstorch.vision), so both
                  engines are fed the very same samples.
- shakespeare_corpus: the character vocabulary and train/validation ids of the char-level lessons.
- make_loader:    fw.utils.data.DataLoader over a TensorDataset built from those arrays.
- fit_and_log:    glasstorch.train.fit (the one training loop of the package), its epochs logged into the lab.
- predict, show_predictions, simple_cnn, numerical_gradient, d2l's scratch pieces: what several lessons use.
"""
from pathlib import Path

import numpy as np

from glasstorch.datasets.text import CharCorpus, shakespeare_excerpt, tiny_shakespeare
from glasstorch.train import evaluate, fit
from glasstorch.viz import show_images

FASHION_LABELS = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]
IMAGE_SETS = ("mnist", "fashion-mnist", "digits")


# ----------------------------------------------------------------------------- data
def image_arrays(name, data_dir=None, train=True, limit=None, seed=0):
    """(images float32 N x 1 x H x W scaled to [0, 1], labels int64 N) for mnist, fashion-mnist or digits.

    Read through glasstorch.vision.datasets; `data_dir` may hold the IDX files itself or in a `mnist/` /
    `fashion-mnist/` subfolder (the layout of ../shared/data). `limit` keeps a random subset (quick sizes).
    """
    from glasstorch.vision import datasets
    classes = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "digits": datasets.Digits}
    if name not in classes:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(IMAGE_SETS)}")
    root = data_dir
    if data_dir is not None and (Path(data_dir) / name).is_dir():
        root = str(Path(data_dir) / name)
    dataset = classes[name](root=root, train=train, download=False)
    images = _numpy(dataset.data).astype(np.float32) / 255.0
    labels = _numpy(dataset.targets).astype(np.int64)
    if images.ndim == 3:
        images = images[:, None]
    if limit is not None and limit < len(labels):
        keep = np.random.default_rng(seed).permutation(len(labels))[:limit]
        images, labels = images[keep], labels[keep]
    return np.ascontiguousarray(images), labels


def shakespeare_corpus(name, cfg, lab):
    """The CharCorpus of the char-level lessons: the shipped excerpt when cfg.excerpt, else the whole Tiny
    Shakespeare from --data-dir; the last cfg.val_fraction of the text is the validation part."""
    if cfg.excerpt:
        text = shakespeare_excerpt()
    elif lab.data_dir is None:
        raise FileNotFoundError(f"{name} needs --data-dir holding tinyshakespeare/input.txt (or run --quick)")
    else:
        text = tiny_shakespeare(lab.data_dir)
    return CharCorpus(text, cfg.val_fraction)


def _numpy(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def tensor(fw, array, device="cpu"):
    """A fw tensor holding `array` (float64 arrays become float32, the frameworks' default)."""
    array = np.ascontiguousarray(array)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    t = fw.from_numpy(array)
    return t.to(device) if device != "cpu" else t


def make_loader(fw, X, y, batch_size, shuffle=False, seed=0, device="cpu"):
    """fw.utils.data.DataLoader over TensorDataset(X, y); shuffling drawn from a seeded fw.Generator."""
    data = fw.utils.data
    dataset = data.TensorDataset(tensor(fw, X, device), tensor(fw, y, device))
    generator = fw.Generator().manual_seed(seed) if shuffle else None
    return data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


# ----------------------------------------------------------------------------- training: glasstorch.train's loop
def fit_and_log(model, loss_fn, optimizer, train_loader, test_loader, epochs, lab, scheduler=None, device="cpu"):
    """glasstorch.train.fit, the one training loop (train, zero_grad, backward, step; evaluate under no_grad), with
    the test set as its validation set; each epoch goes into the lab's history as epoch, train_loss, train_acc,
    test_loss, test_acc. Returns fit's History. Works for torch models too (--engine torch): the same numbers,
    though glasstorch's no_grad does not stop torch from recording (and dropping) a graph while evaluating."""
    history = fit(model, loss_fn, optimizer, train_loader, test_loader, epochs=epochs, scheduler=scheduler,
                  device=device, progress=lab.verbose,  # bars and one line per epoch while it runs
                  writer=getattr(lab, "writer", None))  # --tensorboard: lr and histograms too
    for r in history.records:
        lab.log(epoch=r["epoch"], train_loss=r["train_loss"], train_acc=r["train_accuracy"],
                test_loss=r["val_loss"], test_acc=r["val_accuracy"])
        lab.say(f"epoch {r['epoch']:2d}: train loss {r['train_loss']:.4f}, train acc {r['train_accuracy']:.4f}, "
                f"test acc {r['val_accuracy']:.4f}", echo=False)  # fit printed it already; kept for the report
    return history


def accuracy(model, loader):
    """Test accuracy of `model` on `loader` (glasstorch.train.evaluate: eval mode, no graph)."""
    return evaluate(model, loader)["accuracy"]


class EachEpoch:
    """Batches from `make_loader(epoch)`, called anew for every pass: `fit` iterates it once per epoch, so
    data augmentation (random shifts) is drawn afresh each epoch. len() is the batches per epoch."""

    def __init__(self, make_loader, batches):
        self.make_loader, self.epoch, self.batches = make_loader, 0, batches

    def __iter__(self):  # a generator: nothing is drawn until the first batch is asked for (tqdm calls iter()
        self.epoch += 1     # once more than it iterates)
        yield from self.make_loader(self.epoch)

    def __len__(self):
        return self.batches


def predict(fw, model, X, batch_size=1000, device="cpu"):
    """Class predictions (NumPy int array) for NumPy inputs X."""
    model.eval()
    preds = []
    with fw.no_grad():
        for start in range(0, len(X), batch_size):
            out = model(tensor(fw, X[start:start + batch_size], device))
            preds.append(out.argmax(dim=1).cpu().numpy())
    return np.concatenate(preds)


def show_predictions(lab, images, labels, preds, names=None, name="predictions", caption="", n=12):
    """glasstorch.viz.show_images of the first `n` images, titled with the true label; mistakes in red."""
    lab.viz(name, caption, show_images, images[:n], labels[:n], preds[:n], class_names=names, ncols=6,
            title=caption or "test images: true label; red = wrong (true → predicted)")


def on_arrays(fw, model):
    """`model` as a function of glasstorch tensors (what glasstorch.viz passes in), for either engine."""
    return lambda x: model(fw.from_numpy(x.numpy()))


def simple_cnn(fw, channels=(32, 64), hidden=128, image_size=8, dropout=0.25):
    """SimpleCNN of the notes (000), sized for `image_size` inputs (28 gives the notes' 9216-wide fc1)."""
    nn = fw.nn
    side = (image_size - 4) // 2
    return nn.Sequential(
        nn.Conv2d(1, channels[0], 3, 1), nn.ReLU(),
        nn.Conv2d(channels[0], channels[1], 3, 1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(dropout), nn.Flatten(1),
        nn.Linear(channels[1] * side * side, hidden), nn.ReLU(),
        nn.Linear(hidden, 10), nn.LogSoftmax(dim=1))


def numerical_gradient(f, x, h=1e-4):
    """The notes' numerical_gradient (003): one central difference per coordinate of the NumPy array x."""
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad


# ----------------------------------------------------------------------------- d2l's from-scratch pieces
def scratch_vs_concise(fw, cfg, lab, make_model):
    """d2l's two versions of one Fashion-MNIST classifier, trained on the same batches, one history.

    `make_model(kind)` gives (net, loss, optimizer) for kind 'scratch' or 'concise'. With cfg.cosine_lr the lr
    follows fw.optim.lr_scheduler.CosineAnnealingLR(T_max=epochs): after epoch t it is lr·(1 + cos(πt/T))/2, the
    same for both models. Returns the test accuracies, draws the last model's predictions, keeps its checkpoint.
    """
    X_train, y_train, X_test, y_test = fashion_or_mnist("fashion-mnist", cfg, lab)
    train = make_loader(fw, X_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed, device=cfg.device)
    test = make_loader(fw, X_test, y_test, 1000, device=cfg.device)
    results = {}
    for kind in ("scratch", "concise"):
        lab.say(f"--- {kind} ---")
        net, loss, optimizer = make_model(kind)
        history_start = len(lab.history)
        scheduler = fw.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs) if cfg.cosine_lr else None
        fit_and_log(net, loss, optimizer, train, test, cfg.epochs, lab, scheduler=scheduler, device=cfg.device)
        for row in lab.history[history_start:]:  # one history, two curves: prefix the metrics
            for key in [k for k in row if k != "epoch"]:
                row[f"{kind}_{key}"] = row.pop(key)
        results[f"{kind}_test_acc"] = accuracy(net, test)
    preds = predict(fw, net, X_test[:12], device=cfg.device)
    show_predictions(lab, X_test, y_test, preds, names=FASHION_LABELS, name="predictions",
                     caption="Fashion-MNIST test images: true label (top), prediction (bottom)")
    lab.checkpoint(net)
    return results


def d2l_init(fw, net, std=0.01):
    """d2l's `init_weights`: every nn.Linear weight drawn from N(0, std^2) (biases keep their default)."""
    def init_weights(m):
        if type(m) == fw.nn.Linear:  # noqa: E721  (d2l's test)
            fw.nn.init.normal_(m.weight, std=std)
    net.apply(init_weights)
    return net


def scratch_sgd(fw, params, lr):
    """d2l's from-scratch `sgd(params, lr, batch_size)`: with a mean loss, param -= lr * param.grad. Written as an
    fw.optim.Optimizer (param_groups, zero_grad) so that fit and the lr schedulers take it on either engine."""
    class ScratchSGD(fw.optim.Optimizer):
        def step(self):
            with fw.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p -= group["lr"] * p.grad
            self._opt_called = True  # what Optimizer.step records, so that an lr scheduler sees the step
    return ScratchSGD(params, {"lr": lr})


class ScratchModel:
    """A plain function plus its parameter list, with the train()/eval()/to() a Module has (d2l's `net`)."""

    def __init__(self, forward, params):
        self.forward, self.params = forward, list(params)

    def __call__(self, X):
        return self.forward(X)

    def parameters(self):
        return iter(self.params)

    def train(self, mode=True):
        return self

    def eval(self):
        return self

    def to(self, device):
        return self  # the parameters were created on their device


def fashion_or_mnist(name, cfg, lab):
    """(X_train, y_train, X_test, y_test) at the Config's size (train_limit/test_limit None = everything)."""
    X_train, y_train = image_arrays(name, lab.data_dir, True, getattr(cfg, "train_limit", None), cfg.seed)
    X_test, y_test = image_arrays(name, lab.data_dir, False, getattr(cfg, "test_limit", None), cfg.seed)
    lab.say(f"{name}: {len(y_train)} training and {len(y_test)} test images")
    return X_train, y_train, X_test, y_test
