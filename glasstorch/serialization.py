"""Safe save and load: nothing that is loaded can run code.

`torch.save` pickles, and unpickling a file can execute anything its author wrote into it. glasstorch
writes two plain formats instead, and never calls `pickle.load`:

* `save(obj, path)`: an `.npz` zip (NumPy's format) holding every tensor or array as a raw `.npy` entry,
  plus one entry `__glasstorch__` with a JSON description of the object around them:
      {"dict": [["fc.weight", {"tensor": "t0"}], ["epoch", 3], ...]}
  It stores tensors, NumPy arrays, numbers, strings, None, dtypes, devices and dicts/lists/tuples of
  these: state_dicts, optimizer and scheduler state, training checkpoints. `load` reads it back with
  `np.load(..., allow_pickle=False)`.
  A whole module (`save(model, path)`) is stored as its class's name, its plain attributes, and its
  parameters, buffers and child modules (hooks are not saved). `load` rebuilds it with `object.__new__` and
  that state, so no constructor or other code runs; the class must be one of glasstorch's layers or one
  given to `add_safe_globals`, or, with `weights_only=False`, a Module subclass the program already has.
* safetensors (`save_safetensors`, or `save(flat_dict, "x.safetensors")`): the Hugging Face format,
  an 8-byte little-endian header length, a JSON header (dtype, shape, byte offsets per tensor) and the
  raw bytes. PyTorch reads it with `safetensors.torch.load_file`.

`load` recognises both, and refuses pickles (including files written by `torch.save`) with a clear error.
Files are written atomically: to a temporary file in the same directory, then `os.replace`d over the
target, so a crash midway leaves the previous file intact.
"""
import glob
import importlib
import json
import os
import pickle
import socket
import struct
import sys
import types
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from . import backend
from . import pt_format
from .errors import FileFormatError, UnsafeLoadError
from .nn.module import Module
from .pt_format import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals  # noqa: F401
from .tensor import Size, Tensor

FORMAT = "glasstorch.save/1"
_META = "__glasstorch__"

_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"



# ----------------------------------------------------------------------------- atomic writes
_HOST = socket.gethostname().replace(".", "-")


