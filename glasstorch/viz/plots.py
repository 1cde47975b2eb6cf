"""Plots for learning and teaching: training curves, decision boundaries, loss landscapes, images and layers.

Every function draws one titled figure (axis labels, legend or colorbar), returns the matplotlib
`Figure`, and saves it when given `save_path` (the extension picks the format: .png, .svg, .pdf).
matplotlib is imported inside the functions, so `import glasstorch` never needs it; without a display
the Agg backend renders off-screen. In Jupyter the returned figure is what is shown (it is closed in
pyplot first, so it does not appear twice); in a script, `plt.show()` shows it.

Arrays or tensors are accepted everywhere (glasstorch's or torch's).
"""
import inspect

import numpy as np

from ..autograd.grad_mode import no_grad
from ..metrics import as_numpy, confusion_matrix
from ..tensor import from_numpy


# ----------------------------------------------------------------------------- shared helpers
def _pyplot():
    import matplotlib.pyplot as plt  # without a display, matplotlib falls back to the Agg backend itself
    return plt


def _in_notebook():
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _finish(fig, save_path, layout=True):
    """Lay out, save when asked, and hand the figure back (closed in pyplot inside Jupyter: shown once)."""
    if layout:
        fig.tight_layout()
    if save_path is not None:
        fig.savefig(save_path, dpi=120, bbox_inches="tight")
    if _in_notebook():
        _pyplot().close(fig)
    return fig


