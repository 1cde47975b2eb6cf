"""Transformer layers and stacks against torch: torch's weights copied in with load_state_dict (dropout=0),
outputs, input and parameter gradients under a random upstream gradient, float32 and float64, both
batch_first settings, pre- and post-norm, relu/gelu/callable activations, masks of both kinds, the decoder
with memory; parameter names as torch's; a few SGD steps side by side."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import nn
from glasstorch.nn import functional as F

TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-9, atol=1e-10)}
E, H, FF = 8, 2, 16


def _np(t):
    return t.detach().numpy()


def _copy(t_module, g_module, dtype):
    assert list(g_module.state_dict()) == list(t_module.state_dict())
    g_module.load_state_dict({k: glasstorch.tensor(v.detach().numpy()) for k, v in t_module.state_dict().items()})
    if dtype == "float64":
        t_module.double()
        g_module.double()


def _randomise(t_module):
    """torch starts attention biases at 0 and LayerNorms at (1, 0): random values test that each is used."""
    with torch.no_grad():
        for p in t_module.parameters():
            if p.dim() == 1:
                p.normal_(0.0 if p.shape[0] > E else 1.0, 0.3)


def _compare(t_module, g_module, t_inputs, g_inputs, kwargs_t, kwargs_g, dtype, rng):
    t_out = t_module(*t_inputs, **kwargs_t)
    g_out = g_module(*g_inputs, **kwargs_g)
    assert tuple(g_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(_np(g_out), _np(t_out), **TOL[dtype], err_msg="output")
    u = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.tensor(u))
    g_out.backward(glasstorch.tensor(u))
    for i, (g, t) in enumerate(zip(g_inputs, t_inputs)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), **TOL[dtype], err_msg=f"input {i} gradient")
    t_params = dict(t_module.named_parameters())
    names = [n for n, _ in g_module.named_parameters()]
    assert names == list(t_params)
    for name, p in g_module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), **TOL[dtype], err_msg=f"d{name}")


def _seq(rng, n, length, batch_first, dtype, unbatched=False):
    shape = (length, E) if unbatched else ((n, length, E) if batch_first else (length, n, E))
    a = rng.standard_normal(shape).astype(dtype)
    return torch.tensor(a, requires_grad=True), glasstorch.tensor(a, requires_grad=True)


def _masks(kind, rng, n, length, dtype):
    """(torch kwargs, glasstorch kwargs) for an encoder layer's masks."""
    if kind == "none":
        return {}, {}
    if kind == "causal":
        t = dict(src_mask=torch.nn.Transformer.generate_square_subsequent_mask(length, dtype=getattr(torch, dtype)),
                 is_causal=True)
        g = dict(src_mask=nn.Transformer.generate_square_subsequent_mask(length, dtype=getattr(glasstorch, dtype)),
                 is_causal=True)
        return t, g
    if kind == "bool_mask":
        m = np.triu(np.ones((length, length), dtype=bool), 1)
        return dict(src_mask=torch.tensor(m)), dict(src_mask=glasstorch.tensor(m))
    if kind == "float_mask":
        m = rng.standard_normal((length, length)).astype(dtype)
        return dict(src_mask=torch.tensor(m)), dict(src_mask=glasstorch.tensor(m))
    if kind == "padding":
        m = rng.random((n, length)) > 0.6
        m[:, 0] = False
        return dict(src_key_padding_mask=torch.tensor(m)), dict(src_key_padding_mask=glasstorch.tensor(m))
    raise ValueError(kind)


