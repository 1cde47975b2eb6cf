"""The training loop, written out so that students can read it.

    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()), train_loader, val_loader,
                  epochs=10, checkpoint_dir="runs/mnist", seed=0)
    viz.plot_history(history)

One epoch of `fit` is the loop of every PyTorch tutorial:

    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()            # forget the previous batch's gradients
        loss = loss_fn(model(x), y)      # forward
        loss.backward()                  # gradients of the loss w.r.t. every parameter
        optimizer.step()                 # move the parameters against their gradients
    evaluate(model, val_loader, ...)     # model.eval() and no_grad(): measure, don't learn

Around it, with explicit arguments (no callbacks): a progress bar, metrics, a learning-rate scheduler,
gradient clipping, early stopping, a checkpoint after every epoch (written atomically) that `resume=True`
continues from exactly, and a clear error when the loss becomes NaN or infinite.
"""
import csv
import io
import json
import math
import os
import sys
import time

import numpy as np

from . import backend, metrics as metrics_module
from .distributed import process_group
from .autograd.grad_mode import no_grad
from .nn.utils import clip_grad_norm_
from .optim.lr_scheduler import CyclicLR, OneCycleLR, ReduceLROnPlateau
from .serialization import atomic_write, load, save

CHECKPOINT = "checkpoint.pt"
BEST_MODEL = "best_model.pt"
CHECKPOINT_FORMAT = "glasstorch.train/1"


