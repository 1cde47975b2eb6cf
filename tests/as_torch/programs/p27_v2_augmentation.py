"""A transforms.v2 augmentation pipeline (getting-started style): images and labels go through together."""
import torch
import torchvision
from torchvision.transforms import v2

torch.manual_seed(17)
H = W = 32
rows = torch.arange(H).reshape(H, 1).expand(H, W)
cols = torch.arange(W).reshape(1, W).expand(H, W)
img = torch.stack([rows * 8, cols * 8, (rows + cols) * 4]).to(torch.uint8)  # a C×H×W uint8 image
print("image", list(img.shape), img.dtype == torch.uint8)

transforms = v2.Compose([
    v2.RandomCrop(28, padding=2),
    v2.RandomHorizontalFlip(p=0.5),
    v2.RandomRotation(degrees=10),
    v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05),
    v2.ToDtype(torch.float32, scale=True),
    v2.Normalize(mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25]),
    v2.RandomErasing(p=0.5),
])
for i in range(3):
    out, label = transforms(img, i)
    print("sample", i, list(out.shape), out.dtype == torch.float32, "label", label)

flipped = v2.RandomHorizontalFlip(p=1.0)(img)
print("p=1 flip equals img.flip(-1):", torch.equal(flipped, img.flip(-1)))
print("p=0 flip is the identity:", torch.equal(v2.RandomHorizontalFlip(p=0.0)(img), img))
as_float = v2.ToDtype(torch.float32, scale=True)(img)
print("scale=True divides by 255:", torch.allclose(as_float, img.float() / 255), as_float.max().item() <= 1.0)
small = v2.Resize(16, antialias=True)(img)
print("resize", list(small.shape), small.dtype == torch.uint8)
flat = torch.full((3, 20, 30), 77, dtype=torch.uint8)
print("resizing a constant image keeps it constant:", torch.equal(v2.Resize((7, 11))(flat), flat[:, :7, :11]))
quarter = v2.RandomRotation(degrees=(90, 90))(img)
print("rotation by 90 equals flip + transpose:", torch.equal(quarter, img.flip(2).transpose(1, 2)))
jitter = v2.ColorJitter(brightness=(0.5, 0.5))(img)
print("brightness 0.5 halves (truncating):", torch.equal(jitter, (img.float() * 0.5).to(torch.uint8)))
