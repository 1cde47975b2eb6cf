"""Reading PyTorch's own `.pt` / `.pth` files without torch, and without running code from them.

`torch.save` writes a pickle. Unpickling calls whatever the file names, so a crafted `.pt` can run
`os.system`. torch 2.6 made `weights_only=True` the default of `torch.load`: an unpickler that resolves
only an allowlist of names (tensors, storages, OrderedDict, dtypes, sizes, plain containers). glasstorch
does the same here:

* `RestrictedUnpickler.find_class` returns an object only for the names in `SAFE_GLOBALS`, or those a
  program allowed with `add_safe_globals` / `with safe_globals([...])`. Anything else is refused with
  `UnsafeLoadError` before it is imported, so nothing from the file runs.
* `weights_only=False` is the explicit opt-in for files you trust (a whole pickled model): names are then
  resolved as pickle would, `torch.*` as `glasstorch.*` and `torchvision.*` as `glasstorch.vision.*`.

The two layouts torch writes:
    zip (torch >= 1.6):  <name>/data.pkl (the object; tensors as persistent ids) + <name>/data/<key>
                         (each storage's raw little-endian bytes) + <name>/byteorder, version ...
    legacy:              pickles in a row: magic number, protocol version, sys info, the object, the
                         list of storage keys; then each storage as an int64 element count + raw bytes.
Storages are checked against the bytes the file holds before anything is allocated.
"""
import codecs
import collections
import contextlib
import importlib
import io
import os
import pickle
import pickletools
import struct
import warnings
import zipfile
import zlib

import numpy as np

from . import backend
from .errors import FileFormatError, UnsafeLoadError
from .nn.parameter import Parameter
from .tensor import Size, Tensor

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


# ----------------------------------------------------------------------------- what a weights file may name
class _StorageType:
    """What `torch.FloatStorage` & co. stand for in a file: the element type of a storage."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, np.dtype(dtype) if dtype != "bfloat16" else None

    def __repr__(self):
        return f"torch.{self.name}"


_STORAGES = {"DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
             "BFloat16Storage": "bfloat16", "LongStorage": np.int64, "IntStorage": np.int32,
             "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}
_DTYPES = {"float64": np.float64, "float32": np.float32, "float16": np.float16, "bfloat16": "bfloat16",
           "int64": np.int64, "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8,
           "bool": np.bool_}


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    """torch._utils._rebuild_tensor_v2: a view (offset, size, stride) of a storage, as a tensor of its own."""
    array, itemsize = storage
    if not all(isinstance(v, int) and v >= 0 for v in (storage_offset, *size, *stride)) or len(size) != len(stride):
        # (a negative stride or offset would make as_strided read memory outside the storage)
        raise FileFormatError(f"a tensor of size {tuple(size)}, stride {tuple(stride)} at offset {storage_offset}: "
                              "sizes, strides and offsets must be non-negative integers: the file is corrupt")
    count = int(np.prod(size, dtype=np.int64)) if len(size) else 1
    if count and storage_offset + sum((s - 1) * st for s, st in zip(size, stride)) >= len(array):
        raise FileFormatError(f"a tensor of size {tuple(size)}, stride {tuple(stride)} at offset {storage_offset} "
                              f"reaches past its storage of {len(array)} elements: the file is corrupt")
    view = np.lib.stride_tricks.as_strided(array[storage_offset:], shape=tuple(size),
                                           strides=tuple(s * itemsize for s in stride)) if count else \
        np.empty(tuple(size), dtype=array.dtype)
    t = Tensor._make(np.array(view))  # own memory: views of one storage become separate tensors
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks, *state):
    return Parameter(data, requires_grad=requires_grad)


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch._tensor._rebuild_from_type_v2: a tensor of a subclass; only Tensor and Parameter are let through."""
    return func(*args)


