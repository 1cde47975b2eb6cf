"""Tensor.unfold for sliding windows (moving average, patches) and the new_* constructors."""
import torch

signal = torch.arange(10, dtype=torch.float32)
windows = signal.unfold(0, 3, 2)
print("windows", list(windows.shape), windows.flatten().tolist())
print("moving average", signal.unfold(0, 4, 1).mean(-1).tolist())
img = torch.arange(16.0).reshape(1, 4, 4)
patches = img.unfold(1, 2, 2).unfold(2, 2, 2)
print("patches", list(patches.shape), patches.sum(dim=(-1, -2)).flatten().tolist())
x = torch.linspace(-1, 1, 7, requires_grad=True)
x.unfold(0, 3, 2).pow(2).sum().backward()
print("unfold grad", x.grad.tolist())

base = torch.ones(2, dtype=torch.float64)
print("new_tensor", base.new_tensor([1, 2, 3]).tolist(), base.new_tensor([1, 2]).dtype == torch.float64)
print("new_zeros", list(base.new_zeros(2, 3).shape), base.new_zeros((2, 3)).dtype == torch.float64)
print("new_ones", base.new_ones(4).sum().item())
print("new_full", base.new_full((2, 2), 3.5).sum().item())
print("new_empty", list(base.new_empty(5).shape), base.new_empty(1, dtype=torch.int64).dtype == torch.int64)
hidden = base.new_zeros(3, 4, requires_grad=True)
print("requires_grad", hidden.requires_grad)