ENCODER_CASES = [
    # (id, layer kwargs, mask kind, unbatched)
    ("post_norm", {}, "none", False),
    ("pre_norm", dict(norm_first=True), "none", False),
    ("batch_first", dict(batch_first=True), "causal", False),
    ("batch_first_pre_norm_padding", dict(batch_first=True, norm_first=True), "padding", False),
    ("gelu", dict(activation="gelu"), "bool_mask", False),
    ("gelu_function", dict(activation=F.gelu), "float_mask", False),
    ("callable_module", dict(activation="module"), "causal", False),
    ("no_bias", dict(bias=False), "padding", False),
    ("eps", dict(layer_norm_eps=1e-3), "causal", False),
    ("unbatched", {}, "bool_mask", True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ENCODER_CASES, ids=[c[0] for c in ENCODER_CASES])
def test_encoder_layer_matches_torch(case, dtype):
    _, kwargs, mask_kind, unbatched = case
    t_kwargs, g_kwargs = dict(kwargs), dict(kwargs)
    if kwargs.get("activation") == "module":
        t_kwargs["activation"], g_kwargs["activation"] = torch.nn.GELU(approximate="tanh"), nn.GELU(approximate="tanh")
    elif kwargs.get("activation") is F.gelu:
        t_kwargs["activation"] = torch.nn.functional.gelu
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, **t_kwargs)
    g_layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, **g_kwargs)
    _randomise(t_layer)
    _copy(t_layer, g_layer, dtype)
    rng = np.random.default_rng(1)
    t_x, g_x = _seq(rng, 3, 5, kwargs.get("batch_first", False), dtype, unbatched)
    mt, mg = _masks(mask_kind, rng, 3, 5, dtype)
    _compare(t_layer, g_layer, [t_x], [g_x], mt, mg, dtype, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_stack_with_norm_matches_torch(batch_first, dtype):
    torch.manual_seed(0)
    t_enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, H, FF, 0.0, batch_first=batch_first), 3,
                                        norm=torch.nn.LayerNorm(E), enable_nested_tensor=False)
    g_enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF, 0.0, batch_first=batch_first), 3,
                                  norm=nn.LayerNorm(E))
    _randomise(t_enc)
    _copy(t_enc, g_enc, dtype)
    assert "layers.2.self_attn.in_proj_weight" in g_enc.state_dict() and "layers.0.linear1.weight" in g_enc.state_dict()
    rng = np.random.default_rng(2)
    t_x, g_x = _seq(rng, 2, 6, batch_first, dtype)
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=getattr(torch, dtype))
    g_mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=getattr(glasstorch, dtype))
    pad = np.zeros((2, 6), dtype=bool)
    pad[1, 4:] = True
    _compare(t_enc, g_enc, [t_x], [g_x], dict(mask=t_mask, src_key_padding_mask=torch.tensor(pad)),
             dict(mask=g_mask, src_key_padding_mask=glasstorch.tensor(pad)), dtype, rng)


def test_encoder_layers_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(E, H, FF)
    enc = nn.TransformerEncoder(layer, 2)
    assert enc.layers[0] is not layer and enc.layers[0] is not enc.layers[1]
    with glasstorch.no_grad():
        enc.layers[0].linear1.weight.fill_(0.5)
    assert not np.allclose(enc.layers[1].linear1.weight.detach().numpy(), 0.5)
    np.testing.assert_array_equal(enc.layers[1].linear1.weight.detach().numpy(), layer.linear1.weight.detach().numpy())
    assert enc.enable_nested_tensor and not enc.use_nested_tensor


DECODER_CASES = [
    ("post_norm", {}, False),
    ("pre_norm", dict(norm_first=True), False),
    ("batch_first", dict(batch_first=True), False),
    ("batch_first_pre_norm_gelu", dict(batch_first=True, norm_first=True, activation="gelu"), False),
    ("unbatched", {}, True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", DECODER_CASES, ids=[c[0] for c in DECODER_CASES])
def test_decoder_layer_with_memory_matches_torch(case, dtype):
    _, kwargs, unbatched = case
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, **kwargs)
    g_layer = nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, **kwargs)
    _randomise(t_layer)
    _copy(t_layer, g_layer, dtype)
    rng = np.random.default_rng(3)
    bf = kwargs.get("batch_first", False)
    t_tgt, g_tgt = _seq(rng, 3, 4, bf, dtype, unbatched)
    t_mem, g_mem = _seq(rng, 3, 6, bf, dtype, unbatched)
    causal = np.triu(np.full((4, 4), -np.inf), 1).astype(dtype)
    memory_mask = rng.standard_normal((4, 6)).astype(dtype)
    mt = dict(tgt_mask=torch.tensor(causal), memory_mask=torch.tensor(memory_mask), tgt_is_causal=True)
    mg = dict(tgt_mask=glasstorch.tensor(causal), memory_mask=glasstorch.tensor(memory_mask), tgt_is_causal=True)
    if not unbatched:
        pad = rng.random((3, 6)) > 0.6
        pad[:, 0] = False
        tgt_pad = np.zeros((3, 4), dtype=bool)
        tgt_pad[0, 3] = True
        mt.update(memory_key_padding_mask=torch.tensor(pad), tgt_key_padding_mask=torch.tensor(tgt_pad))
        mg.update(memory_key_padding_mask=glasstorch.tensor(pad), tgt_key_padding_mask=glasstorch.tensor(tgt_pad))
    _compare(t_layer, g_layer, [t_tgt, t_mem], [g_tgt, g_mem], mt, mg, dtype, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_decoder_stack_matches_torch(dtype):
    torch.manual_seed(0)
    t_dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, H, FF, 0.0), 2, norm=torch.nn.LayerNorm(E))
    g_dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, FF, 0.0), 2, norm=nn.LayerNorm(E))
    _randomise(t_dec)
    _copy(t_dec, g_dec, dtype)
    rng = np.random.default_rng(4)
    t_tgt, g_tgt = _seq(rng, 2, 5, False, dtype)
    t_mem, g_mem = _seq(rng, 2, 3, False, dtype)
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=getattr(torch, dtype))
    g_mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=getattr(glasstorch, dtype))
    _compare(t_dec, g_dec, [t_tgt, t_mem], [g_tgt, g_mem], dict(tgt_mask=t_mask), dict(tgt_mask=g_mask), dtype, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [{}, dict(batch_first=True, norm_first=True, activation="gelu")],
                         ids=["default", "batch_first_pre_norm_gelu"])
