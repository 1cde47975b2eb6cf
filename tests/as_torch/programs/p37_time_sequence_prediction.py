"""pytorch/examples' time_sequence_prediction: two stacked nn.LSTMCell and a Linear layer in float64,
trained on sine waves with optim.LBFGS and a closure, then asked to continue the waves `future` steps.

(The example shifts each wave by a random offset; here the offsets are fixed, the waves shorter, the
steps fewer, and the weights start from a fixed pattern.)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 12)
        self.lstm2 = nn.LSTMCell(12, 12)
        self.linear = nn.Linear(12, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 12, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 12, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):  # if we should predict the future
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


T, L, N = 20, 40, 12
x = np.empty((N, L), 'int64')
x[:] = np.array(range(L)) + np.arange(N).reshape(N, 1) * 7 % (4 * T)
data = np.sin(x / 1.0 / T).astype('float64')
input = torch.from_numpy(data[3:, :-1])
target = torch.from_numpy(data[3:, 1:])
test_input = torch.from_numpy(data[:3, :-1])
test_target = torch.from_numpy(data[:3, 1:])

seq = Sequence()
seq.double()
with torch.no_grad():
    for k, p in enumerate(seq.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float64) * (0.5 + 0.13 * k)).reshape(p.shape) * 0.25)
criterion = nn.MSELoss()
optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=6)
for i in range(3):
    print('STEP: ', i)

    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        print('loss:', loss.item())
        loss.backward()
        return loss
    optimizer.step(closure)
    with torch.no_grad():
        future = 10
        pred = seq(test_input, future=future)
        loss = criterion(pred[:, :-future], test_target)
        print('test loss:', loss.item())
        y = pred.detach().numpy()
    print('prediction tail', np.round(y[0, -3:], 6).tolist(), y.shape)
print('dtype', next(seq.parameters()).dtype == torch.float64,
      'lbfgs state', optimizer.state_dict()['state'][0]['n_iter'])
