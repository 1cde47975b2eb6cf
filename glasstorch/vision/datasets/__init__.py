"""glasstorch.vision.datasets: MNIST, FashionMNIST (torchvision's interface), ImageFolder / DatasetFolder,
FakeData and the offline Digits."""
from .digits import Digits
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder, default_loader, has_file_allowed_extension, pil_loader
from .idx import IDXError, read_idx, write_idx
from .image_array import ImageArrayDataset
from .mnist import MNIST, FashionMNIST

__all__ = ["DatasetFolder", "Digits", "FakeData", "FashionMNIST", "IDXError", "ImageArrayDataset", "ImageFolder",
           "MNIST", "default_loader", "has_file_allowed_extension", "pil_loader", "read_idx", "write_idx"]
