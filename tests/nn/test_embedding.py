"""nn.Embedding / F.embedding against torch: padding_idx, max_norm (in-place renorm), scale_grad_by_freq."""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import nn


@pytest.mark.parametrize("kwargs", [dict(), dict(padding_idx=2), dict(padding_idx=-1), dict(max_norm=1.0),
                                    dict(max_norm=0.5, norm_type=1.0), dict(scale_grad_by_freq=True),
                                    dict(padding_idx=0, max_norm=1.5, scale_grad_by_freq=True)])
def test_embedding_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    theirs = torch.nn.Embedding(10, 4, **kwargs)
    ours = nn.Embedding(10, 4, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    idx = rng.integers(0, 10, size=(3, 5))
    idx[0, :3] = [2, 2, 0]  # repeats (scale_grad_by_freq) and the padding rows
    out_o, out_t = ours(glasstorch.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy(), rtol=1e-6)
    # max_norm renormalised the rows used, in place, in the weight itself
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
    w = rng.standard_normal((3, 5, 4)).astype(np.float32)
    (out_o * glasstorch.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_functional_embedding_with_options_matches_torch():
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((6, 3)).astype(np.float32) * 3
    wo, wt = glasstorch.tensor(weight.copy(), requires_grad=True), torch.tensor(weight.copy(), requires_grad=True)
    idx = np.array([[1, 1, 5], [0, 5, 5]])
    a = glasstorch.nn.functional.embedding(glasstorch.tensor(idx), wo, padding_idx=5, scale_grad_by_freq=True)
    b = torch.nn.functional.embedding(torch.tensor(idx), wt, padding_idx=5, scale_grad_by_freq=True)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy())
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(wo.grad.numpy(), wt.grad.numpy())
    # max_norm on a plain tensor renormalises it in place too
    wo2, wt2 = glasstorch.tensor(weight.copy()), torch.tensor(weight.copy())
    glasstorch.nn.functional.embedding(glasstorch.tensor(idx), wo2, max_norm=1.0)
    torch.nn.functional.embedding(torch.tensor(idx), wt2, max_norm=1.0)
    np.testing.assert_allclose(wo2.numpy(), wt2.numpy(), rtol=1e-6)
    assert not np.allclose(wo2.numpy(), weight)


def test_embedding_errors_as_torch():
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises((IndexError, RuntimeError)):
        nn.Embedding(5, 2)(glasstorch.tensor([5]))
