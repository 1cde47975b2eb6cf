"""`torch.distributions`: probability distributions with torch's API (floor 4, beside nn).

    m = Normal(loc, scale)
    x = m.rsample()           # reparameterised: gradients flow to loc and scale (a VAE's encoder)
    m.log_prob(x)             # differentiable: REINFORCE's log pi(a|s)
    kl_divergence(m, Normal(0., 1.))

Each family is one file: distribution.py (the base class: shapes, validation), constraints.py (supports and
parameter checks), utils.py, then normal, bernoulli, categorical, one_hot_categorical, uniform, exponential,
beta, multivariate_normal, independent, and kl.py (closed-form divergences). Draws come from glasstorch's
generator (`manual_seed`), so their values differ from torch's; their distributions do not.
"""
from . import constraints, kl
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Independent", "MultivariateNormal",
           "Normal", "OneHotCategorical", "Uniform", "constraints", "kl", "kl_divergence", "register_kl"]
