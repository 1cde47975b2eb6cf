"""d2l.ai "Attention Scoring Functions" and "Multi-Head Attention" (Dive into Deep Learning, sections 10.3 and
10.5 of release 0.17, PyTorch tab: https://classic.d2l.ai/chapter_attention-mechanisms/attention-scoring-functions.html
and https://classic.d2l.ai/chapter_attention-mechanisms/multihead-attention.html): sequence_mask,
masked_softmax (torch.repeat_interleave, `X[~mask] = value`), AdditiveAttention, DotProductAttention,
MultiHeadAttention with transpose_qkv/transpose_output, each run on the chapter's inputs.

What was changed, and why:
- `from d2l import torch as d2l` is not used: sequence_mask (defined in the chapter on seq2seq) and the classes
  are copied here as d2l writes them; d2l.show_heatmaps (a plot) is left out.
- the chapter draws some inputs with torch.rand / torch.normal and the layers start from random weights; the
  draws come from fixed_rand/fixed_normal (fixed patterns, same signatures) and the weights from
  fill_from_pattern_, because the two libraries' generators differ.
- the notebook's displayed expressions are printed; at the end (added) one backward pass through
  MultiHeadAttention in training mode with dropout 0 (its masked_softmax writes -1e6 into the scores in
  place, inside the graph) and a few Adam steps of AdditiveAttention, so that the gradients are compared too.
"""
import math
import torch
from torch import nn


def fixed_rand(*size):
    """(added) In place of torch.rand: a fixed pattern in [0, 1)."""
    n = torch.Size(size).numel()
    return ((torch.sin(torch.arange(n, dtype=torch.float32) * 2.3 + 0.5) + 1) / 2.0001).reshape(size)


def fixed_normal(mean, std, size):
    """(added) In place of torch.normal(mean, std, size): a fixed pattern of about that mean and spread."""
    n = torch.Size(size).numel()
    return (mean + std * 1.4 * torch.cos(torch.arange(n, dtype=torch.float32) * 1.7 + 0.3)).reshape(size)


def fill_from_pattern_(module):
    """(added) Fixed initial weights: each parameter gets a sine pattern in place of the random draw."""
    with torch.no_grad():
        for k, p in enumerate(module.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (0.37 + 0.19 * k)).reshape(p.shape)
                    * 0.3)


