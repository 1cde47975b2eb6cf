"""The Lab: what an experiment's `run(fw, cfg, lab)` talks to while it runs.

An experiment never opens files, draws progress bars or prints tables itself; it asks the lab:

    lab.say("0 , 1 : 1.0")                  # printed now and kept for report.md
    for X, y in lab.progress(loader, "epoch 1"):   # a tqdm bar (silent in tests)
    lab.log(epoch=1, train_loss=0.31, test_acc=0.97)   # one row of history.csv
    with lab.figure("decision_boundary", "What the net learned") as fig: ...   # a PNG
    lab.checkpoint(model)                   # the final weights, never pickled

With `glasstorch run NAME --tensorboard DIR`, `lab.writer` is a SummaryWriter and every `lab.log` row also
goes to TensorBoard (lessons that train through `glasstorch.train.fit` add the lr and histograms).

so the same experiment code runs in the CLI (bars, files) and in the tests (quiet, a temp folder).
"""
import contextlib
import copy
import io
import time
from pathlib import Path

import numpy as np


_STEP_KEYS = ("step", "epoch", "iteration")


class Lab:
    """Run context for one experiment on one engine.

    Args:
        fw: the framework module the experiment computes with (glasstorch or torch).
        engine: "glass" or "torch" (used in file names and tables).
        out: folder for the figures and the checkpoint (created on demand).
        data_dir: where MNIST / Fashion-MNIST live.
        device: "cpu" or "cuda".
        verbose: show progress bars and echo `say` to stdout.
        suffix: appended to figure/checkpoint names (``"-torch"`` when both engines share a folder).
        quick: the experiment runs at its quick (test) size.
        writer: a `glasstorch.utils.tensorboard.SummaryWriter` that every `log` row is also written to.
    """

    def __init__(self, fw, engine, out, data_dir=None, device="cpu", verbose=True, suffix="", quick=False, writer=None):
        self.fw, self.engine, self.out = fw, engine, Path(out)
        self.data_dir, self.device, self.verbose, self.suffix, self.quick = data_dir, device, verbose, suffix, quick
        self.history = []          # list of dicts, one per logged step/epoch
        self.figures = []          # (file name, caption)
        self.printed = io.StringIO()
        self.checkpoint_path = None
        self.started = time.perf_counter()
        self.writer = writer

    # -------------------------------------------------------------- text
    def say(self, *parts, sep=" ", echo=True):
        """Print like `print`, and keep the text for the report (echo=False: keep it only)."""
        text = sep.join(str(p) for p in parts)
        self.printed.write(text + "\n")
        if self.verbose and echo:
            print(text, flush=True)

    def quiet(self):
        """A view of this lab for inner loops: same history and figures, but no bars and nothing printed."""
        view = copy.copy(self)  # shallow: history and figures stay shared
        view.verbose, view.printed = False, io.StringIO()
        return view

    # -------------------------------------------------------------- progress
    def progress(self, iterable, desc="", total=None, leave=False):
        """A tqdm progress bar over `iterable` when verbose, else the iterable itself."""
        if not self.verbose:
            return iterable
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return iterable
        return tqdm(iterable, desc=f"[{self.engine}] {desc}", total=total, leave=leave, dynamic_ncols=True)

    # -------------------------------------------------------------- history
    def log(self, **values):
        """Append one row (epoch/step and scalar metrics) to the history."""
        row = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in values.items()}
        self.history.append(row)
        if self.writer is not None:
            self._write(row)
        return row

    def _write(self, row):
        """One row into TensorBoard: each number under its own name, at the row's step (its `step`, `epoch`,
        or `iteration` when that is a whole number, else the row's index in the history)."""
        key = next((k for k in _STEP_KEYS if k in row), None)
        value = row.get(key)
        integral = isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer())
        step = int(value) if key is not None and integral else len(self.history) - 1
        for name, v in row.items():
            if name != key and isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                self.writer.add_scalar(name, float(v), step)

    # -------------------------------------------------------------- figures
    @contextlib.contextmanager
    def figure(self, name, caption="", figsize=(6.4, 4.8), **subplots):
        """`with lab.figure("loss", "Loss per epoch", ncols=2) as (fig, axes):` saves name.png on exit."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(figsize=figsize, **subplots)
        try:
            yield fig, axes
            self.out.mkdir(parents=True, exist_ok=True)
            file_name = f"{name}{self.suffix}.png"
            fig.tight_layout()
            fig.savefig(self.out / file_name, dpi=100)
            self.figures.append((file_name, f"{caption} ({self.engine})" if caption else self.engine))
        finally:
            plt.close(fig)

    def viz(self, name, caption, plot, *args, **kwargs):
        """Draw with a glasstorch.viz function (pass NumPy arrays) and keep it as name.png."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        self.out.mkdir(parents=True, exist_ok=True)
        file_name = f"{name}{self.suffix}.png"
        fig = plot(*args, save_path=str(self.out / file_name), **kwargs)
        plt.close(fig)
        self.figures.append((file_name, f"{caption} ({self.engine})" if caption else self.engine))

    # -------------------------------------------------------------- checkpoint
    def checkpoint(self, model):
        """Save `model.state_dict()` as the run's final checkpoint (glasstorch.save, else .npz; never pickle)."""
        self.out.mkdir(parents=True, exist_ok=True)
        arrays = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
        try:
            import glasstorch
            save = glasstorch.save
        except AttributeError:
            save = None
        if save is not None:
            path = self.out / f"model{self.suffix}.pt"
            save({k: glasstorch.from_numpy(np.asarray(a, order="C")) for k, a in arrays.items()}, str(path))
        else:
            path = self.out / f"model{self.suffix}.npz"
            np.savez(path, **arrays)
        self.checkpoint_path = path.name
        return path

    # -------------------------------------------------------------- helpers for experiments
    def rng(self, seed):
        """A NumPy generator for data: identical on both engines, so both see the same samples."""
        return np.random.default_rng(seed)

    def elapsed(self):
        return time.perf_counter() - self.started

