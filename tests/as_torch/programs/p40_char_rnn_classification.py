# -*- coding: utf-8 -*-
"""PyTorch tutorial "NLP From Scratch: Classifying Names with a Character-Level RNN" (Sean Robertson),
https://pytorch.org/tutorials/intermediate/char_rnn_classification_tutorial.html, as published in
pytorch/tutorials intermediate_source/char_rnn_classification_tutorial.py (the 2023 version: the hand-written
RNN module with i2h/h2h/h2o Linear layers and LogSoftmax, NLLLoss, the manual
`p.data.add_(p.grad.data, alpha=-learning_rate)` update, unicodeToAscii, lineToTensor, categoryFromOutput
with topk, the confusion matrix and predict).

What was changed, and why:
- data: a few dozen names in 4 languages are embedded (NAMES) instead of reading data/names/*.txt from the
  download; readLines reads the embedded text.
- `random.seed(0)` (the tutorial leaves Python's generator unseeded) and the initial weights come from a fixed
  pattern (fill_from_pattern_) in place of nn.Linear's random draw, so that both libraries compute the same thing.
- n_iters 100000 -> 2000, print_every 5000 -> 250, plot_every 1000 -> 250, n_confusion 10000 -> 200;
  the matplotlib plots are replaced by printing what they would show (all_losses, the confusion diagonal);
  the progress line leaves out the time since the start (it differs run to run).
"""
from io import open
import glob
import os


def findFiles(path): return glob.glob(path)


import unicodedata
import string

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)

# Turn a Unicode string to plain ASCII, thanks to https://stackoverflow.com/a/518232/2809427
def unicodeToAscii(s):
    return ''.join(
        c for c in unicodedata.normalize('NFD', s)
        if unicodedata.category(c) != 'Mn'
        and c in all_letters
    )

print(unicodeToAscii('Ślusàrski'))

# (changed) the names, embedded: a few per language in place of data/names/*.txt
NAMES = {
    'English': "Abbott\nAdams\nBaker\nBennett\nCarter\nClarke\nDawson\nEdwards\nFletcher\nHarris\nJackson\nWalker",
    'Italian': "Abandonato\nAbatangelo\nAbatantuono\nBianchi\nColombo\nEsposito\nFerrari\nGallo\nRicci\nRomano\n"
               "Russo\nSantoro",
    'Japanese': "Abe\nAoki\nFujita\nHayashi\nKato\nKobayashi\nMatsumoto\nNakamura\nSato\nSuzuki\nTakahashi\n"
                "Yamamoto",
    'Russian': "Abramov\nBelov\nFedorov\nIvanov\nKozlov\nMorozov\nNovikov\nPetrov\nPopov\nSokolov\nVolkov\n"
               "Šmidovich",
}

# Build the category_lines dictionary, a list of names per language
category_lines = {}
all_categories = []

# Read a file and split into lines
def readLines(filename):
    lines = NAMES[filename].strip().split('\n')
    return [unicodeToAscii(line) for line in lines]

for filename in NAMES:
    category = os.path.splitext(os.path.basename(filename))[0]
    all_categories.append(category)
    lines = readLines(filename)
    category_lines[category] = lines

n_categories = len(all_categories)

print(category_lines['Italian'][:5])

import torch

# Find letter index from all_letters, e.g. "a" = 0
def letterToIndex(letter):
    return all_letters.find(letter)

# Just for demonstration, turn a letter into a <1 x n_letters> Tensor
def letterToTensor(letter):
    tensor = torch.zeros(1, n_letters)
    tensor[0][letterToIndex(letter)] = 1
    return tensor

# Turn a line into a <line_length x 1 x n_letters>,
# or an array of one-hot letter vectors
def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor

print(letterToTensor('J'))

print(lineToTensor('Jones').size())

import torch.nn as nn
import torch.nn.functional as F

