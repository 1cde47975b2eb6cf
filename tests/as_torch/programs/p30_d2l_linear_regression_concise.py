"""d2l's "Concise Implementation of Linear Regression" (chapter 3.5): TensorDataset + DataLoader, a LazyLinear
layer initialised through .data, nn.MSELoss and optim.SGD.

(d2l draws the features and noise with torch.normal and shuffles the batches; here the features are a fixed
pattern and the batches come in order, so that both libraries see the same numbers.)
"""
import torch
from torch import nn
from torch.utils import data


def synthetic_data(w, b, num_examples):
    """y = Xw + b + noise, with a fixed pattern in place of the random draws."""
    i = torch.arange(num_examples * len(w), dtype=torch.float32).reshape((num_examples, len(w)))
    X = torch.sin(i * 0.731) * 1.5
    y = torch.matmul(X, w) + b
    y += 0.01 * torch.cos(torch.arange(num_examples, dtype=torch.float32) * 1.37)
    return X, y.reshape((-1, 1))


true_w = torch.tensor([2, -3.4])
true_b = 4.2
features, labels = synthetic_data(true_w, true_b, 1000)


def load_array(data_arrays, batch_size, is_train=True):
    """Construct a PyTorch data iterator."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


batch_size = 10
data_iter = load_array((features, labels), batch_size, is_train=False)
print(len(next(iter(data_iter))), next(iter(data_iter))[0].shape[0])

net = nn.Sequential(nn.LazyLinear(1))
net(features[:1])  # the first call fixes the input size
net[0].weight.data.copy_(torch.tensor([[0.01, -0.005]]))
net[0].bias.data.fill_(0)
print("in_features", net[0].in_features, type(net[0]).__name__)

loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.03)
num_epochs = 3
for epoch in range(num_epochs):
    for X, y in data_iter:
        l = loss(net(X), y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(features), labels)
    print(f'epoch {epoch + 1}, loss {l:f}')

w = net[0].weight.data
print('error in estimating w:', true_w - w.reshape(true_w.shape))
b = net[0].bias.data
print('error in estimating b:', true_b - b)
print('grad of w', net[0].weight.grad)
