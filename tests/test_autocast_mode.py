"""torch.autocast: the dtype every op gives under CPU autocast (float16) against torch's CPU autocast with
dtype=float16, the values of a small network against torch's, gradients reaching float32 parameters in
float32, the context manager / decorator / nesting / enabled=False behaviour, and the deprecated aliases.
The CUDA op lists run on the GPU (the `device` fixture) where one exists."""
import warnings

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import autocast_mode

torch.set_num_threads(1)
R = np.random.default_rng(0)
X, W = R.standard_normal((3, 4)), R.standard_normal((4, 4))

# name -> fn(L, F, x, w): x (3, 4) and w (4, 4) float32 tensors (x @ w is float16 under autocast)
OPS = {
    "matmul": lambda L, F, x, w: x @ w,
    "mm": lambda L, F, x, w: L.mm(x, w),
    "bmm": lambda L, F, x, w: L.bmm(x[None], w[None]),
    "addmm": lambda L, F, x, w: L.addmm(x[:, 0:1], x, w),
    "baddbmm": lambda L, F, x, w: L.baddbmm(x[None], x[None], w[None]),
    "linear": lambda L, F, x, w: F.linear(x, w, w[0]),
    "conv2d": lambda L, F, x, w: F.conv2d(x[None, None], w[None, None, :2, :2]),
    "conv1d": lambda L, F, x, w: F.conv1d(x[None], w[:, :3, None]),
    "prelu": lambda L, F, x, w: F.prelu(x, w[0, :1]),
    "mv": lambda L, F, x, w: L.mv(x, w[0]),
    "dot": lambda L, F, x, w: L.dot(x[0], w[0]),
    "outer": lambda L, F, x, w: L.outer(x[0], w[0]),
    "add_promotes": lambda L, F, x, w: (x @ w) + x,
    "cat_promotes": lambda L, F, x, w: L.cat([x @ w, x]),
    "relu_keeps": lambda L, F, x, w: L.relu(x @ w),
    "softmax": lambda L, F, x, w: L.softmax(x @ w, 1),
    "log_softmax": lambda L, F, x, w: F.log_softmax(x @ w, 1),
    "sum": lambda L, F, x, w: (x @ w).sum(),
    "exp": lambda L, F, x, w: (x @ w).exp(),
    "layer_norm": lambda L, F, x, w: F.layer_norm(x @ w, (4,)),
    "layer_norm_affine": lambda L, F, x, w: F.layer_norm(x @ w, (4,), w[0], w[1]),  # (float32 weights)
    "group_norm_affine": lambda L, F, x, w: F.group_norm((x @ w)[None], 3, w[0, :3], w[1, :3]),
    "batch_norm": lambda L, F, x, w: F.batch_norm(x @ w, L.zeros(4), L.ones(4), w[0], w[1], training=True),
    "batch_norm_eval": lambda L, F, x, w: F.batch_norm(x @ w, w[2], w[3].abs(), w[0], w[1]),
    "prod": lambda L, F, x, w: (x @ w).prod(),
    "inv": lambda L, F, x, w: L.linalg.inv((x @ w)[:3, :3] + 3 * L.eye(3)),
    "pad_reflect": lambda L, F, x, w: F.pad((x @ w)[None], (1, 1), mode="reflect"),
    "mse_loss": lambda L, F, x, w: F.mse_loss(x @ w, x),
    "l1_loss": lambda L, F, x, w: F.l1_loss(x @ w, x),
    "smooth_l1_loss": lambda L, F, x, w: F.smooth_l1_loss(x @ w, x),
    "cross_entropy": lambda L, F, x, w: F.cross_entropy(x @ w, L.tensor([0, 1, 3])),
    "nll_loss": lambda L, F, x, w: F.nll_loss(F.log_softmax(x @ w, 1), L.tensor([0, 1, 3])),
    "bce_with_logits": lambda L, F, x, w: F.binary_cross_entropy_with_logits(x @ w, x.sigmoid()),
    "bce": lambda L, F, x, w: F.binary_cross_entropy((x @ w).sigmoid(), x.sigmoid()),
    "kl_div": lambda L, F, x, w: F.kl_div(F.log_softmax(x @ w, 1), x.softmax(1), reduction="batchmean"),
    "float64_untouched": lambda L, F, x, w: x.double() @ w.double(),
}


def _dtype_name(t):
    return str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("name", list(OPS))
def test_cpu_autocast_gives_torchs_dtypes_and_values(name):
    results = {}
    for L in (glasstorch, torch):
        x, w = L.tensor(X, dtype=L.float32), L.tensor(W, dtype=L.float32)
        with L.autocast("cpu", dtype=L.float16):
            results[L.__name__] = OPS[name](L, L.nn.functional, x, w)
    ours, theirs = results["glasstorch"], results["torch"]
    assert _dtype_name(ours) == _dtype_name(theirs)
    tol = 2e-2 if _dtype_name(theirs) == "float16" or name not in ("mv", "dot", "outer") else 1e-5
    np.testing.assert_allclose(ours.detach().numpy().astype(np.float64), theirs.detach().numpy().astype(np.float64),
                               rtol=tol, atol=tol)


