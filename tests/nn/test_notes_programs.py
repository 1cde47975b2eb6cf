"""The course notes' PyTorch programs, run unchanged with `torch` = glasstorch and with real torch.

Each program is written once as a function of the framework module (`def program(torch): ...` with
the notes' code inside), run with both, from identical initial weights and identical batches:
the losses and parameters must agree step by step.
(000_8efb020173a9749c.txt: SimpleCNN; 004_7547f4a50ef307c4.txt: concise linear regression, softmax
regression, MLP, weight decay, dropout.)
"""
import sys

import numpy as np
import pytest
import torch as real_torch

import glasstorch

FRAMEWORKS = {"glasstorch": glasstorch, "torch": real_torch}


def copy_init(ours, theirs):
    """Identical starting weights: torch's state_dict loaded into the glasstorch model."""
    ours.load_state_dict(theirs.state_dict())


# ---------------------------------------------------------------------------------------------- SimpleCNN (000)
def simple_cnn_class(torch):
    nn = torch.nn

    class SimpleCNN(nn.Module):
        def __init__(self):
            super(SimpleCNN, self).__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)
            self.dropout = nn.Dropout(0.25)

        def forward(self, x):
            x = self.conv1(x)
            x = nn.ReLU()(x)
            x = self.conv2(x)
            x = nn.ReLU()(x)
            x = nn.MaxPool2d(2)(x)
            x = self.dropout(x)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = nn.ReLU()(x)
            x = self.fc2(x)
            output = nn.LogSoftmax(dim=1)(x)
            return output

    return SimpleCNN


def test_simple_cnn_forward_backward_and_adam_steps():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    target = rng.integers(0, 10, 4)
    models, losses, devices = {}, {name: [] for name in FRAMEWORKS}, {}
    FRAMEWORKS["torch"].manual_seed(0)  # the initial weights (copied into glasstorch) the same every run
    for name, torch in FRAMEWORKS.items():
        # the notes' line: on a machine with CuPy and a GPU, glasstorch's model and data go there
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu") if name == "glasstorch" else "cpu"
        models[name], devices[name] = simple_cnn_class(torch)().to(device), device
    copy_init(models["glasstorch"], models["torch"])
    assert [n for n, _ in models["glasstorch"].named_parameters()] == \
        [n for n, _ in models["torch"].named_parameters()]
    assert str(models["glasstorch"]) == str(models["torch"])
    for name, torch in FRAMEWORKS.items():
        model = models[name]
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        criterion = torch.nn.CrossEntropyLoss()
        model.eval()  # dropout off, so both frameworks take the same steps
        for _ in range(2):
            x, y = torch.tensor(data).to(devices[name]), torch.tensor(target).to(devices[name])
            optimizer.zero_grad()
            output = model(x)
            assert tuple(output.shape) == (4, 10)
            loss = criterion(output, y)
            loss.backward()
            optimizer.step()
            losses[name].append(loss.item())
    np.testing.assert_allclose(losses["glasstorch"], losses["torch"], rtol=1e-4)
    for (k, a), (_, b) in zip(models["glasstorch"].state_dict().items(), models["torch"].state_dict().items()):
        a, b = a.cpu().numpy(), b.numpy()
        # Adam moves every weight by about lr whatever its gradient's size, so a gradient that is ~0 up to
        # rounding may step either way: nearly all weights agree tightly, the rest within 2 steps of lr
        close = np.isclose(a, b, rtol=1e-3, atol=1e-5)
        assert close.mean() > 0.9999, k
        np.testing.assert_allclose(a, b, atol=2 * 2 * 0.001, err_msg=k)


def test_simple_cnn_train_mode_shapes_and_eval_prediction():
    torch = glasstorch
    model = simple_cnn_class(torch)()
    model.train()
    out = model(torch.randn(4, 1, 28, 28))
    out.sum().backward()
    assert out.shape == (4, 10)
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    model.eval()
    with torch.no_grad():
        output = model(torch.randn(4, 1, 28, 28))
        pred = output.argmax(dim=1, keepdim=True)
        assert not output.requires_grad and pred.shape == (4, 1)
        np.testing.assert_allclose(output.exp().sum(1).numpy(), 1.0, rtol=1e-5)


