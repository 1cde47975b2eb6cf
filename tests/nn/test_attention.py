"""F.scaled_dot_product_attention and nn.MultiheadAttention against torch: the same inputs (and torch's
weights copied in with load_state_dict), outputs, attention weights, input and parameter gradients under a
random upstream gradient, in float32 and float64; masks of both kinds; float64 gradchecks; state_dicts
loading both ways; the from-scratch attention block equal to nn.MultiheadAttention with the same weights."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import nn
from glasstorch.autograd import gradcheck
from glasstorch.nn import functional as F
from glasstorch.nn.modules.transformer import MultiheadAttentionFromScratch

TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-11)}


def _np(t):
    return t.detach().numpy()


def _close(got, expected, dtype, what):
    np.testing.assert_allclose(_np(got), _np(expected), **TOL[dtype], err_msg=what)


def _backward_both(t_outs, g_outs, rng):
    """Backward of sum(out * u) with the same random u on both sides, for every differentiable output."""
    t_total, g_total = 0, 0
    for t, g in zip(t_outs, g_outs):
        if t is None:
            assert g is None
            continue
        u = rng.standard_normal(tuple(t.shape)).astype(_np(t).dtype)
        t_total = t_total + (t * torch.tensor(u)).sum()
        g_total = g_total + (g * glasstorch.tensor(u)).sum()
    t_total.backward()
    g_total.backward()


# ---------------------------------------------------------------------------------- scaled_dot_product_attention
def _bool_mask(rng, shape):
    mask = rng.random(shape) > 0.3
    mask[..., 0] = True  # every query keeps a key (a fully masked row is tested on its own)
    return mask


SDPA_CASES = [
    # (id, q shape, k shape, v shape, mask maker, kwargs)
    ("4d", (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7), None, {}),
    ("3d", (3, 5, 4), (3, 6, 4), (3, 6, 4), None, {}),
    ("unbatched", (5, 4), (6, 4), (6, 3), None, {}),
    ("scale", (2, 5, 4), (2, 6, 4), (2, 6, 4), None, dict(scale=0.3)),
    ("bool_mask", (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), lambda r: _bool_mask(r, (5, 6)), {}),
    ("bool_mask_broadcast", (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), lambda r: _bool_mask(r, (2, 1, 5, 6)), {}),
    ("float_mask", (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), lambda r: r.standard_normal((5, 6)), {}),
    ("causal", (2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4), None, dict(is_causal=True)),
    ("causal_rectangular", (2, 4, 4), (2, 6, 4), (2, 6, 4), None, dict(is_causal=True)),
    ("gqa", (2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 3), None, dict(enable_gqa=True)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa_matches_torch(case, dtype):
    _, qs, ks, vs, make_mask, kwargs = case
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (qs, ks, vs)]
    mask = None if make_mask is None else make_mask(rng)
    if mask is not None and mask.dtype != bool:
        mask = mask.astype(dtype)
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    g_in = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    t_out = torch.nn.functional.scaled_dot_product_attention(
        *t_in, attn_mask=None if mask is None else torch.tensor(mask), **kwargs)
    g_out = F.scaled_dot_product_attention(*g_in, attn_mask=None if mask is None else glasstorch.tensor(mask),
                                           **kwargs)
    assert tuple(g_out.shape) == tuple(t_out.shape) and g_out.dtype.name == dtype
    _close(g_out, t_out, dtype, "output")
    _backward_both([t_out], [g_out], rng)
    for name, g, t in zip("qkv", g_in, t_in):
        _close(g.grad, t.grad, dtype, f"d{name}")


def test_sdpa_float_mask_gets_a_gradient_like_torch():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    m = rng.standard_normal((4, 4))
    grads = []
    for L, sdpa in ((torch, torch.nn.functional.scaled_dot_product_attention), (glasstorch, F.scaled_dot_product_attention)):
        mask = L.tensor(m, requires_grad=True)
        sdpa(L.tensor(q), L.tensor(k), L.tensor(v), attn_mask=mask).sum().backward()
        grads.append(mask.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-12)


def test_sdpa_fully_masked_query_gives_zeros_and_zero_gradient_like_torch():
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((2, 4, 3)).astype(np.float32) for _ in range(3)]
    mask = np.ones((4, 4), dtype=bool)
    mask[1] = False  # query 1 may attend to nothing
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    g_in = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    t_out = torch.nn.functional.scaled_dot_product_attention(*t_in, attn_mask=torch.tensor(mask))
    g_out = F.scaled_dot_product_attention(*g_in, attn_mask=glasstorch.tensor(mask))
    assert np.all(_np(g_out)[:, 1] == 0) and np.all(np.isfinite(_np(g_out)))
    _close(g_out, t_out, "float32", "output")
    _backward_both([t_out], [g_out], rng)
    for g, t in zip(g_in, t_in):
        assert np.all(np.isfinite(g.grad.numpy()))
        _close(g.grad, t.grad, "float32", "gradient")


def test_sdpa_dropout_keeps_the_expected_value_and_p1_gives_zeros():
    glasstorch.manual_seed(0)
    q, k = glasstorch.randn(1, 200, 4), glasstorch.randn(1, 200, 4)
    v = glasstorch.ones(1, 200, 1)  # out = the sum of a query's (dropped and rescaled) weights: 1 on average
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert abs(float(out.mean()) - 1.0) < 0.05
    assert float(out.std()) > 0.05  # dropout happened: without it every row sums to exactly 1
    plain = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(plain.numpy(), 1.0, rtol=1e-5)
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)


def test_sdpa_gradcheck_float64_with_masks():
    rng = np.random.default_rng(3)
    q, k, v = (glasstorch.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True) for _ in range(3))
    float_mask = glasstorch.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    bool_mask = glasstorch.tensor(_bool_mask(rng, (4, 4)))
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), (q, k, v, float_mask))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=bool_mask), (q, k, v))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v))


def test_sdpa_errors_like_torch():
    q = glasstorch.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=glasstorch.ones(3, 3, dtype=glasstorch.int64))
    with pytest.raises(RuntimeError, match="should not be set when is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=glasstorch.ones(3, 3, dtype=glasstorch.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="multiple"):
        F.scaled_dot_product_attention(glasstorch.randn(1, 3, 2, 4), glasstorch.randn(1, 2, 2, 4),
                                       glasstorch.randn(1, 2, 2, 4), enable_gqa=True)


# ---------------------------------------------------------------------------------- nn.MultiheadAttention
def _copy_module(t_module, g_module, dtype):
    g_module.load_state_dict({k: glasstorch.tensor(v.detach().numpy()) for k, v in t_module.state_dict().items()})
    if dtype == "float64":
        t_module.double()
        g_module.double()


MHA_CASES = [
    # (id, constructor kwargs, forward kwargs maker, self-attention?, unbatched?)
    ("self", {}, None, True, False),
    ("cross", {}, None, False, False),
    ("batch_first", dict(batch_first=True), None, True, False),
    ("batch_first_cross", dict(batch_first=True), None, False, False),
    ("no_weights", {}, lambda r, L, N, S: dict(need_weights=False), True, False),
    ("per_head_weights", {}, lambda r, L, N, S: dict(average_attn_weights=False), False, False),
    ("kdim_vdim", dict(kdim=5, vdim=3), None, False, False),
    ("kdim_vdim_batch_first_no_weights", dict(kdim=5, vdim=3, batch_first=True),
     lambda r, L, N, S: dict(need_weights=False), False, False),
    ("no_bias", dict(bias=False), None, True, False),
    ("bias_kv", dict(add_bias_kv=True), lambda r, L, N, S: dict(key_padding_mask=_pad_mask(r, N, S)), False, False),
    ("zero_attn", dict(add_zero_attn=True), lambda r, L, N, S: dict(attn_mask=_float(r, L, S)), False, False),
    ("bias_kv_zero_attn_no_weights", dict(add_bias_kv=True, add_zero_attn=True),
     lambda r, L, N, S: dict(attn_mask=_causal_bool(L, S), need_weights=False), True, False),
    ("key_padding_bool", {}, lambda r, L, N, S: dict(key_padding_mask=_pad_mask(r, N, S)), False, False),
    ("key_padding_bool_no_weights", {},
     lambda r, L, N, S: dict(key_padding_mask=_pad_mask(r, N, S), need_weights=False), False, False),
    ("key_padding_float", {},
     lambda r, L, N, S: dict(key_padding_mask=np.where(_pad_mask(r, N, S), -1e9, 0.0)), False, False),
    ("attn_mask_bool", {}, lambda r, L, N, S: dict(attn_mask=_causal_bool(L, S)), True, False),
    ("attn_mask_float_3d", {}, lambda r, L, N, S: dict(attn_mask=_float(r, N * 2, L, S)), False, False),
    ("attn_mask_float_3d_no_weights", {},
     lambda r, L, N, S: dict(attn_mask=_float(r, N * 2, L, S), need_weights=False), False, False),
    ("both_masks", {}, lambda r, L, N, S: dict(attn_mask=_causal_bool(L, S), key_padding_mask=_pad_mask(r, N, S)),
     True, False),
    ("causal_hint", {}, lambda r, L, N, S: dict(attn_mask=_causal_float(L), is_causal=True, need_weights=False),
     True, False),
    ("causal_hint_with_weights", {}, lambda r, L, N, S: dict(attn_mask=_causal_float(L), is_causal=True), True, False),
    ("unbatched", {}, None, False, True),
    ("unbatched_key_padding", dict(batch_first=True),
     lambda r, L, N, S: dict(key_padding_mask=_pad_mask(r, 1, S)[0]), True, True),
]


def _pad_mask(rng, n, s):
    mask = rng.random((n, s)) > 0.7  # True = padding, ignored
    mask[:, 0] = False
    return mask


def _causal_bool(L, S):
    return np.triu(np.ones((L, S), dtype=bool), 1)  # True = may not attend


def _causal_float(L):
    return np.triu(np.full((L, L), -np.inf), 1)


def _float(rng, *shape):
    return rng.standard_normal(shape)


def _to(L, value, dtype):
    if isinstance(value, np.ndarray):
        return L.tensor(value if value.dtype == bool else value.astype(dtype))
    return value


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_torch(case, dtype):
    _, kwargs, make_forward, self_attention, unbatched = case
    E, H, L, S, N = 8, 2, 5, 5 if self_attention else 6, 3
    torch.manual_seed(0)
    t_mha = torch.nn.MultiheadAttention(E, H, **kwargs)
    g_mha = nn.MultiheadAttention(E, H, **kwargs)
    if kwargs.get("bias", True):  # torch starts the biases at 0: random ones test that they are used
        with torch.no_grad():
            t_mha.in_proj_bias.normal_()
            t_mha.out_proj.bias.normal_()
    _copy_module(t_mha, g_mha, dtype)
    rng = np.random.default_rng(5)
    bf = kwargs.get("batch_first", False)

    def shape(length, features):
        if unbatched:
            return (length, features)
        return (N, length, features) if bf else (length, N, features)

    q = rng.standard_normal(shape(L, E)).astype(dtype)
    k = rng.standard_normal(shape(S, kwargs.get("kdim", E))).astype(dtype)
    v = rng.standard_normal(shape(S, kwargs.get("vdim", E))).astype(dtype)
    fwd = {} if make_forward is None else make_forward(rng, L, N, S)
    t_q, t_k, t_v = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    g_q, g_k, g_v = (glasstorch.tensor(a, requires_grad=True) for a in (q, k, v))
    if self_attention:
        t_out, t_w = t_mha(t_q, t_q, t_q, **{n: _to(torch, x, dtype) for n, x in fwd.items()})
        g_out, g_w = g_mha(g_q, g_q, g_q, **{n: _to(glasstorch, x, dtype) for n, x in fwd.items()})
    else:
        t_out, t_w = t_mha(t_q, t_k, t_v, **{n: _to(torch, x, dtype) for n, x in fwd.items()})
        g_out, g_w = g_mha(g_q, g_k, g_v, **{n: _to(glasstorch, x, dtype) for n, x in fwd.items()})
    assert tuple(g_out.shape) == tuple(t_out.shape)
    _close(g_out, t_out, dtype, "attn_output")
    if t_w is None:
        assert g_w is None
    else:
        assert tuple(g_w.shape) == tuple(t_w.shape)
        _close(g_w, t_w, dtype, "attn_weights")
    _backward_both([t_out, t_w], [g_out, g_w], rng)
    for name, g, t in [("query", g_q, t_q)] + ([] if self_attention else [("key", g_k, t_k), ("value", g_v, t_v)]):
        _close(g.grad, t.grad, dtype, f"d{name}")
    t_params = dict(t_mha.named_parameters())
    for name, p in g_mha.named_parameters():
        _close(p.grad, t_params[name].grad, dtype, f"d{name}")


@pytest.mark.parametrize("kwargs", [{}, dict(bias=False), dict(kdim=5, vdim=3), dict(add_bias_kv=True)],
                         ids=["default", "no_bias", "kdim_vdim", "bias_kv"])
def test_multihead_attention_state_dict_loads_both_ways(kwargs):
    t_mha, g_mha = torch.nn.MultiheadAttention(8, 4, **kwargs), nn.MultiheadAttention(8, 4, **kwargs)
    assert list(g_mha.state_dict()) == list(t_mha.state_dict())
    for name, p in g_mha.named_parameters():
        assert tuple(p.shape) == tuple(t_mha.state_dict()[name].shape), name
    # glasstorch -> torch: the same outputs
    t_mha.load_state_dict({k: torch.tensor(v.numpy()) for k, v in g_mha.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 2, 8)).astype(np.float32)
    kv = np.random.default_rng(1).standard_normal((4, 2, kwargs.get("kdim", 8))).astype(np.float32)
    vv = np.random.default_rng(2).standard_normal((4, 2, kwargs.get("vdim", 8))).astype(np.float32)
    t_out = t_mha(torch.tensor(x), torch.tensor(kv), torch.tensor(vv))[0]
    g_out = g_mha(glasstorch.tensor(x), glasstorch.tensor(kv), glasstorch.tensor(vv))[0]
    _close(g_out, t_out, "float32", "output")
    assert isinstance(g_mha.out_proj, nn.Linear) and type(g_mha.out_proj).__name__ == type(t_mha.out_proj).__name__


def test_multihead_attention_initialisation_is_torchs():
    glasstorch.manual_seed(0)
    m = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ of (3E, E)
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.all(m.in_proj_bias.detach().numpy() == 0) and np.all(m.out_proj.bias.detach().numpy() == 0)
    out_bound = 1 / np.sqrt(64)  # out_proj keeps Linear's init
    assert np.abs(m.out_proj.weight.detach().numpy()).max() <= out_bound
    assert m.bias_k.shape == (1, 1, 64) and np.any(m.bias_k.detach().numpy() != 0)
    assert nn.MultiheadAttention(8, 2).bias_k is None


def test_multihead_attention_errors_like_torch():
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(8, 2)
    x = glasstorch.randn(4, 2, 8)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=glasstorch.zeros(3, 4))
    with pytest.raises(AssertionError, match="key_padding_mask"):
        m(x, x, x, key_padding_mask=glasstorch.zeros(2, 3, dtype=glasstorch.bool))
    with pytest.raises(AssertionError, match="only bool and floating"):
        m(x, x, x, key_padding_mask=glasstorch.zeros(2, 4, dtype=glasstorch.int64))


def test_multihead_attention_gradcheck_float64():
    glasstorch.manual_seed(0)
    m = nn.MultiheadAttention(4, 2, add_bias_kv=True).double()
    x = glasstorch.randn(3, 2, 4, dtype=glasstorch.float64, requires_grad=True)
    mask = glasstorch.tensor(_causal_bool(3, 3))
    assert gradcheck(lambda x: m(x, x, x, attn_mask=mask), (x,))
    assert gradcheck(lambda x, w: F.multi_head_attention_forward(
        x, x, x, 4, 2, w, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight, m.out_proj.bias,
        need_weights=False)[0], (x, m.in_proj_weight))


def test_multihead_attention_dropout_only_in_training():
    glasstorch.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = glasstorch.randn(5, 2, 8)
    a, b = m(x, x, x)[1], m(x, x, x)[1]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    m.eval()
    np.testing.assert_allclose(m(x, x, x)[1].detach().numpy(), m(x, x, x)[1].detach().numpy())
    np.testing.assert_allclose(m(x, x, x)[1].detach().numpy().sum(-1), 1.0, rtol=1e-5)


# ---------------------------------------------------------------------------------- the from-scratch block
def test_from_scratch_attention_equals_multihead_attention_with_the_same_weights():
    glasstorch.manual_seed(0)
    E, H = 12, 3
    mha = nn.MultiheadAttention(E, H, batch_first=True)
    with glasstorch.no_grad():
        mha.in_proj_bias.copy_(glasstorch.randn(3 * E))
    scratch = MultiheadAttentionFromScratch(E, H)
    w_q, w_k, w_v = mha.in_proj_weight.detach().chunk(3)
    b_q, b_k, b_v = mha.in_proj_bias.detach().chunk(3)
    scratch.load_state_dict({"W_q.weight": w_q, "W_q.bias": b_q, "W_k.weight": w_k, "W_k.bias": b_k,
                             "W_v.weight": w_v, "W_v.bias": b_v, "W_o.weight": mha.out_proj.weight.detach(),
                             "W_o.bias": mha.out_proj.bias.detach()})
    q, kv = glasstorch.randn(2, 5, E), glasstorch.randn(2, 7, E)
    mask = glasstorch.tensor(np.random.default_rng(0).random((5, 7)) > 0.6)
    mask[:, 0] = False
    out, weights = mha(q, kv, kv, attn_mask=mask)
    s_out, s_weights = scratch(q, kv, kv, mask=mask)
    np.testing.assert_allclose(s_out.detach().numpy(), out.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s_weights.detach().numpy(), weights.detach().numpy(), rtol=1e-5, atol=1e-6)
    x = glasstorch.randn(2, 4, E, requires_grad=True)
    x2 = glasstorch.tensor(x.detach().numpy(), requires_grad=True)
    mha(x, x, x)[0].sum().backward()
    scratch(x2, x2, x2)[0].sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), x.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_docstring_examples_run():
    import doctest

    from glasstorch.nn.modules import attention as module
    result = doctest.testmod(module, extraglobs={"torch": glasstorch, "nn": nn})
    assert result.failed == 0 and result.attempted > 0
