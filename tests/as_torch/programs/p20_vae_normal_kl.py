"""A variational autoencoder, the way the VAE tutorials write it: an encoder gives q(z|x) = Normal(mu, sigma),
z = q.rsample(), the loss is the reconstruction term plus kl_divergence(q, Normal(0, 1)). The data are
synthetic and the initial weights fixed, so glasstorch and PyTorch train the same numbers: the training
loop draws its noise through `eps` from a fixed table (Normal(0, 1).icdf of evenly spread quantiles), and
the draws from the random generator are checked by their statistics only."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

torch.manual_seed(0)
N, D, H, Z = 64, 8, 16, 2
t = torch.linspace(0, 1, N).unsqueeze(1)
x_all = torch.sigmoid(3 * torch.sin(6.28 * t * torch.arange(1, D + 1) / D) + torch.cos(t * 5))  # in (0, 1)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(D, H)
        self.mu = nn.Linear(H, Z)
        self.logvar = nn.Linear(H, Z)
        self.dec1 = nn.Linear(Z, H)
        self.dec2 = nn.Linear(H, D)

    def encode(self, x):
        h = F.relu(self.enc(x))
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.dec2(torch.tanh(self.dec1(z)))  # logits of the pixels

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        q = Normal(mu, torch.exp(0.5 * logvar))
        z = q.loc + q.scale * eps  # what q.rsample() computes, with the noise given
        return self.decode(z), q


model = VAE()
with torch.no_grad():  # fixed initial weights (the two libraries' generators differ)
    for i, p in enumerate(model.parameters()):
        p.copy_(0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + i).reshape(p.shape))

# standard normal noise without a generator: the inverse CDF at evenly spread quantiles, shuffled by a fixed rule
quantiles = (torch.arange(N * Z, dtype=torch.float32) + 0.5) / (N * Z)
eps_table = Normal(0.0, 1.0).icdf(quantiles)[(torch.arange(N * Z) * 37) % (N * Z)].reshape(N, Z)
print(f"noise table: mean {eps_table.mean().item():.4f} std {eps_table.std().item():.4f}")

prior = Normal(torch.zeros(Z), torch.ones(Z))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(60):
    optimizer.zero_grad()
    logits, q = model(x_all, eps_table)
    recon = F.binary_cross_entropy_with_logits(logits, x_all, reduction="sum") / N
    kl = kl_divergence(q, prior).sum(-1).mean()
    loss = recon + kl
    loss.backward()
    optimizer.step()
    if epoch % 10 == 0 or epoch == 59:
        print(f"epoch {epoch:2d}  loss {loss.item():.4f}  recon {recon.item():.4f}  kl {kl.item():.4f}")

with torch.no_grad():
    mu, logvar = model.encode(x_all)
    q = Normal(mu, torch.exp(0.5 * logvar))
    print("posterior mean of the first point:", [round(v, 4) for v in q.mean[0].tolist()])
    print("posterior stddev of the first point:", [round(v, 4) for v in q.stddev[0].tolist()])
    print(f"log q(mu|x) summed: {q.log_prob(mu).sum().item():.3f}")
    print(f"entropy of q, mean: {q.entropy().mean().item():.4f}")
    # the generator's draws: only their statistics can agree between the two libraries
    z = q.rsample((4000,))
    print("rsample shape:", list(z.shape))
    close = (z.mean(0) - q.mean).abs() < 4 * q.stddev / math.sqrt(4000) + 1e-3
    print("draws centred on the mean:", bool(close.all()))
    samples = torch.sigmoid(model.decode(prior.sample((5,))))
    print("decoded samples in (0, 1):", bool(((samples > 0) & (samples < 1)).all()), list(samples.shape))
