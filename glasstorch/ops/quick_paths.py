"""NumPy's quick paths, for the small arrays of a small network's step.

A NumPy call on a few dozen elements costs its setup, not its arithmetic, and the setup depends on the operands:

- Operands of one shape, or a 0-d array with an array, take a quick path: about 0.25 us (4x8 float32).
- A Python number (`1 - y`, `g * 0.1`) is converted on every call: 0.5 us; a NumPy scalar 0.38 us.
- Broadcasting a row over a matrix, or summing along an axis, sets up NumPy's general iterator: 0.7 us.

The XOR network's whole step is about 50 us, a few dozen such calls among the Python, so each of these
helpers gives what the plain call gives, a cheaper way (`sum_of_squares` to rounding, `one_like` bit for bit).
On large arrays they step aside.

Measured and not kept: a bias's gradient (the column sums of dL/dy) as the product ones(n) @ dL/dy, 0.27 us
against NumPy's 0.72 us for 4x8 (3.8 against 1.3 us at 128x256). The BLAS adds the rows in another order than
NumPy, and over a training run that moved a published program's printed perplexity (tests/as_torch, p44) from
torch's by 1.9e-4, past its 1e-4 check; in the XOR step it saved 0.3 us.
"""
from .. import backend

xp = backend.xp


def sum_of_squares(a):
    """sum(a * a) of an array, as one number. A small host array's is the BLAS dot product of a with itself:
    0.35 us, where the product and NumPy's sum over all axes take 0.95 us. The dot adds in a few running sums, so
    its rounding error grows with the length faster than NumPy's pairwise sum's: above DOT_SUM_MAX elements
    NumPy's way is used."""
    if type(a) is xp.ndarray and a.dtype.char in "fd" and a.size <= DOT_SUM_MAX:
        flat = a.reshape(-1)
        return flat.dot(flat)
    return backend.array_module(a).add.reduce(a * a, axis=None)


#: the most elements `sum_of_squares` adds with one dot product
DOT_SUM_MAX = 4096


def one_like(a):
    """The number 1 for arithmetic with `a` (`one_like(y) - y * y`): a 0-d array of a's dtype when `a` is a host
    array, so NumPy takes its quick path (0.26 us against 0.5 us for the Python 1); the Python 1 for Tensors and
    GPU arrays. 1 is exact in every dtype, so the result is the same bit for bit."""
    if type(a) is not xp.ndarray:
        return 1
    one = _one_of_dtype.get(a.dtype)
    if one is None:
        one = _one_of_dtype[a.dtype] = xp.ones((), a.dtype)
        one.flags.writeable = False
    return one


_one_of_dtype = {}

