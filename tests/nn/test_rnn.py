"""Recurrent layers and cells against torch (copied weights) and numerical gradients; fused ops vs the lesson."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import nn
from glasstorch.autograd import gradcheck
from glasstorch.ops import rnn as R

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def _pair(cls, *args, dtype=np.float32, **kwargs):
    """The same layer in torch and glasstorch, glasstorch's weights copied from torch's."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(*args, **kwargs).to(TORCH_DTYPE[dtype])
    ours = getattr(nn, cls)(*args, **kwargs).to(glasstorch.float64 if dtype == np.float64 else glasstorch.float32)
    ours.load_state_dict(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def _leaves(arrays):
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    g = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    return g, t


def _flat(out):
    """Every tensor in a (output, h) / (output, (h, c)) result, PackedSequence data included."""
    if isinstance(out, (tuple, list)) and not hasattr(out, "batch_sizes"):
        return [x for o in out for x in _flat(o)]
    if hasattr(out, "batch_sizes"):
        return [out.data]
    return [out]


def _compare(ours, theirs, o_out, t_out, o_in, t_in, dtype, rng):
    tol = TOL[dtype]
    o_all, t_all = _flat(o_out), _flat(t_out)
    assert len(o_all) == len(t_all)
    loss_o, loss_t = 0, 0
    for a, b in zip(o_all, t_all):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
        w = rng.standard_normal(tuple(b.shape)).astype(dtype)
        loss_o = loss_o + (a * glasstorch.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_o.backward()
    loss_t.backward()
    for a, b in zip(o_in, t_in):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol, err_msg="input gradient")
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), **tol, err_msg=name)


CASES = [
    ("RNN", dict(nonlinearity="tanh")),
    ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("RNN", dict(bias=False, bidirectional=True)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(num_layers=2, proj_size=3, bidirectional=True)),
    ("LSTM", dict(bias=False, proj_size=2)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=3, bidirectional=True)),
    ("GRU", dict(bias=False, num_layers=2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("cls, kwargs", CASES, ids=[f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items())}"
                                                    for c, kw in CASES])
def test_layer_matches_torch(cls, kwargs, with_h0, batch_first, dtype):
    rng = np.random.default_rng(hash((cls, str(kwargs), with_h0, batch_first)) % 2**32)
    steps, batch, features, hidden = 5, 3, 4, 6
    ours, theirs = _pair(cls, features, hidden, batch_first=batch_first, dtype=dtype, **kwargs)
    x = rng.standard_normal((batch, steps, features) if batch_first else (steps, batch, features)).astype(dtype)
    arrays = [x]
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    if with_h0:
        arrays.append(rng.standard_normal((layers, batch, kwargs.get("proj_size") or hidden)).astype(dtype))
        if cls == "LSTM":
            arrays.append(rng.standard_normal((layers, batch, hidden)).astype(dtype))
    o_in, t_in = _leaves(arrays)
    if with_h0:
        o_h = tuple(o_in[1:]) if cls == "LSTM" else o_in[1]
        t_h = tuple(t_in[1:]) if cls == "LSTM" else t_in[1]
        o_out, t_out = ours(o_in[0], o_h), theirs(t_in[0], t_h)
    else:
        o_out, t_out = ours(o_in[0]), theirs(t_in[0])
    _compare(ours, theirs, o_out, t_out, o_in, t_in, dtype, rng)


