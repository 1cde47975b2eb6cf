"""Least squares three ways (lstsq, normal equations, pinv) and the usual matrix summaries."""
import torch

t = torch.linspace(0, 1, 20, dtype=torch.float64)
y = 2.0 + 3.0 * t - 1.5 * t ** 2 + 0.01 * torch.sin(40 * t)
A = torch.stack([torch.ones_like(t), t, t ** 2], dim=1)
sol = torch.linalg.lstsq(A, y.unsqueeze(1)).solution.squeeze(1)
print("lstsq", sol.tolist())
normal = torch.linalg.solve(A.T @ A, A.T @ y)
print("normal equations", normal.tolist())
via_pinv = torch.linalg.pinv(A) @ y
print("pinv", via_pinv.tolist())
print("residual", torch.linalg.norm(A @ sol - y).item(), torch.linalg.vector_norm(A @ sol - y, ord=1).item())
C = A.T @ A / len(t)
print("det", torch.linalg.det(C).item(), "slogdet", torch.linalg.slogdet(C).logabsdet.item())
w, V = torch.linalg.eigh(C)
print("eigenvalues", w.tolist())
print("svdvals", torch.linalg.svdvals(A).tolist())
L = torch.linalg.cholesky(C)
print("cholesky", (L @ L.T - C).abs().max().item() < 1e-12, L.diagonal().tolist())
Q, R = torch.linalg.qr(A)
print("qr", (Q.T @ Q - torch.eye(3, dtype=torch.float64)).abs().max().item() < 1e-12, R.diagonal().abs().tolist())
print("inv", (torch.linalg.inv(C) @ C - torch.eye(3, dtype=torch.float64)).abs().max().item() < 1e-9)
print("norms", torch.linalg.matrix_norm(C).item(), torch.linalg.matrix_norm(C, ord="nuc").item(),
      torch.linalg.matrix_norm(C, ord=2).item(), torch.linalg.norm(C, ord=float("inf")).item())

coef = torch.zeros(3, dtype=torch.float64, requires_grad=True)
opt = torch.optim.Adam([coef], lr=0.1)
for step in range(1500):
    opt.zero_grad()
    loss = torch.linalg.vector_norm(A @ coef - y) ** 2
    loss.backward()
    opt.step()
print("gradient descent agrees", (coef.detach() - sol).abs().max().item() < 1e-3)