def test_transformer_matches_torch(kwargs, dtype):
    torch.manual_seed(0)
    t_model = torch.nn.Transformer(E, H, 2, 2, FF, dropout=0.0, **kwargs)
    g_model = nn.Transformer(E, H, 2, 2, FF, dropout=0.0, **kwargs)
    _randomise(t_model)
    _copy(t_model, g_model, dtype)
    rng = np.random.default_rng(5)
    bf = kwargs.get("batch_first", False)
    t_src, g_src = _seq(rng, 2, 6, bf, dtype)
    t_tgt, g_tgt = _seq(rng, 2, 4, bf, dtype)
    pad = np.zeros((2, 6), dtype=bool)
    pad[0, 5] = True
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=getattr(torch, dtype))
    g_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=getattr(glasstorch, dtype))
    _compare(t_model, g_model, [t_src, t_tgt], [g_src, g_tgt],
             dict(tgt_mask=t_mask, src_key_padding_mask=torch.tensor(pad), memory_key_padding_mask=torch.tensor(pad)),
             dict(tgt_mask=g_mask, src_key_padding_mask=glasstorch.tensor(pad),
                  memory_key_padding_mask=glasstorch.tensor(pad)), dtype, rng)


def test_transformer_state_dict_round_trip_glasstorch_to_torch():
    glasstorch.manual_seed(0)
    g_model = nn.Transformer(E, H, 1, 1, FF, dropout=0.0)
    t_model = torch.nn.Transformer(E, H, 1, 1, FF, dropout=0.0)
    t_model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in g_model.state_dict().items()})
    back = nn.Transformer(E, H, 1, 1, FF, dropout=0.0)
    back.load_state_dict({k: glasstorch.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    src, tgt = np.random.default_rng(0).standard_normal((2, 5, 2, E)).astype(np.float32)
    t_out = t_model(torch.tensor(src), torch.tensor(tgt))
    for model in (g_model, back):
        np.testing.assert_allclose(_np(model(glasstorch.tensor(src), glasstorch.tensor(tgt))), _np(t_out),
                                   rtol=2e-4, atol=2e-5)


def test_transformer_initialisation_and_mask():
    glasstorch.manual_seed(0)
    model = nn.Transformer(16, 4, 1, 1, 32)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()  # xavier_uniform_ over (32, 16)
    assert np.abs(w).max() <= np.sqrt(6 / 48) and np.abs(w).max() > 0.9 * np.sqrt(6 / 48)
    for sz in (1, 4):
        np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(sz).numpy(),
                                      torch.nn.Transformer.generate_square_subsequent_mask(sz).numpy())
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=glasstorch.float64)
    assert mask.dtype == glasstorch.float64 and not np.isnan(mask.numpy()).any()


def test_transformer_errors_like_torch():
    model = nn.Transformer(E, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(glasstorch.randn(5, 2, E), glasstorch.randn(4, 3, E))
    with pytest.raises(RuntimeError, match="feature number"):
        model(glasstorch.randn(5, 2, E + 1), glasstorch.randn(4, 2, E + 1))
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(E, H, activation="tanh")


def test_causal_language_model_trains_like_torch_for_three_sgd_steps():
    """The benchmark's model in miniature: embedding, 2 encoder layers, causal mask, LM head, SGD side by side."""
    vocab, length, batch = 11, 7, 3

    def build(L):
        L.manual_seed(0)
        emb = L.nn.Embedding(vocab, E)
        enc = L.nn.TransformerEncoder(L.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=True), 2,
                                      **({"enable_nested_tensor": False} if L is torch else {}))
        head = L.nn.Linear(E, vocab)
        return L.nn.ModuleDict({"emb": emb, "enc": enc, "head": head})

    t_model, g_model = build(torch), build(glasstorch)
    g_model.load_state_dict({k: glasstorch.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    rng = np.random.default_rng(6)
    tokens = rng.integers(0, vocab, (batch, length + 1))
    losses = []
    for L, model in ((torch, t_model), (glasstorch, g_model)):
        opt = L.optim.SGD(model.parameters(), lr=0.5)
        x, y = L.tensor(tokens[:, :-1]), L.tensor(tokens[:, 1:])
        mask = L.nn.Transformer.generate_square_subsequent_mask(length)
        run = []
        for _ in range(3):
            opt.zero_grad()
            logits = model["head"](model["enc"](model["emb"](x), mask=mask, is_causal=True))
            loss = L.nn.functional.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    t_params = dict(t_model.named_parameters())
    for name, p in g_model.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), t_params[name].detach().numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)


def test_docstring_examples_run():
    import doctest

    from glasstorch.nn.modules import transformer as module
    result = doctest.testmod(module, extraglobs={"torch": glasstorch, "nn": nn})
    assert result.failed == 0 and result.attempted > 0
