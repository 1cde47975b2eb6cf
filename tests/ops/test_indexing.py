"""ops/indexing.py's row scatter-add (`_add_rows`): the gradient of x[idx] and of an embedding, against add.at.

A key that picks whole rows with one 1-D integer array (repeats, negative indices) is summed by sorting the
rows and one reduceat per run of equal indices; every other key keeps NumPy's add.at.
"""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import glasstorch
from glasstorch.ops import indexing


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 12), k=st.integers(1, 40), width=st.lists(st.integers(1, 5), min_size=1, max_size=2),
       seed=st.integers(0, 2 ** 16))
def test_row_scatter_add_equals_add_at(n, k, width, seed):
    rng = np.random.default_rng(seed)
    index = rng.integers(-n, n, k)  # repeats and negative indices (-1 is row n - 1)
    rows = rng.standard_normal((k, *width)).astype(np.float32)
    expected = np.zeros((n, *width), np.float32)
    np.add.at(expected, (index,), rows)
    got = np.zeros((n, *width), np.float32)
    indexing._add_rows(np, got, index, rows)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_embedding_and_fancy_index_gradients_match_torch():
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((50, 8)).astype(np.float32)
    ids = rng.integers(0, 50, (7, 9))
    upstream = rng.standard_normal((7, 9, 8)).astype(np.float32)
    grads = []
    for lib in (glasstorch, torch):
        w = lib.tensor(weight, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(ids), w) + w[lib.tensor(ids[0])].sum()
        (out * lib.tensor(upstream)).sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)