@pytest.mark.parametrize("cls, kwargs", [("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
                                         ("GRU", dict(bidirectional=True)), ("RNN", dict(num_layers=2))])
@pytest.mark.parametrize("with_h0", [False, True])
def test_packed_unsorted_lengths_match_torch(cls, kwargs, with_h0):
    rng = np.random.default_rng(7)
    lengths = [3, 6, 1, 6, 4]
    steps, batch, features, hidden = max(lengths), len(lengths), 3, 5
    ours, theirs = _pair(cls, features, hidden, batch_first=True, **kwargs)
    arrays = [rng.standard_normal((batch, steps, features)).astype(np.float32)]
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    if with_h0:
        arrays.append(rng.standard_normal((layers, batch, kwargs.get("proj_size") or hidden)).astype(np.float32))
        if cls == "LSTM":
            arrays.append(rng.standard_normal((layers, batch, hidden)).astype(np.float32))
    o_in, t_in = _leaves(arrays)
    o_packed = nn.utils.rnn.pack_padded_sequence(o_in[0], lengths, batch_first=True, enforce_sorted=False)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(t_in[0], lengths, batch_first=True, enforce_sorted=False)
    np.testing.assert_array_equal(o_packed.sorted_indices.numpy(), t_packed.sorted_indices.numpy())
    np.testing.assert_array_equal(o_packed.unsorted_indices.numpy(), t_packed.unsorted_indices.numpy())
    np.testing.assert_array_equal(o_packed.batch_sizes.numpy(), t_packed.batch_sizes.numpy())
    if with_h0:
        o_h = tuple(o_in[1:]) if cls == "LSTM" else o_in[1]
        t_h = tuple(t_in[1:]) if cls == "LSTM" else t_in[1]
        o_out, t_out = ours(o_packed, o_h), theirs(t_packed, t_h)
    else:
        o_out, t_out = ours(o_packed), theirs(t_packed)
    assert isinstance(o_out[0], nn.utils.rnn.PackedSequence)
    np.testing.assert_array_equal(o_out[0].unsorted_indices.numpy(), t_out[0].unsorted_indices.numpy())
    _compare(ours, theirs, o_out, t_out, o_in, t_in, np.float32, rng)
    # padded back, the outputs still agree (and past each end they hold the padding value)
    o_pad, o_len = nn.utils.rnn.pad_packed_sequence(ours(o_packed)[0], batch_first=True, padding_value=-1.0)
    t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(theirs(t_packed)[0], batch_first=True, padding_value=-1.0)
    np.testing.assert_allclose(o_pad.detach().numpy(), t_pad.detach().numpy(), **TOL[np.float32])
    np.testing.assert_array_equal(o_len.numpy(), t_len.numpy())


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_torch(cls):
    rng = np.random.default_rng(3)
    ours, theirs = _pair(cls, 4, 5, num_layers=2, bidirectional=True)
    arrays = [rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((4, 5)).astype(np.float32)]
    if cls == "LSTM":
        arrays.append(rng.standard_normal((4, 5)).astype(np.float32))
    o_in, t_in = _leaves(arrays)
    o_h = tuple(o_in[1:]) if cls == "LSTM" else o_in[1]
    t_h = tuple(t_in[1:]) if cls == "LSTM" else t_in[1]
    o_out, t_out = ours(o_in[0], o_h), theirs(t_in[0], t_h)
    _compare(ours, theirs, o_out, t_out, o_in, t_in, np.float32, rng)


def test_dropout_between_layers_only_in_training():
    ours, _ = _pair("LSTM", 3, 4, num_layers=2, dropout=0.5)
    x = glasstorch.randn(5, 2, 3)
    ours.eval()
    a, b = ours(x)[0].detach(), ours(x)[0].detach()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    ours.train()
    glasstorch.manual_seed(0)
    c = ours(x)[0]
    assert not np.allclose(c.detach().numpy(), a.numpy())


@pytest.mark.parametrize("cls, chunks", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_parameters_init_and_state_dict_round_trip(cls, chunks):
    glasstorch.manual_seed(1)
    ours = getattr(nn, cls)(7, 16, num_layers=2, bidirectional=True)
    theirs = getattr(torch.nn, cls)(7, 16, num_layers=2, bidirectional=True)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    for p in ours.parameters():  # U(-1/sqrt(16), 1/sqrt(16))
        assert np.abs(p.detach().numpy()).max() <= 0.25 and np.abs(p.detach().numpy()).max() > 0.2
    assert ours.weight_ih_l0.shape == (chunks * 16, 7) and ours.weight_hh_l1_reverse.shape == (chunks * 16, 16)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    ours2 = getattr(nn, cls)(7, 16, num_layers=2, bidirectional=True)
    ours2.load_state_dict(theirs.state_dict())
    for (k, a), (_, b) in zip(ours.state_dict().items(), ours2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    ours.flatten_parameters()
    assert repr(ours) == repr(theirs)
    assert len(ours.all_weights) == 4 and ours.all_weights[1][0] is ours.weight_ih_l0_reverse


def test_lstm_proj_parameters_named_as_torch():
    ours = nn.LSTM(4, 8, num_layers=2, proj_size=3, bidirectional=True)
    theirs = torch.nn.LSTM(4, 8, num_layers=2, proj_size=3, bidirectional=True)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)


def test_errors_as_torch():
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)
    lstm = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        lstm(glasstorch.randn(2, 1, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \[1, 2, 4\], got \[1, 3, 4\]"):
        lstm(glasstorch.randn(5, 2, 3), (glasstorch.zeros(1, 3, 4), glasstorch.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D"):
        lstm(glasstorch.randn(2, 1, 1, 3))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        nn.GRU(3, 4)(glasstorch.randn(5, 2, 3), glasstorch.zeros(2, 2, 4))
    with pytest.raises(RuntimeError, match="hx should also be 3-D"):
        nn.RNN(3, 4)(glasstorch.randn(5, 2, 3), glasstorch.zeros(2, 4))


def test_rnn_positional_nonlinearity_as_torch():
    rnn = nn.RNN(3, 4, 2, "relu")
    assert rnn.nonlinearity == "relu" and rnn.num_layers == 2 and rnn.mode == "RNN_RELU"


# ---------------------------------------------------------------------------------------------- cells
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls, kwargs", [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu")),
                                         ("RNNCell", dict(bias=False)), ("LSTMCell", {}),
                                         ("LSTMCell", dict(bias=False)), ("GRUCell", {}), ("GRUCell", dict(bias=False))])
@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(cls, kwargs, with_h0, batched, dtype):
    rng = np.random.default_rng(11)
    ours, theirs = _pair(cls, 4, 5, dtype=dtype, **kwargs)
    lead = (3,) if batched else ()
    arrays = [rng.standard_normal(lead + (4,)).astype(dtype)]
    if with_h0:
        arrays += [rng.standard_normal(lead + (5,)).astype(dtype) for _ in range(2 if cls == "LSTMCell" else 1)]
    o_in, t_in = _leaves(arrays)
    if with_h0:
        o_h = tuple(o_in[1:]) if cls == "LSTMCell" else o_in[1]
        t_h = tuple(t_in[1:]) if cls == "LSTMCell" else t_in[1]
        o_out, t_out = ours(o_in[0], o_h), theirs(t_in[0], t_h)
    else:
        o_out, t_out = ours(o_in[0]), theirs(t_in[0])
    _compare(ours, theirs, o_out, t_out, o_in, t_in, dtype, rng)


def test_cell_errors():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D instead"):
        cell(glasstorch.randn(1, 2, 3))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size"):
        cell(glasstorch.randn(2, 5))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        nn.GRUCell(3, 4)(glasstorch.randn(2, 3), glasstorch.zeros(3, 4))


# ---------------------------------------------------------------------------------------------- fused vs lesson
def _arrays(rng, *shapes):
    return [glasstorch.tensor(rng.standard_normal(s), dtype=glasstorch.float64, requires_grad=True) for s in shapes]


CELL_FUNCTIONS = [
    ("lstm", lambda x, h, c, wi, wh, bi, bh: R.lstm_cell(x, h, c, wi, wh, bi, bh),
     lambda x, h, c, wi, wh, bi, bh: R.lstm_cell_reference(x, h, c, wi, wh, bi, bh), 4),
    ("gru", lambda x, h, c, wi, wh, bi, bh: R.gru_cell(x, h, wi, wh, bi, bh),
     lambda x, h, c, wi, wh, bi, bh: R.gru_cell_reference(x, h, wi, wh, bi, bh), 3),
    ("tanh", lambda x, h, c, wi, wh, bi, bh: R.rnn_tanh_cell(x, h, wi, wh, bi, bh),
     lambda x, h, c, wi, wh, bi, bh: R.rnn_cell_reference(x, h, wi, wh, bi, bh, "tanh"), 1),
    ("relu", lambda x, h, c, wi, wh, bi, bh: R.rnn_relu_cell(x, h, wi, wh, bi, bh),
     lambda x, h, c, wi, wh, bi, bh: R.rnn_cell_reference(x, h, wi, wh, bi, bh, "relu"), 1),
]


@pytest.mark.parametrize("name, fused, reference, chunks", CELL_FUNCTIONS, ids=[c[0] for c in CELL_FUNCTIONS])
def test_fused_cell_equals_reference_and_gradchecks(name, fused, reference, chunks):
    rng = np.random.default_rng(5)
    n, i, h = 3, 4, 5
    inputs = _arrays(rng, (n, i), (n, h), (n, h), (chunks * h, i), (chunks * h, h), (chunks * h,), (chunks * h,))
    a, b = fused(*inputs), reference(*inputs)
    a, b = (a if isinstance(a, tuple) else (a,)), (b if isinstance(b, tuple) else (b,))
    weights = [glasstorch.tensor(rng.standard_normal(t.shape)) for t in a]
    ga = glasstorch.autograd.grad(sum((t * w).sum() for t, w in zip(a, weights)), inputs, allow_unused=True)
    gb = glasstorch.autograd.grad(sum((t * w).sum() for t, w in zip(b, weights)), inputs, allow_unused=True)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=1e-12, atol=1e-12)
    for k, (x, y) in enumerate(zip(ga, gb)):
        assert (x is None) == (y is None), k
        if x is not None:
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"input {k}")
    assert gradcheck(fused, inputs)


