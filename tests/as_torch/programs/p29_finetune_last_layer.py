"""Fine-tune only the last layer of a ResNet-18 (the transfer-learning tutorial's "fixed feature extractor").

The tutorial starts from weights="IMAGENET1K_V1"; here weights=None, so that the program runs offline.
"""
import torch
import torchvision
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision.transforms import v2

torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None)
model.requires_grad_(False)  # freeze everything ...
num_ftrs = model.fc.in_features
model.fc = nn.Linear(num_ftrs, 2)  # ... a new head (its parameters require grad)
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print("in_features", num_ftrs, "trainable", trainable, "frozen", sum(p.numel() for p in model.parameters()) - trainable)

data = torchvision.datasets.FakeData(size=12, image_size=(3, 48, 48), num_classes=2,
                                     transform=v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]))
loader = DataLoader(data, batch_size=4, shuffle=False)
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.fc.parameters(), lr=0.01, momentum=0.9)
conv1_before = model.conv1.weight.clone()
fc_before = model.fc.weight.clone()

model.eval()  # frozen BatchNorm statistics, as a fixed feature extractor
for epoch in range(2):
    running = 0.0
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running += loss.item() * inputs.size(0)
    print(f"epoch {epoch} loss {running / len(data):.4f}")
print("conv1 unchanged:", torch.equal(model.conv1.weight, conv1_before), "conv1 grad is None:",
      model.conv1.weight.grad is None)
print("fc changed:", not torch.equal(model.fc.weight, fc_before))
