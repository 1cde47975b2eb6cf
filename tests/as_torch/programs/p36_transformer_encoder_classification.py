"""A Transformer encoder text classifier in the manner of PyTorch's transformer tutorials: the tutorial's
PositionalEncoding (sin/cos table kept as a buffer), nn.TransformerEncoder over nn.TransformerEncoderLayer,
a key padding mask for the padded positions, mean pooling, AdamW and a StepLR schedule with
clip_grad_norm_; also nn.Transformer.generate_square_subsequent_mask.

(Dropout is 0 and the weights start from a fixed pattern, so that both libraries compute the same thing.)
"""
import math

import torch
from torch import nn


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe)

    def forward(self, x):
        """x: [seq_len, batch_size, embedding_dim]"""
        x = x + self.pe[:x.size(0)]
        return self.dropout(x)


class TransformerClassifier(nn.Module):
    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, nclass, dropout=0.0):
        super().__init__()
        self.model_type = 'Transformer'
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        encoder_layers = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers, enable_nested_tensor=False)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.classifier = nn.Linear(d_model, nclass)

    def forward(self, src, src_key_padding_mask):
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        output = self.transformer_encoder(src, src_key_padding_mask=src_key_padding_mask)
        keep = (~src_key_padding_mask).t().unsqueeze(-1).float()      # [seq, batch, 1]
        pooled = (output * keep).sum(0) / keep.sum(0)
        return self.classifier(pooled)


ntokens, seq_len, batch = 16, 9, 6
src = torch.tensor([[(3 * b + 7 * t) % (ntokens - 1) + 1 for b in range(batch)] for t in range(seq_len)])
lengths = torch.tensor([9, 7, 5, 9, 4, 6])
padding_mask = torch.arange(seq_len).unsqueeze(0) >= lengths.unsqueeze(1)   # [batch, seq], True = padding
src = src.masked_fill(padding_mask.t(), 0)
labels = torch.tensor([0, 1, 2, 1, 0, 2])

model = TransformerClassifier(ntokens, 8, 2, 16, 2, 3)
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (0.29 + 0.07 * k)).reshape(p.shape) * 0.3)
print("parameters", sum(p.numel() for p in model.parameters()), "buffer", tuple(model.pos_encoder.pe.shape))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 3, gamma=0.5)
for step in range(8):
    model.train()
    optimizer.zero_grad()
    logits = model(src, padding_mask)
    loss = criterion(logits, labels)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    optimizer.step()
    scheduler.step()
    print(f"step {step}: loss {loss.item():.6f} grad norm {norm.item():.6f} lr {scheduler.get_last_lr()[0]:.5f}")
model.eval()
with torch.no_grad():
    logits = model(src, padding_mask)
print("predicted", logits.argmax(-1).tolist(), "accuracy", (logits.argmax(-1) == labels).float().mean().item())
mask = nn.Transformer.generate_square_subsequent_mask(4)
print("causal mask", mask.tolist())
