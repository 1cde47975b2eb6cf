"""PyTorch's "Saving and Loading Models" recipe: a state_dict, a whole model (torch.save(model) then
torch.load(PATH, weights_only=False)), and a general checkpoint with the optimizer's state that training
resumes from; then model.eval() and the same predictions.

(Each file goes into a temporary directory; the weights and data are fixed patterns.)
"""
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class TheModelClass(nn.Module):
    def __init__(self):
        super(TheModelClass, self).__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(4 * 3 * 3, 12)
        self.fc2 = nn.Linear(12, 5)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = x.view(-1, 4 * 3 * 3)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def fixed_(model, scale):
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) * (0.23 + 0.1 * k)).reshape(p.shape) * scale)


model = TheModelClass()
fixed_(model, 0.3)
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", tuple(model.state_dict()[param_tensor].size()))
print("Optimizer's state_dict:", optimizer.state_dict()["param_groups"][0]["lr"],
      optimizer.state_dict()["param_groups"][0]["params"])

i = torch.arange(4 * 3 * 8 * 8, dtype=torch.float32).reshape(4, 3, 8, 8)
inputs, labels = torch.sin(i * 0.05), torch.tensor([0, 3, 1, 4])


def train_step():
    optimizer.zero_grad()
    loss = F.cross_entropy(model(inputs), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


for epoch in range(3):
    print("epoch", epoch, "loss", train_step())

with tempfile.TemporaryDirectory() as tmp:
    # save/load the state_dict (recommended)
    PATH = os.path.join(tmp, "state_dict.pt")
    torch.save(model.state_dict(), PATH)
    loaded = TheModelClass()
    loaded.load_state_dict(torch.load(PATH, weights_only=True))
    loaded.eval()
    print("state_dict load: same output", torch.equal(loaded(inputs), model(inputs)))

    # save/load the entire model
    PATH = os.path.join(tmp, "entire_model.pt")
    torch.save(model, PATH)
    whole = torch.load(PATH, weights_only=False)
    whole.eval()
    print("entire model:", type(whole).__name__, "same output", torch.equal(whole(inputs), model(inputs)))
    print("out", [round(v, 5) for v in whole(inputs)[0].tolist()])

    # a general checkpoint for inference and/or resuming training
    PATH = os.path.join(tmp, "checkpoint.tar")
    torch.save({
        'epoch': 3,
        'model_state_dict': model.state_dict(),
        'optimizer_state_dict': optimizer.state_dict(),
        'loss': train_step(),
    }, PATH)
    after_save = [train_step() for _ in range(2)]

    model = TheModelClass()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    checkpoint = torch.load(PATH, weights_only=True)
    model.load_state_dict(checkpoint['model_state_dict'])
    optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
    epoch = checkpoint['epoch']
    loss = checkpoint['loss']
    print("checkpoint epoch", epoch, "loss", loss)
    model.train()
    resumed = [train_step() for _ in range(2)]
    print("resumed losses", resumed, "same as uninterrupted", resumed == after_save)
    print("momentum buffers", len(optimizer.state_dict()["state"]))