# ---------------------------------------------------------------------------------------------- linear regression (004)
def synthetic_data(torch, w, b, num_examples, rng):
    """d2l's synthetic_data, with the randomness drawn once by NumPy so both frameworks see the same data."""
    X = rng.standard_normal((num_examples, len(w))).astype(np.float32)
    y = X @ np.asarray(w, dtype=np.float32) + b + rng.normal(0, 0.01, num_examples).astype(np.float32)
    return torch.tensor(X), torch.tensor(y.reshape((-1, 1)))


def concise_linear_regression(torch, features, labels, init, shuffle=False):
    from torch.utils import data
    from torch import nn

    def load_array(data_arrays, batch_size, is_train=True):
        dataset = data.TensorDataset(*data_arrays)
        return data.DataLoader(dataset, batch_size, shuffle=is_train)

    batch_size = 10
    data_iter = load_array((features, labels), batch_size, is_train=shuffle)  # unshuffled: same batches in both
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    net[0].weight.data.copy_(torch.tensor(init))  # identical start in both frameworks
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)
    epoch_losses = []
    for epoch in range(3):
        for X, y in data_iter:
            l = loss(net(X), y)  # noqa: E741 (the notes' name)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)  # noqa: E741
        epoch_losses.append(float(l.detach()))
    return net[0].weight.data.numpy().copy(), float(net[0].bias.data), epoch_losses


def import_as_torch(monkeypatch, framework):
    """The notes write `from torch.utils import data` / `from torch import nn`: make `torch` name the framework."""
    for name, module in [("torch", framework), ("torch.utils", framework.utils),
                         ("torch.utils.data", framework.utils.data), ("torch.nn", framework.nn)]:
        monkeypatch.setitem(sys.modules, name, module)


def test_concise_linear_regression(monkeypatch):
    true_w, true_b = [2, -3.4], 4.2
    init = np.random.default_rng(1).normal(0, 0.01, (1, 2)).astype(np.float32)
    results = {}
    for name, torch in FRAMEWORKS.items():
        import_as_torch(monkeypatch, torch)
        features, labels = synthetic_data(torch, true_w, true_b, 1000, np.random.default_rng(0))
        results[name] = concise_linear_regression(torch, features, labels, init)
    w, b, losses = results["glasstorch"]
    np.testing.assert_allclose(w.ravel(), true_w, atol=0.01)
    assert b == pytest.approx(true_b, abs=0.01)
    # the notes' own setting (shuffled batches) reaches the true parameters too
    import_as_torch(monkeypatch, glasstorch)
    glasstorch.manual_seed(0)
    features, labels = synthetic_data(glasstorch, true_w, true_b, 1000, np.random.default_rng(0))
    w_shuffled, b_shuffled, _ = concise_linear_regression(glasstorch, features, labels, init, shuffle=True)
    np.testing.assert_allclose(w_shuffled.ravel(), true_w, atol=0.01)
    assert b_shuffled == pytest.approx(true_b, abs=0.01)
    np.testing.assert_allclose(w, results["torch"][0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(losses, results["torch"][2], rtol=1e-3, atol=1e-7)


# ---------------------------------------------------------------------------------------------- softmax regression, MLP
def init_weights_factory(torch):
    nn = torch.nn

    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)
    return init_weights


def softmax_regression(torch):
    nn = torch.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def mlp(torch):
    nn = torch.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def mlp_dropout(torch, dropout1=0.2, dropout2=0.5):
    nn = torch.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(dropout1), nn.Linear(256, 256),
                         nn.ReLU(), nn.Dropout(dropout2), nn.Linear(256, 10))


