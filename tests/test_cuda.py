"""The GPU backend (CuPy): torch's device semantics, and training on the GPU gives the CPU's numbers.

Every op is also compared with torch on the GPU in tests/ops/test_op_table.py (the `device` fixture of
tests/conftest.py). Tests taking `device` run on "cpu" and, with CuPy and a GPU, on "cuda"; those taking
`cuda_device` only make sense on a GPU and are skipped without one. Without CuPy and a GPU the CPU-side
behaviour is checked too (a clear error, `is_available()` False).
"""
import numpy as np
import pytest

import glasstorch
from glasstorch import nn


@pytest.mark.skipif(glasstorch.cuda.is_available(), reason="checks the machine without a GPU")
def test_without_a_gpu_cuda_is_a_clear_error():
    assert glasstorch.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        glasstorch.zeros(2).to("cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        nn.Linear(2, 2).cuda()
    assert glasstorch.zeros(2).cpu().device == glasstorch.device("cpu")


def test_to_cuda_and_back(cuda_device):
    x = glasstorch.arange(6.0).reshape(2, 3)
    y = x.to(cuda_device)
    assert y.is_cuda and not x.is_cuda
    assert y.device == glasstorch.device("cuda:0") and y.get_device() == 0 and x.get_device() == -1
    assert "device='cuda:0'" in repr(y)
    assert y.cuda() is y and x.cpu() is x
    np.testing.assert_array_equal(y.cpu().numpy(), x.numpy())
    assert y.sum().item() == 15.0 and y.tolist() == x.tolist()
    with pytest.raises(TypeError, match="Use Tensor.cpu"):
        y.numpy()


def test_cuda_module_reports_the_gpu(cuda_device):
    assert glasstorch.cuda.device_count() >= 1 and glasstorch.cuda.current_device() == 0
    assert glasstorch.cuda.get_device_name(0) == glasstorch.cuda.get_device_name()
    assert glasstorch.cuda.get_device_name() and isinstance(glasstorch.cuda.get_device_name(), str)
    before = glasstorch.cuda.memory_allocated()
    x = glasstorch.zeros(1024, 1024, device=cuda_device)  # 4 MiB
    assert glasstorch.cuda.memory_allocated() - before >= x.nbytes
    glasstorch.cuda.synchronize()
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        glasstorch.zeros(2, device=f"cuda:{glasstorch.cuda.device_count()}")


def test_mixed_devices_raise_torchs_error_but_cpu_scalars_join(cuda_device):
    a, b = glasstorch.ones(3, device=cuda_device), glasstorch.ones(3)
    with pytest.raises(RuntimeError, match="same device"):
        a + b
    out = a * glasstorch.tensor(2.0) + 1  # 0-dim CPU tensors and Python numbers are fine, as in torch
    assert out.is_cuda and out.tolist() == [3.0, 3.0, 3.0]


def test_gradient_flows_back_across_to(device):
    x = glasstorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to(device)
    assert y.device.type == device
    (y ** 2).sum().backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_creation_functions_follow_the_device(device):
    x = glasstorch.randn(2, 3, device=device)
    for t in (x, glasstorch.zeros_like(x), glasstorch.ones_like(x), glasstorch.full_like(x, 2.0),
              glasstorch.rand_like(x), glasstorch.tensor(x), glasstorch.zeros(2, device=device)):
        assert t.device.type == device and t.is_cuda == (device == "cuda")
    glasstorch.manual_seed(3)
    on_cpu = glasstorch.randn(4, 5)
    glasstorch.manual_seed(3)
    on_gpu = glasstorch.randn(4, 5, device=device)  # drawn on the host: the same numbers on both devices
    np.testing.assert_array_equal(on_gpu.cpu().numpy(), on_cpu.numpy())


def _cnn():
    # no bias before BatchNorm: its true gradient is 0, and Adam would blow float32 noise up to full-size steps
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.0),
                         nn.Linear(8, 10))


def test_training_on_the_gpu_matches_the_cpu(device):
    """Same weights, same batches, Adam: five steps of a small CNN on CuPy stay within float32 noise of NumPy
    (on "cpu": a copied model trains exactly like the original)."""
    glasstorch.manual_seed(0)
    cpu_model = _cnn()
    gpu_model = _cnn()
    gpu_model.load_state_dict(cpu_model.state_dict())
    first_param = next(gpu_model.parameters())
    assert gpu_model.to(device) is gpu_model and next(gpu_model.parameters()) is first_param  # same Parameters
    assert all(p.device.type == device for p in gpu_model.parameters())
    assert all(b.device.type == device for b in gpu_model.buffers())
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    losses = []
    for model, on in ((cpu_model, "cpu"), (gpu_model, device)):
        opt = glasstorch.optim.Adam(model.parameters(), lr=1e-2)
        loader = glasstorch.utils.data.DataLoader(
            glasstorch.utils.data.TensorDataset(glasstorch.tensor(X, device=on), glasstorch.tensor(y, device=on)),
            batch_size=8)
        run = []
        for xb, yb in loader:
            assert xb.device.type == on
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
        assert all(s["exp_avg"].device.type == on for s in opt.state.values())
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    gpu_state = {k: v.cpu().numpy() for k, v in gpu_model.state_dict().items()}
    for key, value in cpu_model.state_dict().items():
        np.testing.assert_allclose(gpu_state[key], value.numpy(), rtol=1e-3, atol=1e-5, err_msg=key)
    gpu_model.eval()
    with glasstorch.no_grad():
        on_gpu = gpu_model(glasstorch.tensor(X, device=device)).argmax(1).cpu().numpy()
    cpu_model.eval()
    with glasstorch.no_grad():
        np.testing.assert_array_equal(on_gpu, cpu_model(glasstorch.tensor(X)).argmax(1).numpy())


def test_save_on_gpu_load_on_cpu(tmp_path, device):
    model = nn.Linear(3, 2).to(device)
    glasstorch.save(model.state_dict(), tmp_path / "m.pt")
    back = nn.Linear(3, 2)
    back.load_state_dict(glasstorch.load(tmp_path / "m.pt"))
    np.testing.assert_array_equal(back.weight.detach().numpy(), model.weight.detach().cpu().numpy())