def atomic_write(path, write):
    """Call `write(file)` on a temporary file next to `path`, then rename it onto `path`.

    The rename (`os.replace`) is atomic: readers see the old file or the new one, never half of one, and
    fsyncing the file and then its directory makes the new name survive a power cut. The temporary file is
    `.NAME.HOST.PID.N.tmp`: a writer killed midway (SIGKILL, OOM, power loss) leaves it behind, and the next
    write to the same target removes it once that PID is gone. A failed write (disk full, file size limit)
    leaves the previous file as it was, removes the temporary, and raises an OSError naming `path`.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    remove_stale_temps(path)
    tmp = _temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # open()'s usual mode, after umask
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_directory(directory)
    except BaseException as error:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(error, OSError) and not isinstance(error, FileFormatError) and path not in str(error):
            raise OSError(error.errno, f"could not write {path}: {error.strerror or error} "
                                       "(the previous file, if any, is unchanged)", path) from error
        raise


def _temp_name(path):
    head, name = os.path.split(os.path.abspath(path))
    for n in range(1000):
        candidate = os.path.join(head, f".{name}.{_HOST}.{os.getpid()}.{n}.tmp")
        if not os.path.exists(candidate):
            return candidate
    raise FileExistsError(f"too many temporary files for {path}")


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some systems can't open a directory; the rename itself has happened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def stale_temps(directory):
    """The temporary files under `directory` left by writers on this host that no longer run."""
    found = []
    for tmp in glob.glob(os.path.join(glob.escape(os.fspath(directory)), "**", ".*.tmp"), recursive=True):
        parts = os.path.basename(tmp).rsplit(".", 4)  # ['.NAME', HOST, PID, N, 'tmp']
        if len(parts) == 5 and parts[1] == _HOST and parts[2].isdigit() and not _alive(int(parts[2])):
            found.append(tmp)
    return sorted(found)


def remove_stale_temps(path):
    """Remove the temporaries of `path` whose writer is gone (a killed save leaves one of the file's size)."""
    head, name = os.path.split(os.path.abspath(path))
    pattern = os.path.join(glob.escape(head), glob.escape(f".{name}.{_HOST}.") + "*.tmp")
    for tmp in glob.glob(pattern):
        pid = os.path.basename(tmp)[len(name) + len(_HOST) + 3:].split(".")[0]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_to(f, write):
    """`f` is a path (written atomically) or an open binary file (written in place)."""
    if hasattr(f, "write"):
        write(f)
    else:
        atomic_write(f, write)


# ----------------------------------------------------------------------------- object <-> JSON + arrays
def _array_of(value):
    """The host ndarray of a glasstorch tensor, a NumPy array or a torch tensor (bfloat16 widened to float32)."""
    if isinstance(value, Tensor):
        return backend.to_host(value._array)
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # torch.Tensor, duck-typed: torch is optional
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    raise TypeError(f"expected a tensor or an array, got {type(value).__name__}")


def _contiguous(a):
    """C-ordered memory (np.ascontiguousarray would turn a 0-d array into 1-d)."""
    return a if a.flags.c_contiguous else a.copy(order="C")


class _Encoder:
    """Turns an object into JSON-able structure, moving every array into `self.arrays`."""

    def __init__(self):
        self.arrays = {}
        self.seen = {}  # id(tensor) -> key: a tensor saved twice (tied weights) is stored once
        self.modules = {}  # id(module) -> its number: a layer used twice is stored once

    def array(self, a):
        key = f"t{len(self.arrays)}"
        self.arrays[key] = _contiguous(a)
        return key

    def encode(self, obj, where="obj"):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj)
        if isinstance(obj, Tensor):
            if id(obj) not in self.seen:
                self.seen[id(obj)] = self.array(obj._array)
            out = {"tensor": self.seen[id(obj)]}
            if obj.requires_grad:
                out["requires_grad"] = True
            if type(obj).__name__ == "Parameter":
                out["parameter"] = True
            return out
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject or obj.dtype.kind == "V":
                raise TypeError(f"{where}: NumPy arrays of dtype {obj.dtype} can't be saved without pickle")
            return {"ndarray": self.array(obj)}
        if isinstance(obj, np.generic):
            return {"ndarray": self.array(np.asarray(obj)), "scalar": True}
        if isinstance(obj, backend.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, backend.device):
            return {"device": str(obj)}
        if isinstance(obj, bytes):
            return {"bytes": self.array(np.frombuffer(obj, dtype=np.uint8))}
        if isinstance(obj, Size):
            return {"size": [int(s) for s in obj]}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not (k is None or isinstance(k, (bool, int, float, str, tuple, np.generic))):
                    raise TypeError(f"{where}: dict keys must be strings, numbers, None or tuples, "
                                    f"got {type(k).__name__}")
                items.append([self.encode(k, where), self.encode(v, f"{where}[{k!r}]")])
            return {"ordered_dict" if isinstance(obj, OrderedDict) else "dict": items}
        if isinstance(obj, (list, tuple)):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {kind: [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, Module):
            return self.module(obj, where)
        if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)) and _own_function(obj):
            return {"function": f"{obj.__module__}:{obj.__qualname__}"}  # F.relu as a layer's activation
        raise TypeError(
            f"glasstorch.save can't store {where} of type {type(obj).__name__}: it saves tensors, arrays, numbers, "
            "strings, None and dicts/lists/tuples of them, never pickled objects. To save a model, save "
            "model.state_dict(); to save a training run, save a dict of state_dicts.")


    def module(self, m, where):
        """A whole module: its class's name, its plain attributes, and its parameters, buffers and children."""
        if id(m) in self.modules:
            return {"module_ref": self.modules[id(m)]}
        self.modules[id(m)] = len(self.modules)
        cls = type(m)
        attributes = [[name, self.encode(value, f"{where}.{name}")] for name, value in vars(m).items()
                      if name not in _MODULE_REGISTRIES and not name.endswith("_hooks")]
        return {"module": {
            "id": self.modules[id(m)], "class": f"{cls.__module__}:{cls.__qualname__}", "attributes": attributes,
            "parameters": [[k, self.encode(v, f"{where}.{k}")] for k, v in m._parameters.items()],
            "buffers": [[k, self.encode(v, f"{where}.{k}")] for k, v in m._buffers.items()],
            "non_persistent": sorted(m._non_persistent_buffers_set),
            "modules": [[k, self.encode(v, f"{where}.{k}")] for k, v in m._modules.items()]}}


