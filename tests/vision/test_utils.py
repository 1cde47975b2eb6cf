"""make_grid against a reference written with explicit loops (torchvision's layout)."""
import math

import numpy as np
import pytest

import glasstorch
from glasstorch.vision.utils import make_grid


def reference_grid(images, nrow, padding, pad_value):
    n, c, h, w = images.shape
    if c == 1:
        images = np.repeat(images, 3, axis=1)
        c = 3
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value,
                   dtype=images.dtype)
    for k in range(n):
        r, q = divmod(k, cols)
        y, x = padding + r * (h + padding), padding + q * (w + padding)
        grid[:, y:y + h, x:x + w] = images[k]
    return grid


@pytest.mark.parametrize("n, c, nrow, padding, pad_value", [(10, 1, 4, 2, 0.0), (3, 3, 8, 0, 1.0),
                                                             (7, 3, 3, 1, 0.5), (16, 1, 8, 2, 0.0)])
def test_grid_layout(n, c, nrow, padding, pad_value):
    images = np.random.default_rng(n).random((n, c, 5, 6)).astype(np.float32)
    out = make_grid(glasstorch.tensor(images), nrow=nrow, padding=padding, pad_value=pad_value)
    np.testing.assert_array_equal(out.numpy(), reference_grid(images, nrow, padding, pad_value))


def test_list_input_single_image_and_normalize():
    images = [glasstorch.rand(3, 4, 4) for _ in range(5)]
    assert tuple(make_grid(images, nrow=5).shape) == (3, 8, 32)
    single = glasstorch.rand(1, 4, 4)
    np.testing.assert_array_equal(make_grid(single).numpy(), np.repeat(single.numpy(), 3, axis=0))
    x = glasstorch.tensor(np.array([[[[-2.0, 0.0], [2.0, 6.0]]]] * 2, dtype=np.float32))
    normed = make_grid(x, normalize=True, padding=0)
    np.testing.assert_allclose(normed.numpy()[0, :, :2], [[0, 0.25], [0.5, 1]])
    clipped = make_grid(x, normalize=True, value_range=(0, 2), padding=0)
    np.testing.assert_allclose(clipped.numpy()[0, :, :2], [[0, 0], [1, 1]])
    each = make_grid(glasstorch.tensor(np.stack([np.zeros((1, 2, 2)), np.ones((1, 2, 2)) * 3]) + np.arange(4).reshape(
        1, 1, 2, 2)), normalize=True, scale_each=True, padding=0)
    np.testing.assert_allclose(each.numpy()[0], np.tile(np.arange(4).reshape(2, 2) / 3, (1, 2)), atol=1e-6)


def test_save_image_writes_the_grid_as_torchvision_rounds_it(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    from glasstorch.vision.utils import save_image
    batch = glasstorch.tensor(np.random.default_rng(0).random((5, 3, 4, 6)).astype(np.float32) * 1.2 - 0.1)
    save_image(batch, tmp_path / "grid.png", nrow=3, padding=1, pad_value=0.5)
    grid = make_grid(batch, nrow=3, padding=1, pad_value=0.5).numpy()
    expected = np.clip(np.floor(grid * 255 + 0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    saved = np.asarray(Image.open(tmp_path / "grid.png"))
    assert saved.shape == (2 * 5 + 1, 3 * 7 + 1, 3)
    np.testing.assert_array_equal(saved, expected)
    with open(tmp_path / "one.jpg", "wb") as f:  # a file object and an explicit format
        save_image(batch[0], f, format="JPEG")
    assert Image.open(tmp_path / "one.jpg").size == (6, 4)
