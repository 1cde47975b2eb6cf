"""seq2seq-attention: the data, the model's pieces against torch on the same weights, and the quick size on torch
(test_experiments.py runs the quick size on glasstorch, as for every lesson)."""
import numpy as np
import pytest

import glasstorch
from glasstorch.experiments import seq2seq_attention as lesson
from glasstorch.lab.runner import run_experiment

torch = pytest.importorskip("torch")


def test_targets_are_the_reversed_digits_then_eos():
    source, target = lesson.reversal_batch(np.random.default_rng(0), 4, 7)
    assert source.shape == (4, 7) and target.shape == (4, 8) and source.dtype == np.int64
    assert (target[:, :-1] == source[:, ::-1]).all() and (target[:, -1] == lesson.EOS).all()
    assert source.min() >= 0 and source.max() <= 9
    inputs = lesson.decoder_inputs(target)
    assert (inputs[:, 0] == lesson.SOS).all() and (inputs[:, 1:] == target[:, :-1]).all()


def _pair(attention):
    cfg = lesson.Config(embed=6, hidden=5)
    torch.manual_seed(0)
    reference = lesson.build(torch, cfg, attention).double()
    model = lesson.build(glasstorch, cfg, attention).double()
    model.load_state_dict({k: glasstorch.from_numpy(v.detach().numpy().copy())
                           for k, v in reference.state_dict().items()})
    return model, reference


@pytest.mark.parametrize("attention", [False, True])
def test_teacher_forcing_loss_and_gradients_match_torch(attention):
    model, reference = _pair(attention)
    source, target = lesson.reversal_batch(np.random.default_rng(1), 3, 4)
    losses = []
    for fw, m in ((glasstorch, model), (torch, reference)):
        logits = m(fw.from_numpy(source), fw.from_numpy(lesson.decoder_inputs(target)))
        assert tuple(logits.shape) == (3, 5, lesson.VOCAB)
        loss = fw.nn.functional.cross_entropy(logits.reshape(-1, lesson.VOCAB), fw.from_numpy(target.reshape(-1)))
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-12)
    grads = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_greedy_decoding_and_attention_weights_match_torch():
    model, reference = _pair(attention=True)
    source, _ = lesson.reversal_batch(np.random.default_rng(2), 3, 6)
    with glasstorch.no_grad():
        tokens, weights = model.greedy(glasstorch.from_numpy(source), 7)
    with torch.no_grad():
        ref_tokens, ref_weights = reference.greedy(torch.from_numpy(source), 7)
    assert tokens.dtype == glasstorch.int64 and tuple(weights.shape) == (3, 7, 6)
    np.testing.assert_array_equal(tokens.numpy(), ref_tokens.numpy())
    np.testing.assert_allclose(weights.numpy(), ref_weights.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-12)  # a distribution over the source
    assert model.greedy(glasstorch.from_numpy(source), 2)[1].shape == (3, 2, 6)


def test_without_attention_there_are_no_weights():
    model, _ = _pair(attention=False)
    tokens, weights = model.greedy(glasstorch.from_numpy(np.zeros((2, 3), dtype=np.int64)), 4)
    assert weights is None and tuple(tokens.shape) == (2, 4)


def test_quick_size_meets_its_targets_on_torch(tmp_path):
    record = run_experiment("seq2seq-attention", ("torch",), quick=True, folder=tmp_path / "run", verbose=False)
    run = record.runs[0]
    assert not run.error, run.error
    assert record.passed, [c for c in run.checks if not c[-1]]
    assert {"accuracy_by_length.png", "attention.png"} <= {p.name for p in (tmp_path / "run").iterdir()}
