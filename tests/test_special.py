"""torch.special: every name glasstorch.special offers gives torch.special's values (the gradients of the gamma
family, erfinv and ndtri are checked by the op table, tests/ops/test_op_table.py); polygamma's argument errors."""
import numpy as np
import pytest
import torch

import glasstorch

X = np.array([0.05, 0.3, 0.5, 0.9, 1.7, 4.2, 11.0])


@pytest.mark.parametrize("name", glasstorch.special.__all__)
def test_names_and_values_match_torch_special(name):
    x = X if name != "erfinv" else X / 12
    args = (1,) if name == "polygamma" else ()
    kwargs = {"dim": 0} if name in ("softmax", "log_softmax", "logsumexp") else {}
    if name == "polygamma":
        ours = glasstorch.special.polygamma(1, glasstorch.tensor(x))
        theirs = torch.special.polygamma(1, torch.tensor(x))
    else:
        ours = getattr(glasstorch.special, name)(glasstorch.tensor(x), *args, **kwargs)
        theirs = getattr(torch.special, name)(torch.tensor(x), *args, **kwargs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_poles_like_torch():
    x = [0.0, -1.0, -2.5, 3.0]
    np.testing.assert_allclose(glasstorch.lgamma(glasstorch.tensor(x)).numpy(), torch.lgamma(torch.tensor(x)).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(glasstorch.digamma(glasstorch.tensor(x)).numpy(),
                               torch.digamma(torch.tensor(x)).numpy(), rtol=1e-5)
    np.testing.assert_array_equal(glasstorch.erfinv(glasstorch.tensor([-1.0, 1.0, 1.5])).numpy(),
                                  torch.erfinv(torch.tensor([-1.0, 1.0, 1.5])).numpy())


def test_integer_inputs_give_the_default_float_like_torch():
    assert glasstorch.lgamma(glasstorch.tensor([3])).dtype == glasstorch.float32
    assert torch.lgamma(torch.tensor([3])).dtype == torch.float32


def test_polygamma_argument_errors():
    with pytest.raises(RuntimeError, match="does not support negative n"):
        glasstorch.polygamma(-1, glasstorch.tensor([1.0]))
    with pytest.raises(TypeError):
        glasstorch.polygamma(1.5, glasstorch.tensor([1.0]))
    np.testing.assert_array_equal(glasstorch.polygamma(0, glasstorch.tensor([2.0])).numpy(),
                                  glasstorch.digamma(glasstorch.tensor([2.0])).numpy())