# ----------------------------------------------------------------------------- fit
def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs=10, device="cpu", scheduler=None,
        metrics=("accuracy",), early_stopping=None, checkpoint_dir=None, resume=False, seed=None, progress=True,
        grad_clip=None, on_nonfinite="stop", writer=None):
    """Train `model` for `epochs` epochs; return the `History`.

    Args:
        model: an nn.Module. loss_fn: loss(output, target) -> scalar tensor. optimizer: over model's parameters.
        train_loader, val_loader: iterables of (x, y) batches (DataLoaders); validation runs after each epoch.
        device: where to train ('cpu').
        scheduler: an lr scheduler, stepped after each epoch (ReduceLROnPlateau with the monitored loss;
            OneCycleLR and CyclicLR after each batch, as they are meant to be).
        metrics: names ('accuracy', 'precision', 'recall', 'f1': macro averages over classes), functions
            f(y_true, y_pred_classes) -> float, or a {name: function} dict. () for regression.
        early_stopping: EarlyStopping(patience, monitor, mode), or just a patience (monitors val_loss).
        checkpoint_dir: the run directory: `checkpoint.pt` after every epoch (model, optimizer, scheduler,
            epoch, RNG states, history; written atomically), `history.json`, `history.csv`, and
            `best_model.pt` when early stopping sees an improvement.
        resume: continue from `checkpoint_dir`'s checkpoint (the result is bit-identical to an
            uninterrupted run with the same seed).
        seed: seeds glasstorch's default generator first (weights made before fit are not affected).
        progress: a progress bar per epoch and a one-line summary; False is quiet.
        grad_clip: clip the gradients' total L2 norm to this value before each step.
        on_nonfinite: what a NaN/Inf loss does. "stop" (default): training ends there, the message (epoch,
            batch, likely causes) is printed and kept in `history.diverged`, and the last good checkpoint
            stays as it was; "skip": that batch is not stepped on, and the epoch goes on
            (`history.skipped_batches` counts them); "raise": TrainingDivergedError.
        writer: a `glasstorch.utils.tensorboard.SummaryWriter`; after every epoch it gets the losses and
            metrics (`loss/train`, `loss/val`, `accuracy/train`, ...), `lr`, and a histogram of every
            parameter (`weights/<name>`) and of its last gradient (`grads/<name>`), at step = epoch.

    Raises:
        TrainingDivergedError: with on_nonfinite="raise", the loss became NaN/Inf (the error names the
            epoch and step).
    """
    if on_nonfinite not in ("stop", "skip", "raise"):
        raise ValueError(f"on_nonfinite must be 'stop', 'skip' or 'raise', got {on_nonfinite!r}")
    if seed is not None:
        backend.manual_seed(seed)
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs the checkpoint_dir of the run to continue")
    stopper = _early_stopping(early_stopping)
    metric_fns = _metric_functions(metrics)
    batch_scheduler = isinstance(scheduler, (OneCycleLR, CyclicLR))
    model.to(device)
    # under DistributedDataParallel every rank runs fit; only rank 0 prints and writes checkpoints
    lead = not process_group.is_initialized() or process_group.get_rank() == 0
    progress = progress and lead
    history, start = History(), 0
    if checkpoint_dir is not None:
        os.makedirs(checkpoint_dir, exist_ok=True)
        if resume:
            restored = _resume(checkpoint_dir, model, optimizer, scheduler, train_loader, stopper)
            if restored is not None:
                start, history = restored
                if progress:
                    print(f"Resuming from {os.path.join(checkpoint_dir, CHECKPOINT)} after epoch {start}")
    if history.stopped_epoch is not None:
        return history  # the run this continues had already stopped early

    for epoch in range(start + 1, epochs + 1):
        began = time.perf_counter()
        if hasattr(getattr(train_loader, "sampler", None), "set_epoch"):
            train_loader.sampler.set_epoch(epoch - 1)  # DistributedSampler: a new shuffle, the same on every rank
        lr = optimizer.param_groups[0]["lr"]
        note = (f"The last good checkpoint (epoch {epoch - 1}) is kept in {checkpoint_dir}."
                if checkpoint_dir is not None and epoch > 1 else "")
        stats = train_one_epoch(model, loss_fn, optimizer, train_loader, device=device, metrics=metric_fns,
                                batch_scheduler=scheduler if batch_scheduler else None, grad_clip=grad_clip,
                                batches=_progress_bar(train_loader, epoch, epochs, progress), epoch=epoch,
                                checkpoint_note=note, on_nonfinite=on_nonfinite)
        history.skipped_batches += stats.skipped
        if stats.diverged is not None:  # on_nonfinite="stop": this epoch is not recorded nor checkpointed
            history.diverged, history.stopped_epoch = str(stats.diverged), epoch
            print(history.diverged, file=sys.stderr)
            break
        train_seconds = time.perf_counter() - began
        record = {"epoch": epoch, **stats.results("train_")}
        if val_loader is not None:
            record.update({f"val_{k}": v for k, v in evaluate(model, val_loader, loss_fn, metric_fns, device).items()})
        elapsed = time.perf_counter() - began
        record.update(lr=lr, time=elapsed, samples_per_s=stats.sums["count"] / max(train_seconds, 1e-9))
        history.append(record)
        if writer is not None:
            _write_epoch(writer, record, model)

        if scheduler is not None and not batch_scheduler:
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(record.get("val_loss", record["train_loss"]))
            else:
                scheduler.step()
        stop = False
        if stopper is not None:
            improved, stop = stopper.update(record)
            if improved and checkpoint_dir is not None and lead:
                save(model.state_dict(), os.path.join(checkpoint_dir, BEST_MODEL))
            if stop:
                history.stopped_epoch = epoch
        if checkpoint_dir is not None and lead:
            _save_checkpoint(checkpoint_dir, epoch, model, optimizer, scheduler, train_loader, history, stopper)
        if progress:
            print(_summary_line(record, epochs))
            if stop:
                print(f"Early stopping: {stopper.monitor} has not improved for {stopper.patience} epochs "
                      f"(best {stopper.best:.4f} at epoch {stopper.best_epoch})")
        if stop:
            break
    return history


