"""The Quickstart shape: Dataset -> DataLoader -> nn.Module -> train/test loops, on a synthetic 3-class set.

(The tutorial uses FashionMNIST; the data here is a fixed pattern and the weights a fixed init, so that
the run is the same everywhere.)
"""
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

n = 240
grid = torch.arange(n, dtype=torch.float32)
X = torch.stack([torch.sin(grid * 0.37), torch.cos(grid * 0.11), torch.sin(grid * 0.05) * 2,
                 (grid % 7) / 7 - 0.5], dim=1)
y = ((X[:, 0] + X[:, 2] > 0).long() + (X[:, 1] > 0.3).long())
train_data = TensorDataset(X[:180], y[:180])
test_data = TensorDataset(X[180:], y[180:])
batch_size = 30
train_dataloader = DataLoader(train_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)
for Xb, yb in test_dataloader:
    print(f"Shape of X [N, C]: {Xb.shape[0]} {Xb.shape[1]}; y: {yb.shape[0]} {yb.dtype == torch.int64}")
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                                               nn.Linear(16, 3))

    def forward(self, x):
        x = self.flatten(x)
        return self.linear_relu_stack(x)


model = NeuralNetwork().to(device)
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (0.7 + i)).reshape(p.shape) * 0.5)
print("parameters", sum(p.numel() for p in model.parameters()))
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    for batch, (Xb, yb) in enumerate(dataloader):
        Xb, yb = Xb.to(device), yb.to(device)
        pred = model(Xb)
        loss = loss_fn(pred, yb)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 3 == 0:
            print(f"loss: {loss.item():>7f}  [{(batch + 1) * len(Xb):>5d}/{len(dataloader.dataset):>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for Xb, yb in dataloader:
            Xb, yb = Xb.to(device), yb.to(device)
            pred = model(Xb)
            test_loss += loss_fn(pred, yb).item()
            correct += (pred.argmax(1) == yb).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


epochs = 4
for t in range(epochs):
    print(f"Epoch {t + 1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")
