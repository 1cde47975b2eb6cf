"""PyTorch interop: state_dicts both ways and safetensors files give the same weights and outputs."""
from collections import OrderedDict

import numpy as np
import pytest
import torch as real_torch

import glasstorch
from glasstorch import interop
from glasstorch.serialization import load, save

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def random_state_dict(seed):
    rng = np.random.default_rng(seed)
    sd = OrderedDict()
    for i, dtype in enumerate(DTYPES):
        shape = tuple(rng.integers(0, 4, rng.integers(0, 4)))
        sd[f"block{i}.{dtype}"] = glasstorch.from_numpy(np.asarray(rng.standard_normal(shape) * 20).astype(dtype))
    return sd


@pytest.mark.parametrize("seed", range(3))
def test_state_dict_round_trip_both_ways(seed):
    sd = random_state_dict(seed)
    theirs = interop.to_torch_state_dict(sd)
    assert list(theirs) == list(sd)
    for k, v in sd.items():
        assert isinstance(theirs[k], real_torch.Tensor)
        assert str(theirs[k].dtype) == "torch." + v.dtype.name
        np.testing.assert_array_equal(theirs[k].numpy(), v.numpy())
    back = interop.from_torch_state_dict(theirs)
    for k, v in sd.items():
        assert isinstance(back[k], glasstorch.Tensor) and back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())
    # copies, not shared memory: changing one side leaves the other alone
    theirs["block0.float32"].add_(1) if theirs["block0.float32"].numel() else None
    np.testing.assert_array_equal(back["block0.float32"].numpy(), sd["block0.float32"].numpy())


def test_bfloat16_and_requires_grad():
    t = real_torch.randn(3, 2).to(real_torch.bfloat16)
    g = interop.from_torch(t)
    assert g.dtype == glasstorch.float32
    np.testing.assert_array_equal(g.numpy(), t.float().numpy())
    p = interop.to_torch(glasstorch.ones(2, requires_grad=True))
    assert p.requires_grad and p.is_leaf


def mlp_torch(sd, x):
    h = real_torch.relu(x @ sd["0.weight"].T + sd["0.bias"])
    return h @ sd["2.weight"].T + sd["2.bias"]


def mlp_glasstorch(sd, x):
    h = glasstorch.relu(x @ sd["0.weight"].T + sd["0.bias"])
    return h @ sd["2.weight"].T + sd["2.bias"]


def test_weights_give_same_outputs_both_frameworks(tmp_path):
    """Weights made in glasstorch compute the same function in torch, directly and via a safetensors file."""
    glasstorch.manual_seed(0)
    sd = OrderedDict([("0.weight", glasstorch.randn(8, 5)), ("0.bias", glasstorch.randn(8)),
                      ("2.weight", glasstorch.randn(3, 8)), ("2.bias", glasstorch.randn(3))])
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    ours = mlp_glasstorch(sd, glasstorch.from_numpy(x)).numpy()
    np.testing.assert_allclose(mlp_torch(interop.to_torch_state_dict(sd), real_torch.from_numpy(x)).numpy(),
                               ours, rtol=1e-5, atol=1e-6)
    path = tmp_path / "mlp.safetensors"
    interop.save_safetensors(sd, path)
    theirs_from_file = interop.to_torch_state_dict(interop.load_safetensors(path))
    np.testing.assert_allclose(mlp_torch(theirs_from_file, real_torch.from_numpy(x)).numpy(), ours, rtol=1e-5,
                               atol=1e-6)
    # and torch tensors written to safetensors come back into glasstorch
    interop.save_safetensors(interop.to_torch_state_dict(sd), path)
    np.testing.assert_array_equal(load(path)["2.weight"].numpy(), sd["2.weight"].numpy())


def test_module_round_trip_with_nn(tmp_path):
    """A glasstorch model's weights in the same torch architecture give the same outputs, and the reverse."""
    nn = glasstorch.nn
    glasstorch.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    theirs = real_torch.nn.Sequential(real_torch.nn.Conv2d(1, 4, 3), real_torch.nn.ReLU(), real_torch.nn.Flatten(),
                                      real_torch.nn.Linear(4 * 6 * 6, 10))
    x = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)
    theirs.load_state_dict(interop.to_torch_state_dict(ours))
    with real_torch.no_grad():
        np.testing.assert_allclose(theirs(real_torch.from_numpy(x)).numpy(),
                                   ours(glasstorch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    real_torch.manual_seed(3)
    theirs = real_torch.nn.Sequential(real_torch.nn.Conv2d(1, 4, 3), real_torch.nn.ReLU(), real_torch.nn.Flatten(),
                                      real_torch.nn.Linear(4 * 6 * 6, 10))
    save(interop.from_torch_state_dict(theirs), tmp_path / "w.pt")
    ours.load_state_dict(load(tmp_path / "w.pt"))
    with real_torch.no_grad():
        np.testing.assert_allclose(ours(glasstorch.from_numpy(x)).detach().numpy(),
                                   theirs(real_torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-5)


def test_reference_safetensors_library_reads_and_writes_our_files(tmp_path):
    """The reference reader (`safetensors`, a test dependency in pyproject.toml) loads our files, and its files
    load into glasstorch."""
    import safetensors.torch as st
    sd = random_state_dict(5)
    interop.save_safetensors(sd, tmp_path / "ours.safetensors", metadata={"format": "pt"})
    theirs = st.load_file(tmp_path / "ours.safetensors")
    for k, v in sd.items():
        np.testing.assert_array_equal(theirs[k].numpy(), v.numpy())
    written = {"w": real_torch.randn(3, 4), "half": real_torch.randn(2).half(), "bf16": real_torch.randn(2).bfloat16()}
    st.save_file(written, tmp_path / "theirs.safetensors")
    back = load(tmp_path / "theirs.safetensors")
    for k, v in written.items():
        np.testing.assert_array_equal(back[k].numpy(), v.float().numpy() if k == "bf16" else v.numpy())
