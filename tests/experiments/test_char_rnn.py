"""char-rnn's account of exploding gradients: backpropagation through time multiplies the gradient by one Jacobian
diag(1 - h^2) W_hh per step, so with W_hh = rho * (orthogonal) in tanh's linear range it scales by exactly rho^T
(vanishing below 1, exploding above), on glasstorch as on torch; the lesson reads rho off W_hh; the quick size,
explosion demo included, meets its targets on torch too."""
import numpy as np
import pytest

import glasstorch
from glasstorch.experiments import char_rnn as lesson
from glasstorch.lab.runner import run_experiment

torch = pytest.importorskip("torch")
H, T = 8, 30


def _orthogonal(seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((H, H)))
    return q


def _gradient_through_time(fw, rho):
    """|d(u . h_T) / d h_0| for a tanh nn.RNN with W_hh = rho Q, no input and no bias, from a tiny h_0 (tanh(x) = x
    there, so each step back multiplies the gradient by W_hh^T exactly)."""
    rnn = fw.nn.RNN(1, H).double()
    with fw.no_grad():
        for name, p in rnn.named_parameters():
            p.zero_()
        rnn.weight_hh_l0.copy_(fw.from_numpy(rho * _orthogonal(0)))
    h0 = fw.from_numpy(1e-9 * np.random.default_rng(1).standard_normal((1, 1, H))).requires_grad_()
    u = fw.from_numpy(np.random.default_rng(2).standard_normal(H))
    output, _ = rnn(fw.zeros(T, 1, 1, dtype=fw.float64), h0)
    (output[-1, 0] * u).sum().backward()
    return float(np.linalg.norm(h0.grad.numpy())) / float(np.linalg.norm(u.numpy()))


@pytest.mark.parametrize("rho", [0.9, 1.0, 1.1])
def test_backpropagation_through_time_scales_the_gradient_by_rho_to_the_t(rho):
    ours, theirs = _gradient_through_time(glasstorch, rho), _gradient_through_time(torch, rho)
    assert ours == pytest.approx(rho ** T, rel=1e-6)  # 0.9^30 = 0.04 (vanishing), 1.1^30 = 17.4 (exploding)
    assert ours == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize("fw", [glasstorch, torch], ids=["glasstorch", "torch"])
def test_spectral_radius_is_the_largest_eigenvalue_modulus_of_w_hh(fw):
    model = lesson.build(fw, lesson.Config(embed=4, hidden=H), 10, "rnn")
    with fw.no_grad():
        model.rnn.weight_hh_l0.copy_(fw.from_numpy((1.5 * _orthogonal(3)).astype(np.float32)))
    assert lesson.spectral_radius(model) == pytest.approx(1.5, rel=1e-5)


def test_quick_size_meets_targets_on_torch(tmp_path):
    record = run_experiment("char-rnn", ("torch",), quick=True, folder=tmp_path / "char-rnn", verbose=False)
    failed = [(m, a) for run in record.runs for m, _op, _t, a, ok in run.checks if not ok]
    assert record.passed, (failed, [run.error for run in record.runs])
    assert {"loss_curves.png", "grad_norms.png"} <= {p.name for p in (tmp_path / "char-rnn").iterdir()}
