"""d2l's "Concise Implementation of Softmax Regression" (chapter 4.5), with the book's Accumulator and
accuracy helpers, on a small synthetic image set in place of Fashion-MNIST.

nn.Flatten + nn.Linear initialised by `net.apply(init_weights)`, CrossEntropyLoss(reduction='none')
and a per-epoch evaluation under torch.no_grad(); weights and data are fixed patterns.
"""
import torch
from torch import nn
from torch.utils import data

n, classes = 300, 3
i = torch.arange(n * 16, dtype=torch.float32).reshape(n, 1, 4, 4)
images = torch.sin(i * 0.173) + torch.cos(i * 0.071)
labels = (images.sum(dim=(1, 2, 3)) > 0).long() + (images[:, 0, 0, 0] > 0.5).long()
train_iter = data.DataLoader(data.TensorDataset(images[:240], labels[:240]), batch_size=32)
test_iter = data.DataLoader(data.TensorDataset(images[240:], labels[240:]), batch_size=32)

net = nn.Sequential(nn.Flatten(), nn.Linear(16, classes))


def init_weights(m):
    if type(m) == nn.Linear:
        with torch.no_grad():
            m.weight.copy_(torch.sin(torch.arange(m.weight.numel(), dtype=torch.float32)).reshape(m.weight.shape)
                           * 0.01)
            m.bias.zero_()


net.apply(init_weights)
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=0.1)


class Accumulator:
    """For accumulating sums over `n` variables."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):
    """Compute the number of correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch_ch3(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


num_epochs = 5
for epoch in range(num_epochs):
    train_metrics = train_epoch_ch3(net, train_iter, loss, trainer)
    test_acc = evaluate_accuracy(net, test_iter)
    print(f"epoch {epoch + 1}: train loss {train_metrics[0]:.5f}, train acc {train_metrics[1]:.4f}, "
          f"test acc {test_acc:.4f}")
print("predictions", net(images[240:250]).argmax(axis=1).tolist())
print("labels     ", labels[240:250].tolist())
