"""The IDX file format of MNIST and Fashion-MNIST (gzip-compressed or raw), read with full validation.

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then d big-endian uint32 sizes, then the elements (big-endian), row-major: nothing more, nothing less.

A file that breaks any of this raises `IDXError` naming the file and the problem; the reader never
returns a garbage array.
"""
import gzip
import zlib
from pathlib import Path

import numpy as np

IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
             0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a valid IDX file (wrong magic, wrong dimensions, truncated, corrupt gzip)."""


def _open(path):
    """The file as a stream of IDX bytes: gzip-decompressed on the fly when it starts with gzip's magic."""
    with open(path, "rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def _read_exactly(stream, n):
    data = stream.read(n)
    return data if len(data) == n else None


def _read_stream(stream, name):
    """Parse the header, then decompress the elements straight into their array (no extra copy)."""
    magic = _read_exactly(stream, 4)
    if magic is None:
        raise IDXError(f"{name}: too short to be an IDX file")
    if magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_TYPES:
        raise IDXError(f"{name}: wrong magic number 0x{magic.hex()} (an IDX file starts with 0x0000 then a type "
                       f"code in {{{', '.join(hex(t) for t in IDX_TYPES)}}} and the number of dimensions)")
    dtype, ndim = IDX_TYPES[magic[2]], magic[3]
    if ndim == 0:
        raise IDXError(f"{name}: the header declares 0 dimensions")
    sizes = _read_exactly(stream, 4 * ndim)
    if sizes is None:
        raise IDXError(f"{name}: truncated header ({ndim} dimensions declared, their sizes missing)")
    shape = tuple(int(s) for s in np.frombuffer(sizes, dtype=">u4"))
    array = np.empty(shape, dtype=dtype.newbyteorder("="))
    view, filled = memoryview(array.reshape(-1)).cast("B"), 0
    while filled < array.nbytes:
        got = stream.readinto(view[filled:])
        if not got:
            break
        filled += got
    if filled < array.nbytes:
        raise IDXError(f"{name}: truncated: the header declares shape {shape} of {dtype.name} "
                       f"({array.nbytes} bytes of data) but the file holds only {filled}")
    if stream.read(1):
        raise IDXError(f"{name}: has trailing bytes after the {array.nbytes} bytes of data that its header "
                       f"declares (shape {shape} of {dtype.name})")
    if dtype != array.dtype:  # big-endian file on a little-endian machine
        array.byteswap(inplace=True)
    return array


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
        with _open(path) as stream:
            array = _read_stream(stream, str(path))
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError; a cut-off stream an EOFError
        if not path.is_file():
            raise
        raise IDXError(f"{path}: corrupt or truncated gzip file ({error}); delete it and download it again") \
            from None
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
