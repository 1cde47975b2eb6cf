"""Floor 0: the one place that knows about NumPy (and, when present, CuPy).

Everything array-level that the rest of glasstorch needs lives here: the dtype objects
(`glasstorch.float32` ...), torch's type-promotion rules, devices, and the random generator.
"""
import _thread
import contextlib
import os
import threading
import time
import warnings

import numpy as np

xp = np  # the array module for the CPU device; ops get theirs through `array_module(...)`

# NumPy reports a floating-point error (1 / 0, log(0), exp(1000), 0 * inf, a float16 overflow) with a
# RuntimeWarning; torch gives the same inf or nan silently. Those raised inside glasstorch are ignored, so a program
# prints what it prints under torch (the notes' softmax from scratch takes log(0)); NumPy called by the user's own
# code still warns. (The `module` of a warning is that of the Python code that called NumPy.)
warnings.filterwarnings("ignore", message=r"(divide by zero|overflow|invalid value|underflow) encountered",
                        category=RuntimeWarning, module=r"glasstorch(\.|$)")


def _load_cupy():
    try:
        import cupy  # noqa: F401  (optional GPU backend)
        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # not installed, or no driver / device
        return None


_cupy = None
_cupy_checked = False


def cupy_module():
    """CuPy when it is installed and sees a GPU, else None (checked once, lazily)."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy, _cupy_checked = _load_cupy(), True
    return _cupy


def array_module(array):
    """NumPy for host arrays, CuPy for device arrays: the `xp` an op computes with."""
    if isinstance(array, np.ndarray) or _cupy is None:
        return np
    return _cupy.get_array_module(array)


def is_array(value):
    """True for a NumPy array and, when CuPy is loaded, a CuPy (GPU) array."""
    return isinstance(value, np.ndarray) or (_cupy is not None and isinstance(value, _cupy.ndarray))


def on_device(array):
    """True for a CuPy (GPU) array."""
    return _cupy is not None and isinstance(array, _cupy.ndarray)


def to_host(array):
    """A NumPy array with `array`'s values: itself for a host array, a copy from GPU memory otherwise."""
    return _cupy.asnumpy(array) if on_device(array) else array


def like(array, host_array):
    """`host_array` (NumPy) moved to wherever `array` lives: how host-made values (random masks, index lists)
    join a computation on the GPU. On the CPU it is `host_array` itself, no copy."""
    if not on_device(array):
        return host_array
    with array.device:
        return _cupy.asarray(host_array)


def one_device(op_name, arrays):
    """(arrays, xp) for an op whose inputs may live on the GPU: all on one device, or torch's error.

    A 0-dim host array (a Python number made into a tensor, a CPU scalar tensor) may join GPU arrays, as in
    torch; it is passed on as a NumPy scalar, which CuPy kernels take as an argument without a copy.
    """
    devices = {a.device.id for a in arrays if isinstance(a, _cupy.ndarray)}
    if not devices:
        return arrays, np
    if len(devices) > 1 or any(type(a) is np.ndarray and a.ndim for a in arrays):
        names = sorted(f"cuda:{i}" for i in devices) + (["cpu"] if len(devices) == 1 else [])
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{names[0]} and {names[1]}! (in {op_name})")
    return tuple(a[()] if type(a) is np.ndarray else a for a in arrays), _cupy


# ----------------------------------------------------------------------------- dtypes
class dtype:
    """A tensor element type, printed the way torch prints it (`glasstorch.float32`)."""
    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_category")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype)
        self._category = category  # 0 bool, 1 integer, 2 floating: torch's promotion categories
        self.is_floating_point = category == 2
        self.is_complex = False
        self.is_signed = self.np.kind in "if"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"glasstorch.{self.name}"

    def __reduce__(self):  # dtypes are singletons
        return (from_name, (self.name,))

    def to_real(self):
        return self


float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
float16 = dtype("float16", np.float16, 2)
int64 = dtype("int64", np.int64, 1)
int32 = dtype("int32", np.int32, 1)
int16 = dtype("int16", np.int16, 1)
int8 = dtype("int8", np.int8, 1)
uint8 = dtype("uint8", np.uint8, 1)
bool_ = dtype("bool", np.bool_, 0)

