"""A ResNet-18 training step on FakeData, the way torchvision's reference scripts start (weights=None)."""
import math

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision.transforms import v2

torch.manual_seed(0)
transform = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
                        v2.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
dataset = torchvision.datasets.FakeData(size=8, image_size=(3, 32, 32), num_classes=10, transform=transform)
loader = DataLoader(dataset, batch_size=4, shuffle=False)

model = torchvision.models.resnet18(weights=None, num_classes=10)
print("parameters", sum(p.numel() for p in model.parameters()))  # 11,689,512 - 512*990 - 990
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

model.train()
for step, (images, targets) in enumerate(loader):
    logits = model(images)
    loss = criterion(logits, targets)
    optimizer.zero_grad()
    loss.backward()
    # closed form: d(mean cross-entropy)/d(fc.bias) = mean over the batch of softmax(logits) - one_hot(target)
    expected = (logits.softmax(dim=1) - nn.functional.one_hot(targets, 10)).mean(dim=0)
    print(f"step {step} batch {list(images.shape)} loss {loss.item():.4f}",
          "fc.bias grad matches softmax - one_hot:", torch.allclose(model.fc.bias.grad, expected, atol=1e-6))
    optimizer.step()
print("loss after two steps still near ln(10):", abs(criterion(model(images), targets).item() - math.log(10)) < 1.5)
print("output", list(logits.shape), "bn1 batches tracked", model.bn1.num_batches_tracked.item())
