"""make_grid and save_image of a batch (the DCGAN tutorial's way of looking at samples), then read back."""
import os
import tempfile

import torch
import torchvision.utils as vutils
from torchvision.io import read_image

batch = torch.linspace(-1, 1, 16 * 3 * 8 * 8).reshape(16, 3, 8, 8)
grid = vutils.make_grid(batch, nrow=4, padding=2, normalize=True)
print("grid", list(grid.shape), "min", grid.min().item(), "max", grid.max().item())
print("size matches 4 * (8 + 2) + 2 = 42:", grid.shape[1] == 42 and grid.shape[2] == 42)
print("padding holds pad_value 0:", grid[:, 0, :].abs().sum().item() == 0.0)
tile = grid[:, 2:10, 2:10]
print("first tile is (x + 1) / 2:", torch.allclose(tile, (batch[0] + 1) / 2, atol=1e-6))
grey = vutils.make_grid(torch.rand(5, 1, 4, 4), nrow=5, padding=1, pad_value=1.0)
print("grey grid", list(grey.shape))

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "samples.png")
    vutils.save_image(batch, path, nrow=4, padding=2, normalize=True)
    saved = read_image(path)
    expected = grid.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)
    print("saved", list(saved.shape), "equals the rounded grid:", torch.equal(saved, expected))
    print("mean byte", round(saved.float().mean().item(), 3))