ALL_DTYPES = (float32, float64, float16, int64, int32, int16, int8, uint8, bool_)
_BY_NUMPY = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
                 "short": int16, "bool_": bool_})

_default_float = float32


def from_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    """The glasstorch dtype of a NumPy dtype; unsupported kinds raise a TypeError naming it."""
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        pass
    np_dtype = np.dtype(np_dtype)
    if np_dtype in _BY_NUMPY:
        return _BY_NUMPY[np_dtype]
    if np_dtype.kind == "u":  # uint16/32/64: torch has no such tensors; widen to int64
        return int64
    raise TypeError(f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The only supported types are: "
                    "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")


def to_dtype(d):
    """Accept a glasstorch dtype, a NumPy dtype, a Python type or a name; return a glasstorch dtype."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str):
        name = d.replace("torch.", "").replace("glasstorch.", "")
        if name in _BY_NAME:
            return _BY_NAME[name]
    try:
        return from_numpy_dtype(np.dtype(d))
    except TypeError:
        raise TypeError(f"unknown dtype {d!r}") from None


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


class finfo:
    """Limits of a floating dtype (torch.finfo): bits, eps, max, min, tiny (= smallest_normal), resolution.

    `torch.finfo(x.dtype).min` is the usual "minus infinity that stays finite" of attention masks."""

    def __init__(self, type=None):
        type = get_default_dtype() if type is None else to_dtype(type)
        if not type.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        info = np.finfo(type.np)
        self.bits, self.dtype = info.bits, type.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (torch.iinfo): bits, max, min."""

    def __init__(self, type):
        type = to_dtype(type)
        if type.is_floating_point or type.np.kind == "b":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(type.np)
        self.bits, self.dtype, self.max, self.min = info.bits, type.name, int(info.max), int(info.min)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def scalar_dtype(value):
    """The dtype torch gives a Python scalar: bool -> bool, int -> int64, float -> default float."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return _default_float


def result_type(*operands):
    """torch.result_type over (dtype, kind) pairs, kind 2 = dimensioned tensor, 1 = 0-dim tensor, 0 = scalar.

    torch's rule: the highest category (bool < integer < float) wins; inside that category the
    operands of the highest kind decide. Scalars of a higher category give the default dtype of that
    category (int tensor * 2.5 -> float32), so a Python float never upcasts float32 to float64.
    """
    top_category = max(d._category for d, _ in operands)
    in_category = [(d, kind) for d, kind in operands if d._category == top_category]
    top_kind = max(kind for _, kind in in_category)
    if top_kind == 0:
        return {0: bool_, 1: int64, 2: _default_float}[top_category]
    result = None
    for d, kind in in_category:
        if kind == top_kind:
            result = d if result is None else _BY_NUMPY[np.promote_types(result.np, d.np)]
    return result


# ----------------------------------------------------------------------------- devices
class device:
    """`glasstorch.device('cpu')`; 'cuda' is accepted as a name and works only when CuPy sees a GPU."""
    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, device):
            spec, index = spec.type, spec.index
        spec = str(spec)
        if ":" in spec:
            spec, idx = spec.split(":", 1)
            index = int(idx)
        if spec not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {spec}")
        self.type = spec
        self.index = index

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __enter__(self):
        """`with torch.device("cuda"):` makes creation functions without device= create there."""
        _default_device_stack.append(_default_device)
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        set_default_device(_default_device_stack.pop())


CPU = device("cpu")
_default_device = None  # where creation functions put tensors without device= (None: the CPU)
_default_device_stack = []


def set_default_device(spec):
    """torch.set_default_device: the device creation functions (zeros, randn, tensor ...) use by default."""
    global _default_device
    _default_device = None if spec is None or device(spec) == CPU else check_device(spec)


def get_default_device():
    return _default_device if _default_device is not None else CPU


def default_device():
    """The device a creation function without device= uses (None for the CPU: no move needed)."""
    return _default_device


def check_device(spec):
    """The device `spec` names, checked: 'cuda' needs CuPy and a GPU (torch's errors otherwise)."""
    d = device(spec) if spec is not None else CPU
    if d.type == "cuda":
        if cupy_module() is None:
            raise RuntimeError("CUDA is not available: glasstorch runs on the GPU through CuPy, which is not "
                               "installed or sees no device (glasstorch.cuda.is_available() is False). "
                               "Install cupy-cuda12x (or -cuda13x) on a machine with an NVIDIA GPU, or use "
                               "device='cpu'.")
        count = _cupy.cuda.runtime.getDeviceCount()
        index = d.index if d.index is not None else _cupy.cuda.Device().id
        if index >= count:
            raise RuntimeError(f"CUDA error: invalid device ordinal (cuda:{index}; {count} device(s) visible)")
        d = device("cuda", index)
    return d


def device_of(array):
    """The device an array lives on: cpu for NumPy arrays, cuda:i for CuPy arrays."""
    if on_device(array):
        return device("cuda", array.device.id)
    return CPU


def to_device(array, dev):
    """`array` on device `dev` (a checked device): itself when already there, else a copy."""
    if dev.type == "cpu":
        return to_host(array)
    if on_device(array) and array.device.id == dev.index:
        return array
    with _cupy.cuda.Device(dev.index):
        return _cupy.asarray(array)


def data_pointer(array):
    """The address of an array's first element (host or GPU memory)."""
    if on_device(array):
        return array.data.ptr
    return array.__array_interface__["data"][0]


# ----------------------------------------------------------------------------- randomness
class Generator:
    """glasstorch's own random generator (PCG64), seeded by `manual_seed`; `get_state`/`set_state` save it."""

    def __init__(self, device="cpu"):
        self._seed = 0
        self.bitgen = np.random.Generator(np.random.PCG64(0))

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.bitgen = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The full state as 48 uint8 bytes (like torch's ByteTensor state), safe to save in .npz.

        PCG64's 128-bit state and increment, then NumPy's buffered 32-bit half-word (a draw of 32 bits
        keeps the other half for the next one): without it a restored generator could differ.
        """
        full = self.bitgen.bit_generator.state
        words = [(full["state"]["state"], 16), (full["state"]["inc"], 16),
                 (int(full["has_uint32"]), 8), (int(full["uinteger"]), 8)]
        return np.frombuffer(b"".join(w.to_bytes(n, "little") for w, n in words), dtype=np.uint8).copy()

    def set_state(self, state):
        raw = bytes(np.asarray(state, dtype=np.uint8))
        if len(raw) not in (32, 48):
            raise ValueError(f"invalid generator state: expected 48 bytes, got {len(raw)}")
        value = {"bit_generator": "PCG64",
                 "state": {"state": int.from_bytes(raw[:16], "little"), "inc": int.from_bytes(raw[16:32], "little")},
                 "has_uint32": int.from_bytes(raw[32:40], "little") if len(raw) == 48 else 0,
                 "uinteger": int.from_bytes(raw[40:48], "little") if len(raw) == 48 else 0}
        self.bitgen.bit_generator.state = value
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed glasstorch's default generator (and nothing else: NumPy's global RNG is left alone)."""
    return default_generator.manual_seed(seed)


def rng(generator=None):
    """The NumPy generator to draw from: the given glasstorch Generator's, or the default one."""
    return (generator or default_generator).bitgen


# ---------------------------------------------------------------- threads for large elementwise work
# NumPy's ufuncs run on one core, while torch spreads an activation or an optimizer update over all of
# its threads. A ufunc releases the GIL while it loops, so cutting a large array into one share per thread
# and running the shares in a small thread pool uses the other cores. Only big arrays are worth it: a
# task hand-off costs tens of microseconds, and a small array is done before a thread wakes up.
# Each share is worked through in blocks small enough to stay in cache, so that a function making
# several passes (Adam's update, a mask and then a product) reads its block from memory only once.
# The workers are a `_Team`: each waits on a lock of its own and is started by releasing it, which costs
# 5-12 us a region (a ThreadPoolExecutor's queue and futures cost 27-48 us, and LeNet's step runs ~20 regions).
#: arrays with fewer elements run in the calling thread alone (256 Ki float32 = 1 MiB)
PARALLEL_MIN_ELEMENTS = 256 * 1024
#: elements per block (64 Ki float32 = 256 KiB: a few such arrays fit in a core's L2 cache)
BLOCK_ELEMENTS = 64 * 1024
_num_threads = None  # None: not set by set_num_threads, so one per CPU this process may use
_pool = None  # a _Team of _num_threads - 1 workers (the caller takes one share itself)
#: when glasstorch's pool last finished a region on more than one thread (time.monotonic()); see `pool_in_use`
_pool_last_used = float("-inf")
#: how long after that the pool counts as in use: longer than OpenBLAS's 0.1 s of spinning, shorter than a pause
POOL_IN_USE_SECONDS = 0.25


def cpu_count():
    """CPUs this process may run on (its affinity mask, where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def set_num_threads(n):
    """Threads that large elementwise work (parallel_elementwise) may use; 1 turns the pool off."""
    global _num_threads, _pool
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive number of threads, got {n}")
    if n != _num_threads and _pool is not None:
        _pool.shutdown()
        _pool = None
    _num_threads = n


def get_num_threads():
    return _num_threads if _num_threads is not None else cpu_count()


def parallel_elementwise(fn, out, *arrays):
    """fn(out_part, *array_parts) over cache-sized parts of the arrays, split over the threads; returns out.

    The arrays shaped like `out` are cut; other arguments (numbers, 0-d arrays, None) go whole to every
    call. fn must only combine elements at the same position: that is what lets the parts run apart.
    Small arrays, GPU arrays and arrays that are not C-contiguous get a single call fn(out, *arrays).
    """
    size = out.size
    cut = [isinstance(a, np.ndarray) and a.shape == out.shape for a in (out, *arrays)]
    if (size < 2 * BLOCK_ELEMENTS or not cut[0]
            or not all(a.flags.c_contiguous for a, c in zip((out, *arrays), cut) if c)):
        fn(out, *arrays)
        return out
    flat = [a.reshape(-1) if c else a for a, c in zip((out, *arrays), cut)]  # views, as all are contiguous

    def run(lo, hi):  # one thread's share, block by block
        for start in range(lo, hi, BLOCK_ELEMENTS):
            stop = min(start + BLOCK_ELEMENTS, hi)
            fn(*[a[start:stop] if c else a for a, c in zip(flat, cut)])

    parallel_ranges(run, size, threads=None if size >= PARALLEL_MIN_ELEMENTS else 1)
    return out


def parallel_ranges(fn, count, threads=None, one_blas_thread=False):
    """fn(lo, hi) for one share [lo, hi) of range(count) per thread, at the same time; returns when all are done.

    The caller runs the first share itself. fn must release the GIL for the shares to overlap (NumPy's copies,
    ufuncs and BLAS calls on large arrays do) and must not write where another share writes. Inside a share,
    a nested call runs in that thread alone (the shares already use every thread; a worker waiting on its own
    pool would never return).

    one_blas_thread: the shares make BLAS calls (GEMMs) of their own. NumPy's BLAS then runs on one thread
    while they run (`blas_on_one_thread`), so each share's GEMMs run on the share's own core. Where the
    BLAS's count cannot be set, fn(0, count) runs alone on the BLAS's threads.
    """
    global _pool, _pool_last_used
    threads = min(threads or get_num_threads(), count)
    if threads <= 1 or getattr(_inside, "share", False):
        fn(0, count)
        return
    if one_blas_thread and not blas_threads_settable():
        fn(0, count)
        return
    if _pool is None or len(_pool.workers) < threads - 1 or _pool.pid != os.getpid():
        # (a forked child, e.g. a DataLoader worker, inherits the team object but not its threads: a new one)
        _pool = _Team(get_num_threads() - 1)
    team = _pool
    if not team.busy.acquire(False):  # another Python thread is running a region: this one runs alone
        fn(0, count)
        return
    share = -(-count // threads)
    try:
        with blas_on_one_thread() if one_blas_thread else contextlib.nullcontext():
            started = [worker.start(fn, lo, min(lo + share, count))
                       for worker, lo in zip(team.workers, range(share, count, share))]
            try:
                _run_share(fn, 0, share)
            finally:
                errors = [worker.wait() for worker in started]  # waits for every share, then re-raises
                _pool_last_used = time.monotonic()
            for error in errors:
                if error is not None:
                    raise error
    finally:
        team.busy.release()


class _Team:
    """Worker threads for parallel_ranges: one share each per region, started and joined through raw locks."""

    def __init__(self, workers):
        self.pid = os.getpid()
        self.busy = _thread.allocate_lock()  # held while a region runs
        self.workers = [_Worker() for _ in range(workers)]

    def shutdown(self):
        with self.busy:
            for worker in self.workers:
                worker.stop()


class _Worker:
    """One thread that sleeps on `go` (a lock it cannot take until the caller releases it) and releases `done`."""

    def __init__(self):
        self.go, self.done = _thread.allocate_lock(), _thread.allocate_lock()
        self.go.acquire()
        self.done.acquire()
        self.task, self.error = None, None
        threading.Thread(target=self._loop, name="glasstorch-share", daemon=True).start()

    def _loop(self):
        while True:
            self.go.acquire()
            task = self.task
            if task is None:
                return
            try:
                _run_share(*task)
            except BaseException as error:  # handed to the caller, which raises it
                self.error = error
            self.task = None
            self.done.release()

    def start(self, fn, lo, hi):
        self.task, self.error = (fn, lo, hi), None
        self.go.release()
        return self

    def wait(self):
        """Blocks until the share is done; returns its error, if any."""
        self.done.acquire()
        error, self.error = self.error, None
        return error

    def stop(self):
        self.task = None
        self.go.release()


def pool_in_use():
    """Whether glasstorch's own threads ran a region lately (within POOL_IN_USE_SECONDS).

    Then the BLAS is kept on one thread (`ops.matmul.product`): a multithreaded BLAS call would leave
    OpenBLAS's worker spinning for 0.1 s on a core the pool's next region needs. A program whose work is
    all products (an MLP, an LSTM) never runs the pool, and its products get the BLAS's threads."""
    return time.monotonic() - _pool_last_used < POOL_IN_USE_SECONDS


_inside = threading.local()  # .share: this thread is running a share of parallel_ranges


def _run_share(fn, lo, hi):
    _inside.share = True
    try:
        fn(lo, hi)
    finally:
        _inside.share = False


# --- NumPy's BLAS threads
# OpenBLAS keeps each worker thread spinning for about 0.1 s after every multithreaded call before it sleeps:
# a full core taken from whatever runs next (glasstorch's own thread pool, or another library's threads).
# So glasstorch uses one kind of threads at a time: while its pool is in use (`pool_in_use`), products run
# on one BLAS thread (ops.matmul.product), and the convolutions split their samples over the pool.
_openblas = []  # [(set_num_threads, get_num_threads)] of NumPy's OpenBLAS via ctypes, or [None]


def _openblas_thread_functions():
    """OpenBLAS's own `openblas_set_num_threads` / `openblas_get_num_threads` (found through threadpoolctl)."""
    if not _openblas:
        _openblas.append(None)
        try:
            import ctypes  # optional path: only with threadpoolctl, which finds the library NumPy loaded
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        libraries = [lib for lib in ThreadpoolController().lib_controllers if lib.internal_api == "openblas"]
        # NumPy's own copy first: SciPy's wheels bring another OpenBLAS, with its own thread count
        libraries.sort(key=lambda lib: ("numpy" not in lib.filepath, "scipy.libs" in lib.filepath))
        for lib in libraries:
            for prefix in ("", "scipy_"):  # NumPy's wheels ship OpenBLAS with renamed symbols
                for suffix in ("", "64_", "_64"):
                    setter = getattr(lib.dynlib, f"{prefix}openblas_set_num_threads{suffix}", None)
                    getter = getattr(lib.dynlib, f"{prefix}openblas_get_num_threads{suffix}", None)
                    if setter is not None and getter is not None:
                        setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                        _openblas[0] = (setter, getter)
                        return _openblas[0]
    return _openblas[0]


def blas_thread_count():
    """How many threads NumPy's BLAS uses now (its OpenBLAS; else what threadpoolctl reports), or None."""
    functions = _openblas_thread_functions()
    if functions is not None:
        return functions[1]()
    blas = _blas_controller()
    counts = [lib.num_threads for lib in blas.lib_controllers if lib.user_api == "blas"] if blas is not None else []
    return counts[0] if counts else None


def blas_threads_settable():
    """Whether `blas_on_one_thread` can set the BLAS's thread count (OpenBLAS, or threadpoolctl for others)."""
    return _openblas_thread_functions() is not None or _blas_controller() is not None


_one_thread_users = [0, None]  # [blocks inside blas_on_one_thread now, the count to set back after the last]
_one_thread_lock = threading.Lock()


@contextlib.contextmanager
def blas_on_one_thread():
    """NumPy's BLAS on one thread inside the block. The count is process-wide, so blocks entered from several
    Python threads at once share one setting: the first sets 1, the last sets the earlier count back."""
    functions = _openblas_thread_functions()
    if functions is None:  # another BLAS: threadpoolctl (which sets it from one Python thread only)
        blas = _blas_controller()
        with blas.limit(limits=1, user_api="blas") if blas is not None else contextlib.nullcontext():
            yield
        return
    set_threads, get_threads = functions
    with _one_thread_lock:
        if _one_thread_users[0] == 0:
            _one_thread_users[1] = get_threads()
            set_threads(1)
        _one_thread_users[0] += 1
    try:
        yield
    finally:
        with _one_thread_lock:
            _one_thread_users[0] -= 1
            if _one_thread_users[0] == 0:
                set_threads(_one_thread_users[1])


_blas = []  # threadpoolctl's controller of the loaded BLAS libraries, made on first use ([None] without it)


def _blas_controller():
    """threadpoolctl's ThreadpoolController (it sets NumPy's BLAS threads), or None when it is not installed."""
    if not _blas:
        try:
            from threadpoolctl import ThreadpoolController  # optional: imported on first use
            _blas.append(ThreadpoolController())
        except ImportError:
            _blas.append(None)
    return _blas[0]


# ------------------------------------------------------------------ the C allocator (glibc)
#: what `keep_freed_memory` asks of glibc's malloc: blocks below this come from the heap rather than from mmap ...
MALLOC_MMAP_THRESHOLD = 64 * 1024 * 1024
#: ... and the heap gives memory back to the system only once this much is free at its top
MALLOC_TRIM_THRESHOLD = 256 * 1024 * 1024


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory for reuse instead of handing each large block back to the system.

    A training step allocates and frees the same large arrays every step (activations, gradients, the
    convolutions' columns). By default glibc serves blocks of 128 KiB and up with a fresh mmap and unmaps
    them when freed (it raises that limit as it goes, up to 32 MiB, but trims its heap back whenever 2x the
    limit is free at the top): the next step then touches new pages, one page fault per 4 KiB. Measured on
    the 2-core machine, each workload in a process of its own: LSTM LM step 45 -> 30 ms, LeNet 18-27 -> 12-14,
    the notes' CNN 41-58 -> 32-34, transformer 28 -> 22; the MLP is unchanged (small arrays). The cost: memory
    freed by the program stays with the process (up to MALLOC_TRIM_THRESHOLD at the heap's top) for its next
    allocations, as torch's own caching allocators do on the GPU.

    A program calls it once, before training (`python -m benchmarks` does, for both engines in its process). It is
    not made on import: it is process-wide, and with it PyTorch's gloo backend crashed at shutdown in about one
    run in four on the busy 2-core machine ("terminate called without an active exception"), never without it.
    Left alone: another C library (musl, macOS, Windows), and a process whose environment already sets
    MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ (glibc reads those itself), or sets
    GLASSTORCH_SYSTEM_MALLOC=1. Returns whether the two settings were made."""
    if os.environ.get("GLASSTORCH_SYSTEM_MALLOC") or "MALLOC_MMAP_THRESHOLD_" in os.environ \
            or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")  # ("glibc 2.36"; unknown elsewhere)
    except (AttributeError, ValueError, OSError):
        return False
    if not glibc:
        return False
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # (glibc's malloc.h)
    return bool(mallopt(m_mmap_threshold, MALLOC_MMAP_THRESHOLD)) and bool(mallopt(m_trim_threshold,
                                                                                   MALLOC_TRIM_THRESHOLD))