# ----------------------------------------------------------------------------- one epoch
def train_one_epoch(model, loss_fn, optimizer, loader, device="cpu", metrics=("accuracy",), batch_scheduler=None,
                    grad_clip=None, batches=None, epoch=1, checkpoint_note="", on_nonfinite="raise"):
    """One pass over `loader`, updating the model after every batch; returns the epoch's sums
    (`.loss`, `.results('train_')`, `.skipped`, `.diverged`). `batches` is the loader wrapped in a
    progress bar, if any; `on_nonfinite` as in `fit`."""
    metric_fns = _metric_functions(metrics)
    stats = _EpochStats(metric_fns, _uses_logits(loss_fn))
    batches = loader if batches is None else batches
    steps = len(loader) if hasattr(loader, "__len__") else "?"
    began = time.perf_counter()

    model.train()
    for step, (x, y) in enumerate(batches, start=1):
        x, y = _to_device(x, device), _to_device(y, device)
        optimizer.zero_grad()             # gradients accumulate in .grad: clear the last batch's
        output = model(x)                 # forward
        loss = loss_fn(output, y)
        loss_value = float(loss.item())
        if not math.isfinite(loss_value):
            if on_nonfinite == "skip":
                stats.skipped += 1
                continue
            error = _diverged(loss_value, epoch, step, steps, x, optimizer.param_groups[0]["lr"], checkpoint_note)
            if on_nonfinite == "raise":
                raise error
            stats.diverged = error
            break
        loss.backward()                   # backward: d loss / d parameter, into every parameter's .grad
        if grad_clip is not None:
            clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()                  # update: the parameters move against their gradients
        if batch_scheduler is not None:
            batch_scheduler.step()
        stats.add(loss_value, output.detach(), y)
        if batches is not loader and (step % 10 == 0 or step == steps):
            _show_progress(batches, stats, "accuracy" in metric_fns, time.perf_counter() - began)
    if batches is not loader:
        batches.close()
    return stats


# ----------------------------------------------------------------------------- evaluate
def evaluate(model, loader, loss_fn=None, metrics=("accuracy",), device="cpu"):
    """Mean loss and metrics of `model` over `loader`, in eval mode and without building a graph.

    Returns:
        {"loss": ..., "accuracy": ..., ...} (no "loss" when loss_fn is None).
    """
    model.eval()
    stats = _EpochStats(_metric_functions(metrics), _uses_logits(loss_fn))
    with no_grad():
        for x, y in loader:
            x, y = _to_device(x, device), _to_device(y, device)
            output = model(x)
            stats.add(float(loss_fn(output, y).item()) if loss_fn is not None else 0.0, output, y)
    results = stats.results()
    if loss_fn is None:
        del results["loss"]
    return results


