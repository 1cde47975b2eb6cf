"""REINFORCE (the policy-gradient tutorials' loop) on a 3-armed bandit with Categorical: sample an action,
loss = -log_prob(action) * (reward - baseline). The sampled run differs between libraries (their generators
do), so it prints only what any run shows; the exact policy gradient, summed over enumerate_support(), and a
small gridworld's episode with fixed actions print numbers both libraries compute alike."""
import torch
import torch.nn as nn
from torch.distributions import Bernoulli, Categorical

torch.manual_seed(0)
rewards = torch.tensor([0.2, 0.5, 0.9])  # each arm's (deterministic) payout

# the exact gradient of the expected reward, E_a[r(a) grad log pi(a)], with the support enumerated
logits = torch.tensor([0.3, -0.2, 0.1], requires_grad=True)
policy = Categorical(logits=logits)
actions = policy.enumerate_support()
expected_reward = (policy.probs * rewards[actions]).sum()
surrogate = (policy.probs.detach() * policy.log_prob(actions) * rewards[actions]).sum()
surrogate.backward()
print("probs:", [round(p, 5) for p in policy.probs.tolist()])
print(f"entropy: {policy.entropy().item():.5f}  expected reward: {expected_reward.item():.5f}")
print("policy gradient:", [round(g, 5) for g in logits.grad.tolist()])

# REINFORCE with sampled actions and a running-mean baseline
logits = nn.Parameter(torch.zeros(3))
optimizer = torch.optim.Adam([logits], lr=0.05)
baseline = 0.0
for step in range(400):
    m = Categorical(logits=logits)
    action = m.sample((16,))
    reward = rewards[action]
    loss = -(m.log_prob(action) * (reward - baseline)).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    baseline = 0.9 * baseline + 0.1 * reward.mean().item()
final = Categorical(logits=logits.detach())
print("learned to pull the best arm:", final.probs.argmax().item() == 2, final.probs[2].item() > 0.9)
print("sample dtype is int64:", final.sample().dtype == torch.int64, "shape:", list(final.sample((4, 2)).shape))

# a 1-D gridworld: a policy network, one episode with a fixed action sequence, discounted returns
net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
with torch.no_grad():
    for i, p in enumerate(net.parameters()):
        p.copy_(0.5 * torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 1.3 + i).reshape(p.shape))
gamma, position, goal = 0.9, 0, 3
log_probs, step_rewards = [], []
for a in [1, 1, 0, 1, 1, 1]:
    state = torch.tensor([position / goal, 1.0])
    dist = Categorical(logits=net(state))
    log_probs.append(dist.log_prob(torch.tensor(a)))
    position = max(0, position + (1 if a == 1 else -1))
    step_rewards.append(1.0 if position == goal else -0.1)
    if position == goal:
        break
returns, g = [], 0.0
for r in reversed(step_rewards):
    g = r + gamma * g
    returns.insert(0, g)
returns = torch.tensor(returns)
returns = (returns - returns.mean()) / (returns.std() + 1e-8)
loss = -(torch.stack(log_probs) * returns).sum()
loss.backward()
print(f"episode length {len(step_rewards)}  loss {loss.item():.5f}")
print("grad of the last layer:", [round(v, 5) for v in net[2].weight.grad[0, :4].tolist()])

# an exploration bonus: Bernoulli "explore or exploit" with logits, its entropy and log_prob
coin = Bernoulli(logits=torch.tensor([0.0, 2.0]))
print("bernoulli:", [round(v, 5) for v in coin.log_prob(torch.tensor([1.0, 0.0])).tolist()],
      [round(v, 5) for v in coin.entropy().tolist()], coin.sample().shape == (2,))
