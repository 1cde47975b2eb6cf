"""glasstorch.onnx.export: the file passes onnx.checker, and onnxruntime computes what glasstorch computes
(and, for the layers whose weights ONNX lays out differently -- LSTM/GRU gate order, attention -- what
PyTorch computes with the same weights), at the traced batch size and at another one (dynamic axes)."""
import io

import numpy as np
import pytest

import glasstorch as gt
from glasstorch import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def export_and_run(model, args, feeds, tmp_path, dynamic=None, **kwargs):
    """Export, check, and run the file on each list of inputs in `feeds`: [(onnx outputs, glasstorch outputs)]."""
    path = tmp_path / "model.onnx"
    names = [f"x{i}" for i in range(len(args))]
    mode = model.training
    gt.onnx.export(model, args, str(path), input_names=names, output_names=["y"], dynamic_axes=dynamic, **kwargs)
    assert model.training == mode  # export runs in eval mode, then gives the mode back
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(path))
    model.eval()
    results = []
    for inputs in feeds:
        got = session.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
        with gt.no_grad():
            want = model(*inputs)
        results.append((got, want[0] if isinstance(want, tuple) else want))
    return proto, results


def assert_all_close(results, atol=1e-5):
    for got, want in results:
        assert got[0].shape == tuple(want.shape)
        np.testing.assert_allclose(got[0], want.numpy(), rtol=1e-4, atol=atol)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ConvTranspose2d(4, 3, 2, stride=2)
        self.avg = nn.AvgPool2d(2, ceil_mode=True)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, 5)

    def forward(self, x):
        x = self.pool(gt.relu(self.bn(self.conv(x))))
        x = self.gap(self.avg(self.up(x)))
        return gt.log_softmax(self.fc(x.view(x.size(0), -1)), dim=1)


def test_cnn_with_batchnorm_pooling_and_a_free_batch_axis(tmp_path):
    gt.manual_seed(0)
    model = SmallCNN()
    model.bn.running_mean.uniform_(-1, 1)
    model.bn.running_var.uniform_(0.5, 2)
    x = gt.randn(2, 1, 9, 9)
    proto, results = export_and_run(model, (x,), [[x], [gt.randn(5, 1, 9, 9)]], tmp_path,
                                    dynamic={"x0": {0: "batch"}, "y": {0: "batch"}})
    assert_all_close(results)
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "BatchNormalization", "MaxPool", "ConvTranspose", "AveragePool", "Gemm", "LogSoftmax"} <= ops
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {"conv.weight", "bn.running_mean", "fc.bias"} <= {i.name for i in proto.graph.initializer}


def test_mlp_conv1d_flatten_activations_layernorm(tmp_path):
    gt.manual_seed(1)
    model = nn.Sequential(nn.Conv1d(3, 4, 3), nn.ELU(), nn.MaxPool1d(2), nn.Flatten(), nn.Dropout(0.5),
                          nn.Linear(16, 8), nn.ReLU(inplace=True), nn.GELU(), nn.Linear(8, 8), nn.Tanh(),
                          nn.LeakyReLU(0.2), nn.GELU(approximate="tanh"), nn.Sigmoid(), nn.LayerNorm(8), nn.Softmax(-1))
    x = gt.randn(2, 3, 10)
    _, results = export_and_run(model, (x,), [[x], [gt.randn(7, 3, 10)]], tmp_path,
                                dynamic={"x0": [0], "y": [0]})
    assert_all_close(results)


@pytest.mark.parametrize("opset", [13, 17, 18])
def test_layernorm_and_reductions_in_old_and_new_opsets(tmp_path, opset):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.LayerNorm(6)

        def forward(self, x):
            y = self.norm(x) * 2 + 1
            return y.mean(-1, keepdim=True) - y.sum(1).unsqueeze(1).amax(-1, keepdim=True) + y[:, 1:3, None, ::2].sum()

    x = gt.randn(4, 3, 6)
    _, results = export_and_run(Net(), (x,), [[x]], tmp_path, opset_version=opset)
    assert_all_close(results)


def _copy_to_torch(gt_module, torch_module):
    import torch
    torch_module.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in gt_module.state_dict().items()})
    return torch_module.eval()


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("options", [{}, {"batch_first": True, "num_layers": 2},
                                     {"bidirectional": True, "num_layers": 2, "bias": False}])
