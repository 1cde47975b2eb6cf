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

CFG = SimpleNamespace(nz=4, hidden=8, ngf=4, ndf=4, arch="dcgan")
SIDES = [12, 8]  # 12: the DCGAN (from 3x3 maps up to 12x12); 8: the quick size's MLPs


def _pair(fw, side, G_state=None, D_state=None):
    fw.manual_seed(0)
    G, D = gan_mnist.build(fw, CFG, side)
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


def test_dcgan_upsamples_7_14_28_and_starts_from_the_tutorials_init():
    """At full size G's maps grow 7 -> 14 -> 28 (each ConvTranspose2d doubles them) and D's shrink 28 -> 14 -> 7;
    conv weights start from N(0, 0.02) and BatchNorm scales from N(1, 0.02)."""
    cfg = gan_mnist.Config(arch="dcgan")
    glasstorch.manual_seed(0)
    G, D = gan_mnist.build(glasstorch, cfg, 28)
    sizes = []
    for layer in list(G.main) + list(D.main):
        if isinstance(layer, (glasstorch.nn.ConvTranspose2d, glasstorch.nn.Conv2d)):
            layer.register_forward_hook(lambda m, inputs, out: sizes.append(tuple(out.shape[1:])))
    images = G(glasstorch.randn(5, cfg.nz))
    assert images.shape == (5, 1, 28, 28) and images.abs().max().item() <= 1
    p_real = D(images)
    assert p_real.shape == (5, 1) and 0 < p_real.min().item() <= p_real.max().item() < 1
    assert sizes == [(cfg.ngf, 14, 14), (1, 28, 28), (cfg.ndf, 14, 14), (2 * cfg.ndf, 7, 7)]
    conv = G.main[4].weight.detach().numpy()
    scale = G.main[2].weight.detach().numpy()
    assert abs(conv.std() - 0.02) < 0.002 and abs(conv.mean()) < 0.002
    assert abs(scale.mean() - 1) < 0.01 and 0.01 < scale.std() < 0.03


def test_lr_decay_holds_then_falls_linearly_over_the_last_epochs():
    cfg = gan_mnist.Config(epochs=10, decay_epochs=4)
    assert [gan_mnist.lr_factor(cfg, done) for done in range(10)] == [1, 1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25]
    assert gan_mnist.lr_factor(gan_mnist.Config(epochs=10, decay_epochs=0), 9) == 1.0  # no decay
    adam = glasstorch.optim.Adam([glasstorch.zeros(1, requires_grad=True)], lr=2e-4)
    scheduler = glasstorch.optim.lr_scheduler.LambdaLR(adam, lambda done: gan_mnist.lr_factor(cfg, done))
    rates = []
    for _ in range(10):
        rates.append(adam.param_groups[0]["lr"])
        scheduler.step()
    np.testing.assert_allclose(rates, [2e-4] * 7 + [1.5e-4, 1e-4, 5e-5])


def test_arch_mlp_builds_the_mlp_pair_at_full_size():
    cfg = gan_mnist.Config(arch="mlp", hidden=16)
    G, D = gan_mnist.build(glasstorch, cfg, 28)
    layers = list(G.main) + list(D.main)
    assert not any(isinstance(m, (glasstorch.nn.Conv2d, glasstorch.nn.ConvTranspose2d)) for m in layers)
    assert [m.out_features for m in G.main if isinstance(m, glasstorch.nn.Linear)] == [16, 32, 28 * 28]
    images = G(glasstorch.randn(3, cfg.nz))
    assert images.shape == (3, 1, 28, 28) and D(images).shape == (3, 1)


@pytest.mark.parametrize("side", SIDES)
def test_gan_steps_match_torch(side):
    """Same weights, real batches and noise: three G/D iterations give torch's losses, D outputs and weights."""
    G, D, criterion, optD, optG = _pair(glasstorch, side)
    tG, tD, tcriterion, toptD, toptG = _pair(torch, side, _state(G), _state(D))
    rng = np.random.default_rng(0)
    for _ in range(3):
        real = rng.uniform(-1, 1, (6, 1, side, side)).astype(np.float32)
        noise = rng.standard_normal((6, CFG.nz)).astype(np.float32)
        ours = gan_mnist.gan_step(glasstorch, G, D, criterion, optD, optG, glasstorch.from_numpy(real),
                                  glasstorch.from_numpy(noise))
        theirs = gan_mnist.gan_step(torch, tG, tD, tcriterion, toptD, toptG, torch.from_numpy(real),
                                    torch.from_numpy(noise))
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    # the MLP G's Linear biases just before a BatchNorm1d are left out, and with them the running means they shift:
    # BN subtracts the batch mean, so their gradient is zero up to rounding, and Adam's step (m / sqrt(v)) turns each
    # framework's own rounding noise into a move (the DCGAN has no such biases)
    before_bn = {"main.0.bias", "main.3.bias", "main.1.running_mean", "main.4.running_mean"} if side == 8 else set()
    for module, tmodule in ((G, tG), (D, tD)):
        theirs = _state(tmodule)
        for name, value in _state(module).items():
            if not (module is G and name in before_bn):
                np.testing.assert_allclose(value, theirs[name], rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("side", SIDES)
def test_each_half_of_the_step_moves_only_its_own_network(side):
    """D's half (on fake.detach()) leaves G's weights alone and G's half leaves D's: with the other optimizer
    replaced by a no-op, only the stepped network changes."""
    no_step = SimpleNamespace(step=lambda: None)
    for stepped in ("D", "G"):
        G, D, criterion, optD, optG = _pair(glasstorch, side)
        before = {"G": _weights(G), "D": _weights(D)}
        gan_mnist.gan_step(glasstorch, G, D, criterion, optD if stepped == "D" else no_step,
                           optG if stepped == "G" else no_step, glasstorch.randn(5, 1, side, side),
                           glasstorch.randn(5, CFG.nz))
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
    assert {"samples_per_epoch.png", "losses.png", "class_histogram.png", "samples.png", "judged_per_epoch.png"} <= figures


def test_verdict_counts_confident_samples_and_class_shares():
    probs = np.full((4, 10), 0.01)
    probs[[0, 1, 2, 3], [3, 3, 7, 0]] = [0.91, 0.5, 0.9, 0.2]  # the row sums do not matter to the verdict
    confident, shares = gan_mnist.verdict(probs, 0.9)
    assert confident.tolist() == [True, False, True, False]
    assert shares.shape == (10,) and shares[3] == 0.5 and shares[7] == 0.25 and shares[0] == 0.25 and shares.sum() == 1
