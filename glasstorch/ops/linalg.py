"""Linear algebra: inv, det, slogdet, solve, solve_triangular, cholesky, qr, eigh, svd, lstsq, pinv and the norms
(`torch.linalg`).

Every factorisation is one LAPACK call of `ctx.xp.linalg` (NumPy or CuPy) in forward, and its backward is
the matrix-calculus formula written with glasstorch ops (so it is differentiable again). All of them take
batches (`...xMxN`). The ops with several results (qr, eigh, svd) give ONE packed output, every factor
flattened and joined, and the factors the user sees are slices of it: the walk then hands backward the
gradients of all factors at once.
"""
from collections import namedtuple

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .common import as_tensor, autocast_inputs, float_operand
from .elementwise import abs as abs_
from .reduce import amax, amin, sum

SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])
QRResult = namedtuple("qr", ["Q", "R"])
EighResult = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("svd", ["U", "S", "Vh"])
LstsqResult = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


def _square(A, name):
    A = float_operand(as_tensor(A))
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else A.numel()} by {A.shape[-1] if A.ndim else 1} matrices")
    return A


def _matrix(A, name):
    A = float_operand(as_tensor(A))
    if A.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    return A


def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal (written with ops: differentiable)."""
    n = v.shape[-1]
    return v.unsqueeze(-1) * _eye(v, n)


def _eye(t, n):
    """The n x n identity on t's device, in t's dtype (a constant: no gradient)."""
    return Tensor._make(backend.array_module(t._array).eye(n, dtype=t._array.dtype))


def _unpack(packed, shapes):
    out, start = [], 0
    for shape in shapes:
        size = 1
        for s in shape:
            size *= s
        out.append(packed[start:start + size].reshape(shape))
        start += size
    return out


class InvFunction(Function):
    """Y = A^-1;  dL/dA = -Y^T @ dL/dY @ Y^T"""
    saves_output = True
    needs_inputs = False

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.linalg.inv(a)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.output
        return -(y.mT @ grad @ y.mT)


class DetFunction(Function):
    """d = det(A);  dL/dA = dL/dd * d * A^-T  (A invertible)"""

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.linalg.det(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.inputs
        d = det(a)
        return (grad * d).unsqueeze(-1).unsqueeze(-1) * inv(a).mT


class LogAbsDetFunction(Function):
    """l = log|det(A)|;  dL/dA = dL/dl * A^-T"""

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.linalg.slogdet(a)[1]

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.inputs
        return grad.unsqueeze(-1).unsqueeze(-1) * inv(a).mT


class SolveFunction(Function):
    """X = A^-1 B;  dL/dB = A^-T dL/dX,  dL/dA = -dL/dB X^T"""
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        return ctx.xp.linalg.solve(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        gb = solve(a.mT, grad)
        return -(gb @ ctx.output.mT), gb


class SolveTriangularFunction(Function):
    """X = T^-1 B, T = tril(A) (or triu);  dL/dB = T^-T dL/dX,  dL/dA = tril(-dL/dB X^T) (A's other triangle is
    never read, so its gradient is zero)"""
    saves_output = True

    @staticmethod
    def forward(ctx, a, b, upper):
        ctx.upper = upper
        xp = ctx.xp
        t = xp.triu(a) if upper else xp.tril(a)  # (NumPy has no triangular solver: the general one, on T)
        return xp.linalg.solve(t, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        gb = solve_triangular(a.mT, grad, upper=not ctx.upper)
        ga = -(gb @ ctx.output.mT)
        return (ga.triu() if ctx.upper else ga.tril()), gb


class CholeskyFunction(Function):
    """A = L L^T;  dL/dA = sym(L^-T Phi(L^T dL/dL) L^-1), Phi = lower triangle with half the diagonal"""
    saves_output = True
    needs_inputs = False

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.linalg.cholesky(a)

    @staticmethod
    def backward(ctx, grad):
        L = ctx.output
        P = (L.mT @ grad).tril()
        P = P - 0.5 * _diag_embed(P.diagonal(0, -2, -1))
        L_inv = inv(L)
        S = L_inv.mT @ P @ L_inv
        return 0.5 * (S + S.mT)


class QRFunction(Function):
    """A = Q R (reduced, m >= n);  dL/dA = (dL/dQ + Q copyltu(M)) R^-T,  M = R dL/dR^T - dL/dQ^T Q

    copyltu(M) = tril(M) + tril(M, -1)^T (the lower triangle mirrored). The output packs Q and R.
    """
    saves_output = True
    needs_inputs = False

    @staticmethod
    def forward(ctx, a, mode):
        q, r = ctx.xp.linalg.qr(a, mode=mode)
        ctx.shapes = (q.shape, r.shape)
        return ctx.xp.concatenate([q.ravel(), r.ravel()])

    @staticmethod
    def backward(ctx, grad):
        Q, R = _unpack(ctx.output, ctx.shapes)
        gQ, gR = _unpack(grad, ctx.shapes)
        if Q.shape[-1] != R.shape[-2] or R.shape[-2] < R.shape[-1]:
            raise RuntimeError("The derivative of linalg.qr is implemented for mode='reduced' with m >= n only")
        M = R @ gR.mT - gQ.mT @ Q
        copyltu = M.tril() + M.tril(-1).mT
        return solve(R, (gQ + Q @ copyltu).mT).mT  # (...) R^-T


class EighFunction(Function):
    """A = V diag(w) V^T (symmetric);  dL/dA = V (diag(dL/dw) + F o (V^T dL/dV)) V^T,  F_ij = 1/(w_j - w_i)

    Reads the lower triangle of A, as torch. The output packs w and V.
    """
    saves_output = True
    needs_inputs = False

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = ctx.xp.linalg.eigh(a, UPLO=uplo)
        ctx.shapes = (w.shape, v.shape)
        return ctx.xp.concatenate([w.ravel(), v.ravel()])

    @staticmethod
    def backward(ctx, grad):
        w, V = _unpack(ctx.output, ctx.shapes)
        gw, gV = _unpack(grad, ctx.shapes)
        E = w.unsqueeze(-2) - w.unsqueeze(-1)  # E_ij = w_j - w_i
        n = w.shape[-1]
        eye = _eye(w, n)
        F = (1 - eye) / (E + eye)  # (the diagonal is 1 / 1 * 0: no division by zero there)
        inner = _diag_embed(gw) + F * (V.mT @ gV)
        return V @ inner @ V.mT


class SVDFunction(Function):
    """A = U diag(S) Vh (reduced);  dL/dA = U [(skew(U^T gU)/E) S + S (skew(V^T gV)/E) + diag(gS)] Vh
    + (I - U U^T) gU S^-1 Vh + U S^-1 gV^T (I - V V^T),  E_jk = S_k^2 - S_j^2, skew(X) = X - X^T

    The output packs U, S and Vh. (With full_matrices=True only the reduced factors carry gradients.)
    """
    saves_output = True
    needs_inputs = False

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = ctx.xp.linalg.svd(a, full_matrices=full_matrices)
        ctx.shapes = (u.shape, s.shape, vh.shape)
        return ctx.xp.concatenate([u.ravel(), s.ravel(), vh.ravel()])

    @staticmethod
    def backward(ctx, grad):
        U, S, Vh = _unpack(ctx.output, ctx.shapes)
        gU, gS, gVh = _unpack(grad, ctx.shapes)
        k = S.shape[-1]
        if U.shape[-1] != k or Vh.shape[-2] != k:
            raise RuntimeError("linalg.svd: the derivative with full_matrices=True is not defined; "
                               "use full_matrices=False")
        V, gV = Vh.mT, gVh.mT
        eye = _eye(S, k)
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + eye  # E_jk = S_k^2 - S_j^2, 1 on the diagonal
        UhgU = U.mT @ gU
        VhgV = V.mT @ gV
        inner = ((UhgU - UhgU.mT) / E) * S.unsqueeze(-2) + S.unsqueeze(-1) * ((VhgV - VhgV.mT) / E) \
            + _diag_embed(gS)
        gA = U @ inner @ Vh
        S_inv = 1 / S
        m, n = U.shape[-2], V.shape[-2]
        if m > k:
            gA = gA + (gU - U @ UhgU) * S_inv.unsqueeze(-2) @ Vh
        if n > k:
            gA = gA + (U * S_inv.unsqueeze(-2)) @ (gV.mT - (gV.mT @ V) @ Vh)
        return gA


class LstsqFunction(Function):
    """X = argmin ||A X - B|| (A full column rank);  Z = (A^T A)^-1 dL/dX,
    dL/dB = A Z,  dL/dA = (B - A X) Z^T - A Z X^T"""
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 2:
            return ctx.xp.linalg.lstsq(a, b, rcond=None)[0]
        return ctx.xp.linalg.pinv(a) @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        x = ctx.output
        z = solve(a.mT @ a, grad)
        return (b - a @ x) @ z.mT - a @ z @ x.mT, a @ z


class PinvFunction(Function):
    """X = A^+;  dL/dA = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A)  (A of constant rank)"""
    saves_output = True

    @staticmethod
    def forward(ctx, a, rcond):
        return ctx.xp.linalg.pinv(a, rcond=rcond)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.inputs
        x = ctx.output
        xt, gt = x.mT, grad.mT
        return -(xt @ grad @ xt) + (gt - a @ (x @ gt)) @ (x @ xt) + (xt @ x) @ (gt - (gt @ x) @ a)


# ----------------------------------------------------------------------------- the functions torch.linalg has
def inv(A):
    """The inverse of each square matrix of A (`torch.linalg.inv`)."""
    (A,) = autocast_inputs("inv", A)
    return InvFunction.apply(_square(A, "inv"))


def det(A):
    return DetFunction.apply(_square(A, "det"))


def slogdet(A):
    """(sign, log|det A|): the log-determinant without overflow; only logabsdet carries a gradient."""
    A = _square(A, "slogdet")
    sign = backend.array_module(A._array).linalg.slogdet(A._array)[0].astype(A._array.dtype)
    return SlogdetResult(Tensor._make(sign), LogAbsDetFunction.apply(A))


def logdet(A):
    """log det(A) (nan for a negative determinant, as torch)."""
    sign, logabsdet = slogdet(A)
    return logabsdet.masked_fill(sign < 0, float("nan"))


def solve(A, B, *, left=True):
    """X with A X = B; B may be a batch of vectors (shape A.shape[:-1]) or of matrices."""
    A, B = _square(A, "solve"), float_operand(as_tensor(B))
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return solve(A.mT, B.mT).mT
    if B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]) or B.ndim == 1:
        return SolveFunction.apply(A, B.unsqueeze(-1)).squeeze(-1)
    return SolveFunction.apply(A, B)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with T X = B for the upper (upper=True) or lower triangle T of A; B a batch of matrices."""
    A, B = _square(A, "solve_triangular"), float_operand(as_tensor(B))
    if B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if unitriangular:  # the diagonal is taken to be ones
        A = A - _diag_embed(A.diagonal(0, -2, -1)) + _eye(A, A.shape[-1])
    if not left:  # X T = B  <=>  T^T X^T = B^T
        return solve_triangular(A.mT, B.mT, upper=not upper).mT
    return SolveTriangularFunction.apply(A, B, upper=bool(upper))


