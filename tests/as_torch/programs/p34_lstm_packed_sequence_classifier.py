"""Sequence classification with nn.Embedding + nn.LSTM over variable-length sequences, the way tutorials
batch them: pad_sequence, pack_padded_sequence(enforce_sorted=False), the last hidden state into a linear
head, pad_packed_sequence to look at the outputs; trained with Adam and CrossEntropyLoss.

(The sequences and the initial weights are fixed patterns, so that both libraries compute the same thing.)
"""
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

vocab, classes = 12, 2
lengths = [5, 3, 7, 2, 6, 4, 7, 3]
sequences = [torch.tensor([(3 * i + 5 * t) % (vocab - 1) + 1 for t in range(n)]) for i, n in enumerate(lengths)]
targets = torch.tensor([int(s.float().mean() > 5.5) for s in sequences])
print("targets", targets.tolist())


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, num_classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden_dim, num_classes)

    def forward(self, padded, lengths):
        embedded = self.embedding(padded)
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        packed_out, (h_n, c_n) = self.lstm(packed)
        hidden = torch.cat((h_n[-2], h_n[-1]), dim=1)  # last layer, both directions
        return self.fc(hidden), packed_out


model = LSTMClassifier(vocab, 6, 8, classes)
with torch.no_grad():
    for k, (name, p) in enumerate(model.named_parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (0.37 + 0.05 * k)).reshape(p.shape) * 0.4)
    model.embedding.weight[0].zero_()

padded = pad_sequence(sequences, batch_first=True)
print("padded", tuple(padded.shape), padded[3].tolist())
lengths_t = torch.tensor(lengths)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
criterion = nn.CrossEntropyLoss()
for step in range(12):
    optimizer.zero_grad()
    logits, packed_out = model(padded, lengths_t)
    loss = criterion(logits, targets)
    loss.backward()
    optimizer.step()
    if step % 3 == 0:
        print(f"step {step}: loss {loss.item():.6f}")

model.eval()
with torch.no_grad():
    logits, packed_out = model(padded, lengths_t)
    output, out_lengths = pad_packed_sequence(packed_out, batch_first=True)
print("output", tuple(output.shape), out_lengths.tolist())
print("padding stays zero", output[3, 2:].abs().sum().item())
print("predicted", logits.argmax(1).tolist())
print("logits", [round(v, 5) for v in logits[:3].flatten().tolist()])
print("batch_sizes", packed_out.batch_sizes.tolist(), packed_out.sorted_indices.tolist())