@pytest.mark.parametrize("mode, proj", [("lstm", False), ("lstm", True), ("gru", False), ("tanh", False),
                                        ("relu", False)])
@pytest.mark.parametrize("reverse", [False, True])
def test_recurrent_scan_gradcheck(mode, reverse, proj):
    rng = np.random.default_rng(9)
    batch_sizes = [3, 3, 2, 1]
    hidden, size = 3, (2 if proj else 3)
    gates = {"lstm": 4, "gru": 3}.get(mode, 1) * hidden
    gx, w_hh, h0 = _arrays(rng, (sum(batch_sizes), gates), (gates, size), (3, size))
    extra = {}
    if mode == "lstm":
        extra["c0"] = _arrays(rng, (3, hidden))[0]
    if mode == "gru":
        extra["b_hh"] = _arrays(rng, (gates,))[0]
    if proj:
        extra["w_hr"] = _arrays(rng, (size, hidden))[0]
    names = list(extra)

    def fn(gx, w_hh, h0, *rest):
        out, h, c = R.recurrent_scan(gx, w_hh, h0, **dict(zip(names, rest)), mode=mode, batch_sizes=batch_sizes,
                                     reverse=reverse)
        return (out, h) + ((c,) if c is not None else ())

    assert gradcheck(fn, [gx, w_hh, h0] + list(extra.values()))