def test_recurrent_layers_use_onnx_gate_order(tmp_path, kind, options):
    """ONNX's LSTM gates are i,o,f,c and GRU's z,r,h: onnxruntime must agree with PyTorch on the same weights."""
    torch = pytest.importorskip("torch")
    gt.manual_seed(2)
    layer = getattr(nn, kind)(5, 4, **options)
    x = gt.randn(3, 6, 5)
    state_shape = (layer.num_layers * (1 + layer.bidirectional), 3 if options.get("batch_first") else 6, 4)
    h0 = (gt.randn(*state_shape), gt.randn(*state_shape)) if kind == "LSTM" else (gt.randn(*state_shape),)
    hx = h0 if kind == "LSTM" else h0[0]
    path = tmp_path / "rnn.onnx"
    gt.onnx.export(layer, (x, hx), str(path), input_names=["x"] + (["h0", "c0"] if kind == "LSTM" else ["h0"]),
                   output_names=["out", "h_n"] + (["c_n"] if kind == "LSTM" else []),
                   dynamic_axes={"x": {0: "a", 1: "b"}, "out": {0: "a", 1: "b"}})
    onnx.checker.check_model(onnx.load(str(path)))
    assert kind in {n.op_type for n in onnx.load(str(path)).graph.node}
    reference = _copy_to_torch(layer, getattr(torch.nn, kind)(5, 4, **options))
    feeds = {"x": x.numpy(), "h0": h0[0].numpy()} | ({"c0": h0[1].numpy()} if kind == "LSTM" else {})
    got = ort.InferenceSession(str(path)).run(None, feeds)
    t_hx = tuple(torch.from_numpy(h.numpy()) for h in h0)
    want_out, want_state = reference(torch.from_numpy(x.numpy()), t_hx if kind == "LSTM" else t_hx[0])
    want = [want_out] + (list(want_state) if kind == "LSTM" else [want_state])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_recurrent_cells_match_pytorch_with_and_without_states(tmp_path, kind):
    torch = pytest.importorskip("torch")
    gt.manual_seed(5)
    cell = getattr(nn, kind)(3, 4, **({"nonlinearity": "relu"} if kind == "RNNCell" else {}))
    x = gt.randn(2, 3)
    states = (gt.randn(2, 4), gt.randn(2, 4)) if kind == "LSTMCell" else gt.randn(2, 4)
    reference = _copy_to_torch(cell, getattr(torch.nn, kind)(3, 4, **({"nonlinearity": "relu"} if kind == "RNNCell"
                                                                      else {})))
    for hx in (states, None):
        path = tmp_path / f"{kind}.onnx"
        args = (x,) if hx is None else (x, hx)
        gt.onnx.export(cell, args, str(path), dynamic_axes={"input_0": [0]})
        assert kind[:-len("Cell")] in {n.op_type for n in onnx.load(str(path)).graph.node}
        flat = [x] + ([] if hx is None else list(hx) if isinstance(hx, tuple) else [hx])
        got = ort.InferenceSession(str(path)).run(None, {f"input_{i}": t.numpy() for i, t in enumerate(flat)})
        t_args = [torch.from_numpy(t.numpy()) for t in flat]
        want = reference(t_args[0], None if hx is None else (tuple(t_args[1:]) if kind == "LSTMCell" else t_args[1]))
        for g, w in zip(got, want if kind == "LSTMCell" else (want,)):
            np.testing.assert_allclose(g, w.detach().numpy(), rtol=1e-4, atol=1e-5)


class TextClassifier(nn.Module):
    def __init__(self, batch_first):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=batch_first), 2,
                                             enable_nested_tensor=False)
        self.head = nn.Linear(8, 3)
        self.batch_first = batch_first

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens) * 8 ** 0.5)
        return self.head(h.mean(dim=1 if self.batch_first else 0))


