"""Bayesian inference with torch.distributions, as the probabilistic-programming tutorials do it by hand:
a Beta-Bernoulli coin (conjugate update, posterior summaries, the MAP by gradient ascent on log_prob) and
Bayesian linear regression with a MultivariateNormal posterior (closed form, its predictive density, the KL
from the prior, and a variational fit of a diagonal Gaussian by maximising the ELBO with fixed noise)."""
import math

import torch
from torch.distributions import Beta, Independent, MultivariateNormal, Normal, kl_divergence

torch.manual_seed(0)

# --- a coin: Beta(2, 2) prior, 14 flips
flips = torch.tensor([1., 0., 1., 1., 1., 0., 1., 1., 0., 1., 1., 1., 0., 1.])
prior = Beta(torch.tensor(2.0), torch.tensor(2.0))
posterior = Beta(prior.concentration1 + flips.sum(), prior.concentration0 + (1 - flips).sum())
print(f"posterior Beta({posterior.concentration1.item():.0f}, {posterior.concentration0.item():.0f})  "
      f"mean {posterior.mean.item():.5f}  mode {posterior.mode.item():.5f}  std {posterior.stddev.item():.5f}")
print(f"entropy {posterior.entropy().item():.5f}  KL(posterior || prior) {kl_divergence(posterior, prior).item():.5f}")
grid = torch.linspace(0.05, 0.95, 7)
print("log density on a grid:", [round(v, 4) for v in posterior.log_prob(grid).tolist()])
draws = posterior.sample((20000,))
print("draws inside (0, 1):", bool(((draws > 0) & (draws < 1)).all()),
      " their mean near the posterior mean:", abs(draws.mean().item() - posterior.mean.item()) < 0.01)

# the MAP estimate by gradient ascent on the log posterior (theta = sigmoid(u) keeps it inside (0, 1))
u = torch.zeros((), requires_grad=True)
opt = torch.optim.SGD([u], lr=0.5)
for _ in range(200):
    opt.zero_grad()
    loss = -posterior.log_prob(torch.sigmoid(u))
    loss.backward()
    opt.step()
print(f"MAP by gradient ascent {torch.sigmoid(u).item():.4f}")

# gradient of the KL with respect to the prior's concentrations (lgamma and digamma under the hood)
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
kl_divergence(posterior, Beta(a, b)).backward()
print(f"dKL/da {a.grad.item():.5f}  dKL/db {b.grad.item():.5f}")

# --- Bayesian linear regression: w ~ N(0, alpha^-1 I), y = X w + noise (precision beta)
n, alpha, beta = 20, 2.0, 25.0
x = torch.linspace(-1, 1, n)
X = torch.stack([torch.ones(n), x, x ** 2], 1)
y = 0.5 - 1.2 * x + 0.8 * x ** 2 + 0.2 * torch.sin(9 * x)
precision = alpha * torch.eye(3) + beta * X.T @ X
precision = (precision + precision.T) / 2  # exactly symmetric, as the positive_definite check demands
posterior_w = MultivariateNormal(torch.linalg.solve(precision, beta * X.T @ y), precision_matrix=precision)
prior_w = MultivariateNormal(torch.zeros(3), covariance_matrix=torch.eye(3) / alpha)
print("posterior mean:", [round(v, 5) for v in posterior_w.mean.tolist()])
print("posterior std:", [round(v, 5) for v in posterior_w.stddev.tolist()])
print(f"KL(posterior || prior) {kl_divergence(posterior_w, prior_w).item():.4f}  "
      f"entropy {posterior_w.entropy().item():.4f}")
x_new = torch.tensor([1.0, 0.5, 0.25])
mean_pred = x_new @ posterior_w.mean
var_pred = 1 / beta + x_new @ posterior_w.covariance_matrix @ x_new
predictive = Normal(mean_pred, var_pred.sqrt())
zero = torch.tensor(0.0)
print(f"predictive at x=0.5: {mean_pred.item():.5f} +- {var_pred.sqrt().item():.5f}  "
      f"log p(y=0) {predictive.log_prob(zero).item():.4f}  P(y<0) {predictive.cdf(zero).item():.5f}")
w_draws = posterior_w.sample((20000,))
print("draws have the posterior covariance:",
      bool((torch.cov(w_draws.T) - posterior_w.covariance_matrix).abs().max() < 0.01))

# --- variational inference: q(w) = N(m, diag(s^2)) fitted by the ELBO, noise from a fixed quadrature table
m = torch.zeros(3, requires_grad=True)
log_s = torch.full((3,), -1.0, requires_grad=True)
eps = Normal(0.0, 1.0).icdf((torch.arange(24, dtype=torch.float32) + 0.5) / 24)
eps = torch.stack([eps, eps.flip(0), eps[(torch.arange(24) * 5) % 24]], 1)  # 24 draws of 3-D noise
likelihood_noise = 1 / math.sqrt(beta)
opt = torch.optim.Adam([m, log_s], lr=0.05)
for step in range(300):
    opt.zero_grad()
    q = Independent(Normal(m, log_s.exp()), 1)
    w = q.mean + q.base_dist.scale * eps  # q.rsample() with the noise given
    log_lik = Normal(w @ X.T, likelihood_noise).log_prob(y).sum(-1).mean()
    elbo = log_lik + prior_w.log_prob(w).mean() + q.entropy()
    (-elbo).backward()
    opt.step()
print(f"ELBO {elbo.item():.3f}")
print("variational mean:", [round(v, 3) for v in m.tolist()])
print("variational std:", [round(v, 4) for v in log_s.exp().tolist()])