def _safe_names():
    names = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.defaultdict": collections.defaultdict,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.Tensor": Tensor, "torch.nn.parameter.Parameter": Parameter,
        "torch.Size": Size, "torch.device": backend.device,
        "builtins.set": set, "builtins.frozenset": frozenset, "builtins.complex": complex,
        "builtins.slice": slice, "builtins.range": range, "builtins.bytearray": bytearray,
        "__builtin__.set": set, "__builtin__.frozenset": frozenset,
        "_codecs.encode": codecs.encode,  # protocol 2 writes bytes as _codecs.encode(latin1 text)
    }
    names.update({f"torch.{n}": _StorageType(n, d) for n, d in _STORAGES.items()})
    names.update({f"torch.{n}": backend.from_name(n if n != "bfloat16" else "float32") for n in _DTYPES})
    return names


SAFE_GLOBALS = _safe_names()  # torch 2.6's weights_only allowlist, as far as glasstorch has the objects
_user_safe_globals = {}


def _qualified(obj):
    if isinstance(obj, tuple):  # (object, "module.name") as torch accepts
        return obj[1], obj[0]
    return f"{obj.__module__}.{obj.__qualname__}", obj


def add_safe_globals(safe_globals):
    """Allow these classes/functions in weights-only loads (torch.serialization.add_safe_globals)."""
    for obj in safe_globals:
        name, value = _qualified(obj)
        _user_safe_globals[name] = value


def get_safe_globals():
    return list(_user_safe_globals.values())