def test_a_network_under_autocast_matches_torch_and_its_gradients_are_float32():
    out = {}
    for L in (glasstorch, torch):
        L.manual_seed(0)
        model = L.nn.Sequential(L.nn.Linear(4, 8), L.nn.ReLU(), L.nn.Linear(8, 3))
        if L is torch:  # the same weights on both sides
            for p, q in zip(model.parameters(), out["glasstorch"][2]):
                p.data = torch.tensor(q)
        x = L.tensor(X, dtype=L.float32)
        with L.autocast("cpu", dtype=L.float16):
            logits = model(x)
            loss = L.nn.functional.cross_entropy(logits, L.tensor([0, 2, 1]))
        loss.backward()
        out[L.__name__] = (logits, loss, [p.detach().numpy().copy() for p in model.parameters()],
                           [p.grad for p in model.parameters()])
    (g_logits, g_loss, _, g_grads), (t_logits, t_loss, _, t_grads) = out["glasstorch"], out["torch"]
    assert g_logits.dtype == glasstorch.float16 and g_loss.dtype == glasstorch.float32
    np.testing.assert_allclose(g_logits.detach().numpy(), t_logits.detach().numpy(), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(g_loss.item(), t_loss.item(), rtol=1e-3)
    for g, t in zip(g_grads, t_grads):
        assert g.dtype == glasstorch.float32
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=2e-2, atol=2e-3)


def test_context_manager_decorator_nesting_and_state():
    assert not glasstorch.is_autocast_enabled("cpu")
    x = glasstorch.ones(2, 2)

    @glasstorch.autocast("cpu")
    def product():
        return x @ x

    assert product().dtype == glasstorch.float16
    with glasstorch.autocast("cpu"):
        assert glasstorch.is_autocast_enabled("cpu") and not glasstorch.is_autocast_enabled()  # ("cuda" by default)
        assert glasstorch.get_autocast_dtype("cpu") == glasstorch.float16
        with glasstorch.autocast("cpu", enabled=False):  # a region that needs full precision
            assert (x @ x).dtype == glasstorch.float32
        assert (x @ x).dtype == glasstorch.float16
        with glasstorch.amp.autocast("cpu", dtype=glasstorch.float32):
            assert (x @ x).dtype == glasstorch.float32
    assert not glasstorch.is_autocast_enabled("cpu") and (x @ x).dtype == glasstorch.float32
    with pytest.raises(RuntimeError):
        with glasstorch.autocast("cpu"):
            raise RuntimeError("leaves the block")
    assert not glasstorch.is_autocast_enabled("cpu")


def test_bad_device_type_raises_like_torch():
    for L in (glasstorch, torch):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            L.autocast(0)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        glasstorch.autocast("tpu")  # (torch: an unknown device string)


def test_deprecated_aliases_warn_and_work():
    x = glasstorch.ones(2, 2)
    with pytest.warns(FutureWarning, match="torch.cpu.amp.autocast"):
        ctx = glasstorch.cpu.amp.autocast()
    with ctx:
        assert (x @ x).dtype == glasstorch.float16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with glasstorch.cuda.amp.autocast():
            assert glasstorch.is_autocast_enabled() == glasstorch.cuda.is_available()


@pytest.mark.skipif(glasstorch.cuda.is_available(), reason="checks the behaviour without a GPU")
def test_cuda_autocast_without_a_gpu_warns_and_stays_off_like_torch():
    with pytest.warns(UserWarning, match="CUDA is not available. Disabling"):
        with glasstorch.autocast("cuda"):
            assert not glasstorch.is_autocast_enabled("cuda")
            assert (glasstorch.ones(2, 2) @ glasstorch.ones(2, 2)).dtype == glasstorch.float32


def test_cuda_policy_on_the_gpu(cuda_device):
    """torch's CUDA lists: products in float16; softmax, sums, exp, norms and losses in float32; bce refuses."""
    F = glasstorch.nn.functional
    x = glasstorch.tensor(X, dtype=glasstorch.float32, device=cuda_device)
    w = glasstorch.tensor(W, dtype=glasstorch.float32, device=cuda_device)
    with glasstorch.autocast("cuda"):
        y = x @ w
        assert y.dtype == glasstorch.float16 and y.device.type == "cuda"
        for fn in (lambda: y.softmax(1), lambda: y.sum(), lambda: y.exp(), lambda: F.layer_norm(y, (4,)),
                   lambda: F.mse_loss(y, x)):
            assert fn().dtype == glasstorch.float32
        assert glasstorch.relu(y).dtype == glasstorch.float16
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            F.binary_cross_entropy(y.sigmoid(), x.sigmoid())
    w.requires_grad_(True)
    with glasstorch.autocast("cuda"):
        loss = ((x @ w).float() ** 2).mean()
    loss.backward()
    assert w.grad.dtype == glasstorch.float32 and w.grad.device.type == "cuda"


def test_every_name_in_the_policy_is_one_an_op_passes():
    """A name no op passes to autocast (a typo) would silently never cast."""
    import pathlib
    import re
    root = pathlib.Path(glasstorch.__file__).parent
    source = "".join(p.read_text() for p in root.rglob("*.py") if p.name != "autocast_mode.py")
    passed = set(re.findall(r"autocast_inputs\(\"(\w+)\"", source))
    passed |= set(re.findall(r"float_operand\(.*, \"(\w+)\"\)", source))
    passed |= {"reflection_pad", "replication_pad"}  # (F.pad passes f"{mode}ion_pad" / "replication_pad")
    for device, lists in autocast_mode.POLICY.items():
        assert lists["lower"] | lists["fp32"] <= passed, (device, sorted((lists["lower"] | lists["fp32"]) - passed))