#: what Module.__init__ sets up; a saved module stores their contents, not the containers
_MODULE_REGISTRIES = ("_parameters", "_buffers", "_non_persistent_buffers_set", "_modules")


def _own_function(fn):
    """A function of glasstorch itself, found again under its name (F.relu): safe to name in a file."""
    module = fn.__module__ or ""
    return module.startswith("glasstorch.") and _lookup(sys.modules.get(module), fn.__qualname__) is fn


def _lookup(module, qualname):
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


class _Decoder:
    def __init__(self, arrays, map_location, weights_only=True, name="<file>"):
        self.arrays = arrays
        self.map_location = map_location
        self.tensors = {}  # key -> Tensor: the same stored array comes back as the same tensor
        self.modules = {}  # number -> module: a layer used twice comes back as one object
        self.weights_only, self.name = weights_only, name

    def decode(self, node):
        if not isinstance(node, (dict, list)):
            return node
        if isinstance(node, list):
            raise ValueError("corrupt glasstorch file: untagged list in the structure")
        (tag, value), *rest = node.items()
        if tag == "tensor":
            if value not in self.tensors:
                self.tensors[value] = self._tensor(self.arrays[value], node)
            return self.tensors[value]
        if tag == "ndarray":
            a = self.arrays[value]
            return a[()] if node.get("scalar") else a
        if tag == "dict":
            return {self.decode(k): self.decode(v) for k, v in value}
        if tag == "ordered_dict":
            return OrderedDict((self.decode(k), self.decode(v)) for k, v in value)
        if tag == "list":
            return [self.decode(v) for v in value]
        if tag == "tuple":
            return tuple(self.decode(v) for v in value)
        if tag == "dtype":
            return backend.from_name(value)
        if tag == "device":
            return backend.device(value)
        if tag == "size":
            return Size(value)
        if tag == "bytes":
            return self.arrays[value].tobytes()
        if tag == "module":
            return self._module(value)
        if tag == "module_ref":
            return self.modules[value]
        if tag == "function":
            return self._function(value)
        raise ValueError(f"corrupt glasstorch file: unknown tag {tag!r}")

    def _module(self, node):
        """Rebuild a saved module without running its constructor or anything named by the file: the class must
        be a Module subclass that this program already has (see `_module_class`); its state is then set directly."""
        cls = _module_class(node["class"], self.weights_only, self.name)
        m = object.__new__(cls)
        Module.__init__(m)
        self.modules[node["id"]] = m
        for name, value in node["attributes"]:
            object.__setattr__(m, name, self.decode(value))
        for registry, key in (("_parameters", "parameters"), ("_buffers", "buffers"), ("_modules", "modules")):
            target = getattr(m, registry)
            for name, value in node[key]:
                target[name] = self.decode(value)
        m._non_persistent_buffers_set.update(node["non_persistent"])
        return m

    def _function(self, path):
        module, _, qualname = path.partition(":")
        fn = _lookup(sys.modules.get(module), qualname) if module.startswith("glasstorch.") else None
        if not isinstance(fn, (types.FunctionType, types.BuiltinFunctionType)):
            raise UnsafeLoadError(f"{self.name} names the function {path!r}, which is not one of glasstorch's own; "
                                  "nothing from the file was run")
        return fn

    def _tensor(self, array, node):
        t = Tensor._make(array)
        t = _place(t, self.map_location)
        if node.get("parameter"):
            try:
                from .nn import Parameter  # floor 4: a saved Parameter comes back as a Parameter
                return Parameter(t, requires_grad=bool(node.get("requires_grad")))
            except ImportError:
                pass
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t


