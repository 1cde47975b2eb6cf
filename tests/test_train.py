"""fit / evaluate: learning, history schema, early stopping, bit-identical resume, NaN stop, atomic checkpoints."""
import csv
import math
import json
import os

import numpy as np
import pytest

import glasstorch
from glasstorch import nn, optim, train
from glasstorch.nn import functional as F
from glasstorch.serialization import load
from glasstorch.utils.data import DataLoader, TensorDataset


def blobs(n=96, seed=0):
    """Three Gaussian blobs in 2-D: an easy 3-class task."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    x = (centers[y] + rng.standard_normal((n, 2)) * 0.6).astype(np.float32)
    return glasstorch.from_numpy(x), glasstorch.from_numpy(y.astype(np.int64))


def setup(seed=0, dropout=True, lr=0.05, batch_size=16, loader_generator=False):
    """A fresh model, optimizer, scheduler and loaders (model weights depend on `seed` only)."""
    glasstorch.manual_seed(seed)
    layers = [nn.Linear(2, 16), nn.ReLU()] + ([nn.Dropout(0.2)] if dropout else []) + [nn.Linear(16, 3)]
    model = nn.Sequential(*layers)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    x, y = blobs()
    generator = glasstorch.Generator().manual_seed(123) if loader_generator else None
    train_loader = DataLoader(TensorDataset(x[:64], y[:64]), batch_size=batch_size, shuffle=True, generator=generator)
    val_loader = DataLoader(TensorDataset(x[64:], y[64:]), batch_size=batch_size)
    return model, optimizer, scheduler, train_loader, val_loader


def run(tmp_dir=None, epochs=4, resume=False, **kw):
    model, optimizer, scheduler, train_loader, val_loader = setup(**kw)
    history = train.fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader, epochs=epochs,
                        scheduler=scheduler, checkpoint_dir=tmp_dir, resume=resume, seed=7, progress=False)
    return model, optimizer, history


def test_fit_learns_and_history_schema(tmp_path):
    model, _, history = run(tmp_path, epochs=5)
    cols = history.columns()
    assert list(cols) == ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "time",
                          "samples_per_s"]
    assert history["epoch"] == [1, 2, 3, 4, 5]
    assert history["val_loss"][-1] < history["val_loss"][0] * 0.6
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_accuracy"][-1] > 0.85
    assert history["lr"] == [0.05, 0.05, 0.025, 0.025, 0.0125]  # StepLR(step_size=2, gamma=0.5), per epoch
    # evaluate = the loss and accuracy of the whole validation set at once
    x, y = blobs()
    model.eval()
    with glasstorch.no_grad():
        out = model(x[64:])
        expected_loss = F.cross_entropy(out, y[64:]).item()
    result = train.evaluate(model, DataLoader(TensorDataset(x[64:], y[64:]), batch_size=10), nn.CrossEntropyLoss(),
                            metrics=("accuracy", "f1"))
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert result["accuracy"] == pytest.approx(float((out.argmax(1) == y[64:]).float().mean().item()))
    assert result["accuracy"] == history["val_accuracy"][-1]
    assert set(result) == {"loss", "accuracy", "f1"}
    # the run directory: checkpoint, history as JSON and CSV
    saved = json.loads((tmp_path / "history.json").read_text())
    assert saved["records"] == history.records
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history["val_loss"])
    assert load(tmp_path / "checkpoint.pt")["epoch"] == 5
    fresh = setup(seed=3)[0]
    checkpoint = train.load_checkpoint(tmp_path, model=fresh)
    assert checkpoint["epoch"] == 5 and checkpoint["history"]["records"] == history.records
    for va, vb in zip(model.state_dict().values(), fresh.state_dict().values()):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())


def test_deterministic_under_seed():
    a, _, ha = run()
    b, _, hb = run()
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=k)
    assert ha["train_loss"] == hb["train_loss"]


@pytest.mark.parametrize("loader_generator", [False, True])
def test_resume_is_bit_identical(tmp_path, loader_generator):
    full, full_opt, full_history = run(tmp_path / "full", epochs=4, loader_generator=loader_generator)
    run(tmp_path / "split", epochs=2, loader_generator=loader_generator)  # "stopped after epoch 2"
    resumed, resumed_opt, resumed_history = run(tmp_path / "split", epochs=4, resume=True,
                                                seed=99, loader_generator=loader_generator)  # other init: overwritten
    for (k, va), vb in zip(full.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=k)
    for sa, sb in zip(full_opt.state_dict()["state"].values(), resumed_opt.state_dict()["state"].values()):
        np.testing.assert_array_equal(sa["exp_avg_sq"].numpy(), sb["exp_avg_sq"].numpy())

    def strip(h):
        return [{k: v for k, v in r.items() if k not in ("time", "samples_per_s")} for r in h.records]
    assert strip(resumed_history) == strip(full_history)


def test_killed_checkpoint_write_keeps_previous_and_resume_recovers(tmp_path, monkeypatch):
    real_savez = np.savez
    calls = {"n": 0}

    def dies_on_third_checkpoint(f, **arrays):
        calls["n"] += 1
        if calls["n"] == 3:
            f.write(b"PK\x03\x04 a torn write")
            raise KeyboardInterrupt("killed while writing the epoch-3 checkpoint")
        return real_savez(f, **arrays)

    monkeypatch.setattr(np, "savez", dies_on_third_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "run", epochs=4)
    monkeypatch.setattr(np, "savez", real_savez)
    assert sorted(os.listdir(tmp_path / "run")) == ["checkpoint.pt", "history.csv", "history.json"]
    assert load(tmp_path / "run" / "checkpoint.pt")["epoch"] == 2  # the previous one, intact
    resumed, _, _ = run(tmp_path / "run", epochs=4, resume=True)
    full, _, _ = run(tmp_path / "full", epochs=4)
    for va, vb in zip(full.state_dict().values(), resumed.state_dict().values()):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())


def test_early_stopping_stops_at_the_right_epoch(tmp_path):
    scripted = iter([1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.6])  # best at epoch 2; patience 2 -> stop after epoch 4
    current = {"epoch_value": None}

    def loss_fn(output, target):
        loss = F.cross_entropy(output, target)
        return loss if output.requires_grad else loss * 0 + current["epoch_value"]  # scripted validation loss

    class ScriptedLoader(DataLoader):
        def __iter__(self):
            current["epoch_value"] = next(scripted)
            return super().__iter__()

    model, optimizer, _, train_loader, _ = setup(dropout=False)
    x, y = blobs()
    val_loader = ScriptedLoader(TensorDataset(x[64:], y[64:]), batch_size=32)
    history = train.fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=7,
                        early_stopping=train.EarlyStopping(patience=2), checkpoint_dir=tmp_path, progress=False)
    assert history["epoch"] == [1, 2, 3, 4]
    assert history["val_loss"] == pytest.approx([1.0, 0.8, 0.9, 0.85])
    assert history.stopped_epoch == 4
    best = load(tmp_path / "best_model.pt")  # the weights after epoch 2 ... saved when it improved
    assert set(best) == set(model.state_dict())
    # mode 'max' on accuracy, given as a dict
    stopper = train._early_stopping({"patience": 1, "monitor": "val_accuracy"})
    assert stopper.mode == "max"
    assert [stopper.update({"epoch": e, "val_accuracy": a})[1] for e, a in enumerate([0.5, 0.6, 0.6], 1)] == \
        [False, False, True]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_nan_loss_stops_with_epoch_step_and_causes(tmp_path):
    calls = {"n": 0}

    def loss_fn(output, target):
        calls["n"] += 1
        loss = F.cross_entropy(output, target)
        if calls["n"] == 4 + 3 + 1:  # 4 train batches + 1 validation batch per epoch: epoch 2, step 3
            return (output.sum() * 0).log() * loss  # log of zero -> -inf; * loss -> still not finite
        return loss

    model, optimizer, _, train_loader, val_loader = setup(dropout=False)
    val_loader = DataLoader(val_loader.dataset, batch_size=32)
    with pytest.raises(train.TrainingDivergedError) as info:
        train.fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=3, checkpoint_dir=tmp_path,
                  progress=False, on_nonfinite="raise")
    message = str(info.value)
    assert "epoch 2, step 3/4" in message
    assert "learning rate" in message and "log of zero" in message
    assert "last good checkpoint (epoch 1)" in message
    assert load(tmp_path / "checkpoint.pt")["epoch"] == 1


def poisoned_loss(bad_calls):
    """cross-entropy that is -inf on the given calls (counting train and validation batches)."""
    calls = {"n": 0}

    def loss_fn(output, target):
        calls["n"] += 1
        loss = F.cross_entropy(output, target)
        return (output.sum() * 0).log() * loss if calls["n"] in bad_calls else loss
    return loss_fn


def test_a_nonfinite_loss_stops_by_default_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    model, optimizer, _, train_loader, val_loader = setup(dropout=False)
    val_loader = DataLoader(val_loader.dataset, batch_size=32)
    history = train.fit(model, poisoned_loss({4 + 1 + 3}), optimizer, train_loader, val_loader, epochs=3,
                        checkpoint_dir=tmp_path, progress=False)
    assert len(history) == 1 and history.stopped_epoch == 2
    assert "epoch 2, step 3/4" in history.diverged and "last good checkpoint (epoch 1)" in history.diverged
    assert "epoch 2, step 3/4" in capsys.readouterr().err
    checkpoint = load(tmp_path / "checkpoint.pt")
    assert checkpoint["epoch"] == 1
    for name, value in model.state_dict().items():  # the stop happened before any step on the bad batch
        assert value.shape == checkpoint["model"][name].shape


def test_skip_steps_over_nonfinite_batches(tmp_path):
    model, optimizer, _, train_loader, val_loader = setup(dropout=False)
    val_loader = DataLoader(val_loader.dataset, batch_size=32)
    history = train.fit(model, poisoned_loss({2, 5 + 3}), optimizer, train_loader, val_loader, epochs=3,
                        progress=False, on_nonfinite="skip")
    assert len(history) == 3 and history.skipped_batches == 2 and history.diverged is None
    assert all(math.isfinite(v) for v in history["train_loss"])
    with pytest.raises(ValueError, match="on_nonfinite"):
        train.fit(model, F.cross_entropy, optimizer, train_loader, epochs=1, progress=False, on_nonfinite="ignore")


def test_progress_output_and_grad_clip(capsys):
    model, optimizer, _, train_loader, val_loader = setup(dropout=False)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0)
    history = train.fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader, epochs=2,
                        scheduler=scheduler, grad_clip=0.5, progress=True, metrics=("accuracy", "precision"))
    out = capsys.readouterr().out
    lines = [l for l in out.splitlines() if l.startswith("Epoch 2/2 |")]
    assert lines and "train loss" in lines[0] and "val loss" in lines[0] and "samples/s" in lines[0]
    assert "precision" in lines[0]
    assert len(history) == 2


def test_regression_with_no_metrics_and_clear_error_with_accuracy():
    glasstorch.manual_seed(0)
    x = glasstorch.randn(32, 3)
    y = x @ glasstorch.tensor([[1.0], [-2.0], [0.5]])
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = train.fit(model, nn.MSELoss(), opt, loader, epochs=5, metrics=(), progress=False)
    assert history["train_loss"][-1] < history["train_loss"][0] * 0.1
    assert list(history.columns()) == ["epoch", "train_loss", "lr", "time", "samples_per_s"]
    with pytest.raises(ValueError, match="metrics=()"):
        train.fit(model, nn.MSELoss(), opt, loader, epochs=1, progress=False)


@pytest.mark.parametrize("loss_fn, head", [(nn.BCEWithLogitsLoss(), []), (nn.BCELoss(), [nn.Sigmoid()]),
                                           (F.binary_cross_entropy, [nn.Sigmoid()])])
def test_binary_accuracy_thresholds_logits_or_probabilities(loss_fn, head):
    x, y = blobs()
    target = (y == 0).float().reshape(-1, 1)
    glasstorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 1), *head)
    loader = DataLoader(TensorDataset(x, target), batch_size=32)
    history = train.fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.5), loader, loader, epochs=3,
                        progress=False)
    with glasstorch.no_grad():
        out = model(x)
    predicted = (out > (0.5 if head else 0.0)).float()
    assert history["val_accuracy"][-1] == pytest.approx(float((predicted == target).float().mean().item()))
    assert history["val_accuracy"][-1] > 0.9
