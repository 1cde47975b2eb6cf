"""PyTorch's "What is torch.nn really?", step by step: logistic regression written from scratch (manual
weights, log_softmax, nll by indexing, a hand-written update under no_grad), then refactored with
F.cross_entropy, nn.Module + nn.Parameter, nn.Linear, optim, TensorDataset, DataLoader, a validation set and
fit()/loss_batch(), and finally a CNN built from nn.Sequential with a Lambda layer and a WrappedDataLoader.

(The tutorial uses MNIST 28x28; here 10 classes of 12x12 synthetic images, and fixed initial weights.)
"""
import math

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

side, n_train, n_valid = 12, 200, 60
idx = torch.arange((n_train + n_valid) * side * side, dtype=torch.float32).reshape(-1, side * side)
images = (torch.sin(idx * 0.0137) + 1) / 2
y_all = (images[:, :12].sum(1) * 3).long() % 10
x_train, y_train = images[:n_train], y_all[:n_train]
x_valid, y_valid = images[n_train:], y_all[n_train:]
n, c = x_train.shape
print(x_train.shape[0], x_train.shape[1], y_train.min().item(), y_train.max().item())


def fixed(*shape, scale=1.0):
    return torch.cos(torch.arange(math.prod(shape), dtype=torch.float32) * 0.61).reshape(shape) * scale


# --- from scratch
weights = fixed(side * side, 10) / math.sqrt(side * side)
weights.requires_grad_()
bias = torch.zeros(10, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


bs = 32
xb, yb = x_train[0:bs], y_train[0:bs]
preds = model(xb)
print(preds[0].shape[0], nll(preds, yb).item(), accuracy(preds, yb).item())
lr, epochs = 0.5, 2
for epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        xb = x_train[start_i:end_i]
        yb = y_train[start_i:end_i]
        pred = model(xb)
        loss = nll(pred, yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
print("scratch", nll(model(xb), yb).item(), accuracy(model(xb), yb).item())

# --- F.cross_entropy
loss_func = F.cross_entropy


def model(xb):
    return xb @ weights + bias


print("cross_entropy", loss_func(model(xb), yb).item(), accuracy(model(xb), yb).item())


# --- nn.Module and nn.Parameter, then nn.Linear
class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(fixed(side * side, 10) / math.sqrt(side * side))
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, xb):
        return xb @ self.weights + self.bias


class Mnist_Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(side * side, 10)
        with torch.no_grad():
            self.lin.weight.copy_(fixed(10, side * side, scale=0.05))
            self.lin.bias.zero_()

    def forward(self, xb):
        return self.lin(xb)


def fit_manual(model):
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            xb, yb = x_train[start_i:start_i + bs], y_train[start_i:start_i + bs]
            loss = loss_func(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= p.grad * lr
                model.zero_grad()


for cls in (Mnist_Logistic, Mnist_Linear):
    model = cls()
    print(cls.__name__, "before", loss_func(model(xb), yb).item())
    fit_manual(model)
    print(cls.__name__, "after", loss_func(model(xb), yb).item())


# --- optim, TensorDataset, DataLoader, validation, fit()
def get_model():
    model = Mnist_Logistic()
    return model, optim.SGD(model.parameters(), lr=lr)


def get_data(train_ds, valid_ds, bs):
    return (DataLoader(train_ds, batch_size=bs, shuffle=False), DataLoader(valid_ds, batch_size=bs * 2))


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = sum(l * k for l, k in zip(losses, nums)) / sum(nums)
        print(epoch, val_loss)


train_ds, valid_ds = TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid)
train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
model, opt = get_model()
fit(epochs, model, loss_func, opt, train_dl, valid_dl)


# --- a CNN from nn.Sequential, a Lambda layer and a WrappedDataLoader
class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


def preprocess(x, y):
    return x.view(-1, 1, side, side), y


class WrappedDataLoader:
    def __init__(self, dl, func):
        self.dl = dl
        self.func = func

    def __len__(self):
        return len(self.dl)

    def __iter__(self):
        for b in self.dl:
            yield (self.func(*b))


train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
train_dl = WrappedDataLoader(train_dl, preprocess)
valid_dl = WrappedDataLoader(valid_dl, preprocess)
model = nn.Sequential(
    nn.Conv2d(1, 8, kernel_size=3, stride=2, padding=1), nn.ReLU(),
    nn.Conv2d(8, 8, kernel_size=3, stride=2, padding=1), nn.ReLU(),
    nn.Conv2d(8, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    Lambda(lambda x: x.view(x.size(0), -1)),
)
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(fixed(*p.shape, scale=0.3) * (1 + 0.1 * k))
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
fit(epochs, model, loss_func, opt, train_dl, valid_dl)
print("cnn accuracy", accuracy(model(x_valid.view(-1, 1, side, side)), y_valid).item())