def train_steps(build, steps=5, lr=0.1, weight_decay=0.0, eval_mode=False):
    """The notes' train_epoch_ch3 body for a few batches, in both frameworks from the same init."""
    rng = np.random.default_rng(0)
    batches = [(rng.random((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)) for _ in range(steps)]
    nets, losses = {}, {}
    for name, torch in FRAMEWORKS.items():
        net = build(torch)
        net.apply(init_weights_factory(torch))
        nets[name] = net
    copy_init(nets["glasstorch"], nets["torch"])
    for name, torch in FRAMEWORKS.items():
        net = nets[name]
        loss = torch.nn.CrossEntropyLoss()
        trainer = torch.optim.SGD(net.parameters(), lr=lr, weight_decay=weight_decay)
        net.eval() if eval_mode else net.train()
        losses[name] = []
        for X, y in batches:
            y_hat = net(torch.tensor(X))
            l = loss(y_hat, torch.tensor(y))  # noqa: E741
            trainer.zero_grad()
            l.backward()
            trainer.step()
            losses[name].append(float(l) * len(y))
    return nets, losses


@pytest.mark.parametrize("build", [softmax_regression, mlp], ids=["softmax-regression", "mlp"])
def test_softmax_regression_and_mlp_match_torch(build):
    nets, losses = train_steps(build)
    np.testing.assert_allclose(losses["glasstorch"], losses["torch"], rtol=1e-5)
    for (k, a), (_, b) in zip(nets["glasstorch"].state_dict().items(), nets["torch"].state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6, err_msg=k)


def test_mlp_with_dropout_eval_matches_and_train_differs():
    nets, losses = train_steps(mlp_dropout, steps=3, eval_mode=True)
    np.testing.assert_allclose(losses["glasstorch"], losses["torch"], rtol=1e-5)
    net = nets["glasstorch"]
    x = glasstorch.rand(16, 1, 28, 28)
    net.eval()
    assert np.array_equal(net(x).detach().numpy(), net(x).detach().numpy())
    net.train()
    assert not np.array_equal(net(x).detach().numpy(), net(x).detach().numpy())


def test_mlp_from_scratch_with_parameters():
    """The notes' from-scratch MLP: nn.Parameter(torch.randn(..., requires_grad=True)) and a hand-written relu."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((784, 256)).astype(np.float32) * 0.01, np.zeros(256, np.float32),
              rng.standard_normal((256, 10)).astype(np.float32) * 0.01, np.zeros(10, np.float32)]
    X = rng.random((32, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    losses = {}
    for name, torch in FRAMEWORKS.items():
        nn = torch.nn
        W1, b1, W2, b2 = [nn.Parameter(torch.tensor(a, requires_grad=True)) for a in arrays]
        params = [W1, b1, W2, b2]

        def relu(X):
            a = torch.zeros_like(X)
            return torch.max(X, a)

        def net(X):
            X = X.reshape((-1, 784))
            H = relu(X @ W1 + b1)
            return H @ W2 + b2

        loss = nn.CrossEntropyLoss()
        updater = torch.optim.SGD(params, lr=0.1)
        losses[name] = []
        for _ in range(3):
            updater.zero_grad()
            l = loss(net(torch.tensor(X)), torch.tensor(y))  # noqa: E741
            l.backward()
            updater.step()
            losses[name].append(l.item())
    np.testing.assert_allclose(losses["glasstorch"], losses["torch"], rtol=1e-5)


# ---------------------------------------------------------------------------------------------- weight decay (004)
def test_concise_weight_decay_matches_torch():
    """d2l's train_concise: weight decay on the weight only, given as a param group with a single tensor."""
    rng = np.random.default_rng(0)
    n_train, num_inputs, batch_size = 20, 200, 5
    X = rng.standard_normal((n_train, num_inputs)).astype(np.float32)
    y = (X @ np.full(num_inputs, 0.01, np.float32) + 0.05 + rng.normal(0, 0.01, n_train)).astype(np.float32)
    y = y.reshape(-1, 1)
    init = rng.normal(0, 1, (1, num_inputs)).astype(np.float32)
    norms = {}
    for name, torch in FRAMEWORKS.items():
        nn = torch.nn
        wd = 3
        net = nn.Sequential(nn.Linear(num_inputs, 1))
        for param in net.parameters():
            param.data.normal_()
        with torch.no_grad():
            net[0].weight.copy_(torch.tensor(init))
            net[0].bias.zero_()
        loss = nn.MSELoss(reduction="none")
        trainer = torch.optim.SGD([{"params": net[0].weight, "weight_decay": wd}, {"params": net[0].bias}], lr=0.003)
        for epoch in range(5):
            for i in range(0, n_train, batch_size):
                trainer.zero_grad()
                l = loss(net(torch.tensor(X[i:i + batch_size])), torch.tensor(y[i:i + batch_size]))  # noqa: E741
                l.mean().backward()
                trainer.step()
        norms[name] = net[0].weight.norm().item()
    assert norms["glasstorch"] == pytest.approx(norms["torch"], rel=1e-4)
