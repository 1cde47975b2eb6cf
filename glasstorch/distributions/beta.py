"""Beta(concentration1, concentration0): density x^(a-1) (1-x)^(b-1) / B(a, b) on [0, 1] (a = concentration1)."""
import numbers

import numpy as np

from .. import backend
from ..ops.special import beta_rsample
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class Beta(Distribution):
    """The beta distribution; its log_prob, entropy and KL use lgamma and digamma (differentiable).

    Example:
        >>> Beta(torch.tensor([2.0]), torch.tensor([2.0])).log_prob(torch.tensor([0.5]))
        tensor([0.4055])
    """
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        scalar = isinstance(concentration1, numbers.Real) and isinstance(concentration0, numbers.Real)
        batch_shape = Size() if scalar else self.concentration1.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        super(Beta, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        """(a - 1) / (a + b - 2); 1 or 0 when only one concentration is below 1; 1 when both are (as torch)"""
        a1, b1 = (self.concentration1 - 1).clamp(min=0), (self.concentration0 - 1).clamp(min=0)
        both_below_one = (self.concentration1 < 1) & (self.concentration0 < 1)
        return (a1 / (a1 + b1)).masked_fill(both_below_one, 1.0)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=Size()):
        """Draws from glasstorch's generator (NumPy's beta sampler), differentiable in both concentrations by
        implicit reparameterisation (ops/special.py: dz/da = -(dF/da) / f(z))."""
        shape = self._extended_shape(sample_shape)
        a, b = self.concentration1.expand(shape), self.concentration0.expand(shape)
        draws = backend.rng().beta(backend.to_host(a.detach()._array), backend.to_host(b.detach()._array))
        z = Tensor._make(np.asarray(draws, dtype=a.dtype.np)).to(a.device)
        return beta_rsample(a, b, z)

    def log_prob(self, value):
        """(a - 1) log x + (b - 1) log(1 - x) + lgamma(a + b) - lgamma(a) - lgamma(b)"""
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return ((a - 1) * value.log() + (b - 1) * (1 - value).log()
                + (a + b).lgamma() - a.lgamma() - b.lgamma())

    def entropy(self):
        """log B(a, b) - (a - 1) psi(a) - (b - 1) psi(b) + (a + b - 2) psi(a + b)"""
        a, b = self.concentration1, self.concentration0
        total = a + b
        return (a.lgamma() + b.lgamma() - total.lgamma() - (2 - total) * total.digamma()
                - (a - 1) * a.digamma() - (b - 1) * b.digamma())
