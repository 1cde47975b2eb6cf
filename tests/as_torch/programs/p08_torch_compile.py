"""torch.compile: the compiled model and function give the eager results (glasstorch runs them eagerly)."""
import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


model = MLP()
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1))
compiled = torch.compile(model)
x = torch.linspace(-1, 1, 12).reshape(4, 3)
print("eager", model(x).flatten().tolist())
print("compiled", compiled(x).flatten().tolist())
print("same", (compiled(x) - model(x)).abs().max().item())


@torch.compile
def gelu_ish(x):
    return 0.5 * x * (1 + torch.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


@torch.compile(mode="reduce-overhead", fullgraph=True)
def square_sum(x):
    return (x * x).sum()


print("decorated", gelu_ish(x).sum().item(), square_sum(x).item())
opt = torch.optim.SGD(compiled.parameters(), lr=0.1)
loss = compiled(x).pow(2).mean()
loss.backward()
opt.step()
print("trained", loss.item(), model(x).pow(2).mean().item())
