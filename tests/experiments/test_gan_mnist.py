"""gan-mnist: the GAN step gives torch's numbers, D's step leaves G alone (detach), and the quick size meets its
targets on torch too (the glasstorch quick run is in test_experiments.py, with every lesson)."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

import glasstorch
from glasstorch.experiments import gan_mnist
from glasstorch.lab.runner import run_experiment

torch = pytest.importorskip("torch")

CFG = SimpleNamespace(nz=4, hidden=8)
PIXELS = 16


def _pair(fw, G_state=None, D_state=None):
    fw.manual_seed(0)
    G, D = gan_mnist.build(fw, CFG, PIXELS)
    if G_state is not None:
        G.load_state_dict({k: fw.from_numpy(v.copy()) for k, v in G_state.items()})
        D.load_state_dict({k: fw.from_numpy(v.copy()) for k, v in D_state.items()})
    adam = dict(lr=1e-2, betas=(0.5, 0.999))
    return G, D, fw.nn.BCELoss(), fw.optim.Adam(D.parameters(), **adam), fw.optim.Adam(G.parameters(), **adam)


def _state(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def _weights(module):
    """The parameters only (G's BatchNorm running statistics change in every training-mode forward pass)."""
    return {k: v.detach().numpy().copy() for k, v in module.named_parameters()}


def test_gan_steps_match_torch():
    """Same weights, real batches and noise: three G/D iterations give torch's losses, D outputs and weights."""
    G, D, criterion, optD, optG = _pair(glasstorch)
    tG, tD, tcriterion, toptD, toptG = _pair(torch, _state(G), _state(D))
    rng = np.random.default_rng(0)
    for _ in range(3):
        real = rng.uniform(-1, 1, (6, 1, 4, 4)).astype(np.float32)
        noise = rng.standard_normal((6, CFG.nz)).astype(np.float32)
        ours = gan_mnist.gan_step(glasstorch, G, D, criterion, optD, optG, glasstorch.from_numpy(real),
                                  glasstorch.from_numpy(noise))
        theirs = gan_mnist.gan_step(torch, tG, tD, tcriterion, toptD, toptG, torch.from_numpy(real),
                                    torch.from_numpy(noise))
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    # G's Linear biases just before a BatchNorm1d are left out, and with them the running means they shift: BN
    # subtracts the batch mean, so their gradient is zero up to rounding, and Adam's step (m / sqrt(v)) turns each
    # framework's own rounding noise into a move
    before_bn = {"main.0.bias", "main.3.bias", "main.1.running_mean", "main.4.running_mean"}
    for module, tmodule in ((G, tG), (D, tD)):
        theirs = _state(tmodule)
        for name, value in _state(module).items():
            if not (module is G and name in before_bn):
                np.testing.assert_allclose(value, theirs[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_each_half_of_the_step_moves_only_its_own_network():
    """D's half (on fake.detach()) leaves G's weights alone and G's half leaves D's: with the other optimizer
    replaced by a no-op, only the stepped network changes."""
    no_step = SimpleNamespace(step=lambda: None)
    for stepped in ("D", "G"):
        G, D, criterion, optD, optG = _pair(glasstorch)
        before = {"G": _weights(G), "D": _weights(D)}
        gan_mnist.gan_step(glasstorch, G, D, criterion, optD if stepped == "D" else no_step,
                           optG if stepped == "G" else no_step, glasstorch.randn(5, 1, 4, 4), glasstorch.randn(5, CFG.nz))
        after = {"G": _weights(G), "D": _weights(D)}
        for net in ("G", "D"):
            same = all(np.array_equal(v, before[net][k]) for k, v in after[net].items())
            assert same == (net != stepped), f"stepping {stepped} {'left' if same else 'changed'} {net}"


def test_quick_size_meets_its_targets_on_torch(tmp_path):
    record = run_experiment("gan-mnist", ("torch",), quick=True, folder=tmp_path / "gan", verbose=False)
    run = record.runs[0]
    assert not run.error, run.error
    assert record.passed, run.checks
    metrics = json.loads((tmp_path / "gan" / "metrics.json").read_text())
    results = metrics["engines"]["torch"]["results"]
    assert 0 <= results["min_class_share"] <= 0.1 <= results["judge_acc"] <= 1
    figures = {p.name for p in (tmp_path / "gan").glob("*.png")}
    assert {"samples_per_epoch.png", "losses.png", "class_histogram.png", "samples.png"} <= figures