def cholesky(A, *, upper=False):
    L = CholeskyFunction.apply(_square(A, "cholesky"))
    return L.mT if upper else L


def qr(A, mode="reduced"):
    A = _matrix(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           f"'r', or 'complete'")
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    batch = tuple(A.shape[:-2])
    q_cols = m if mode == "complete" else k
    packed = QRFunction.apply(A, mode="complete" if mode == "complete" else "reduced")
    Q, R = _unpack(packed, (batch + (m, q_cols), batch + (q_cols, n)))
    if mode == "r":
        return QRResult(Tensor._make(A._array[..., :0, :0]), R)
    return QRResult(Q, R)


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of each symmetric matrix (reads the lower triangle)."""
    A = _square(A, "eigh")
    n, batch = A.shape[-1], tuple(A.shape[:-2])
    w, V = _unpack(EighFunction.apply(A, uplo=UPLO), (batch + (n,), batch + (n, n)))
    return EighResult(w, V)


def eigvalsh(A, UPLO="L"):
    return eigh(A, UPLO).eigenvalues


def svd(A, full_matrices=True, *, driver=None):
    """A = U diag(S) Vh; full_matrices=False gives the reduced factors (and the gradients)."""
    A = _matrix(A, "svd")
    m, n = A.shape[-2], A.shape[-1]
    k, batch = min(m, n), tuple(A.shape[:-2])
    uc, vr = (m, n) if full_matrices else (k, k)
    U, S, Vh = _unpack(SVDFunction.apply(A, full_matrices=full_matrices),
                       (batch + (m, uc), batch + (k,), batch + (vr, n)))
    return SVDResult(U, S, Vh)


def svdvals(A):
    return svd(A, full_matrices=False).S


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B (`.solution`); residuals are empty, as torch's default driver."""
    A, B = _matrix(A, "lstsq"), float_operand(as_tensor(B))
    vector = B.ndim == A.ndim - 1
    X = LstsqFunction.apply(A, B.unsqueeze(-1) if vector else B)
    if vector:
        X = X.squeeze(-1)
    S = svdvals(A.detach())
    rank = (S > S.amax(-1, keepdim=True) * max(A.shape[-2:]) * _eps(A)).sum(-1)
    return LstsqResult(X, Tensor._make(A._array[..., :0, 0]), rank, S)


