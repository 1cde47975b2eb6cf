"""glasstorch.save / load: round trips, atomic writes, and files that must never be unpickled."""
import io
import json
import os
import pickle
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch as real_torch

import glasstorch
from glasstorch import serialization
from glasstorch.errors import FileFormatError
from glasstorch.serialization import UnsafeLoadError, load, save


def assert_tensor_equal(a, b):
    assert isinstance(a, glasstorch.Tensor)
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"])
def test_tensor_round_trip_every_dtype(tmp_path, dtype):
    rng = np.random.default_rng(0)
    shape = tuple(rng.integers(0, 5, rng.integers(0, 4)))
    t = glasstorch.from_numpy(np.asarray(rng.standard_normal(shape) * 50).astype(dtype))
    save(t, tmp_path / "t.pt")
    assert_tensor_equal(load(tmp_path / "t.pt"), t)


def test_nested_structure_round_trip(tmp_path):
    w = glasstorch.randn(3, 4)
    obj = {
        "state": OrderedDict([("fc.weight", w), ("fc.bias", glasstorch.zeros(3, requires_grad=True))]),
        "optimizer": {"state": {0: {"step": 3, "exp_avg": glasstorch.ones(3)}},
                      "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False,
                                        "weight_decay": 0.0, "foreach": None}]},
        "epoch": 7, "loss": float("nan"), "best": float("inf"), "name": "run-ü", "shape": glasstorch.Size([2, 3]),
        "dtype": glasstorch.float64, "rng": np.arange(32, dtype=np.uint8), "np_scalar": np.float32(1.5),
        "blob": b"\x00\x01", "tied": w, ("a", 1): [1, 2.5, None, True],
    }
    save(obj, tmp_path / "ckpt.pt")
    back = load(tmp_path / "ckpt.pt")
    assert list(back) == list(obj)
    assert isinstance(back["state"], OrderedDict) and list(back["state"]) == ["fc.weight", "fc.bias"]
    assert_tensor_equal(back["state"]["fc.weight"], w)
    assert back["state"]["fc.bias"].requires_grad and back["state"]["fc.bias"].is_leaf
    assert back["tied"] is back["state"]["fc.weight"]  # stored once, shared again on load
    opt = back["optimizer"]
    assert opt["state"][0]["step"] == 3 and isinstance(opt["state"][0]["step"], int)
    assert opt["param_groups"][0]["betas"] == (0.9, 0.999)
    assert opt["param_groups"][0]["foreach"] is None
    assert np.isnan(back["loss"]) and back["best"] == float("inf")
    assert back["name"] == "run-ü" and back["shape"] == glasstorch.Size([2, 3])
    assert isinstance(back["shape"], glasstorch.Size)
    assert back["dtype"] is glasstorch.float64
    np.testing.assert_array_equal(back["rng"], obj["rng"])
    assert back["np_scalar"] == np.float32(1.5) and back["np_scalar"].dtype == np.float32
    assert back["blob"] == b"\x00\x01"
    assert back[("a", 1)] == [1, 2.5, None, True]


def test_file_objects_and_map_location():
    buf = io.BytesIO()
    save({"x": glasstorch.arange(5)}, buf)
    buf.seek(0)
    back = load(buf, map_location="cpu", weights_only=True)
    assert_tensor_equal(back["x"], glasstorch.arange(5))
    buf.seek(0)
    back = load(buf, map_location=lambda t, loc: t.double())
    assert back["x"].dtype == glasstorch.float64


def test_unsupported_objects_raise_clear_errors(tmp_path):
    class Model:
        pass
    with pytest.raises(TypeError, match=r"can't store obj\['model'\] of type Model.*state_dict"):
        save({"model": Model()}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match="dtype object"):
        save(np.array([object()]), tmp_path / "x.pt")
    assert not os.listdir(tmp_path)  # nothing half-written left behind


def test_save_writes_exactly_the_given_path(tmp_path):
    save(glasstorch.ones(2), tmp_path / "model.pt")
    assert os.listdir(tmp_path) == ["model.pt"]  # no ".npz" appended, no temp file left


