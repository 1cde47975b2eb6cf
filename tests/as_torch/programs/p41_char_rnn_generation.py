# -*- coding: utf-8 -*-
"""PyTorch tutorial "NLP From Scratch: Generating Names with a Character-Level RNN" (Sean Robertson),
https://pytorch.org/tutorials/intermediate/char_rnn_generation_tutorial.html, as published in
pytorch/tutorials intermediate_source/char_rnn_generation_tutorial.py: the conditional RNN (category + letter +
hidden -> i2h, i2o, o2o, dropout, LogSoftmax), categoryTensor/inputTensor/targetTensor, the loss summed over
the letters into `torch.Tensor([0])`, the manual `p.data.add_(p.grad.data, alpha=-learning_rate)` update, and
sampling by topk (no torch.multinomial) until EOS.

What was changed, and why:
- data: a few names in 4 languages are embedded (NAMES) instead of reading data/names/*.txt; readLines reads
  the embedded text.
- `random.seed(0)` and fixed initial weights (fill_from_pattern_) in place of random draws, so that both
  libraries compute the same thing; the network's dropout (p=0.1, which draws a random mask at every step)
  is set to 0 for training -- the class is as written -- and sampling runs in `rnn.eval()`, with the
  tutorial's p=0.1 put back, so it shows that eval turns dropout off.
- n_iters 100000 -> 1000, print_every 5000 -> 200, plot_every 500 -> 200; the loss plot is printed instead,
  and the progress line leaves out the time since the start (it differs run to run).
"""
from io import open
import glob
import os
import unicodedata
import string

all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters) + 1 # Plus EOS marker

def findFiles(path): return glob.glob(path)

# Turn a Unicode string to plain ASCII, thanks to https://stackoverflow.com/a/518232/2809427
def unicodeToAscii(s):
    return ''.join(
        c for c in unicodedata.normalize('NFD', s)
        if unicodedata.category(c) != 'Mn'
        and c in all_letters
    )

# (changed) the names, embedded: a few per language in place of data/names/*.txt
NAMES = {
    'Russian': "Abramov\nBelov\nFedorov\nIvanov\nKozlov\nMorozov\nNovikov\nPetrov\nPopov\nSokolov\nVolkov",
    'German': "Bauer\nBecker\nFischer\nHoffmann\nKoch\nMeyer\nMüller\nRichter\nSchmidt\nSchulz\nWagner",
    'Spanish': "Alvarez\nCastillo\nDíaz\nFernández\nGarcía\nGómez\nLópez\nMartínez\nPérez\nSánchez\nTorres",
    'Chinese': "Chan\nChen\nCheung\nHuang\nLi\nLiang\nLin\nWang\nWong\nXu\nZhang",
}

# Read a file and split into lines
def readLines(filename):
    return [unicodeToAscii(line.strip()) for line in NAMES[filename].split('\n')]

# Build the category_lines dictionary, a list of lines per category
category_lines = {}
all_categories = []
for filename in NAMES:
    category = os.path.splitext(os.path.basename(filename))[0]
    all_categories.append(category)
    lines = readLines(filename)
    category_lines[category] = lines

n_categories = len(all_categories)

if n_categories == 0:
    raise RuntimeError('Data not found. Make sure that you downloaded data '
        'from https://download.pytorch.org/tutorial/data.zip and extract it to '
        'the current directory.')

print('# categories:', n_categories, all_categories)
print(unicodeToAscii("O'Néàl"))

import torch
import torch.nn as nn

class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size

        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(0.1)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)

import random
random.seed(0)  # (added)

# Random item from a list
def randomChoice(l):
    return l[random.randint(0, len(l) - 1)]

# Get a random category and random line from that category
def randomTrainingPair():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    return category, line

# One-hot vector for category
def categoryTensor(category):
    li = all_categories.index(category)
    tensor = torch.zeros(1, n_categories)
    tensor[0][li] = 1
    return tensor

# One-hot matrix of first to last letters (not including EOS) for input
def inputTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li in range(len(line)):
        letter = line[li]
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor

# ``LongTensor`` of second letter to end (EOS) for target
def targetTensor(line):
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1) # EOS
    return torch.LongTensor(letter_indexes)

# Make category, input, and target tensors from a random category, line pair
def randomTrainingExample():
    category, line = randomTrainingPair()
    category_tensor = categoryTensor(category)
    input_line_tensor = inputTensor(line)
    target_line_tensor = targetTensor(line)
    return category_tensor, input_line_tensor, target_line_tensor

criterion = nn.NLLLoss()

learning_rate = 0.0005

def train(category_tensor, input_line_tensor, target_line_tensor):
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()

    rnn.zero_grad()

    loss = torch.Tensor([0]) # you can also just simply use ``loss = 0``

    for i in range(input_line_tensor.size(0)):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        l = criterion(output, target_line_tensor[i])
        loss += l

    loss.backward()

    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)

    return output, loss.item() / input_line_tensor.size(0)

import time
import math

def timeSince(since):
    now = time.time()
    s = now - since
    m = math.floor(s / 60)
    s -= m * 60
    return '%dm %ds' % (m, s)

rnn = RNN(n_letters, 128, n_letters)
with torch.no_grad():  # (added) fixed initial weights in place of nn.Linear's random draw
    for k, p in enumerate(rnn.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (0.53 + 0.17 * k)).reshape(p.shape) * 0.1)
rnn.dropout.p = 0.0  # (added) no random dropout mask while training

n_iters = 1000
print_every = 200
plot_every = 200
all_losses = []
total_loss = 0 # Reset every ``plot_every`` ``iters``

start = time.time()

for iter in range(1, n_iters + 1):
    output, loss = train(*randomTrainingExample())
    total_loss += loss

    if iter % print_every == 0:
        print('(%d %d%%) %.4f' % (iter, iter / n_iters * 100, loss))  # (changed) without timeSince(start)

    if iter % plot_every == 0:
        all_losses.append(total_loss / plot_every)
        total_loss = 0

print('all_losses', ['%.4f' % l for l in all_losses])  # (changed) in place of plt.plot(all_losses)

max_length = 20

# Sample from a category and starting letter
def sample(category, start_letter='A'):
    with torch.no_grad():  # no need to track history in sampling
        category_tensor = categoryTensor(category)
        input = inputTensor(start_letter)
        hidden = rnn.initHidden()

        output_name = start_letter

        for i in range(max_length):
            output, hidden = rnn(category_tensor, input[0], hidden)
            topv, topi = output.topk(1)
            topi = topi[0][0]
            if topi == n_letters - 1:
                break
            else:
                letter = all_letters[topi]
                output_name += letter
            input = inputTensor(letter)

        return output_name

# Get multiple samples from one category and multiple starting letters
def samples(category, start_letters='ABC'):
    for start_letter in start_letters:
        print(sample(category, start_letter))

rnn.dropout.p = 0.1  # (added) the tutorial's dropout back, switched off by eval()
rnn.eval()  # (added)
samples('Russian', 'RUS')

samples('German', 'GER')

samples('Spanish', 'SPA')

samples('Chinese', 'CHI')

category_tensor, input_line_tensor, target_line_tensor = randomTrainingExample()  # (added) the numbers behind it
with torch.no_grad():
    output, hidden = rnn(category_tensor, input_line_tensor[0], rnn.initHidden())
print('first-letter log-probabilities', [round(v, 4) for v in output[0, :8].tolist()], target_line_tensor.tolist())