def _eps(A):
    return 1.1920929e-07 if A.dtype.itemsize == 4 else 2.220446049250313e-16


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    A = _matrix(A, "pinv")
    rcond = rtol if rtol is not None else max(A.shape[-2:]) * _eps(A)
    return PinvFunction.apply(A, rcond=rcond)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x_i|^ord)^(1/ord) over dim (all elements when None); ord inf / -inf: max / min |x_i|, 0: count."""
    x = float_operand(as_tensor(x))
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        dims = tuple(range(x.ndim))
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if ord == float("inf"):
        return amax(abs_(x), dims, keepdim)
    if ord == -float("inf"):
        return amin(abs_(x), dims, keepdim)
    if ord == 0:
        return sum((x != 0).to(x.dtype), dims, keepdim)
    if ord == 1:
        return sum(abs_(x), dims, keepdim)
    if ord == 2:
        return x.norm(2, dim=dims, keepdim=keepdim)
    return sum(abs_(x) ** ord, dims, keepdim) ** (1.0 / ord)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """'fro', 'nuc', 1, -1, 2, -2, inf, -inf over the two dims `dim` (torch.linalg.matrix_norm)."""
    A = _matrix(A, "matrix_norm")
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A.ndim for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        moved = A.movedim((d0, d1), (-2, -1))
        S = svdvals(moved)
        out = S.sum(-1) if ord == "nuc" else (S.amax(-1) if ord == 2 else S.amin(-1))
    elif ord in (1, -1, float("inf"), -float("inf")):
        reduce_first, reduce_then = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = sum(abs_(A), reduce_first, True)
        out = amax(sums, reduce_then, True) if ord > 0 else amin(sums, reduce_then, True)
        return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if keepdim:
        out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: the 2-norm of all elements by default; a vector norm for one dim, a matrix norm for two."""
    A = float_operand(as_tensor(A))
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and ord is not None and A.ndim == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dim if dim is not None else (-2, -1), keepdim,
                           dtype=dtype)
    if dim is None and ord is not None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def matrix_power(A, n):
    A = _square(A, "matrix_power")
    if n < 0:
        A, n = inv(A), -n
    out = _eye(A, A.shape[-1]).expand(*A.shape) if n == 0 else A
    for _ in range(max(n - 1, 0)):
        out = out @ A
    return out