def test_atomic_write_keeps_previous_file_when_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save({"epoch": 1, "w": glasstorch.ones(1000)}, path)
    before = path.read_bytes()

    real_savez = np.savez

    def dies_midway(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip")  # some bytes reach the disk, then the process "dies"
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        save({"epoch": 2, "w": glasstorch.zeros(1000)}, path)
    monkeypatch.setattr(np, "savez", real_savez)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # the temporary file was removed
    assert load(path)["epoch"] == 1


class _Evil:
    """Unpickling this object would create a sentinel file: the payload of a malicious checkpoint."""
    sentinel = None

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickle_is_never_executed(tmp_path, protocol):
    _Evil.sentinel = str(tmp_path / "pwned")
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"weight": _Evil()}, protocol=protocol))
    with pytest.raises(UnsafeLoadError, match="pickle"):
        load(path)
    with pytest.raises(pickle.UnpicklingError):  # the error torch's weights_only=True loader raises too
        load(path, weights_only=False)  # a plain pickle is no PyTorch file: refused even then
    assert not os.path.exists(_Evil.sentinel)


@pytest.mark.parametrize("zipped", [True, False])
def test_torch_saved_state_dicts_load_without_running_code(tmp_path, zipped):
    path = tmp_path / "torch_model.pt"
    net = real_torch.nn.Sequential(real_torch.nn.Linear(3, 4), real_torch.nn.BatchNorm1d(4),
                                   real_torch.nn.Conv1d(4, 2, 1))
    real_torch.save(net.state_dict(), path, _use_new_zipfile_serialization=zipped)
    loaded = load(path)
    assert list(loaded) == list(net.state_dict())
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy(), err_msg=name)
        assert str(loaded[name].dtype).split(".")[-1] == str(value.dtype).split(".")[-1]
    mine = glasstorch.nn.Sequential(glasstorch.nn.Linear(3, 4), glasstorch.nn.BatchNorm1d(4),
                                    glasstorch.nn.Conv1d(4, 2, 1))
    mine.load_state_dict(loaded)


