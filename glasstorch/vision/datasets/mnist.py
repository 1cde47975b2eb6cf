"""MNIST and Fashion-MNIST: 60,000 training and 10,000 test images, 28×28 grey, 10 classes.

    trainset = datasets.MNIST(root="./data", train=True, download=True, transform=transform)

Where the four IDX files (`.gz` or uncompressed) are looked for, in order:
    1. `root` itself (a plain folder holding them, e.g. root="/data/mnist")
    2. `root/MNIST/raw/`  (torchvision's layout; `FashionMNIST/raw` for Fashion-MNIST)
    3. `root/mnist/`  (a data folder with one plain folder per set: `mnist/`, `fashion-mnist/`)
    4. the same two under `cache_dir()` (`$GLASSTORCH_DATA` or `~/.cache/glasstorch`); `download=True` puts
       the files into `cache_dir()/MNIST/raw/`
With `download=True`, files found are MD5-checked first; missing or damaged ones are fetched from the mirrors.
"""
from pathlib import Path

import numpy as np

from ...datasets.download import DownloadError, cache_dir, check_integrity, download_file
from .idx import IDXError, read_idx
from .image_array import ImageArrayDataset


class MNIST(ImageArrayDataset):
    """The MNIST handwritten digits (torchvision's signature: `root, train, transform, target_transform, download`).

    Attributes: `data` (uint8 N×28×28 tensor), `targets` (int64 N), `classes`, `class_to_idx`.
    Samples: `(image, label)`; see `ImageArrayDataset` for what an untransformed image is.
    """
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    # (file name, MD5 of the .gz, MD5 of the uncompressed file)
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    plain_folder = "mnist"  # the name of the data set's own folder inside a data folder

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        self.root = root
        self.train = train
        prefix = "train" if train else "t10k"
        wanted = [r for r in self.resources if r[0].startswith(prefix)]
        images_file, labels_file = (self._find_or_download(resource, download) for resource in wanted)
        images = read_idx(images_file, dtype=np.uint8, shape=(None, 28, 28))
        labels = read_idx(labels_file, dtype=np.uint8, ndim=1)
        if len(images) != len(labels):
            raise IDXError(f"{images_file} holds {len(images)} images but {labels_file} holds {len(labels)} labels")
        if labels.size and labels.max() >= len(self.classes):
            raise IDXError(f"{labels_file}: label {labels.max()} out of range 0..{len(self.classes) - 1}")
        super().__init__(images, labels, transform, target_transform)

    @property
    def raw_folder(self):
        """torchvision's `root/<ClassName>/raw`."""
        return Path(self.root).expanduser().absolute() / type(self).__name__ / "raw"

    @property
    def download_folder(self):
        return cache_dir() / type(self).__name__ / "raw"

    def _search_folders(self):
        folders = []
        if self.root is not None:
            root = Path(self.root).expanduser().absolute()
            folders += [root, self.raw_folder, root / self.plain_folder]
        return folders + [self.download_folder, cache_dir() / self.plain_folder]

    def _find_or_download(self, resource, download):
        name, gz_md5, raw_md5 = resource
        damaged = []
        for folder in self._search_folders():
            for path, md5 in ((folder / name, gz_md5), (folder / name[:-3], raw_md5)):
                if path.is_file():
                    if not download or check_integrity(path, md5):
                        return path
                    damaged.append(path)
        if not download:
            raise RuntimeError(self._not_found_message())
        try:
            return download_file(name, self.mirrors, md5=gz_md5, folder=self.download_folder)
        except DownloadError as error:
            found = "".join(f"\nFound {path}, but its MD5 is wrong (a damaged or different file)." for path in damaged)
            raise DownloadError(f"{error}{found}\n{self._not_found_message()}") from None

    def _not_found_message(self):
        names = ", ".join(r[0] for r in self.resources)
        folders = "\n".join(f"    {folder}" for folder in self._search_folders())
        return (f"Dataset {type(self).__name__} not found. It needs the four IDX files {names} (gzip-compressed, "
                f"or uncompressed without the .gz). Put them in any of these folders:\n{folders}\n"
                f"or pass download=True to fetch them from {', '.join(self.mirrors)} into {self.download_folder}.")

    def extra_repr(self):
        return f"Root location: {self.root}\nSplit: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: clothes instead of digits, same sizes and file format as MNIST."""
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965")]
    plain_folder = "fashion-mnist"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
