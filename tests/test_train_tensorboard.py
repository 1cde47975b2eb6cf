"""fit(..., writer=) and `glasstorch run NAME --tensorboard DIR`, read back with TensorBoard's own reader."""
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

import glasstorch
from glasstorch import nn, optim
from glasstorch.cli import main
from glasstorch.lab.runner import run_experiment
from glasstorch.train import fit
from glasstorch.utils.data import DataLoader, TensorDataset
from glasstorch.utils.tensorboard import SummaryWriter


def read(log_dir):
    acc = event_accumulator.EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [e.step for e in acc.Scalars(tag)], [e.value for e in acc.Scalars(tag)]


def _problem(seed=0, n=48):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    glasstorch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2))
    data = TensorDataset(glasstorch.from_numpy(X), glasstorch.from_numpy(y))
    return model, DataLoader(data, batch_size=16), DataLoader(data, batch_size=24)


def test_fit_logs_losses_metrics_lr_and_histograms_per_epoch(tmp_path):
    model, train, val = _problem()
    optimizer = optim.SGD(model.parameters(), lr=0.3)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)  # a different lr every epoch
    with SummaryWriter(tmp_path) as writer:
        history = fit(model, nn.CrossEntropyLoss(), optimizer, train, val, epochs=3, scheduler=scheduler,
                      progress=False, writer=writer)
    acc = read(tmp_path)
    names = [name for name, _ in model.named_parameters()]
    assert set(acc.Tags()["scalars"]) == {"loss/train", "loss/val", "accuracy/train", "accuracy/val", "lr"}
    assert set(acc.Tags()["histograms"]) == {f"{kind}/{n}" for kind in ("weights", "grads") for n in names}
    for tag, column in [("loss/train", "train_loss"), ("loss/val", "val_loss"), ("accuracy/train", "train_accuracy"),
                        ("accuracy/val", "val_accuracy"), ("lr", "lr")]:
        steps, values = scalars(acc, tag)
        assert steps == [1, 2, 3]
        np.testing.assert_allclose(values, history[column], rtol=1e-6)
    np.testing.assert_allclose(scalars(acc, "lr")[1], [0.3, 0.15, 0.075], rtol=1e-6)
    # the last histogram of each weight is the trained weight: its count, min, max and sum
    for name, param in model.named_parameters():
        last = acc.Histograms(f"weights/{name}")[-1]
        w = param.detach().numpy().astype(np.float64)
        assert last.step == 3 and [h.step for h in acc.Histograms(f"grads/{name}")] == [1, 2, 3]
        h = last.histogram_value
        assert h.num == w.size
        np.testing.assert_allclose([h.min, h.max, h.sum], [w.min(), w.max(), w.sum()], rtol=1e-5, atol=1e-6)
        g = acc.Histograms(f"grads/{name}")[-1].histogram_value
        grad = param.grad.numpy().astype(np.float64)
        np.testing.assert_allclose([g.min, g.max], [grad.min(), grad.max()], rtol=1e-5, atol=1e-7)


def test_fit_without_val_loader_logs_only_train(tmp_path):
    model, train, _ = _problem(1)
    with SummaryWriter(tmp_path) as writer:
        history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2), train, epochs=2,
                      metrics=(), progress=False, writer=writer)
    acc = read(tmp_path)
    assert set(acc.Tags()["scalars"]) == {"loss/train", "lr"}
    steps, values = scalars(acc, "loss/train")
    assert steps == [1, 2]
    np.testing.assert_allclose(values, history["train_loss"], rtol=1e-6)


def test_train_does_not_import_tensorboardx():
    code = "import sys, glasstorch.train; print('tensorboardX' in sys.modules, 'tensorboard' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.split() == ["False", "False"]


def test_run_xor_mlp_tensorboard_writes_the_lessons_metrics(tmp_path, capsys):
    logdir = tmp_path / "tb"
    status = main(["run", "xor-mlp", "--quick", "-q", "--out", str(tmp_path / "out"), "--tensorboard", str(logdir)])
    assert status == 0
    run_dir = logdir / "xor-mlp" / "glass"
    assert run_dir.is_dir()
    acc = read(run_dir)
    assert set(acc.Tags()["scalars"]) == {"loss", "accuracy"}
    # the lesson logs epoch 1 and every 10th epoch of its 300 quick epochs
    history = np.genfromtxt(next((tmp_path / "out").glob("xor-mlp-*")) / "history.csv", delimiter=",", names=True)
    steps, losses = scalars(acc, "loss")
    assert steps == [1] + list(range(10, 301, 10)) == [int(e) for e in history["epoch"]]
    np.testing.assert_allclose(losses, history["loss"], rtol=1e-5)
    assert scalars(acc, "accuracy")[1][-1] == 1.0


def test_lesson_that_trains_with_fit_gets_lr_and_histograms_too(tmp_path):
    record = run_experiment("digits-cnn", quick=True, verbose=False, write=False, tensorboard=tmp_path)
    assert record.passed
    acc = read(tmp_path / "digits-cnn" / "glass")
    tags = acc.Tags()
    lab_rows = record.runs[0].lab.history
    epochs = [r["epoch"] for r in lab_rows]
    for name in ("train_loss", "train_acc", "test_loss", "test_acc"):   # the lab's own names
        steps, values = scalars(acc, name)
        assert steps == epochs
        np.testing.assert_allclose(values, [r[name] for r in lab_rows], rtol=1e-6)
    assert scalars(acc, "lr")[0] == epochs and "loss/train" in tags["scalars"]
    assert any(t.startswith("weights/") for t in tags["histograms"])
    assert any(t.startswith("grads/") for t in tags["histograms"])


def test_run_tensorboard_into_a_file_is_a_usage_error_before_training(tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    status = main(["run", "xor-mlp", "--quick", "-q", "--out", str(tmp_path / "out"), "--tensorboard",
                   str(blocker / "tb")])
    assert status == 2
    assert "--tensorboard" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("xor-mlp-*"))  # nothing ran
