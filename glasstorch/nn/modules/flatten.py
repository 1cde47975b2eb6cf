"""Flatten (dims start_dim..end_dim into one) and Unflatten (one dim into a shape)."""
from ..module import Module


class Flatten(Module):
    """Flatten dims start_dim..end_dim (default: all but the batch dim): (N, C, H, W) -> (N, C*H*W).

    Example::

        >>> nn.Flatten()(torch.randn(32, 1, 5, 5)).shape
        glasstorch.Size([32, 25])
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dim into unflattened_size: Unflatten(1, (2, 5)) maps (N, 10) -> (N, 2, 5)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, int) and not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"unflattened_size must be tuple of ints, but found type {type(unflattened_size).__name__}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
