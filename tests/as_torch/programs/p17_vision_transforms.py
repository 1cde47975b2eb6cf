"""torchvision.transforms on uint8 images (ToTensor, Normalize, Compose) feeding a Dataset and a DataLoader."""
import numpy as np
import torch
import torchvision
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class PatternImages(Dataset):
    def __init__(self, n, transform=None):
        grid = np.arange(n * 8 * 8).reshape(n, 8, 8, 1)
        self.images = (grid * 37 % 256).astype(np.uint8)
        self.labels = np.arange(n) % 3
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i]
        if self.transform:
            image = self.transform(image)
        return image, int(self.labels[i])


transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
loader = DataLoader(PatternImages(12, transform), batch_size=4, shuffle=False)
for images, labels in loader:
    print("batch", list(images.shape), images.dtype == torch.float32, labels.tolist())
    print("range", images.min().item(), images.max().item(), round(images.mean().item(), 5))
    break
print("module", torchvision.transforms is transforms)