def _module_class(path, weights_only, name):
    """The class a saved module names, from an allowlist; nothing is imported on the file's say-so.

    Always allowed: glasstorch's own layers (glasstorch.nn.Linear, ...) and classes given to add_safe_globals.
    With weights_only=False (the opt-in for a file you trust): also a Module subclass this program has already
    defined or imported (`__main__:Net`). Either way the class is only instantiated with object.__new__ and given
    the saved state: no constructor, __setstate__ or other code runs while loading.
    """
    module_name, _, qualname = path.partition(":")
    allowed = {f"{c.__module__}:{c.__qualname__}": c for c in pt_format.get_safe_globals() if isinstance(c, type)}
    if path in allowed:
        cls = allowed[path]
    elif module_name.startswith("glasstorch.") or weights_only is False:
        if module_name.startswith("glasstorch.") and module_name not in sys.modules:
            try:
                importlib.import_module(module_name)  # one of glasstorch's own modules: our code, not the file's
            except ImportError:
                pass
        cls = _lookup(sys.modules.get(module_name), qualname)
    else:
        raise UnsafeLoadError(
            f"{name} holds a whole model of class {module_name}.{qualname}, which is not one of glasstorch's own "
            f"layers; nothing from the file was run. If you trust the file, load it with weights_only=False (the "
            f"class must be defined or imported in this program first), or allow the class with "
            f"add_safe_globals([{qualname}]).")
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise UnsafeLoadError(f"{name} names {module_name}.{qualname} as a module class, but this program has no "
                              "such nn.Module subclass (define or import it before loading); nothing from the file "
                              "was run")
    return cls


def _place(t, map_location):
    """Apply torch's `map_location` (a device, a name, a {saved: wanted} dict, or fn(tensor, 'cpu'))."""
    if map_location is None:
        return t
    if callable(map_location):
        out = map_location(t, "cpu")
        return t if out is None else out
    if isinstance(map_location, dict):
        map_location = map_location.get("cpu", "cpu")
    return t.to(backend.device(map_location))


# ----------------------------------------------------------------------------- save / load
def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Save `obj` (tensors, state_dicts, checkpoints) to the path or binary file `f`, without pickle.

    Args:
        obj: a Tensor, an ndarray, or numbers/strings/None/tensors nested in dicts, lists and tuples; or a
            whole nn.Module (class name + attributes + tensors; see the module docstring for how it loads).
        f: a path (written atomically; a name ending in `.safetensors` writes that format, which needs a
            flat {name: tensor} dict) or a file object opened for binary writing.

    Example:
        >>> import glasstorch as torch
        >>> torch.save({"w": torch.ones(2), "epoch": 3}, "ckpt.pt")   # doctest: +SKIP
        >>> torch.load("ckpt.pt")["epoch"]                              # doctest: +SKIP
        3
    """
    if not hasattr(f, "write") and os.fspath(f).endswith(".safetensors"):
        if not isinstance(obj, dict):
            raise TypeError("a .safetensors file holds a flat {name: tensor} dict; save other objects to .pt")
        return save_safetensors(obj, f)
    encoder = _Encoder()
    structure = encoder.encode(obj)
    meta = json.dumps({"format": FORMAT, "object": structure}, separators=(",", ":"))
    arrays = dict(encoder.arrays)
    arrays[_META] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    _write_to(f, lambda handle: np.savez(handle, **arrays))


def _read_head(f, n=16):
    if hasattr(f, "read"):
        pos = f.tell()
        head = f.read(n)
        f.seek(pos)
        return head
    with open(f, "rb") as handle:
        return handle.read(n)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load a tensor, state_dict or checkpoint: what `save` wrote, a PyTorch `.pt`/`.pth` file, safetensors,
    .npz or .npy. Nothing in a file is run.

    Args:
        f: a path or a binary file object.
        map_location: where tensors go, as in torch (a device, a name, a {saved: wanted} dict or a function).
        weights_only: True (the default, as torch 2.6's): PyTorch pickles are read by a restricted unpickler
            that resolves only tensors, storages, containers, dtypes and the names given to
            `add_safe_globals`; a file naming anything else is refused before it runs. False: the explicit
            opt-in for a file you trust (a whole pickled model), with a warning.

    Raises:
        UnsafeLoadError: the file names something outside the allowlist (nothing from it ran).
        FileFormatError: the file is truncated, corrupt or inconsistent (the message names it).
    """
    name = getattr(f, "name", "<file>") if hasattr(f, "read") else os.fspath(f)
    head = _read_head(f)
    if len(head) == 0:
        raise FileFormatError(f"{name} is empty (a write that never finished?)")
    if head.startswith(_NPY_MAGIC):
        return _place(Tensor._make(_np_load(f, name)), map_location)
    if _looks_like_safetensors(head):
        return {k: _place(v, map_location) for k, v in load_safetensors(f).items()}
    if head.startswith(_ZIP_MAGIC) and _is_torch_zip(f, name):
        return _place_all(_with_file(f, lambda handle: pt_format.load_zip(handle, name, weights_only)), map_location)
    if head.startswith(_ZIP_MAGIC):
        return _load_npz(f, name, map_location, weights_only)
    if pt_format.looks_like_legacy(head):
        return _place_all(_with_file(f, lambda handle: pt_format.load_legacy(handle, name, weights_only)),
                          map_location)
    raise UnsafeLoadError(
        f"{name} is not a glasstorch, PyTorch, safetensors, .npz or .npy file; it may be a plain pickle (written by "
        "pickle.dump?), which glasstorch never loads: unpickling can run any code its author put in it.")