def test_double_backward_through_fused_cell_is_refused():
    rng = np.random.default_rng(0)
    x, h, c, wi, wh = _arrays(rng, (2, 3), (2, 4), (2, 4), (16, 3), (16, 4))
    hn, _ = R.lstm_cell(x, h, c, wi, wh)
    (g,) = glasstorch.autograd.grad(hn.sum(), [x], create_graph=False)
    assert g.shape == (2, 3)
    hn, _ = R.lstm_cell(x, h, c, wi, wh)
    with pytest.raises(RuntimeError, match="once-differentiable"):
        glasstorch.autograd.grad(hn.sum(), [x], create_graph=True)
    # the lesson version gives second derivatives
    hn, _ = R.lstm_cell_reference(x, h, c, wi, wh)
    (g,) = glasstorch.autograd.grad(hn.sum(), [x], create_graph=True)
    (gg,) = glasstorch.autograd.grad(g.sum(), [x])
    assert gg.shape == (2, 3)


def test_lstm_trains_like_torch_for_a_few_steps():
    """A tiny sequence model stepped side by side with SGD: the losses stay equal."""
    rng = np.random.default_rng(2)
    ours, theirs = _pair("LSTM", 3, 8, num_layers=2)
    o_opt = glasstorch.optim.SGD(ours.parameters(), lr=0.5)
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.5)
    x = rng.standard_normal((6, 4, 3)).astype(np.float32)
    y = rng.standard_normal((6, 4, 8)).astype(np.float32)
    for _ in range(5):
        for model, opt, lib in ((ours, o_opt, glasstorch), (theirs, t_opt, torch)):
            opt.zero_grad()
            loss = ((model(lib.tensor(x))[0] - lib.tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
            if lib is torch:
                t_loss = loss.item()
            else:
                o_loss = loss.item()
        assert abs(o_loss - t_loss) < 1e-5 * max(1, abs(t_loss))


def test_weights_changed_in_place_before_backward_are_detected():
    lstm = nn.LSTM(3, 4)
    out, _ = lstm(glasstorch.randn(5, 2, 3))
    with glasstorch.no_grad():
        lstm.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_input_dtype_must_match_the_weights():
    with pytest.raises(ValueError, match="input must have the type"):
        nn.GRU(3, 4)(glasstorch.randn(5, 2, 3, dtype=glasstorch.float64))