class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()

        self.hidden_size = hidden_size

        self.i2h = nn.Linear(input_size, hidden_size)
        self.h2h = nn.Linear(hidden_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        hidden = F.tanh(self.i2h(input) + self.h2h(hidden))
        output = self.h2o(hidden)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


def fill_from_pattern_(module, scale):
    """(added) Fixed initial weights: each parameter gets a sine pattern in place of the random draw."""
    with torch.no_grad():
        for k, p in enumerate(module.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (0.61 + 0.13 * k)).reshape(p.shape)
                    * scale)


n_hidden = 128
rnn = RNN(n_letters, n_hidden, n_categories)
fill_from_pattern_(rnn, 0.1)

input = letterToTensor('A')
hidden = torch.zeros(1, n_hidden)

output, next_hidden = rnn(input, hidden)

input = lineToTensor('Albert')
hidden = torch.zeros(1, n_hidden)

output, next_hidden = rnn(input[0], hidden)
print(output)

def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i

print(categoryFromOutput(output))

import random
random.seed(0)  # (added)

def randomChoice(l):
    return l[random.randint(0, len(l) - 1)]

def randomTrainingExample():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    line_tensor = lineToTensor(line)
    return category, line, category_tensor, line_tensor

for i in range(10):
    category, line, category_tensor, line_tensor = randomTrainingExample()
    print('category =', category, '/ line =', line)

criterion = nn.NLLLoss()

learning_rate = 0.005 # If you set this too high, it might explode. If too low, it might not learn

def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()

    rnn.zero_grad()

    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)

    loss = criterion(output, category_tensor)
    loss.backward()

    # Add parameters' gradients to their values, multiplied by learning rate
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)

    return output, loss.item()

import time
import math

n_iters = 2000
print_every = 250
plot_every = 250



# Keep track of losses for plotting
current_loss = 0
all_losses = []

def timeSince(since):
    now = time.time()
    s = now - since
    m = math.floor(s / 60)
    s -= m * 60
    return '%dm %ds' % (m, s)

start = time.time()

for iter in range(1, n_iters + 1):
    category, line, category_tensor, line_tensor = randomTrainingExample()
    output, loss = train(category_tensor, line_tensor)
    current_loss += loss

    # Print ``iter`` number, loss, name and guess
    if iter % print_every == 0:
        guess, guess_i = categoryFromOutput(output)
        correct = '✓' if guess == category else '✗ (%s)' % category
        print('%d %d%% %.4f %s / %s %s' % (iter, iter / n_iters * 100, loss, line, guess, correct))  # (changed) no time

    # Add current loss avg to list of losses
    if iter % plot_every == 0:
        all_losses.append(current_loss / plot_every)
        current_loss = 0

print('all_losses', ['%.4f' % l for l in all_losses])  # (changed) in place of plt.plot(all_losses)

# Keep track of correct guesses in a confusion matrix
confusion = torch.zeros(n_categories, n_categories)
n_confusion = 200

# Just return an output given a line
def evaluate(line_tensor):
    hidden = rnn.initHidden()

    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)

    return output

# Go through a bunch of examples and record which are correctly guessed
for i in range(n_confusion):
    category, line, category_tensor, line_tensor = randomTrainingExample()
    output = evaluate(line_tensor)
    guess, guess_i = categoryFromOutput(output)
    category_i = all_categories.index(category)
    confusion[category_i][guess_i] += 1

# Normalize by dividing every row by its sum
for i in range(n_categories):
    confusion[i] = confusion[i] / confusion[i].sum()

print('confusion diagonal', confusion.diag())  # (changed) in place of ax.matshow(confusion.numpy())

def predict(input_line, n_predictions=3):
    print('\n> %s' % input_line)
    with torch.no_grad():
        output = evaluate(lineToTensor(input_line))

        # Get top N categories
        topv, topi = output.topk(n_predictions, 1, True)
        predictions = []

        for i in range(n_predictions):
            value = topv[0][i].item()
            category_index = topi[0][i].item()
            print('(%.2f) %s' % (value, all_categories[category_index]))
            predictions.append([value, all_categories[category_index]])

predict('Dovesky')
predict('Jackson')
predict('Satoshi')
