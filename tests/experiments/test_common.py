"""The lesson helpers of experiments/common.py, on glasstorch and on torch."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

import glasstorch
from glasstorch.datasets.text import shakespeare_excerpt
from glasstorch.experiments import common


@pytest.mark.parametrize("engine", ["glasstorch", "torch"])
def test_scratch_sgd_is_d2l_update_and_takes_the_cosine_schedule(engine):
    fw = glasstorch if engine == "glasstorch" else pytest.importorskip("torch")
    w = fw.tensor([1.0, -2.0], requires_grad=True)
    optimizer = common.scratch_sgd(fw, [w], lr=0.1)
    scheduler = fw.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
    lrs = []
    for epoch in range(1, 5):
        optimizer.zero_grad()
        before = w.detach().numpy().copy()
        (w * w).sum().backward()  # grad = 2w
        optimizer.step()
        np.testing.assert_allclose(w.detach().numpy(), before - optimizer.param_groups[0]["lr"] * 2 * before,
                                   rtol=1e-6)
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    # what the lessons' schedule was: lr_t = lr_0 (1 + cos(pi t / T)) / 2 after epoch t
    np.testing.assert_allclose(lrs, [0.1 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(1, 5)], atol=1e-12)


def test_each_epoch_builds_a_fresh_loader_per_pass():
    made = []

    def make(epoch):
        made.append(epoch)
        return [(epoch, epoch)]

    batches = common.EachEpoch(make, batches=1)
    assert len(batches) == 1 and made == []  # nothing drawn before the first epoch
    iter(batches)  # an iterator made but never advanced (tqdm.auto does this) draws nothing
    assert [list(batches), list(batches)] == [[(1, 1)], [(2, 2)]] and made == [1, 2]


def test_fit_and_log_keeps_the_lessons_history_columns(tmp_path):
    from glasstorch.lab.context import Lab
    lab = Lab(glasstorch, "glass", tmp_path, verbose=False)
    X, y = common.image_arrays("digits", train=True, limit=200)
    loader = common.make_loader(glasstorch, X, y, 50, shuffle=True)
    glasstorch.manual_seed(0)
    model = glasstorch.nn.Sequential(glasstorch.nn.Flatten(), glasstorch.nn.Linear(64, 10))
    history = common.fit_and_log(model, glasstorch.nn.CrossEntropyLoss(),
                                 glasstorch.optim.SGD(model.parameters(), lr=0.5), loader, loader, 3, lab)
    assert [r["epoch"] for r in lab.history] == [1, 2, 3] and len(history) == 3
    assert set(lab.history[0]) == {"epoch", "train_loss", "train_acc", "test_loss", "test_acc"}
    assert lab.history[-1]["test_acc"] == common.accuracy(model, loader) > 0.5
    assert "epoch  3:" in lab.printed.getvalue()


def test_shakespeare_corpus_reads_the_excerpt_or_data_dir_and_names_a_missing_one(tmp_path):
    excerpt = SimpleNamespace(excerpt=True, val_fraction=0.25)
    corpus = common.shakespeare_corpus("lesson", excerpt, SimpleNamespace(data_dir=None))
    assert corpus.decode(np.concatenate([corpus.train, corpus.val])) == shakespeare_excerpt()
    assert len(corpus.val) == round(0.25 * len(shakespeare_excerpt()))
    whole = SimpleNamespace(excerpt=False, val_fraction=0.5)
    with pytest.raises(FileNotFoundError, match="lesson needs --data-dir"):
        common.shakespeare_corpus("lesson", whole, SimpleNamespace(data_dir=None))
    (tmp_path / "tinyshakespeare").mkdir()
    (tmp_path / "tinyshakespeare" / "input.txt").write_text("abcdabcd")
    corpus = common.shakespeare_corpus("lesson", whole, SimpleNamespace(data_dir=str(tmp_path)))
    assert corpus.decode(corpus.train) == "abcd" and corpus.decode(corpus.val) == "abcd"
