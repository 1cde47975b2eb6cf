"""Every plot runs headless, is titled and labelled, and writes a non-empty image."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import glasstorch  # noqa: E402
from glasstorch import nn, optim  # noqa: E402
from glasstorch.viz import plots  # noqa: E402

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def check(fig, path):
    assert isinstance(fig, matplotlib.figure.Figure)
    assert path.exists() and path.stat().st_size > 1000
    texts = [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title() for ax in fig.axes]
    assert any(texts), "figure has no title"
    labelled = [ax for ax in fig.axes if ax.get_xlabel() or ax.get_ylabel()]
    assert labelled or fig.supxlabel, "figure has no axis labels"
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + fig.legends
    colorbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert legends or colorbars, "figure has neither legend nor colorbar"


def history_records(n=6):
    return [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.1 / e, "train_accuracy": 1 - 0.5 / e,
             "val_accuracy": 1 - 0.6 / e, "lr": 0.1, "time": 0.5} for e in range(1, n + 1)]


@pytest.mark.parametrize("form", ["records", "columns", "History"])
def test_plot_history(tmp_path, form):
    from glasstorch.train import History
    records = history_records()
    history = {"records": records, "columns": {k: [r[k] for r in records] for k in records[0]},
               "History": History(records)}[form]
    fig = plots.plot_history(history, save_path=tmp_path / "h.png")
    check(fig, tmp_path / "h.png")
    assert [ax.get_title() for ax in fig.axes] == ["Loss", "Accuracy"]
    assert len(fig.axes[0].get_lines()) == 2  # train and validation


def test_plot_decision_boundary_binary_marks_tp_fp_tn_fn(tmp_path):
    X = RNG.uniform(-1, 1, (200, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = lambda x: glasstorch.sigmoid(4 * (x[:, 0] + 0.8 * x[:, 1] - 0.1))  # noqa: E731  slightly wrong
    fig = plots.plot_decision_boundary(model, X, y, save_path=tmp_path / "b.png")
    check(fig, tmp_path / "b.png")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert [l.split(" (")[0] for l in labels] == ["true positives", "true negatives", "false positives",
                                                 "false negatives"]
    pred = (X[:, 0] + 0.8 * X[:, 1] - 0.1) >= 0
    assert labels[2] == f"false positives ({int((pred & (y == 0)).sum())})"


def test_plot_decision_boundary_multiclass_module(tmp_path):
    glasstorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    model.train()
    X = RNG.standard_normal((90, 2))
    y = RNG.integers(0, 3, 90)
    fig = plots.plot_decision_boundary(model, glasstorch.tensor(X), glasstorch.tensor(y), resolution=50,
                                       save_path=tmp_path / "m.svg")
    check(fig, tmp_path / "m.svg")
    assert model.training  # mode restored


def test_contour_with_optimizer_paths(tmp_path):
    f = lambda x: x[0] ** 2 + x[1] ** 2  # noqa: E731  the notes' function_2, on tensors and arrays alike
    path = plots.optimizer_path(f, (-3.0, 4.0), lambda p: optim.SGD(p, lr=0.1), steps=20)
    assert path.shape == (21, 2)
    np.testing.assert_allclose(path[1], [-3.0 * 0.8, 4.0 * 0.8], rtol=1e-6)  # x <- x - 0.1 * 2x
    fig = plots.plot_function_contour(f, {"SGD": path, "Adam": plots.optimizer_path(
        f, (-3.0, 4.0), lambda p: optim.Adam(p, lr=0.5), steps=20)}, minimum=(0, 0), resolution=60,
        save_path=tmp_path / "c.png")
    check(fig, tmp_path / "c.png")
    fig = plots.plot_function_contour(lambda a, b: a ** 2 - b, resolution=40, save_path=tmp_path / "c2.png")
    check(fig, tmp_path / "c2.png")


def test_surface_saddle(tmp_path):
    fig = plots.plot_surface(save_path=tmp_path / "s.png")
    check(fig, tmp_path / "s.png")
    assert "saddle" in fig.axes[0].get_legend().get_texts()[-1].get_text()


def test_confusion_matrix(tmp_path):
    y_true = RNG.integers(0, 4, 60)
    y_pred = np.where(RNG.random(60) < 0.7, y_true, RNG.integers(0, 4, 60))
    fig = plots.plot_confusion_matrix(y_true, y_pred, class_names=["a", "b", "c", "d"], normalize="true",
                                      save_path=tmp_path / "cm.png")
    check(fig, tmp_path / "cm.png")
    cells = [t.get_text() for t in fig.axes[0].texts]
    assert len(cells) == 16 and cells[0] == format(np.mean(y_pred[y_true == 0] == 0), ".2f")


def test_show_images_highlights_mistakes(tmp_path):
    images = glasstorch.rand(10, 1, 8, 8)
    labels = np.arange(10) % 3
    predictions = labels.copy()
    predictions[[2, 5]] = 0
    fig = plots.show_images(images, labels, predictions, class_names=["cat", "dog", "bird"], ncols=5,
                            save_path=tmp_path / "i.png")
    check(fig, tmp_path / "i.png")
    red = [ax for ax in fig.axes if ax.title.get_color() == "red"]
    assert len(red) == 2 and red[0].get_title() == "bird\n→ cat"
    fig = plots.show_images(RNG.random((3, 8, 8, 3)), save_path=tmp_path / "rgb.png")  # channels-last RGB
    assert (tmp_path / "rgb.png").stat().st_size > 1000


def test_filters_and_feature_maps(tmp_path):
    conv = nn.Conv2d(3, 6, 3)
    fig = plots.plot_filters(conv, save_path=tmp_path / "f.png")
    check(fig, tmp_path / "f.png")
    fig = plots.plot_filters(conv.weight, in_channel=1, save_path=tmp_path / "f1.png")
    check(fig, tmp_path / "f1.png")
    fig = plots.plot_feature_maps(conv(glasstorch.randn(2, 3, 10, 10)), save_path=tmp_path / "fm.png")
    check(fig, tmp_path / "fm.png")
    with pytest.raises(ValueError, match="out, in, kh, kw"):
        plots.plot_filters(glasstorch.randn(3, 3))


def test_activations_derivatives_by_autograd(tmp_path):
    fig = plots.plot_activations(save_path=tmp_path / "a.png")
    check(fig, tmp_path / "a.png")
    d_ax = fig.axes[1]
    sig = next(line for line in d_ax.get_lines() if line.get_label() == "sigmoid'")
    xs, ds = sig.get_data()
    s = 1 / (1 + np.exp(-xs))
    np.testing.assert_allclose(ds, s * (1 - s), atol=1e-6)


def test_gradient_flow(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    model(glasstorch.randn(5, 4)).pow(2).sum().backward()
    model[2].bias.grad = None  # a parameter without gradient is marked
    norms = dict((n, g) for n, g, _ in plots.gradient_norms(model))
    assert norms["2.bias"] is None
    assert norms["0.weight"] == pytest.approx(float(np.linalg.norm(model[0].weight.grad.numpy())), rel=1e-6)
    fig = plots.plot_gradient_flow(model, save_path=tmp_path / "g.png")
    check(fig, tmp_path / "g.png")
    assert "no gradient" in fig.axes[0].get_legend().get_texts()[0].get_text()
