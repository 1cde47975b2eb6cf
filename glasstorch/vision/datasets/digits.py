"""Digits: scikit-learn's 1,797 handwritten digits (8×8), the offline data set for demos (nothing to download).

The images are the UCI "optdigits" ones that scikit-learn ships inside its package (`load_digits`).
Their values 0..16 are scaled to uint8 0..255 (round(v * 255 / 16)), so `ToTensor` gives [0, 1] as for MNIST.
The split is fixed: the first 1,437 images train, the last 360 test (80 % / 20 %, in the file's order;
each class has 141 to 146 training images).
"""
import importlib.util
from pathlib import Path

import numpy as np

from .image_array import ImageArrayDataset

N_TRAIN = 1437


def _load_digits_csv():
    """(images N×8×8 float 0..16, labels N) from scikit-learn's digits.csv.gz.

    The file is read straight from the installed package: importing scikit-learn itself takes a second or two.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise ImportError("Digits needs scikit-learn, which ships the images: pip install scikit-learn "
                          "(or glasstorch[lab])")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if path.is_file():
        table = np.loadtxt(path, delimiter=",")
        return table[:, :-1].reshape(-1, 8, 8), table[:, -1]
    from sklearn.datasets import load_digits  # the file moved in this version: ask scikit-learn
    bunch = load_digits()
    return bunch.images, bunch.target


class Digits(ImageArrayDataset):
    """8×8 handwritten digits with MNIST's interface: `Digits(train=True, transform=ToTensor())`.

    `root` and `download` are accepted for a uniform signature and ignored (the data is always at hand).
    Attributes: `data` (uint8 N×8×8 tensor), `targets` (int64), `classes`.
    """
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        self.root = root
        self.train = train
        images, labels = _load_digits_csv()
        images = np.rint(images * (255.0 / 16.0)).astype(np.uint8)
        part = slice(0, N_TRAIN) if train else slice(N_TRAIN, None)
        super().__init__(np.ascontiguousarray(images[part]), labels[part].astype(np.int64), transform,
                         target_transform)

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"
