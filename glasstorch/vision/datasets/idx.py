"""The IDX file format of MNIST and Fashion-MNIST (gzip-compressed or raw), read with full validation.

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then d big-endian uint32 sizes, then the elements (big-endian), row-major: nothing more, nothing less.

A file that breaks any of this raises `IDXError` (a `glasstorch.errors.FileFormatError`) naming the file,
the problem and the fix; the reader never returns a garbage array, and never allocates what the header
declares before the file is known to hold it.
"""
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ...errors import FileFormatError

IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
             0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"


FIX = "delete it and run `glasstorch data fetch` (it downloads again and checks the checksum)"
_CHUNK = 1 << 20


class IDXError(FileFormatError):
    """A file that is not a valid IDX file (wrong magic, wrong dimensions, truncated, corrupt gzip)."""


def _open(path):
    """The file as a stream of IDX bytes (gzip-decompressed on the fly when it starts with gzip's magic),
    the number of IDX bytes it should hold (exact for a raw file, gzip's own size field modulo 2**32
    otherwise), and for gzip the most it could inflate to (0 for a raw file)."""
    with open(path, "rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
        size = probe.seek(0, os.SEEK_END)
        if compressed and size >= 18:
            probe.seek(-4, os.SEEK_END)
            # deflate expands at most ~1032:1, so a larger declared size can't be real
            isize = int.from_bytes(probe.read(4), "little")
            return gzip.open(path, "rb"), isize, size * 1032
    return open(path, "rb"), size, 0


def _read_exactly(stream, n):
    data = stream.read(n)
    return data if len(data) == n else None


def _read_stream(stream, name, expected_size, inflate_limit):
    """Parse the header, check what it declares against the file, then read the elements into their array."""
    magic = _read_exactly(stream, 4)
    if magic is None:
        raise IDXError(f"{name}: too short to be an IDX file; {FIX}")
    if magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_TYPES:
        raise IDXError(f"{name}: wrong magic number 0x{magic.hex()} (an IDX file starts with 0x0000 then a type "
                       f"code in {{{', '.join(hex(t) for t in IDX_TYPES)}}} and the number of dimensions)")
    dtype, ndim = IDX_TYPES[magic[2]], magic[3]
    if ndim == 0:
        raise IDXError(f"{name}: the header declares 0 dimensions")
    sizes = _read_exactly(stream, 4 * ndim)
    if sizes is None:
        raise IDXError(f"{name}: truncated header ({ndim} dimensions declared, their sizes missing); {FIX}")
    shape = tuple(int(s) for s in np.frombuffer(sizes, dtype=">u4"))
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    declared = 4 + 4 * ndim + nbytes
    compressed = inflate_limit > 0
    if (declared == expected_size if not compressed else
            declared % (1 << 32) == expected_size and declared <= inflate_limit):
        array = np.empty(shape, dtype=dtype.newbyteorder("="))
        filled = _fill(stream, memoryview(array.reshape(-1)).cast("B"))
    elif not compressed:
        held = expected_size - 4 - 4 * ndim
        problem = (f"truncated: the header declares shape {shape} of {dtype.name} ({nbytes:,} bytes of data) but "
                   f"the file holds only {held:,}" if held < nbytes else
                   f"has {held - nbytes:,} trailing bytes after the {nbytes:,} bytes of data that its header declares "
                   f"(shape {shape} of {dtype.name})")
        raise IDXError(f"{name}: {problem}; {FIX}")
    else:  # the sizes disagree: read what is there, without trusting the header, to say what is wrong
        data = _read_at_most(stream, nbytes)
        filled, array = len(data), None
        if filled == nbytes:
            array = np.frombuffer(bytearray(data), dtype=dtype.newbyteorder("=")).reshape(shape)
    if filled < nbytes:
        raise IDXError(f"{name}: truncated: the header declares shape {shape} of {dtype.name} "
                       f"({nbytes:,} bytes of data) but the file holds only {filled:,}; {FIX}")
    trailing = _count_rest(stream)  # reading to the end makes gzip check its CRC
    if trailing:
        raise IDXError(f"{name}: has {trailing:,} trailing bytes after the {nbytes:,} bytes of data that its header "
                       f"declares (shape {shape} of {dtype.name}); {FIX}")
    if dtype != array.dtype:  # big-endian file on a little-endian machine
        array.byteswap(inplace=True)
    return array


def _fill(stream, view):
    filled = 0
    while filled < len(view):
        got = stream.readinto(view[filled:])
        if not got:
            break
        filled += got
    return filled


def _read_at_most(stream, n):
    chunks, total = [], 0
    while total < n:
        chunk = stream.read(min(_CHUNK, n - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _count_rest(stream):
    total = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return total
        total += len(chunk)


def read_idx(path, dtype=None, ndim=None, shape=None):
    """Read an IDX file (`.gz` or raw) into a NumPy array, checking it against what the caller expects.

    Args:
        path: the file.
        dtype: the element type the file must declare (e.g. np.uint8).
        ndim: the number of dimensions it must declare.
        shape: the sizes it must declare; None entries match anything (e.g. (None, 28, 28)).
    """
    path = Path(path)
    try:
        stream, expected_size, inflate_limit = _open(path)
        with stream:
            array = _read_stream(stream, str(path), expected_size, inflate_limit)
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError; a cut-off stream an EOFError
        if not path.is_file():
            raise
        raise IDXError(f"{path}: corrupt or truncated gzip file ({error}); {FIX}") from None
    if dtype is not None and array.dtype != np.dtype(dtype):
        raise IDXError(f"{path}: holds {array.dtype.name} elements, expected {np.dtype(dtype).name}")
    if ndim is not None and array.ndim != ndim:
        raise IDXError(f"{path}: has {array.ndim} dimensions {array.shape}, expected {ndim}")
    if shape is not None and (array.ndim != len(shape)
                              or any(want is not None and got != want for got, want in zip(array.shape, shape))):
        raise IDXError(f"{path}: has shape {array.shape}, expected {tuple('N' if s is None else s for s in shape)}")
    return array


def write_idx(path, array):
    """Write an array as an IDX file (gzip-compressed when the name ends in .gz): tests and tools use it."""
    array = np.asarray(array)
    code = next((c for c, t in IDX_TYPES.items() if t == array.dtype.newbyteorder(">")
                 or t == array.dtype), None)
    if code is None:
        raise TypeError(f"IDX cannot store {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(IDX_TYPES[code]).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