def clear_safe_globals():
    _user_safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """`with safe_globals([MyClass]): load(...)`: allowed inside the block only."""
    before = dict(_user_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_safe_globals.clear()
        _user_safe_globals.update(before)


def resolve_trusted(module, name):
    """What `weights_only=False` resolves a name to: torch.* as glasstorch.* (torch.nn.modules.<file>.X as
    glasstorch.nn.X, since glasstorch's files are not torch's), torchvision.* as glasstorch.vision.*."""
    if module == "__builtin__":
        module = "builtins"
    candidates = [(module, name)]
    for prefix, ours in (("torchvision", "glasstorch.vision"), ("torch", "glasstorch")):
        if module == prefix or module.startswith(prefix + "."):
            mapped = ours + module[len(prefix):]
            candidates = [(mapped, name)]
            if mapped.startswith("glasstorch.nn.modules."):
                candidates.append(("glasstorch.nn", name))
            candidates.append((mapped.rsplit(".", 1)[0], name))
            break
    error = None
    for module_name, attribute in candidates:
        try:
            obj = importlib.import_module(module_name)
            for part in attribute.split("."):
                obj = getattr(obj, part)
            return obj
        except (ImportError, AttributeError) as e:
            error = error or e
    raise error


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only allowlisted names (or, with `trusted`, any name); tensors come from `storages(key)`."""

    def __init__(self, file, name, storages, trusted=False):
        super().__init__(file)
        self.name, self.storages, self.trusted = name, storages, trusted

    def find_class(self, module, name):
        key = f"{module}.{name}"
        if key in SAFE_GLOBALS:
            return SAFE_GLOBALS[key]
        if key in _user_safe_globals:
            return _user_safe_globals[key]
        if self.trusted:
            try:
                return resolve_trusted(module, name)
            except (ImportError, AttributeError) as error:
                raise FileFormatError(f"{self.name} names {key}, which glasstorch can't find ({error})") from None
        raise UnsafeLoadError(
            f"{self.name}: weights-only load refused: it names {key}, which is not an allowed global. Nothing "
            "from the file was run. If you trust the file, load it with weights_only=False, or allow that one "
            f"name: glasstorch.serialization.add_safe_globals([{name}]) (or `with safe_globals([{name}]):`).")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise FileFormatError(f"{self.name}: unknown persistent id {str(pid)[:80]}: the file is corrupt")
        _, storage_type, key, _location, numel = pid[:5]
        return self.storages(str(key), storage_type, int(numel))


def _storage_array(raw, storage_type, numel, name, key):
    """(elements, itemsize) of one storage's raw bytes, checked against the count the pickle declares."""
    itemsize = 2 if storage_type.dtype is None else storage_type.dtype.itemsize
    if len(raw) < numel * itemsize:
        raise FileFormatError(f"{name}: storage {key!r} holds {len(raw):,} bytes, but the pickle declares "
                              f"{numel:,} elements of {itemsize} bytes: the file is truncated or corrupt")
    raw = raw[:numel * itemsize]
    if storage_type.dtype is None:  # bfloat16: the top 16 bits of a float32 (NumPy has no bfloat16)
        array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        return array, 4
    return np.frombuffer(raw, dtype=storage_type.dtype.newbyteorder("<")).astype(storage_type.dtype, copy=False), \
        itemsize


def _warn_trusted(name):
    warnings.warn(f"loading {name} with weights_only=False unpickles it: the file can run any code. Only do this "
                  "with files you trust.", UserWarning, stacklevel=4)


# ----------------------------------------------------------------------------- the two layouts
def load_zip(f, name, weights_only=True):
    """A torch >= 1.6 zip checkpoint (`<archive>/data.pkl` + `<archive>/data/<key>`)."""
    try:
        with zipfile.ZipFile(f) as z:
            names = z.namelist()
            pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
            if not pickles:
                raise FileFormatError(f"{name}: a zip without data.pkl is not a PyTorch checkpoint")
            prefix = pickles[0][:-len("data.pkl")]
            byteorder = z.read(prefix + "byteorder").strip() if prefix + "byteorder" in names else b"little"
            if byteorder != b"little":
                raise FileFormatError(f"{name}: written on a {byteorder.decode(errors='replace')}-endian machine; "
                                      "glasstorch reads little-endian PyTorch files only")
            total = os.fstat(f.fileno()).st_size if hasattr(f, "fileno") else None

            def storage(key, storage_type, numel):
                record = f"{prefix}data/{key}"
                if record not in names:
                    raise FileFormatError(f"{name}: storage {key!r} is missing ({record}): the file is corrupt")
                info = z.getinfo(record)
                if total is not None and info.compress_size > total:
                    raise FileFormatError(f"{name}: storage {key!r} claims more bytes than the file has")
                return _storage_array(z.read(record), storage_type, numel, name, key)

            if not weights_only:
                _warn_trusted(name)
            stream = io.BytesIO(z.read(pickles[0]))
            check_pickle(stream, name)
            return RestrictedUnpickler(stream, name, _cached(storage), trusted=not weights_only).load()
    except FileFormatError as error:
        raise _named(error, name) from None
    except pickle.UnpicklingError as error:  # the C unpickler's "invalid load key" and the like
        raise FileFormatError(f"{name}: corrupt pickle in the PyTorch checkpoint ({error})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError, IndexError, OSError,
            struct.error, AttributeError, RecursionError, MemoryError, NotImplementedError, OverflowError) as error:
        raise FileFormatError(f"{name}: corrupt PyTorch checkpoint ({type(error).__name__}: {error})") from None


def _cached(storage):
    """Each storage is read once, however many tensors view it."""
    seen = {}

    def get(key, storage_type, numel):
        if key not in seen:
            seen[key] = storage(key, storage_type, numel)
        return seen[key]
    return get


def load_legacy(f, name, weights_only=True):
    """torch.save(..., _use_new_zipfile_serialization=False): pickles in a row, then the raw storages.

    The storages' bytes come after the object's pickle, so it is read twice: first to learn which storages
    it uses (tensors are not built), then, once their bytes are read, for real."""
    try:
        stream = io.BytesIO(f.read())
        check_pickle(stream, name, count=5)  # magic, protocol, sys info, the object, the storage keys
        header = RestrictedUnpickler(stream, name, _no_storages(name))
        if header.load() != LEGACY_MAGIC:
            raise FileFormatError(f"{name}: not a PyTorch file (wrong magic number)")
        header.load(), header.load()  # protocol version, sys info
        start = stream.tell()
        described = {}

        def describe(key, storage_type, numel):
            described[key] = storage_type
            return np.zeros(0), 1

        first = RestrictedUnpickler(stream, name, describe, trusted=not weights_only)
        first.find_class = _without_tensors(first.find_class)
        first.load()
        arrays = {}
        for key in RestrictedUnpickler(stream, name, _no_storages(name)).load():
            key = str(key)
            (count,) = struct.unpack("<q", stream.read(8))
            if key not in described or count < 0:
                raise FileFormatError(f"{name}: storage {key!r} is not described by the pickle: corrupt")
            itemsize = 2 if described[key].dtype is None else described[key].dtype.itemsize
            arrays[key] = _storage_array(stream.read(count * itemsize), described[key], count, name, key)
        if not weights_only:
            _warn_trusted(name)
        stream.seek(start)
        return RestrictedUnpickler(stream, name, lambda key, storage_type, numel: arrays[key],
                                   trusted=not weights_only).load()
    except FileFormatError as error:
        raise _named(error, name) from None
    except pickle.UnpicklingError as error:
        raise FileFormatError(f"{name}: corrupt pickle in the legacy PyTorch file ({error})") from None
    except (EOFError, KeyError, ValueError, TypeError, IndexError, struct.error, AttributeError,
            RecursionError, MemoryError, OverflowError) as error:
        raise FileFormatError(f"{name}: corrupt legacy PyTorch file ({type(error).__name__}: {error})") from None


def _named(error, name):
    """The error with the file's name in front, if the code that raised it did not know the name."""
    if name in str(error):
        return error
    return type(error)(f"{name}: {error}")


_MEMO_OPCODES = {"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"}


def check_pickle(stream, name, count=1):
    """Read the next `count` pickles' opcodes (pickletools: nothing is built or resolved) before unpickling.

    A well-formed pickle never uses a memo slot beyond its own length, so one that does is corrupt or hostile:
    CPython's unpickler would grow its memo table to that index (a 20-byte file could claim gigabytes).
    Truncated data and unknown opcodes are found here too. The stream is left where it was.
    """
    start = stream.tell()
    size = len(stream.getbuffer())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # pickletools reading a STRING with odd escapes
            for _ in range(count):
                if stream.tell() >= size:
                    break
                for opcode, arg, _pos in pickletools.genops(stream):
                    if opcode.name in _MEMO_OPCODES and not (isinstance(arg, int) and 0 <= arg < size):
                        raise FileFormatError(f"{name}: the pickle uses memo slot {str(arg)[:20]} in a "
                                              f"{size:,}-byte stream: the file is corrupt")
    except ValueError as error:  # pickletools' word for truncated data, bad lengths, unknown opcodes
        raise FileFormatError(f"{name}: corrupt pickle ({error})") from None
    finally:
        stream.seek(start)


def _no_storages(name):
    def refuse(key, storage_type, numel):
        raise FileFormatError(f"{name}: a tensor where the legacy header should have none: corrupt")
    return refuse


def _without_tensors(find_class):
    """The first read of a legacy file builds no tensors (their storages are not read yet)."""
    def find(module, name):
        obj = find_class(module, name)
        return (lambda *args, **kwargs: None) if obj in (_rebuild_tensor_v2, _rebuild_parameter) else obj
    return find


def looks_like_legacy(head):
    """A legacy torch file starts with a protocol-2 pickle of its magic number."""
    return head[:2] == b"\x80\x02" and head[2:3] == b"\x8a"


__all__ = ["RestrictedUnpickler", "SAFE_GLOBALS", "UnsafeLoadError", "add_safe_globals", "clear_safe_globals",
           "get_safe_globals", "load_legacy", "load_zip", "safe_globals"]
