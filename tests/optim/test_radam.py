"""RAdam stepped side by side with torch.optim.RAdam for K steps (through the rectification switch at rho_t = 5)."""
import zlib

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import optim

SHAPES = [(7, 5), (5,), (3, 2, 4)]
K = 25
CASES = [dict(), dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
         dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, maximize=True), dict(lr=0.01, betas=(0.9, 0.5))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", CASES, ids=[str(c) for c in CASES])
def test_radam_matches_torch_for_k_steps_and_state_dict(kwargs, dtype):
    rng = np.random.default_rng(zlib.crc32(str(kwargs).encode()))
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [glasstorch.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt, topt = optim.RAdam(ours, **kwargs), torch.optim.RAdam(theirs, **kwargs)
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-12)
    for step in range(K):
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(p.shape).astype(dtype)
            p.grad, q.grad = glasstorch.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"step {step}")
        if step == K // 2:  # save, rebuild, load: the run continues identically
            opt2 = optim.RAdam(ours, **kwargs)
            opt2.load_state_dict(opt.state_dict())
            opt = opt2
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    for index, tstate in tsd["state"].items():
        assert sd["state"][index].keys() == tstate.keys()
        for key, value in tstate.items():
            np.testing.assert_allclose(sd["state"][index][key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6)


def test_radam_rejects_bad_options_as_torch():
    p = [glasstorch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.RAdam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.RAdam(p, lr=-1)
