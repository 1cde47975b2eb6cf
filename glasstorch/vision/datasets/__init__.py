"""glasstorch.vision.datasets: MNIST, FashionMNIST (torchvision's interface) and the offline Digits."""
from .digits import Digits
from .idx import IDXError, read_idx, write_idx
from .image_array import ImageArrayDataset
from .mnist import MNIST, FashionMNIST

__all__ = ["Digits", "FashionMNIST", "IDXError", "ImageArrayDataset", "MNIST", "read_idx", "write_idx"]