# =============================================================================
# Everything below is what the loop above calls: the history it returns, early stopping, the
# metrics summed over an epoch, checkpoints and resume, the progress display, the NaN error.
# =============================================================================


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; training stopped (the last good checkpoint is kept)."""


# ----------------------------------------------------------------------------- history
class History:
    """What `fit` recorded, one row per epoch.

    Columns: `epoch`, `train_loss`, `train_<metric>`, `val_loss`, `val_<metric>` (with a val_loader),
    `lr` (of the first param group, during the epoch), `time` (seconds). `history["val_loss"]` is a column;
    `history.records` the rows. `glasstorch.viz.plot_history(history)` draws it.
    """

    def __init__(self, records=None, stopped_epoch=None):
        self.records = list(records or [])
        self.stopped_epoch = stopped_epoch  # set when early stopping (or a non-finite loss) ended the run
        self.diverged = None  # the message of the NaN/Inf loss that stopped the run (on_nonfinite="stop")
        self.skipped_batches = 0  # batches with a NaN/Inf loss that were not stepped on (on_nonfinite="skip")

    def append(self, record):
        self.records.append(dict(record))

    def columns(self):
        keys = list(dict.fromkeys(k for r in self.records for k in r))
        return {k: [r.get(k) for r in self.records] for k in keys}

    def __getitem__(self, key):
        if self.records and key not in self.records[-1] and key not in self.columns():
            raise KeyError(f"{key!r} is not recorded; columns: {list(self.columns())}")
        return [r.get(key) for r in self.records]

    def __len__(self):
        return len(self.records)

    @property
    def last(self):
        return self.records[-1] if self.records else {}

    def to_dict(self):
        return {"records": self.records, "stopped_epoch": self.stopped_epoch}

    @classmethod
    def from_dict(cls, d):
        return cls(d["records"], d.get("stopped_epoch"))

    def to_json(self, path):
        text = json.dumps(self.to_dict(), indent=2)
        atomic_write(path, lambda f: f.write(text.encode()))

    def to_csv(self, path):
        cols = self.columns()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(cols)
        writer.writerows(zip(*cols.values()))
        atomic_write(path, lambda f: f.write(buffer.getvalue().encode()))

    def __repr__(self):
        return f"History({len(self)} epochs, columns={list(self.columns())})"


# ----------------------------------------------------------------------------- TensorBoard
def _write_epoch(writer, record, model):
    """One epoch into a SummaryWriter: `train_loss` -> `loss/train`, `val_accuracy` -> `accuracy/val`,
    `lr`, and histograms of every parameter and its gradient (what the last batch left in `.grad`)."""
    epoch = record["epoch"]
    for key, value in record.items():
        for split in ("train", "val"):
            if key.startswith(split + "_"):
                writer.add_scalar(f"{key[len(split) + 1:]}/{split}", value, epoch)
    writer.add_scalar("lr", record["lr"], epoch)
    for name, param in model.named_parameters():
        writer.add_histogram(f"weights/{name}", param.detach(), epoch)
        if param.grad is not None:
            writer.add_histogram(f"grads/{name}", param.grad, epoch)
    writer.flush()


# ----------------------------------------------------------------------------- early stopping
class EarlyStopping:
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs in a row.

    Args:
        patience: epochs without improvement to tolerate.
        monitor: a History column, e.g. 'val_loss' or 'val_accuracy'.
        mode: 'min' (lower is better) or 'max'; default: 'max' for accuracy/precision/recall/f1, else 'min'.
    """

    def __init__(self, patience=5, monitor="val_loss", mode=None, min_delta=0.0):
        if mode is None:
            mode = "max" if any(w in monitor for w in ("acc", "precision", "recall", "f1")) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience, self.monitor, self.mode, self.min_delta = patience, monitor, mode, min_delta
        self.best, self.best_epoch, self.bad_epochs = None, None, 0

    def improved(self, value):
        if self.best is None:
            return True
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def update(self, record):
        """Take one epoch's record; return (improved, stop)."""
        if self.monitor not in record:
            raise KeyError(f"early stopping monitors {self.monitor!r}, which is not recorded (columns: "
                           f"{list(record)}); pass a val_loader or monitor a train_* column")
        value = record[self.monitor]
        better = self.improved(value)
        if better:
            self.best, self.best_epoch, self.bad_epochs = value, record["epoch"], 0
        else:
            self.bad_epochs += 1
        return better, self.bad_epochs >= self.patience

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.bad_epochs = state["best"], state["best_epoch"], state["bad_epochs"]


def _early_stopping(arg):
    if arg is None or isinstance(arg, EarlyStopping):
        return arg
    if isinstance(arg, int):
        return EarlyStopping(patience=arg)
    if isinstance(arg, dict):
        return EarlyStopping(**arg)
    raise TypeError("early_stopping must be None, an EarlyStopping, a patience (int) or a dict of its arguments")


# ----------------------------------------------------------------------------- metrics over an epoch
_NAMED_METRICS = {
    "accuracy": metrics_module.accuracy,
    "precision": lambda y, p: metrics_module.precision(y, p, average="macro", zero_division=0),
    "recall": lambda y, p: metrics_module.recall(y, p, average="macro", zero_division=0),
    "f1": lambda y, p: metrics_module.f1_score(y, p, average="macro", zero_division=0),
}