def _is_torch_zip(f, name):
    try:
        names = _with_file(f, lambda handle: zipfile.ZipFile(handle).namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, KeyError, struct.error) as e:
        raise FileFormatError(f"{name}: truncated or corrupt ({e}): not a complete zip archive") from None
    return any(n == "data.pkl" or n.endswith("/data.pkl") for n in names)


def _with_file(f, read):
    """read(binary handle) on a path or on a file object (its position restored for the next reader)."""
    if hasattr(f, "read"):
        start = f.tell()
        try:
            return read(f)
        finally:
            f.seek(start)
    with open(f, "rb") as handle:
        return read(handle)


def _place_all(obj, map_location):
    """map_location applied to every tensor inside a loaded structure."""
    if map_location is None:
        return obj
    if isinstance(obj, Tensor):
        return _place(obj, map_location)
    if isinstance(obj, dict):
        return type(obj)((k, _place_all(v, map_location)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(_place_all(v, map_location) for v in obj)
    if hasattr(obj, "to") and hasattr(obj, "_parameters"):  # a whole module
        return obj.to(backend.device(map_location if not isinstance(map_location, dict) else "cpu"))
    return obj


def _np_load(f, name):
    """A single .npy file, its header checked against the bytes that follow before anything is allocated."""
    if hasattr(f, "read"):
        return _read_npy(f, name, "array", _remaining(f))
    with open(f, "rb") as handle:
        return _read_npy(handle, name, "array", os.fstat(handle.fileno()).st_size)


def _remaining(f):
    try:
        pos = f.tell()
        end = f.seek(0, os.SEEK_END)
        f.seek(pos)
        return end - pos
    except (OSError, AttributeError):
        return None


def _read_npy(stream, name, entry, size):
    """Parse an .npy header from `stream`, check it, then read exactly the data it declares."""
    where = f"{name}: entry {entry!r}" if entry != "array" else f"{name}"
    try:
        version = np.lib.format.read_magic(stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(stream)
        header_end = stream.tell() if hasattr(stream, "tell") else None
    except (ValueError, EOFError, OSError) as e:
        raise FileFormatError(f"{where}: not a valid .npy array header ({e}): the file is corrupt") from None
    if dtype.hasobject:
        raise UnsafeLoadError(f"{where} holds pickled Python objects, which glasstorch never loads")
    count = int(np.prod(shape, dtype=object))
    nbytes = count * dtype.itemsize
    if size is not None and header_end is not None and nbytes != size - header_end:
        raise FileFormatError(
            f"{where}: inconsistent sizes: its header declares shape {shape} of {dtype} ({nbytes:,} bytes) but "
            f"{size - header_end:,} bytes follow: the file is {'truncated' if nbytes > size - header_end else 'corrupt'}")
    array = np.empty(count, dtype=dtype)  # allocated only now that the sizes agree with the file
    view, filled = memoryview(array).cast("B"), 0
    while filled < nbytes:
        got = stream.readinto(view[filled:])
        if not got:
            raise FileFormatError(f"{where}: truncated: {filled:,} of the {nbytes:,} bytes its header declares")
        filled += got
    return array.reshape(shape, order="F" if fortran else "C")


def _load_npz(f, name, map_location, weights_only=True):
    try:
        arrays = _read_npz(f, name)
    except FileFormatError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, NotImplementedError,
            RuntimeError, struct.error) as e:  # what zipfile raises on a damaged archive
        raise FileFormatError(f"{name}: truncated or corrupt ({e}): it is not a complete glasstorch/.npz "
                              "zip archive; load an earlier copy or save it again") from None
    if _META not in arrays:  # a plain np.savez file: its arrays as tensors
        return {key: _place(Tensor._make(a), map_location) for key, a in arrays.items()}
    try:
        meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FileFormatError(f"{name}: entry {_META!r} is corrupt ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise FileFormatError(f"{name}: unsupported glasstorch file format {found!r} (expected {FORMAT})")
    try:
        return _Decoder(arrays, map_location, weights_only, name).decode(meta["object"])
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        raise FileFormatError(f"{name}: entry {_META!r} describes an object the file does not hold ({e!r}): "
                              "the file is corrupt") from None


def _read_npz(f, name):
    """{entry: array} of an .npz zip; every size is checked against the archive before it is allocated."""
    total = _remaining(f) if hasattr(f, "read") else os.path.getsize(f)
    with zipfile.ZipFile(f) as z:
        infos = z.infolist()
        arrays = {}
        for info in infos:
            entry = info.filename
            if total is not None and info.compress_size > total:
                raise FileFormatError(f"{name}: entry {entry!r} claims {info.compress_size:,} bytes, more than the "
                                      f"whole file ({total:,}): the file is truncated or corrupt")
            if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > 1032 * max(info.compress_size, 1):
                raise FileFormatError(f"{name}: entry {entry!r} claims to inflate to {info.file_size:,} bytes, "
                                      "more than deflate can produce: the file is corrupt")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise FileFormatError(f"{name}: entry {entry!r} uses zip compression method {info.compress_type}, "
                                      "which glasstorch files never use: the file is corrupt")
            key = entry[:-4] if entry.endswith(".npy") else entry
            try:
                with z.open(info) as stream:
                    arrays[key] = _read_npy(stream, name, entry, info.file_size)
                    stream.read(1)  # reach the end, so zipfile checks the CRC
            except zipfile.BadZipFile as e:
                raise FileFormatError(f"{name}: entry {entry!r} is corrupt ({e})") from None
    return arrays


# ----------------------------------------------------------------------------- safetensors
# https://huggingface.co/docs/safetensors: [u64 little-endian N][N bytes JSON header][raw data]
_ST_TO_NUMPY = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
                "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
                "U16": np.uint16, "U32": np.uint32, "U64": np.uint64}
_NUMPY_TO_ST = {np.dtype(v): k for k, v in _ST_TO_NUMPY.items()}
_MAX_HEADER = 100 * 1024 * 1024


def _looks_like_safetensors(head):
    return len(head) >= 9 and 0 < int.from_bytes(head[:8], "little") < _MAX_HEADER and head[8:9] == b"{"


def save_safetensors(tensors, f, metadata=None):
    """Write a flat {name: tensor} dict as a safetensors file (glasstorch or torch tensors, or arrays).

    Args:
        metadata: optional {str: str} stored in the header's `__metadata__`.
    """
    header, chunks, offset = {}, [], 0
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors names must be strings, got {name!r}")
        a = _contiguous(_array_of(value))
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        if a.dtype.newbyteorder("=") not in _NUMPY_TO_ST:
            raise TypeError(f"{name}: dtype {a.dtype} has no safetensors equivalent")
        header[name] = {"dtype": _NUMPY_TO_ST[a.dtype.newbyteorder("=")], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        chunks.append(a)
        offset += a.nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so the data starts 8-byte aligned, as the reference writer does

    def write(handle):
        handle.write(len(text).to_bytes(8, "little"))
        handle.write(text)
        for a in chunks:
            handle.write(a.tobytes())

    _write_to(f, write)


def load_safetensors(f, with_metadata=False):
    """Read a safetensors file into {name: glasstorch Tensor} (bfloat16 becomes float32, since NumPy has no
    bfloat16; unsigned 16/32/64-bit integers become int64). With `with_metadata`, also return `__metadata__`.

    The header is validated as the format's reference implementation does before any tensor is made:
    known dtypes, non-negative integer shapes, unique names, offsets in order that tile the data buffer
    exactly (no gaps, no overlaps, nothing left over) and byte lengths equal to shape x dtype size.
    """
    name = getattr(f, "name", "<file>") if hasattr(f, "read") else os.fspath(f)
    if hasattr(f, "read"):
        buffer = bytearray(f.read())
    else:
        with open(f, "rb") as handle:
            buffer = bytearray(os.fstat(handle.fileno()).st_size)  # writable memory, so the tensors are too
            if handle.readinto(buffer) != len(buffer):
                raise FileFormatError(f"{name}: changed size while being read")
    header, metadata = _safetensors_header(buffer, name)
    data = memoryview(buffer)[8 + int.from_bytes(buffer[:8], "little"):]
    out = {key: Tensor._make(_decode_st_array(data[begin:end], dtype, shape, key))
           for key, (dtype, shape, begin, end) in header.items()}
    return (out, metadata) if with_metadata else out


def _st_error(name, what):
    return FileFormatError(f"{name}: invalid safetensors file: {what}")


def _safetensors_header(buffer, name):
    """{tensor name: (dtype, shape, begin, end)} and the metadata, after every check of the format."""
    if len(buffer) < 8:
        raise _st_error(name, f"{len(buffer)} bytes, shorter than the 8-byte header length (truncated)")
    n = int.from_bytes(buffer[:8], "little")
    if n > _MAX_HEADER:
        raise _st_error(name, f"header length {n:,} is over the {_MAX_HEADER:,}-byte limit")
    if not 0 < n <= len(buffer) - 8:
        raise _st_error(name, f"header length {n:,} does not fit the file ({len(buffer):,} bytes): truncated")

    def unique(pairs):
        keys = [k for k, _ in pairs]
        duplicated = sorted({k for k in keys if keys.count(k) > 1})
        if duplicated:
            raise _st_error(name, f"tensor name(s) {duplicated} appear twice in the header")
        return dict(pairs)

    try:
        header = json.loads(bytes(buffer[8:8 + n]).decode("utf-8"), object_pairs_hook=unique)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _st_error(name, f"the header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise _st_error(name, f"the header is a JSON {type(header).__name__}, not an object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _st_error(name, "__metadata__ must map strings to strings")
    size = len(buffer) - 8 - n
    entries = {}
    for key, info in header.items():
        where = f"entry {key!r}"
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            missing = sorted({"dtype", "shape", "data_offsets"} - (info.keys() if isinstance(info, dict) else set()))
            raise _st_error(name, f"{where} lacks {', '.join(missing) or 'dtype, shape and data_offsets'}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in _ST_ITEMSIZE:
            raise _st_error(name, f"{where} has unknown dtype {dtype!r} (known: {', '.join(_ST_ITEMSIZE)})")
        if not isinstance(shape, list) or not all(_is_index(d) for d in shape):
            raise _st_error(name, f"{where} has shape {shape!r}; a shape is a list of non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_index(o) for o in offsets)
                and offsets[0] <= offsets[1]):
            raise _st_error(name, f"{where} has data_offsets {offsets!r}; they are [begin, end], integers, "
                                  "begin <= end")
        nbytes = int(np.prod(shape, dtype=object)) * _ST_ITEMSIZE[dtype]
        if offsets[1] - offsets[0] != nbytes:
            raise _st_error(name, f"{where}: shape {shape} of {dtype} is {nbytes:,} bytes but its data_offsets "
                                  f"{offsets} span {offsets[1] - offsets[0]:,}")
        entries[key] = (dtype, tuple(shape), offsets[0], offsets[1])
    position = 0
    for key, (_dtype, _shape, begin, end) in sorted(entries.items(), key=lambda kv: (kv[1][2], kv[1][3])):
        if begin != position:
            what = "overlaps the one before it" if begin < position else f"leaves a gap at byte {position:,}"
            raise _st_error(name, f"entry {key!r} at data_offsets [{begin}, {end}] {what}: the offsets must tile "
                                  "the data buffer exactly")
        position = end
    if position != size:
        raise _st_error(name, f"the tensors' data_offsets cover {position:,} bytes of a {size:,}-byte data buffer "
                              f"({'truncated' if position > size else 'bytes left over'})")
    return entries, metadata


def _is_index(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_ST_ITEMSIZE = {**{k: np.dtype(v).itemsize for k, v in _ST_TO_NUMPY.items()}, "BF16": 2}


def _decode_st_array(raw, dtype, shape, name):
    """The array of one validated entry (sizes already agree)."""
    if dtype == "BF16":  # the top 16 bits of a float32
        bits = np.frombuffer(raw, dtype="<u2")
        a = (bits.astype(np.uint32) << 16).view(np.float32)
    else:
        a = np.frombuffer(raw, dtype=np.dtype(_ST_TO_NUMPY[dtype]).newbyteorder("<"))
        if a.dtype.kind == "u" and a.dtype.itemsize > 1:
            a = a.astype(np.int64)
    return a.reshape(shape).astype(a.dtype.newbyteorder("="), copy=False)
