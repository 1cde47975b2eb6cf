"""An ImageFolder pipeline over a folder of PNGs (root/<class>/<file>.png), as the data-loading tutorial sets it up."""
import os
import tempfile

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.io import ImageReadMode, read_image, write_png
from torchvision.transforms import v2

with tempfile.TemporaryDirectory() as root:
    for c, name in enumerate(["dog", "cat", "bird"]):
        os.makedirs(os.path.join(root, name))
        for k in range(2 + c):
            value = 40 * c + 10 * k  # every pixel of the image holds this value: easy to check after loading
            write_png(torch.full((3, 6, 8), value, dtype=torch.uint8), os.path.join(root, name, f"{k}.png"))
    first = read_image(os.path.join(root, "cat", "1.png"))
    print("read_image", list(first.shape), first.dtype == torch.uint8, first[0, 0, 0].item())
    print("gray", list(read_image(os.path.join(root, "cat", "1.png"), ImageReadMode.GRAY).shape))

    transform = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
    dataset = datasets.ImageFolder(root, transform=transform)
    print("classes", dataset.classes, dataset.class_to_idx, "samples", len(dataset))
    loader = DataLoader(dataset, batch_size=3, shuffle=False)
    total = 0.0
    for images, labels in loader:
        print("batch", list(images.shape), labels.tolist(), [round(v, 4) for v in images[:, 0, 0, 0].tolist()])
        total += images.sum().item()
    expected = sum((40 * c + 10 * k) / 255 * 3 * 6 * 8 for c in range(3) for k in range(2 + c))
    print("sum of all pixels", round(total, 3), "matches closed form:", abs(total - expected) < 1e-3)