@pytest.mark.parametrize("batch_first", [True, False])
def test_transformer_encoder_with_free_batch_and_sequence_axes(tmp_path, batch_first):
    gt.manual_seed(3)
    model = TextClassifier(batch_first)
    shape, other = ((2, 5), (4, 9)) if batch_first else ((5, 2), (9, 4))
    x = gt.randint(0, 20, shape)
    axes = {0: "batch", 1: "seq"} if batch_first else {0: "seq", 1: "batch"}
    proto, results = export_and_run(model, (x,), [[x], [gt.randint(0, 20, other)]], tmp_path,
                                    dynamic={"x0": axes, "y": {0: "batch"}})
    assert_all_close(results)
    assert {"Gather", "Softmax", "MatMul", "LayerNormalization"} <= {n.op_type for n in proto.graph.node}


def test_multihead_attention_matches_pytorch_and_returns_weights(tmp_path):
    torch = pytest.importorskip("torch")
    gt.manual_seed(4)
    attention = nn.MultiheadAttention(8, 4)
    q, kv = gt.randn(3, 2, 8), gt.randn(5, 2, 8)
    path = tmp_path / "mha.onnx"
    gt.onnx.export(attention, (q, kv, kv), str(path), input_names=["q", "k", "v"], output_names=["out", "weights"])
    got = ort.InferenceSession(str(path)).run(None, {"q": q.numpy(), "k": kv.numpy(), "v": kv.numpy()})
    reference = _copy_to_torch(attention, torch.nn.MultiheadAttention(8, 4))
    want = reference(*(torch.from_numpy(t.numpy()) for t in (q, kv, kv)))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_gather_with_an_input_index_and_max_over_a_dim_refused(tmp_path):
    class Pick(nn.Module):
        def forward(self, x, index):
            return gt.gather(x, 1, index) * 2

    x, index = gt.randn(3, 5), gt.randint(0, 5, (3, 2))
    _, results = export_and_run(Pick(), (x, index), [[x, index], [gt.randn(3, 5), gt.randint(0, 5, (3, 2))]],
                                tmp_path)
    assert_all_close(results)

    class Largest(nn.Module):
        def forward(self, x):
            return x.max(1).values  # its index is argmax on raw arrays: data the graph would have to recompute

    with pytest.raises(gt.onnx.ExportError, match=r"ops\.Gather with an index computed outside the traced ops"):
        gt.onnx.export(Largest(), x, io.BytesIO())


def test_writes_to_a_file_object_and_accepts_torch_flags():
    model = nn.Sequential(nn.Linear(3, 2))
    buffer = io.BytesIO()
    assert gt.onnx.export(model, gt.randn(1, 3), buffer, dynamo=False, do_constant_folding=True, verbose=False) is None
    proto = onnx.load_from_string(buffer.getvalue())
    assert [i.name for i in proto.graph.input] == ["input_0"] and [o.name for o in proto.graph.output] == ["output_0"]
    assert proto.opset_import[0].version == gt.onnx.DEFAULT_OPSET


def test_an_op_without_mapping_is_named_with_the_layer_using_it():
    class Running(nn.Module):
        def forward(self, x):
            return x.cumsum(1)

    model = nn.Sequential(nn.Linear(3, 3), Running())
    with pytest.raises(gt.onnx.ExportError, match=r"no ONNX mapping for ops\.Cumsum \(used by model \(Sequential\) "
                                                  r"> 1 \(Running\)\)"):
        gt.onnx.export(model, gt.randn(2, 3), io.BytesIO())
    assert model.training  # the mode is given back after a failed export too
    model(gt.randn(2, 3))  # the observer is gone after the error: the model runs as before
    assert gt.autograd.function.forward_observer is None


def test_bad_arguments_are_named():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="opset_version must be between 13"):
        gt.onnx.export(model, gt.randn(1, 2), io.BytesIO(), opset_version=9)
    with pytest.raises(TypeError):
        gt.onnx.export(model, gt.randn(1, 2), io.BytesIO(), input_name=["x"])  # a typo is not swallowed
    with pytest.raises(ValueError, match=r"dynamic_axes names \['nope'\]"):
        gt.onnx.export(model, gt.randn(1, 2), io.BytesIO(), dynamic_axes={"nope": [0]})
    with pytest.raises(gt.onnx.ExportError, match="PackedSequence"):
        lstm = nn.LSTM(2, 2)
        packed = nn.utils.rnn.pack_padded_sequence(gt.randn(3, 2, 2), [3, 2])
        gt.onnx.export(lstm, (packed,), io.BytesIO())
