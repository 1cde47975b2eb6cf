"""pytorch/examples' word_language_model, trimmed: RNNModel (Embedding -> dropout -> LSTM -> dropout ->
Linear decoder), batchify, get_batch, repackage_hidden (detach between chunks), the training loop with
clip_grad_norm_ and the manual update `p.data.add_(p.grad, alpha=-lr)`, and evaluation in perplexity.

(The corpus is a synthetic token stream, dropout is 0 and the weights start from a fixed pattern -- the
example's init_weights draws them uniformly -- so that both libraries compute the same thing.)
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

device = torch.device("cpu")


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError('When using the tied flag, nhid must be equal to emsize')
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        with torch.no_grad():
            for k, p in enumerate(self.parameters()):
                p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (0.7 + 0.11 * k)).reshape(p.shape)
                        * initrange * 3)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)


ntokens = 20
stream = torch.tensor([(7 * i + (i // 5) * 3) % ntokens for i in range(600)], dtype=torch.long)
train_data = batchify(stream[:480], 8)
val_data = batchify(stream[480:], 4)
print("batches", tuple(train_data.shape), tuple(val_data.shape))
bptt = 12


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


model = RNNModel('LSTM', ntokens, 16, 16, 2, dropout=0.0, tie_weights=True).to(device)
criterion = nn.NLLLoss()
lr, clip = 5.0, 0.25


def evaluate(data_source, eval_batch_size):
    model.eval()
    total_loss = 0.
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train(epoch):
    model.train()
    total_loss = 0.
    hidden = model.init_hidden(8)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
        if batch % 2 == 1:
            cur_loss = total_loss / 2
            print('| epoch {:3d} | {:5d} batches | lr {:02.2f} | grad norm {:8.4f} | loss {:5.4f} | ppl {:8.4f}'.format(
                epoch, batch, lr, grad_norm.item(), cur_loss, math.exp(cur_loss)))
            total_loss = 0


for epoch in range(1, 3):
    train(epoch)
    val_loss = evaluate(val_data, 4)
    print('| end of epoch {:3d} | valid loss {:5.4f} | valid ppl {:8.4f}'.format(epoch, val_loss, math.exp(val_loss)))
print("tied", model.decoder.weight is model.encoder.weight)