def sequence_mask(X, valid_len, value=0):
    """Mask irrelevant entries in sequences."""
    maxlen = X.size(1)
    mask = torch.arange((maxlen), dtype=torch.float32,
                        device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


X = torch.tensor([[1, 2, 3], [4, 5, 6]])
print(sequence_mask(X, torch.tensor([1, 2])))


def masked_softmax(X, valid_lens):
    """Perform softmax operation by masking elements on the last axis."""
    # `X`: 3D tensor, `valid_lens`: 1D or 2D tensor
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    else:
        shape = X.shape
        if valid_lens.dim() == 1:
            valid_lens = torch.repeat_interleave(valid_lens, shape[1])
        else:
            valid_lens = valid_lens.reshape(-1)
        # On the last axis, replace masked elements with a very large negative
        # value, whose exponentiation outputs 0
        X = sequence_mask(X.reshape(-1, shape[-1]), valid_lens,
                              value=-1e6)
        return nn.functional.softmax(X.reshape(shape), dim=-1)


print(masked_softmax(fixed_rand(2, 2, 4), torch.tensor([2, 3])))
print(masked_softmax(fixed_rand(2, 2, 4), torch.tensor([[1, 3], [2, 4]])))


class AdditiveAttention(nn.Module):
    """Additive attention."""
    def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
        super(AdditiveAttention, self).__init__(**kwargs)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        queries, keys = self.W_q(queries), self.W_k(keys)
        # After dimension expansion, shape of `queries`: (`batch_size`, no. of
        # queries, 1, `num_hiddens`) and shape of `keys`: (`batch_size`, 1,
        # no. of key-value pairs, `num_hiddens`). Sum them up with
        # broadcasting
        features = queries.unsqueeze(2) + keys.unsqueeze(1)
        features = torch.tanh(features)
        # There is only one output of `self.w_v`, so we remove the last
        # one-dimensional entry from the shape. Shape of `scores`:
        # (`batch_size`, no. of queries, no. of key-value pairs)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        # Shape of `values`: (`batch_size`, no. of key-value pairs, value
        # dimension)
        return torch.bmm(self.dropout(self.attention_weights), values)


queries, keys = fixed_normal(0, 1, (2, 1, 20)), torch.ones((2, 10, 2))
# The two value matrices in the `values` minibatch are identical
values = torch.arange(40, dtype=torch.float32).reshape(1, 10, 4).repeat(
    2, 1, 1)
valid_lens = torch.tensor([2, 6])

attention = AdditiveAttention(key_size=2, query_size=20, num_hiddens=8,
                              dropout=0.1)
fill_from_pattern_(attention)
attention.eval()
print(attention(queries, keys, values, valid_lens))
print(attention.attention_weights.reshape((1, 1, 2, 10)))


class DotProductAttention(nn.Module):
    """Scaled dot product attention."""
    def __init__(self, dropout, **kwargs):
        super(DotProductAttention, self).__init__(**kwargs)
        self.dropout = nn.Dropout(dropout)

    # Shape of `queries`: (`batch_size`, no. of queries, `d`)
    # Shape of `keys`: (`batch_size`, no. of key-value pairs, `d`)
    # Shape of `values`: (`batch_size`, no. of key-value pairs, value
    # dimension)
    # Shape of `valid_lens`: (`batch_size`,) or (`batch_size`, no. of queries)
    def forward(self, queries, keys, values, valid_lens=None):
        d = queries.shape[-1]
        # Set `transpose_b=True` to swap the last two dimensions of `keys`
        scores = torch.bmm(queries, keys.transpose(1,2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


queries = fixed_normal(0, 1, (2, 1, 2))
attention = DotProductAttention(dropout=0.5)
attention.eval()
print(attention(queries, keys, values, valid_lens))


class MultiHeadAttention(nn.Module):
    """Multi-head attention."""
    def __init__(self, key_size, query_size, value_size, num_hiddens,
                 num_heads, dropout, bias=False, **kwargs):
        super(MultiHeadAttention, self).__init__(**kwargs)
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        # Shape of `queries`, `keys`, or `values`:
        # (`batch_size`, no. of queries or key-value pairs, `num_hiddens`)
        # Shape of `valid_lens`:
        # (`batch_size`,) or (`batch_size`, no. of queries)
        # After transposing, shape of output `queries`, `keys`, or `values`:
        # (`batch_size` * `num_heads`, no. of queries or key-value pairs,
        # `num_hiddens` / `num_heads`)
        queries = transpose_qkv(self.W_q(queries), self.num_heads)
        keys = transpose_qkv(self.W_k(keys), self.num_heads)
        values = transpose_qkv(self.W_v(values), self.num_heads)

        if valid_lens is not None:
            # On axis 0, copy the first item (scalar or vector) for
            # `num_heads` times, then copy the next item, and so on
            valid_lens = torch.repeat_interleave(
                valid_lens, repeats=self.num_heads, dim=0)

        # Shape of `output`: (`batch_size` * `num_heads`, no. of queries,
        # `num_hiddens` / `num_heads`)
        output = self.attention(queries, keys, values, valid_lens)

        # Shape of `output_concat`:
        # (`batch_size`, no. of queries, `num_hiddens`)
        output_concat = transpose_output(output, self.num_heads)
        return self.W_o(output_concat)


def transpose_qkv(X, num_heads):
    """Transposition for parallel computation of multiple attention heads."""
    # Shape of input `X`:
    # (`batch_size`, no. of queries or key-value pairs, `num_hiddens`).
    # Shape of output `X`:
    # (`batch_size`, no. of queries or key-value pairs, `num_heads`,
    # `num_hiddens` / `num_heads`)
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1)

    # Shape of output `X`:
    # (`batch_size`, `num_heads`, no. of queries or key-value pairs,
    # `num_hiddens` / `num_heads`)
    X = X.permute(0, 2, 1, 3)

    # Shape of `output`:
    # (`batch_size` * `num_heads`, no. of queries or key-value pairs,
    # `num_hiddens` / `num_heads`)
    return X.reshape(-1, X.shape[2], X.shape[3])


def transpose_output(X, num_heads):
    """Reverse the operation of `transpose_qkv`."""
    X = X.reshape(-1, num_heads, X.shape[1], X.shape[2])
    X = X.permute(0, 2, 1, 3)
    return X.reshape(X.shape[0], X.shape[1], -1)


num_hiddens, num_heads = 100, 5
attention = MultiHeadAttention(num_hiddens, num_hiddens, num_hiddens,
                               num_hiddens, num_heads, 0.5)
fill_from_pattern_(attention)
print(attention.eval())

batch_size, num_queries = 2, 4
num_kvpairs, valid_lens =  6, torch.tensor([3, 2])
X = torch.ones((batch_size, num_queries, num_hiddens))
Y = torch.ones((batch_size, num_kvpairs, num_hiddens))
print(attention(X, Y, Y, valid_lens).shape)

# ----------------------------------------------------------------------------- (added) gradients
X = fixed_normal(0, 1, (batch_size, num_queries, num_hiddens))
Y = fixed_normal(0.5, 1, (batch_size, num_kvpairs, num_hiddens))
attention.attention.dropout.p = 0.0
attention.train()
out = attention(X, Y, Y, valid_lens)
out.square().mean().backward()
print('output', [round(v, 5) for v in out[0, :2, :4].flatten().tolist()])
print('grad norms', [round(p.grad.norm().item(), 5) for p in attention.parameters()])
print('weights', [round(v, 5) for v in attention.attention.attention_weights[:3, 0].flatten().tolist()])

additive = AdditiveAttention(key_size=2, query_size=20, num_hiddens=8, dropout=0.0)
fill_from_pattern_(additive)
queries, keys = fixed_normal(0, 1, (2, 1, 20)), fixed_normal(0, 1, (2, 10, 2))
target = torch.linspace(-1, 1, 8).reshape(2, 1, 4)
optimizer = torch.optim.Adam(additive.parameters(), lr=0.05)
for step in range(5):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(additive(queries, keys, values / 40, valid_lens), target)
    loss.backward()
    optimizer.step()
    print(f'step {step}: loss {loss.item():.6f}')
