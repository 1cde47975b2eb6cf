"""SummaryWriter's files read back with TensorBoard's own reader (EventAccumulator): tags, steps, values."""
import os

import numpy as np
import pytest

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

import glasstorch
from glasstorch import nn
from glasstorch.utils.tensorboard import SummaryWriter


def read(log_dir):
    acc = event_accumulator.EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0,
                                                                          "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_scalars_come_back_with_their_steps_and_values(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(7).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        for step, v in enumerate(values):
            w.add_scalar("loss/train", glasstorch.tensor(v), step * 10)  # a 0-dim tensor, as torch takes
        w.add_scalar("lr", 0.125, 3)
    acc = read(tmp_path)
    assert set(acc.Tags()["scalars"]) == {"loss/train", "lr"}
    events = acc.Scalars("loss/train")
    assert [e.step for e in events] == [10 * i for i in range(7)]
    np.testing.assert_allclose([e.value for e in events], values, rtol=1e-6)
    assert acc.Scalars("lr")[0].value == 0.125 and acc.Scalars("lr")[0].step == 3


def test_add_scalars_writes_one_sub_run_per_curve(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("acc", {"train": 0.5 + step, "test": glasstorch.tensor(0.25 * step)}, step)
    runs = sorted(d for d in os.listdir(tmp_path) if os.path.isdir(tmp_path / d))
    assert runs == ["acc_test", "acc_train"]
    assert [e.value for e in read(tmp_path / "acc_test").Scalars("acc")] == [0.0, 0.25, 0.5]
    assert [e.value for e in read(tmp_path / "acc_train").Scalars("acc")] == [0.5, 1.5, 2.5]


def test_histograms_count_every_value(tmp_path):
    weights = glasstorch.randn(1000)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("fc.weight", weights, 5)
    (event,) = read(tmp_path).Histograms("fc.weight")
    h = event.histogram_value
    assert event.step == 5 and h.num == 1000
    assert h.min == pytest.approx(float(weights.min())) and h.max == pytest.approx(float(weights.max()))
    assert h.sum == pytest.approx(float(weights.sum()), rel=1e-4, abs=1e-3)


def test_images_keep_their_size(tmp_path):
    img = glasstorch.rand(3, 8, 6)
    with SummaryWriter(tmp_path) as w:
        w.add_image("sample", img, 0)
        w.add_images("batch", glasstorch.rand(4, 1, 5, 5), 1)
    acc = read(tmp_path)
    (event,) = acc.Images("sample")
    assert (event.height, event.width) == (8, 6)
    (grid,) = acc.Images("batch")
    assert grid.step == 1 and grid.height >= 5 and grid.width >= 5


def test_text_figure_hparams_and_graph(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    fig = plt.figure()
    plt.plot([0, 1], [1, 0])
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "hello **world**", 2)
        w.add_figure("curve", fig, 0)
        w.add_graph(model, glasstorch.randn(5, 4))
        w.add_hparams({"lr": 0.1, "optimizer": "sgd"}, {"hparam/accuracy": 0.9}, run_name="trial")
    acc = read(tmp_path)
    assert acc.Tensors("notes/text_summary")[0].step == 2  # torch names text tags <tag>/text_summary too
    assert "hello **world**" in acc.Tensors("notes/text_summary")[0].tensor_proto.string_val[0].decode()
    assert acc.Images("curve")[0].width > 0
    graph = acc.Graph()
    names = {n.name for n in graph.node}
    assert {"0/weight", "0/bias", "2/weight", "2/bias", "output"} <= names
    ops = {n.op for n in graph.node}
    assert any("Relu" in op or "ReLU" in op for op in ops), ops
    trial = read(tmp_path / "trial")
    assert trial.Scalars("hparam/accuracy")[0].value == pytest.approx(0.9)


def test_default_log_dir_is_torchs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    w.close()
    (run,) = os.listdir(tmp_path / "runs")
    assert run.endswith("_lr0.1") and w.get_logdir() == os.path.join("runs", run)