def _predict(model, x):
    """Outputs of a glasstorch module / callable on an (N, D) float array, as an ndarray (no graph built)."""
    if hasattr(model, "eval") and hasattr(model, "train") and hasattr(model, "training"):
        was_training = model.training
        model.eval()
    else:
        was_training = None
    try:
        with no_grad():
            out = model(from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
    finally:
        if was_training:
            model.train()
    return as_numpy(out)


def _image_grid(n, ncols):
    ncols = max(1, min(ncols, n))
    return (n + ncols - 1) // ncols, ncols


def _as_images(images):
    """(N, H, W) or (N, H, W, 3) for imshow, from (N, C, H, W) / (N, H, W) / (N, H, W, C) data."""
    a = as_numpy(images).astype(np.float32)
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 4 and a.shape[1] in (1, 3) and a.shape[-1] not in (1, 3):
        a = a.transpose(0, 2, 3, 1)  # channels first (torch layout) -> channels last (matplotlib)
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (3, 4):
        raise ValueError(f"images must be (N, C, H, W), (N, H, W) or (N, H, W, C), got shape {a.shape}")
    if a.ndim == 4:  # RGB: rescale each image to [0, 1] for imshow
        lo = a.min(axis=(1, 2, 3), keepdims=True)
        hi = a.max(axis=(1, 2, 3), keepdims=True)
        a = (a - lo) / np.where(hi > lo, hi - lo, 1)
    return a


# ----------------------------------------------------------------------------- training curves
def _history_columns(history):
    """{column: list} from a History (`.columns()`), a dict of lists, or a list of per-epoch dicts."""
    if hasattr(history, "columns") and callable(history.columns):
        return history.columns()
    if isinstance(history, dict):
        return {k: list(v) for k, v in history.items()}
    records = list(history)
    keys = list(dict.fromkeys(k for r in records for k in r))
    return {k: [r.get(k, np.nan) for r in records] for k in keys}


def plot_history(history, metrics=None, title="Training history", save_path=None):
    """Loss and each metric per epoch, train vs validation, one panel each.

    Args:
        history: a `glasstorch.train.History`, a dict of lists ({"train_loss": [...], "val_loss": [...]}),
            or a list of per-epoch dicts.
        metrics: names to plot besides the loss (default: every `train_*` / `val_*` column).
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator
    cols = _history_columns(history)
    names = ["loss"] + [m for m in (metrics or _metric_names(cols)) if m != "loss"]
    n_epochs = max(len(v) for v in cols.values()) if cols else 0
    epochs = cols.get("epoch") or list(range(1, n_epochs + 1))
    fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for split, style in (("train", "o-"), ("val", "s--")):
            values = cols.get(f"{split}_{name}")
            if values is not None and any(v is not None for v in values):
                y = np.array([np.nan if v is None else v for v in values], dtype=float)
                ax.plot(epochs[:len(y)], y, style, label=f"{'validation' if split == 'val' else 'train'} {name}")
        ax.set_title(name.replace("_", " ").capitalize())
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best")
    fig.suptitle(title)
    return _finish(fig, save_path)


def _metric_names(cols):
    names = []
    for key in cols:
        for split in ("train_", "val_"):
            if key.startswith(split) and key[len(split):] not in names:
                names.append(key[len(split):])
    return names


# ----------------------------------------------------------------------------- 2-D classifiers
def plot_decision_boundary(model, X, y, resolution=200, threshold=None, padding=0.5, title="Truth vs Prediction",
                           save_path=None):
    """The regions a 2-D classifier assigns to each class, with the data on top.

    For two classes (outputs of shape (N,) or (N, 1): probabilities or logits) the points are marked as in
    the course notes: true positives 'o', true negatives 'x', false positives and false negatives large and
    yellow. For C > 2 classes (outputs (N, C)) each class has its colour and misclassified points are circled.

    Args:
        model: a glasstorch module or any callable from an (N, 2) float32 tensor to outputs.
        X: (N, 2) points; y: (N,) true classes.
        threshold: decision threshold of binary outputs (default: 0.5 for probabilities in [0, 1], else 0).
    """
    plt = _pyplot()
    X, y = as_numpy(X).astype(np.float32), as_numpy(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points of shape (N, 2), got {X.shape}")
    (x0, x1), (y0, y1) = [(X[:, i].min() - padding, X[:, i].max() + padding) for i in (0, 1)]
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid_out = _predict(model, np.column_stack([gx.ravel(), gy.ravel()]))
    data_out = _predict(model, X)
    binary = grid_out.ndim == 1 or grid_out.shape[1] == 1
    fig, ax = plt.subplots(figsize=(7, 6))
    if binary:
        if threshold is None:
            threshold = 0.5 if grid_out.min() >= 0 and grid_out.max() <= 1 else 0.0
        region = (grid_out.reshape(gx.shape) >= threshold).astype(int)
        pred = data_out.reshape(-1) >= threshold
        truth = y.astype(bool)
        ax.contourf(gx, gy, region, levels=[-0.5, 0.5, 1.5], colors=["#cfe0f7", "#f7d4cf"], alpha=0.7)
        ax.contour(gx, gy, region, levels=[0.5], colors="k", linewidths=1)
        groups = [(pred & truth, "ro", "true positives", {}), (~pred & ~truth, "bx", "true negatives", {}),
                  (pred & ~truth, "yx", "false positives", {"markersize": 15, "markeredgewidth": 2}),
                  (~pred & truth, "yo", "false negatives", {"markersize": 15, "alpha": 0.6})]
        for mask, style, label, extra in groups:
            ax.plot(X[mask, 0], X[mask, 1], style, label=f"{label} ({int(mask.sum())})", **extra)
    else:
        classes = grid_out.shape[1]
        region = grid_out.argmax(axis=1).reshape(gx.shape)
        pred = data_out.argmax(axis=1)
        cmap = plt.get_cmap("tab10" if classes <= 10 else "tab20")
        ax.contourf(gx, gy, region, levels=np.arange(classes + 1) - 0.5, cmap=cmap, vmin=-0.5,
                    vmax=cmap.N - 0.5, alpha=0.3)
        for c in range(classes):
            mask = y == c
            ax.scatter(X[mask, 0], X[mask, 1], color=cmap(c), edgecolors="k", linewidths=0.5, s=25,
                       label=f"class {c}")
        wrong = pred != y
        ax.scatter(X[wrong, 0], X[wrong, 1], facecolors="none", edgecolors="red", s=120, linewidths=1.5,
                   label=f"misclassified ({int(wrong.sum())})")
    ax.set(title=title, xlabel="$x_0$", ylabel="$x_1$", xlim=(x0, x1), ylim=(y0, y1))
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", fancybox=True, shadow=True)
    return _finish(fig, save_path)


# ----------------------------------------------------------------------------- loss landscapes
def _evaluate_on_grid(f, gx, gy):
    """f(x0, x1) with two array arguments, or f(x) with x = stack([x0, x1]) as in the notes' function_2."""
    try:
        n_params = len(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        n_params = 1
    z = f(gx, gy) if n_params >= 2 else f(np.stack([gx, gy]))
    return as_numpy(z).astype(float).reshape(gx.shape)


def optimizer_path(f, init, make_optimizer, steps=100):
    """The points a glasstorch optimizer visits while minimising f from `init` (for `plot_function_contour`).

    Args:
        f: a function of a 2-element tensor x written with glasstorch ops, e.g. `lambda x: x[0]**2 + x[1]**2`.
        init: the starting point (x0, x1).
        make_optimizer: builds the optimizer from a parameter list, e.g.
            `lambda params: glasstorch.optim.SGD(params, lr=0.1, momentum=0.9)`.
    Returns:
        (steps + 1, 2) ndarray of the points, the start first.
    """
    x = from_numpy(np.array(init, dtype=np.float32))
    x.requires_grad_(True)
    optimizer = make_optimizer([x])
    path = [x.detach().numpy().copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(x).backward()
        optimizer.step()
        path.append(x.detach().numpy().copy())
    return np.array(path)


def plot_function_contour(f, trajectories=None, xlim=(-5, 5), ylim=(-5, 5), levels=30, minimum=None,
                          resolution=200, title="Gradient descent on $f(x_0, x_1) = x_0^2 + x_1^2$", save_path=None):
    """Contour lines of a function of two variables, with optimizers' paths drawn over them.

    Args:
        f: f(x0, x1) on arrays, or f(x) on x = np.stack([x0, x1]) (the notes' `function_2`).
        trajectories: one (T, 2) path, or {label: path} to compare optimizers (see `optimizer_path`).
        minimum: (x0, x1) of the minimum, marked with a star.
    """
    plt = _pyplot()
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    z = _evaluate_on_grid(f, gx, gy)
    fig, ax = plt.subplots(figsize=(9, 6))
    contour = ax.contour(gx, gy, z, levels=levels, cmap="viridis")
    ax.clabel(contour, fontsize=7)
    if trajectories is not None:
        if not isinstance(trajectories, dict):
            trajectories = {"Gradient Descent Path": trajectories}
        colors = ["red", "darkorange", "purple", "black", "teal"]
        for i, (label, path) in enumerate(trajectories.items()):
            path = np.array([as_numpy(p) for p in path], dtype=float).reshape(-1, 2)
            ax.plot(path[:, 0], path[:, 1], "o-", color=colors[i % len(colors)], markersize=3, linewidth=1,
                    label=f"{label} ({len(path) - 1} steps)")
            ax.scatter(*path[0], color=colors[i % len(colors)], marker="s", s=50, zorder=5)
    if minimum is not None:
        ax.scatter(*minimum, color="blue", marker="*", s=150, zorder=6, label="Minimum")
    ax.set(title=title, xlabel="$x_0$", ylabel="$x_1$")
    ax.grid(True, alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="best")
    else:
        fig.colorbar(contour, ax=ax, label="f")
    return _finish(fig, save_path)


def plot_surface(f=None, xlim=(-2, 2), ylim=(-2, 2), resolution=60, points=None, elev=30, azim=-60,
                 title="Saddle Point Visualization: $z = x^2 - y^2$", save_path=None):
    """A 3-D surface z = f(x, y) (default: the saddle x^2 - y^2), with marked points.

    Args:
        f: f(x, y) on arrays, or f(p) on p = np.stack([x, y]). Default: the saddle x^2 - y^2.
        points: {label: (x, y)} to mark on the surface; default for the saddle: its saddle point (0, 0).
    """
    plt = _pyplot()
    if f is None:
        f = lambda x, y: x ** 2 - y ** 2  # noqa: E731
        points = {"saddle point (0, 0)": (0.0, 0.0)} if points is None else points
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    z = _evaluate_on_grid(f, gx, gy)
    fig = plt.figure(figsize=(9, 7))
    ax = fig.add_subplot(projection="3d")
    surface = ax.plot_surface(gx, gy, z, cmap="viridis", alpha=0.8, linewidth=0, label="z = f(x, y)")
    for label, (px, py) in (points or {}).items():
        pz = _evaluate_on_grid(f, np.array([[px]], dtype=float), np.array([[py]], dtype=float))[0, 0]
        ax.scatter([px], [py], [pz], color="red", s=60, depthshade=False, label=label)
    fig.colorbar(surface, ax=ax, shrink=0.6, pad=0.1, label="z")
    ax.view_init(elev=elev, azim=azim)
    ax.set(title=title, xlabel="x", ylabel="y", zlabel="z")
    ax.legend(loc="upper left")
    return _finish(fig, save_path)


# ----------------------------------------------------------------------------- classification results
def plot_confusion_matrix(y_true=None, y_pred=None, cm=None, class_names=None, normalize=None,
                          title="Confusion matrix", cmap="Blues", save_path=None):
    """The confusion matrix as a heat map with the count (or fraction) in each cell.

    Args:
        y_true, y_pred: labels (y_pred may be (N, C) scores); or give `cm` directly.
        normalize: None, 'true' (rows sum to 1: per-class recall on the diagonal), 'pred' or 'all'.
    """
    plt = _pyplot()
    if cm is None:
        cm = confusion_matrix(y_true, y_pred, normalize=normalize)
    cm = as_numpy(cm)
    k = cm.shape[0]
    class_names = [str(c) for c in (class_names if class_names is not None else range(k))]
    fig, ax = plt.subplots(figsize=(1.2 + 0.6 * k, 1 + 0.55 * k) if k > 6 else (6, 5))
    image = ax.imshow(cm, cmap=cmap)
    fig.colorbar(image, ax=ax, label="fraction" if normalize else "samples")
    fmt = ".2f" if cm.dtype.kind == "f" else "d"
    threshold = cm.max() / 2 if cm.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, format(cm[i, j], fmt), ha="center", va="center", fontsize=8 if k > 10 else 10,
                    color="white" if cm[i, j] > threshold else "black")
    ax.set(xticks=range(k), yticks=range(k), xticklabels=class_names, yticklabels=class_names,
           title=title, xlabel="predicted label", ylabel="true label")
    ax.tick_params(axis="x", rotation=45 if max(map(len, class_names)) > 3 else 0)
    return _finish(fig, save_path)


def show_images(images, labels=None, predictions=None, class_names=None, ncols=8, scale=1.5,
                title="Images", save_path=None):
    """A grid of images titled with their labels; with predictions, mistakes are framed and titled in red.

    Args:
        images: (N, C, H, W), (N, H, W) or (N, H, W, C) array or tensor.
        labels: (N,) true classes; predictions: (N,) classes or (N, C) scores.
        class_names: names for the class indices (e.g. Fashion-MNIST's 'T-shirt', 'Trouser', ...).
    """
    plt = _pyplot()
    from matplotlib.patches import Patch
    imgs = _as_images(images)
    n = len(imgs)
    labels = None if labels is None else as_numpy(labels).reshape(-1)
    if predictions is not None:
        predictions = as_numpy(predictions)
        predictions = predictions.argmax(axis=1) if predictions.ndim == 2 else predictions.reshape(-1)

    def name(c):
        return str(class_names[int(c)]) if class_names is not None else str(c)

    rows, cols = _image_grid(n, ncols)
    fig, axes = plt.subplots(rows, cols, figsize=(scale * cols, scale * rows + 0.8), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(imgs[i], cmap="gray" if imgs[i].ndim == 2 else None)
        wrong = predictions is not None and labels is not None and predictions[i] != labels[i]
        if predictions is not None and labels is not None:
            text = f"{name(labels[i])}\n→ {name(predictions[i])}" if wrong else name(labels[i])
        elif labels is not None:
            text = name(labels[i])
        else:
            text = "" if predictions is None else f"pred {name(predictions[i])}"
        ax.set_title(text, fontsize=8, color="red" if wrong else "black")
        for spine in ax.spines.values():
            spine.set_edgecolor("red" if wrong else "0.7")
            spine.set_linewidth(2.5 if wrong else 0.5)
    if predictions is not None and labels is not None:
        n_wrong = int((predictions[:n] != labels[:n]).sum())
        fig.legend(handles=[Patch(facecolor="white", edgecolor="0.7", label=f"correct ({n - n_wrong})"),
                            Patch(facecolor="white", edgecolor="red", linewidth=2,
                                  label=f"misclassified ({n_wrong}): true → predicted")],
                   loc="upper right", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(title, x=0.02, ha="left")
    fig.supxlabel("width (pixels)", fontsize=8)
    fig.supylabel("height (pixels)", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _finish(fig, save_path, layout=False)


# ----------------------------------------------------------------------------- inside conv layers
def _weight_of(layer_or_weight):
    weight = getattr(layer_or_weight, "weight", layer_or_weight)
    return as_numpy(weight).astype(np.float32)


def _channel_grid(maps, ncols, title, xlabel, ylabel, cmap, save_path, panel_title, colorbar_label):
    """One panel per 2-D map, sharing one colour scale (so panels compare), with a colorbar."""
    plt = _pyplot()
    n = len(maps)
    rows, cols = _image_grid(n, ncols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols + 1, 1.5 * rows + 0.8), squeeze=False)
    limit = float(np.abs(maps).max()) or 1.0
    vmin, vmax = (-limit, limit) if maps.min() < 0 else (0, limit)
    image = None
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        image = ax.imshow(maps[i], cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(panel_title(i), fontsize=8)
    fig.suptitle(title)
    fig.supxlabel(xlabel, fontsize=9)
    fig.supylabel(ylabel, fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label=colorbar_label)
    return _finish(fig, save_path, layout=False)  # laid out above, leaving room for the colorbar


def plot_filters(layer_or_weight, in_channel=None, max_filters=64, ncols=8, title=None, save_path=None):
    """The kernels of a conv layer, one panel per output channel.

    Args:
        layer_or_weight: a Conv2d (its `.weight`) or a weight of shape (out, in, kh, kw).
        in_channel: which input channel to show; default: the mean over input channels.
    """
    w = _weight_of(layer_or_weight)
    if w.ndim != 4:
        raise ValueError(f"conv filters have shape (out, in, kh, kw), got {w.shape}")
    w = w[:max_filters]
    maps = w.mean(axis=1) if in_channel is None else w[:, in_channel]
    which = "mean over input channels" if in_channel is None else f"input channel {in_channel}"
    return _channel_grid(maps, ncols, title or f"Conv filters ({w.shape[0]} of {w.shape[2]}x{w.shape[3]}, {which})",
                         "kernel column", "kernel row", "bwr", save_path, lambda i: f"filter {i}", "weight")


def plot_feature_maps(feature_maps, max_maps=32, ncols=8, title="Feature maps", save_path=None):
    """The channels of one sample's activations after a conv layer (capture them with
    `glasstorch.viz.capture_outputs` or a forward hook).

    Args:
        feature_maps: (C, H, W), or (N, C, H, W) of which the first sample is shown.
    """
    maps = as_numpy(feature_maps).astype(np.float32)
    if maps.ndim == 4:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"feature maps have shape (C, H, W) or (N, C, H, W), got {maps.shape}")
    maps = maps[:max_maps]
    cmap = "viridis" if maps.min() >= 0 else "bwr"
    return _channel_grid(maps, ncols, f"{title} ({len(maps)} channels, {maps.shape[1]}x{maps.shape[2]})",
                         "width", "height", cmap, save_path, lambda i: f"channel {i}", "activation")


# ----------------------------------------------------------------------------- activations and gradients
def _default_activations():
    from ..ops import relu, sigmoid, tanh
    return {"sigmoid": sigmoid, "tanh": tanh, "ReLU": relu}


def plot_activations(functions=None, x_range=(-5, 5), points=401, title="Activation functions and their derivatives",
                     save_path=None):
    """Activation functions (left) and their derivatives (right), the derivatives computed by autograd.

    The right panel shows why sigmoid and tanh make gradients vanish (their slope is at most 0.25 and 1
    and nearly 0 away from the origin) and ReLU does not (slope 1 for every positive input).

    Args:
        functions: {name: f} with f mapping a glasstorch tensor to a tensor (default sigmoid, tanh, ReLU).
    """
    plt = _pyplot()
    functions = functions or _default_activations()
    xs = np.linspace(*x_range, points).astype(np.float32)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
    for name, f in functions.items():
        x = from_numpy(xs.copy())
        x.requires_grad_(True)
        y = f(x)
        y.sum().backward()  # d(sum y)/dx_i = f'(x_i): every y_i depends on x_i only
        ax_f.plot(xs, y.detach().numpy(), label=name)
        ax_d.plot(xs, x.grad.numpy(), label=f"{name}'")
    ax_f.set(title="f(x)", xlabel="x", ylabel="f(x)")
    ax_d.set(title="f'(x) (by autograd)", xlabel="x", ylabel="f'(x)")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best")
    fig.suptitle(title)
    return _finish(fig, save_path)


def gradient_norms(named_parameters):
    """[(name, L2 norm of grad, max |grad|)] for each parameter (None, None when it has no .grad)."""
    if hasattr(named_parameters, "named_parameters"):
        named_parameters = named_parameters.named_parameters()
    out = []
    for name, p in named_parameters:
        if getattr(p, "grad", None) is None:
            out.append((name, None, None))
        else:
            g = as_numpy(p.grad).astype(np.float64)
            out.append((name, float(np.sqrt((g * g).sum())), float(np.abs(g).max()) if g.size else 0.0))
    return out


def plot_gradient_flow(model_or_named_parameters, log_scale=True, title="Gradient flow", save_path=None):
    """Per-layer gradient norms after `loss.backward()`: shrinking bars toward the input are vanishing
    gradients, huge ones exploding gradients, missing ones parameters that got no gradient.

    Args:
        model_or_named_parameters: a module, or (name, parameter) pairs (`model.named_parameters()`).
    """
    plt = _pyplot()
    norms = gradient_norms(model_or_named_parameters)
    if not norms:
        raise ValueError("no parameters given")
    names = [n for n, _, _ in norms]
    l2 = np.array([np.nan if v is None else v for _, v, _ in norms])
    peak = np.array([np.nan if v is None else v for _, _, v in norms])
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(names) + 2), 4.5))
    ax.bar(x - 0.2, np.nan_to_num(l2), width=0.4, color="tab:blue", label="L2 norm of grad")
    ax.bar(x + 0.2, np.nan_to_num(peak), width=0.4, color="tab:orange", label="max |grad|")
    missing = np.isnan(l2)
    if missing.any():
        ax.scatter(x[missing], np.full(missing.sum(), np.nanmin(np.r_[l2[~missing], 1.0]) if (~missing).any() else 1),
                   marker="x", color="red", s=60, zorder=5, label="no gradient (.grad is None)")
    if log_scale and np.nanmax(np.r_[l2, peak, 0]) > 0:
        ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    ax.set(title=title, xlabel="parameter (input side → output side)", ylabel="gradient magnitude")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="best")
    return _finish(fig, save_path)


__all__ = ["plot_history", "plot_decision_boundary", "plot_function_contour", "optimizer_path", "plot_surface",
           "plot_confusion_matrix", "show_images", "plot_filters", "plot_feature_maps", "plot_activations",
           "plot_gradient_flow", "gradient_norms"]