def _metric_functions(metrics):
    """{name: fn(y_true, y_pred_classes)} from names ('accuracy', 'precision', 'recall', 'f1' — macro
    averages), callables (named by __name__) or a {name: callable} dict."""
    if isinstance(metrics, dict):
        return dict(metrics)
    out = {}
    for m in metrics or ():
        if callable(m):
            out[getattr(m, "__name__", "metric")] = m
        elif m in _NAMED_METRICS:
            out[m] = _NAMED_METRICS[m]
        else:
            raise ValueError(f"unknown metric {m!r}; use one of {list(_NAMED_METRICS)} or a function "
                             "f(y_true, y_pred) -> float")
    return out


def _predicted_classes(output, logits):
    """Class predictions from a batch of outputs: argmax of (N, C) scores, a threshold for one output."""
    out = metrics_module.as_numpy(output)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(-1) > (0.0 if logits else 0.5)).astype(np.int64)


class _EpochStats:
    """Sums over the batches of one epoch: loss (weighted by batch size), samples, predictions, targets."""

    def __init__(self, metric_fns, logits):
        self.metric_fns, self.logits = metric_fns, logits
        self.sums = metrics_module.MetricAccumulator("loss", "correct", "count")
        self.predictions, self.targets = [], []
        self.skipped, self.diverged = 0, None  # non-finite losses skipped; the error that stopped the epoch

    def add(self, loss_value, output, y):
        n = len(y)
        self.sums.add(loss=loss_value * n, count=n)
        if self.metric_fns:
            pred = _predicted_classes(output, self.logits)
            target = metrics_module.as_numpy(y).reshape(len(pred), -1)[:, 0] if pred.size else pred
            self.predictions.append(pred)
            self.targets.append(target)
            self.sums.add(correct=float((pred == target).sum()))

    @property
    def loss(self):
        return self.sums["loss"] / max(self.sums["count"], 1)

    @property
    def running_accuracy(self):
        return self.sums["correct"] / max(self.sums["count"], 1)

    def results(self, prefix=""):
        out = {f"{prefix}loss": self.loss}
        if self.metric_fns and self.predictions:
            y_pred, y_true = np.concatenate(self.predictions), np.concatenate(self.targets)
            for name, fn in self.metric_fns.items():
                try:
                    out[prefix + name] = float(fn(y_true, y_pred))
                except ValueError as e:
                    raise ValueError(f"metric {name!r} failed ({e}); for regression pass metrics=()") from None
        return out


def _uses_logits(loss_fn):
    """Whether a single-output model emits logits (BCEWithLogitsLoss: threshold 0) or probabilities (0.5)."""
    name = type(loss_fn).__name__ + getattr(loss_fn, "__name__", "")
    return "logits" in name.lower()


def _to_device(batch, device):
    return batch.to(device) if hasattr(batch, "to") else batch


# ----------------------------------------------------------------------------- checkpoints
def _rng_states(loader):
    states = {"default": backend.default_generator.get_state()}
    generator = getattr(loader, "generator", None)
    if generator is not None:
        states["loader"] = generator.get_state()
    return states


def _set_rng_states(states, loader):
    backend.default_generator.set_state(states["default"])
    if "loader" in states and getattr(loader, "generator", None) is not None:
        loader.generator.set_state(states["loader"])


def _save_checkpoint(run_dir, epoch, model, optimizer, scheduler, loader, history, stopper):
    checkpoint = {"format": CHECKPOINT_FORMAT, "epoch": epoch, "model": model.state_dict(),
                  "optimizer": optimizer.state_dict(),
                  "scheduler": scheduler.state_dict() if scheduler is not None else None,
                  "rng": _rng_states(loader), "history": history.to_dict(),
                  "early_stopping": stopper.state_dict() if stopper is not None else None}
    save(checkpoint, os.path.join(run_dir, CHECKPOINT))  # atomic: temp file, then rename
    history.to_json(os.path.join(run_dir, "history.json"))
    history.to_csv(os.path.join(run_dir, "history.csv"))


