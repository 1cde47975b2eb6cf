"""`torch.linalg`: matrix factorisations, solves and norms, each with its gradient (see ops/linalg.py)."""
from .ops.linalg import (cholesky, det, eigh, eigvalsh, inv, lstsq, matrix_norm, matrix_power, norm, pinv, qr,
                         slogdet, solve, solve_triangular, svd, svdvals, vector_norm)

__all__ = ["cholesky", "det", "eigh", "eigvalsh", "inv", "lstsq", "matrix_norm", "matrix_power", "norm", "pinv",
           "qr", "slogdet", "solve", "solve_triangular", "svd", "svdvals", "vector_norm"]