def test_torch_saved_whole_modules_need_the_explicit_opt_in(tmp_path):
    path = tmp_path / "whole.pt"
    net = real_torch.nn.Sequential(real_torch.nn.Linear(3, 4), real_torch.nn.ReLU(), real_torch.nn.Linear(4, 2))
    real_torch.save(net, path)
    with pytest.raises(UnsafeLoadError, match="torch.nn.modules.container.Sequential.*weights_only=False"):
        load(path)
    with pytest.warns(UserWarning, match="trust"):
        mine = load(path, weights_only=False)
    assert isinstance(mine, glasstorch.nn.Sequential)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(mine(glasstorch.tensor(x)).detach().numpy(), net(real_torch.tensor(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    from glasstorch.serialization import safe_globals
    with safe_globals([(glasstorch.nn.Sequential, "torch.nn.modules.container.Sequential"),
                       (glasstorch.nn.Linear, "torch.nn.modules.linear.Linear"),
                       (glasstorch.nn.ReLU, "torch.nn.modules.activation.ReLU")]):
        assert isinstance(load(path), glasstorch.nn.Sequential)  # allowed by name, no warning
    with pytest.raises(UnsafeLoadError):
        load(path)  # the allowance ended with the block


def test_a_torch_file_naming_os_system_is_refused(tmp_path):
    import io as io_module
    path = tmp_path / "evil.pt"
    real_torch.save({"w": real_torch.ones(2)}, path)
    with zipfile.ZipFile(path) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    pkl = next(n for n in entries if n.endswith("data.pkl"))
    _Evil.sentinel = str(tmp_path / "pwned")
    entries[pkl] = pickle.dumps({"w": _Evil()}, protocol=2)
    with zipfile.ZipFile(path, "w") as z:
        for n, data in entries.items():
            z.writestr(n, data)
    for weights_only in (True,):
        with pytest.raises(UnsafeLoadError, match="not an allowed global"):
            load(path, weights_only=weights_only)
    assert not os.path.exists(_Evil.sentinel)


def test_npz_with_pickled_object_array_is_refused(tmp_path):
    _Evil.sentinel = str(tmp_path / "pwned")
    path = tmp_path / "evil.npz"
    with open(path, "wb") as f:
        np.savez(f, payload=np.array([_Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(UnsafeLoadError, match="pickled"):
        load(path)
    # the same object array smuggled into a glasstorch-looking file
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("__glasstorch__.npy", b"")
    with pytest.raises((UnsafeLoadError, ValueError)):
        load(path)
    assert not os.path.exists(_Evil.sentinel)


def test_plain_npz_and_npy_load_as_tensors(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.savez(tmp_path / "plain.npz", a=a)
    np.save(tmp_path / "plain.npy", a)
    assert_tensor_equal(load(tmp_path / "plain.npz")["a"], glasstorch.from_numpy(a))
    assert_tensor_equal(load(tmp_path / "plain.npy"), glasstorch.from_numpy(a))


def test_garbage_file_raises(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"hello, not a checkpoint")
    with pytest.raises(UnsafeLoadError, match="not a glasstorch, PyTorch"):
        load(tmp_path / "junk.pt")


# ----------------------------------------------------------------------------- safetensors
def read_safetensors_independently(path):
    """A reader written from the spec with torch.frombuffer, to check our writer's bytes."""
    import json
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    assert (8 + n) % 8 == 0
    data = bytearray(raw[8 + n:])
    dtypes = {"F32": real_torch.float32, "F64": real_torch.float64, "I64": real_torch.int64, "U8": real_torch.uint8,
              "BOOL": real_torch.bool, "F16": real_torch.float16, "I32": real_torch.int32, "BF16": real_torch.bfloat16}
    out, end = {}, 0
    for name, info in sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                             key=lambda kv: kv[1]["data_offsets"][0]):
        begin, stop = info["data_offsets"]
        assert begin == end  # contiguous, no holes (what the reference loader validates)
        end = stop
        chunk = data[begin:stop]
        out[name] = (real_torch.frombuffer(chunk, dtype=dtypes[info["dtype"]]) if chunk else
                     real_torch.empty(0, dtype=dtypes[info["dtype"]])).reshape(info["shape"])
    assert end == len(data)
    return out, header.get("__metadata__")


def test_safetensors_round_trip_and_readable_by_torch(tmp_path):
    rng = np.random.default_rng(1)
    tensors = {"layer.weight": glasstorch.from_numpy(rng.standard_normal((3, 5)).astype(np.float32)),
               "layer.bias": glasstorch.from_numpy(rng.standard_normal(3)),
               "steps": glasstorch.tensor(5), "mask": glasstorch.tensor([True, False, True]),
               "empty": glasstorch.zeros(0, 4), "half": glasstorch.ones(3, dtype=glasstorch.float16)}
    path = tmp_path / "model.safetensors"
    save(tensors, path)
    back = load(path)
    assert list(back) == list(tensors)
    for k in tensors:
        assert_tensor_equal(back[k], tensors[k])
    theirs, _ = read_safetensors_independently(path)
    for k in tensors:
        np.testing.assert_array_equal(theirs[k].numpy(), tensors[k].numpy())
        assert str(theirs[k].dtype).split(".")[1] == tensors[k].dtype.name


def test_safetensors_metadata_bf16_and_corruption(tmp_path):
    path = tmp_path / "m.safetensors"
    bf16 = real_torch.randn(4, 3).to(real_torch.bfloat16)
    # write BF16 bytes by hand, the way the reference writer lays them out
    import json
    header = json.dumps({"__metadata__": {"format": "pt"},
                         "w": {"dtype": "BF16", "shape": [4, 3], "data_offsets": [0, 24]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + bf16.view(real_torch.int16).numpy().tobytes())
    tensors, meta = serialization.load_safetensors(path, with_metadata=True)
    assert meta == {"format": "pt"}
    np.testing.assert_array_equal(tensors["w"].numpy(), bf16.float().numpy())
    serialization.save_safetensors({"a": glasstorch.ones(2)}, path, metadata={"epoch": 3})
    assert read_safetensors_independently(path)[1] == {"epoch": "3"}
    raw = path.read_bytes()
    path.write_bytes(raw[:-4])  # truncated data
    with pytest.raises(FileFormatError, match="offsets"):
        serialization.load_safetensors(path)
    with pytest.raises(TypeError, match="flat"):
        save([glasstorch.ones(1)], tmp_path / "x.safetensors")


def test_saved_file_has_normal_permissions(tmp_path):
    save(glasstorch.ones(1), tmp_path / "w.pt")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "w.pt").stat().st_mode & 0o777 == 0o666 & ~mask


def test_parameters_and_module_state_dicts(tmp_path):
    from glasstorch import nn
    layer = nn.Linear(3, 2)
    save({"p": layer.weight, "sd": layer.state_dict()}, tmp_path / "p.pt")
    back = load(tmp_path / "p.pt")
    assert isinstance(back["p"], nn.Parameter) and back["p"].requires_grad
    assert_tensor_equal(back["p"], layer.weight)
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(back["sd"])
    assert_tensor_equal(fresh.bias, layer.bias)
    layer.transform = lambda x: x  # a whole module saves, unless it holds something only pickle could store
    with pytest.raises(TypeError, match=r"can't store obj.transform of type function.*state_dict"):
        save(layer, tmp_path / "model.pt")


# ----------------------------------------------------------------------------- whole modules
class TiedNet(glasstorch.nn.Module):
    """A user's model: tied weights, a buffer, a plain attribute, a glasstorch function as an attribute."""

    def __init__(self):
        super().__init__()
        self.embed = glasstorch.nn.Embedding(7, 4)
        self.encoder = glasstorch.nn.TransformerEncoderLayer(4, 2, 8, batch_first=True, activation="gelu")
        self.bn = glasstorch.nn.BatchNorm1d(4)
        self.head = glasstorch.nn.Linear(4, 7, bias=False)
        self.head.weight = self.embed.weight  # tied
        self.register_buffer("scale", glasstorch.tensor(2.0), persistent=False)
        self.act = glasstorch.nn.functional.silu
        self.name = "tied"

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens) * self.scale)
        return self.head(self.act(self.bn(h.mean(1))))


def test_whole_module_round_trip_rebuilds_the_same_model(tmp_path):
    glasstorch.manual_seed(0)
    model = TiedNet()
    model.bn.running_mean.uniform_()
    model.eval()
    save(model, tmp_path / "model.pt")
    back = load(tmp_path / "model.pt", weights_only=False)  # a class of this program: the explicit opt-in
    assert type(back) is TiedNet and not back.training and back.name == "tied"
    assert back.head.weight is back.embed.weight and isinstance(back.head.weight, glasstorch.nn.Parameter)
    assert back.act is glasstorch.nn.functional.silu and "scale" not in back.state_dict()
    assert list(back.state_dict()) == list(model.state_dict())
    tokens = glasstorch.randint(0, 7, (3, 5))
    np.testing.assert_array_equal(back(tokens).detach().numpy(), model(tokens).detach().numpy())
    back.train()  # and it trains: gradients reach the rebuilt parameters
    back(tokens).sum().backward()
    assert back.embed.weight.grad is not None and back.encoder.linear1.weight.grad is not None


def test_glasstorch_layers_load_by_default_and_user_classes_need_an_opt_in(tmp_path):
    layers = glasstorch.nn.Sequential(glasstorch.nn.Conv2d(1, 2, 3), glasstorch.nn.ReLU(), glasstorch.nn.Flatten())
    save(layers, tmp_path / "seq.pt")
    assert str(load(tmp_path / "seq.pt")) == str(layers)  # weights_only=True: glasstorch's own classes only
    save(TiedNet(), tmp_path / "user.pt")
    with pytest.raises(UnsafeLoadError, match=r"class .*TiedNet, which is not one of glasstorch's own.*"
                                              r"weights_only=False.*add_safe_globals\(\[TiedNet\]\)"):
        load(tmp_path / "user.pt")
    with serialization.safe_globals([TiedNet]):
        assert type(load(tmp_path / "user.pt")) is TiedNet


def _forged(path, node):
    """A glasstorch file whose description names whatever `node` says (what an attacker could write)."""
    meta = json.dumps({"format": serialization.FORMAT, "object": node}).encode()
    with open(path, "wb") as f:
        np.savez(f, __glasstorch__=np.frombuffer(meta, dtype=np.uint8))


@pytest.mark.parametrize("node, message", [
    ({"module": {"id": 0, "class": "os:_wrap_close", "attributes": [], "parameters": [], "buffers": [],
                 "non_persistent": [], "modules": []}}, "not one of glasstorch's own"),
    ({"module": {"id": 0, "class": "glasstorch.tensor:Tensor", "attributes": [], "parameters": [], "buffers": [],
                 "non_persistent": [], "modules": []}}, "no such nn.Module subclass"),
    ({"module": {"id": 0, "class": "tests_canary_never_imported:Net", "attributes": [], "parameters": [],
                 "buffers": [], "non_persistent": [], "modules": []}}, "not one of glasstorch's own"),
    ({"function": "os:system"}, "not one of glasstorch's own"),
    ({"function": "glasstorch.nn.functional:Module"}, "not one of glasstorch's own"),
])
def test_a_forged_module_file_is_refused_and_runs_nothing(tmp_path, node, message):
    _forged(tmp_path / "evil.pt", node)
    for weights_only in (True, False):
        if weights_only is False and "canary" in json.dumps(node):
            with pytest.raises(UnsafeLoadError, match="no such nn.Module subclass"):
                load(tmp_path / "evil.pt", weights_only=False)
            assert "tests_canary_never_imported" not in sys.modules  # the file's module name was never imported
            continue
        if weights_only is False and node.get("module", {}).get("class", "").startswith("os:"):
            message_here = "no such nn.Module subclass"  # found (os is imported) but not a Module: refused
        else:
            message_here = message
        with pytest.raises(UnsafeLoadError, match=message_here):
            load(tmp_path / "evil.pt", weights_only=weights_only)
