"""TensorBoard logging with torch's API: `from glasstorch.utils.tensorboard import SummaryWriter`.

The event files are written by tensorboardX (`pip install 'glasstorch[tensorboard]'`), so TensorBoard
reads them as it reads PyTorch's: `tensorboard --logdir runs`.
"""
from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