def _resume(run_dir, model, optimizer, scheduler, loader, stopper):
    """Restore everything from the run's checkpoint; return (epochs done, history) or None without one."""
    path = os.path.join(run_dir, CHECKPOINT)
    if not os.path.exists(path):
        return None
    checkpoint = load(path)
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a checkpoint written by glasstorch.train.fit")
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None and checkpoint["scheduler"] is not None:
        scheduler.load_state_dict(checkpoint["scheduler"])
    if stopper is not None and checkpoint["early_stopping"] is not None:
        stopper.load_state_dict(checkpoint["early_stopping"])
    _set_rng_states(checkpoint["rng"], loader)
    return checkpoint["epoch"], History.from_dict(checkpoint["history"])


def load_checkpoint(path, model=None, optimizer=None, scheduler=None):
    """Read a `fit` checkpoint (a run directory or the file) and load it into the given objects.

    Returns the checkpoint dict: 'epoch', 'model', 'optimizer', 'scheduler', 'rng', 'history'.
    """
    if os.path.isdir(path):
        path = os.path.join(path, CHECKPOINT)
    checkpoint = load(path)
    for obj, key in ((model, "model"), (optimizer, "optimizer"), (scheduler, "scheduler")):
        if obj is not None and checkpoint.get(key) is not None:
            obj.load_state_dict(checkpoint[key])
    return checkpoint


# ----------------------------------------------------------------------------- progress display
def _progress_bar(loader, epoch, epochs, enabled):
    if not enabled:
        return loader
    try:
        from tqdm.auto import tqdm  # the notebook widget in Jupyter, text elsewhere
    except ImportError:
        return loader
    total = len(loader) if hasattr(loader, "__len__") else None
    return tqdm(loader, total=total, desc=f"Epoch {epoch}/{epochs}", unit="batch", leave=False,
                dynamic_ncols=True, file=sys.stdout)


def _summary_line(record, epochs):
    parts = [f"Epoch {record['epoch']}/{epochs}"]
    for split in ("train", "val"):
        values = [f"{k[len(split) + 1:]} {v:.4f}" for k, v in record.items() if k.startswith(split + "_")]
        if values:
            parts.append(f"{split} " + " ".join(values))
    parts.append(f"lr {record['lr']:.3g}")
    parts.append(f"{record['time']:.1f}s (training {record['samples_per_s']:,.0f} samples/s)")
    return " | ".join(parts)


def _diverged(loss_value, epoch, step, steps, x, lr, checkpoint_note):
    causes = [f"the learning rate is too high (lr={lr:g}): try 10x smaller",
              "log of zero: a hand-written cross-entropy on probabilities that reached 0 "
              "(use nn.CrossEntropyLoss / F.cross_entropy on logits, or clamp before log)",
              "exploding gradients: try grad_clip=1.0", "a division by zero in the model or the loss"]
    x_array = metrics_module.as_numpy(x) if hasattr(x, "shape") else None
    if x_array is not None and x_array.dtype.kind == "f" and not np.isfinite(x_array).all():
        causes.insert(0, "the input batch itself contains NaN or Inf: check the data and its transforms")
    return TrainingDivergedError(
        f"loss is {loss_value} at epoch {epoch}, step {step}/{steps}: training stopped. Likely causes:\n  - "
        + "\n  - ".join(causes) + f"\n{checkpoint_note}\nTo find the op that produced it, rerun one step "
        "inside `with glasstorch.autograd.detect_anomaly():`.")


def _show_progress(bar, stats, with_accuracy, seconds):
    postfix = {"loss": f"{stats.loss:.4f}"}
    if with_accuracy:
        postfix["acc"] = f"{stats.running_accuracy:.4f}"
    postfix["samples/s"] = f"{stats.sums['count'] / max(seconds, 1e-9):,.0f}"
    bar.set_postfix(postfix, refresh=False)
