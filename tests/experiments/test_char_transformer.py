"""The transformer lesson's pieces: the hand-written causal attention block equals nn.MultiheadAttention with the same
weights (values and gradients, on glasstorch and on torch), the model is causal and matches torch's with copied
weights, the positional encoding has the properties the lesson draws, and the quick size runs on torch too."""
import numpy as np
import pytest

import glasstorch
from glasstorch.autograd import gradcheck
from glasstorch.experiments import char_transformer as lesson
from glasstorch.lab.runner import run_experiment

torch = pytest.importorskip("torch")
E, H, T, N = 12, 3, 6, 2


def _causal_mha(fw, mha, x):
    mask = fw.nn.Transformer.generate_square_subsequent_mask(x.shape[0], dtype=x.dtype)
    return mha(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False)


def _stacked_grads(block):
    """The block's q/k/v gradients stacked in nn.MultiheadAttention's in_proj layout."""
    weight = np.concatenate([getattr(block, n).weight.grad.numpy() for n in ("query", "key", "value")])
    bias = np.concatenate([getattr(block, n).bias.grad.numpy() for n in ("query", "key", "value")])
    return weight, bias


@pytest.mark.parametrize("fw", [glasstorch, torch], ids=["glasstorch", "torch"])
def test_scratch_attention_equals_multihead_attention_values_and_gradients(fw):
    fw.manual_seed(0)
    mha = fw.nn.MultiheadAttention(E, H)
    with fw.no_grad():  # torch starts the biases at zero: give them values so that copying them is tested
        mha.in_proj_bias.copy_(fw.randn(3 * E))
        mha.out_proj.bias.copy_(fw.randn(E))
    block = lesson.copy_attention_weights(fw, lesson.build_attention(fw, E, H), mha)
    x_np = np.random.default_rng(1).standard_normal((T, N, E)).astype(np.float32)
    x1, x2 = fw.tensor(x_np, requires_grad=True), fw.tensor(x_np, requires_grad=True)
    expected, expected_weights = _causal_mha(fw, mha, x1)
    out, weights = block(x2)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights.detach().numpy(), expected_weights.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(np.triu(weights.detach().numpy(), k=1) == 0)  # nothing from the future
    upstream = fw.tensor(np.random.default_rng(2).standard_normal((T, N, E)).astype(np.float32))
    (expected * upstream).sum().backward()
    (out * upstream).sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), x1.grad.numpy(), rtol=1e-4, atol=1e-5)
    weight_grad, bias_grad = _stacked_grads(block)
    np.testing.assert_allclose(weight_grad, mha.in_proj_weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bias_grad, mha.in_proj_bias.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(block.out_proj.weight.grad.numpy(), mha.out_proj.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-5)


def test_glasstorch_scratch_attention_equals_torch_multihead_attention():
    """Across engines: the glasstorch block with the weights of torch's own nn.MultiheadAttention."""
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(E, H)
    with torch.no_grad():
        mha.in_proj_bias.normal_()
    glass_mha = glasstorch.nn.MultiheadAttention(E, H)
    glass_mha.load_state_dict({k: glasstorch.tensor(v.numpy()) for k, v in mha.state_dict().items()})
    block = lesson.copy_attention_weights(glasstorch, lesson.build_attention(glasstorch, E, H), glass_mha)
    x_np = np.random.default_rng(3).standard_normal((T, N, E)).astype(np.float32)
    x_torch = torch.tensor(x_np, requires_grad=True)
    x_glass = glasstorch.tensor(x_np, requires_grad=True)
    expected = _causal_mha(torch, mha, x_torch)[0]
    out = block(x_glass)[0]
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    expected.pow(2).sum().backward()
    out.pow(2).sum().backward()
    np.testing.assert_allclose(x_glass.grad.numpy(), x_torch.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_stacked_grads(block)[0], mha.in_proj_weight.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_scratch_attention_passes_gradcheck_in_float64():
    glasstorch.manual_seed(0)
    block = lesson.build_attention(glasstorch, 8, 2).double()
    x = glasstorch.randn(5, 2, 8, dtype=glasstorch.float64, requires_grad=True)
    assert gradcheck(lambda x: block(x)[0], (x,))


def test_scratch_attention_explains_a_bad_head_count():
    with pytest.raises(ValueError, match="divisible"):
        lesson.build_attention(glasstorch, 10, 3)


def test_model_is_causal_and_matches_torch_with_copied_weights():
    cfg = lesson.Config.quick()
    torch.manual_seed(0)
    reference = lesson.build(torch, cfg, 20).eval()
    model = lesson.build(glasstorch, cfg, 20).eval()
    model.load_state_dict({k: glasstorch.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    ids = np.random.default_rng(0).integers(0, 20, (cfg.context, 3))
    with torch.no_grad(), glasstorch.no_grad():
        expected = reference(torch.from_numpy(ids)).numpy()
        logits = model(glasstorch.from_numpy(ids)).numpy()
        changed = ids.copy()
        changed[10:] = (changed[10:] + 1) % 20  # a different future
        after = model(glasstorch.from_numpy(changed)).numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(after[:10], logits[:10], rtol=1e-6, atol=1e-6)  # positions < 10 never saw it
    assert not np.allclose(after[10:], logits[10:])


def test_positional_encoding_pairs_turn_on_the_unit_circle():
    pe = lesson.positional_encoding(50, 16)
    assert pe.shape == (50, 16) and pe.dtype == np.float32
    np.testing.assert_allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, 1.0, rtol=1e-5)
    np.testing.assert_allclose(pe[0, 0::2], 0.0, atol=1e-7)  # sin(0)
    # a shift by k positions is the same rotation whatever the start: PE[t + k] = R_k PE[t]
    k, t1, t2 = 3, 5, 30
    angle1 = np.arctan2(pe[t1 + k, 0::2], pe[t1 + k, 1::2]) - np.arctan2(pe[t1, 0::2], pe[t1, 1::2])
    angle2 = np.arctan2(pe[t2 + k, 0::2], pe[t2 + k, 1::2]) - np.arctan2(pe[t2, 0::2], pe[t2, 1::2])
    np.testing.assert_allclose(np.cos(angle1), np.cos(angle2), atol=1e-5)


def test_lr_factor_warms_up_then_decays_to_a_tenth():
    cfg = lesson.Config(steps=100, warmup=10)
    factors = [lesson.lr_factor(cfg, s) for s in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert lesson.lr_factor(cfg, 100) == pytest.approx(0.1)


def test_quick_size_meets_targets_on_torch(tmp_path):
    record = run_experiment("transformer", ("torch",), quick=True, folder=tmp_path / "transformer", verbose=False)
    failed = [(m, a) for run in record.runs for m, _op, _t, a, ok in run.checks if not ok]
    assert record.passed, (failed, [run.error for run in record.runs])
    assert {"attention_maps.png", "positional_encoding.png", "loss_curves.png"} <= {
        p.name for p in (tmp_path / "transformer").iterdir()}
