"""glasstorch.nn.parallel: DistributedDataParallel (torch.nn.parallel's).

This room sits on floor 7, above nn (4) and distributed (5), because DDP is a Module that calls the
collectives; glasstorch.nn does not import it (that would point up), `import glasstorch` does.
"""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
