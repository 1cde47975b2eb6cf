"""Tensors: the first page of every tutorial (creation, shapes, arithmetic, indexing, broadcasting)."""
import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
x_np = torch.from_numpy(np.array(data))
x_ones = torch.ones_like(x_data)
x_float = torch.zeros_like(x_data, dtype=torch.float)
print(x_data.sum().item(), x_np.prod().item(), x_ones.sum().item(), x_float.mean().item())

shape = (2, 3)
print(torch.ones(shape).sum().item(), torch.zeros(shape).shape[1], torch.full((2, 2), 7.0).sum().item())

tensor = torch.arange(12, dtype=torch.float32).reshape(3, 4)
print(tensor.shape[0], tensor.shape[1], tensor.dtype == torch.float32, tensor.device.type == "cpu")
print("first row", tensor[0].tolist())
print("last column", tensor[..., -1].tolist())
tensor[:, 1] = 0
print("after zeroing", tensor.sum().item())
t1 = torch.cat([tensor, tensor, tensor], dim=1)
print("cat", t1.shape[0], t1.shape[1])
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
print("matmul", y1.sum().item(), (y1 - y2).abs().max().item(), (y3 - y1).abs().max().item())
z1 = tensor * tensor
print("elementwise", z1.sum().item(), tensor.mul(tensor).max().item())
agg = tensor.sum()
print("agg", agg.item())
tensor.add_(5)
print("in place", tensor.mean().item())
a = torch.linspace(0, 1, 5)
b = torch.arange(3).unsqueeze(1)
print("broadcast", (a + b).tolist())
print("stats", a.std().item(), a.var().item(), a.norm().item(), a.max().item(), a.argmax().item())
print("where", torch.where(a > 0.5, a, -a).tolist())
