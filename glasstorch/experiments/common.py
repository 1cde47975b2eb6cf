"""Pieces several experiments share, written once against the torch API (`fw` is glasstorch or torch).

- image_arrays:   MNIST / Fashion-MNIST / 8x8 digits as NumPy arrays (from glasstorch.vision), so both
                  engines are fed the very same samples.
- make_loader:    fw.utils.data.DataLoader over a TensorDataset built from those arrays.
- train_classifier / evaluate / predict: the loop of the notes (zero_grad, backward, step; eval under no_grad).
"""
from pathlib import Path

import numpy as np

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


# ----------------------------------------------------------------------------- the training loop
def train_epoch(fw, model, optimizer, loss_fn, loader, lab, desc="train"):
    """One pass over `loader`; returns (mean loss, accuracy) over the samples seen."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for X, y in lab.progress(loader, desc, total=len(loader)):
        optimizer.zero_grad()
        out = model(X)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        n = len(y)
        total_loss += loss.item() * n
        correct += (out.argmax(dim=1) == y).sum().item()
        seen += n
    return total_loss / seen, correct / seen


def evaluate(fw, model, loader, loss_fn=None):
    """(accuracy, mean loss or None) of `model` on `loader`, in eval mode, without building a graph."""
    model.eval()
    correct, seen, total_loss = 0, 0, 0.0
    with fw.no_grad():
        for X, y in loader:
            out = model(X)
            if loss_fn is not None:
                total_loss += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(dim=1) == y).sum().item()
            seen += len(y)
    return correct / seen, (total_loss / seen if loss_fn is not None else None)


def predict(fw, model, X, batch_size=1000, device="cpu"):
    """Class predictions (NumPy int array) for NumPy inputs X."""
    model.eval()
    preds = []
    with fw.no_grad():
        for start in range(0, len(X), batch_size):
            out = model(tensor(fw, X[start:start + batch_size], device))
            preds.append(out.argmax(dim=1).cpu().numpy())
    return np.concatenate(preds)


def train_classifier(fw, model, optimizer, loss_fn, train_loader, test_loader, epochs, lab, scheduler=None,
                     stop_at=None):
    """The notes' loop: for each epoch train, then test; logs epoch, train_loss, train_acc, test_acc.

    train_loader may be a function of the epoch (for data augmentation drawn anew each epoch).
    stop_at: stop early once the test accuracy reaches it (returns the epoch it happened, else None).
    """
    reached = None
    for epoch in range(1, epochs + 1):
        loader = train_loader(epoch) if callable(train_loader) else train_loader
        train_loss, train_acc = train_epoch(fw, model, optimizer, loss_fn, loader, lab,
                                            desc=f"epoch {epoch}/{epochs}")
        test_acc, test_loss = evaluate(fw, model, test_loader, loss_fn)
        if scheduler is not None:
            scheduler.step()
        lab.log(epoch=epoch, train_loss=train_loss, train_acc=train_acc, test_loss=test_loss, test_acc=test_acc)
        lab.say(f"epoch {epoch:2d}: train loss {train_loss:.4f}, train acc {train_acc:.4f}, test acc {test_acc:.4f}")
        if stop_at is not None and test_acc >= stop_at:
            reached = epoch
            break
    return reached


def show_predictions(lab, images, labels, preds, names=None, name="predictions", caption="", n=12):
    """A grid of images titled 'true / predicted' (red when wrong)."""
    n = min(n, len(labels))
    cols = min(6, n)
    rows = (n + cols - 1) // cols
    with lab.figure(name, caption, figsize=(1.9 * cols, 2.5 * rows + 0.4), nrows=rows, ncols=cols, squeeze=False) as (
            fig, axes):
        for ax, img, t, p in zip(axes.flat, images[:n], labels[:n], preds[:n]):
            ax.imshow(img.reshape(img.shape[-2:]), cmap="gray")
            label = (lambda k: names[k] if names else str(k))
            ax.set_title(f"{label(t)}\n{label(p)}", fontsize=8, color="black" if t == p else "red")
            ax.axis("off")
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        fig.suptitle(caption or "true label (top) / predicted (bottom); red = wrong")


def scratch_vs_concise(fw, cfg, lab, make_model):
    """d2l's two versions of one Fashion-MNIST classifier, trained on the same batches, one history.

    `make_model(kind)` gives (net, loss, updater) for kind 'scratch' or 'concise'. Returns the test
    accuracies, draws the last model's predictions and keeps its checkpoint.
    """
    X_train, y_train, X_test, y_test = fashion_or_mnist("fashion-mnist", cfg, lab)
    train = make_loader(fw, X_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed, device=cfg.device)
    test = make_loader(fw, X_test, y_test, 1000, device=cfg.device)
    results = {}
    for kind in ("scratch", "concise"):
        lab.say(f"--- {kind} ---")
        net, loss, updater = make_model(kind)
        history_start = len(lab.history)
        scheduler = CosineLR(updater, cfg.epochs) if cfg.cosine_lr else None
        train_classifier(fw, net, updater, loss, train, test, cfg.epochs, lab, scheduler=scheduler)
        for row in lab.history[history_start:]:  # one history, two curves: prefix the metrics
            for key in [k for k in row if k != "epoch"]:
                row[f"{kind}_{key}"] = row.pop(key)
        results[f"{kind}_test_acc"] = evaluate(fw, net, test)[0]
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


class ScratchSGD:
    """d2l's from-scratch `sgd(params, lr, batch_size)` wearing an optimizer's two methods, so the scratch models
    share the training loop: with a mean loss, param -= lr * param.grad is d2l's update."""

    def __init__(self, fw, params, lr):
        self.fw, self.params, self.lr = fw, list(params), lr

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        with self.fw.no_grad():
            for p in self.params:
                p -= self.lr * p.grad


class ScratchModel:
    """A plain function plus its parameter list, with the train()/eval() a Module has (d2l's `net`)."""

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


def fashion_or_mnist(name, cfg, lab):
    """(X_train, y_train, X_test, y_test) at the Config's size (train_limit/test_limit None = everything)."""
    X_train, y_train = image_arrays(name, lab.data_dir, True, getattr(cfg, "train_limit", None), cfg.seed)
    X_test, y_test = image_arrays(name, lab.data_dir, False, getattr(cfg, "test_limit", None), cfg.seed)
    lab.say(f"{name}: {len(y_train)} training and {len(y_test)} test images")
    return X_train, y_train, X_test, y_test


class CosineLR:
    """lr_t = lr_0 · (1 + cos(π t / T)) / 2 after each epoch, for a torch-style optimizer or a ScratchSGD alike
    (the same schedule for the from-scratch and the concise models, so the two stay comparable)."""

    def __init__(self, optimizer, epochs):
        self.optimizer, self.epochs, self.epoch = optimizer, epochs, 0
        self.base = self._lrs()

    def _lrs(self):
        groups = getattr(self.optimizer, "param_groups", None)
        return [g["lr"] for g in groups] if groups is not None else [self.optimizer.lr]

    def step(self):
        import math
        self.epoch += 1
        factor = (1 + math.cos(math.pi * self.epoch / self.epochs)) / 2
        groups = getattr(self.optimizer, "param_groups", None)
        if groups is None:
            self.optimizer.lr = self.base[0] * factor
        else:
            for group, base in zip(groups, self.base):
                group["lr"] = base * factor
