"""Floor 1: the Tensor (an array, its gradient and the node that made it) and the creation functions.

Every method is written out by hand and forwards to `glasstorch.ops`, where the math and its
backward live side by side (`grep "def exp"` finds both). `ops` is imported at call time: the one
documented back-edge of the floors (tensor -> ops -> autograd -> tensor); `backward()` likewise
calls `glasstorch.autograd` at call time. How a tensor prints lives in `_tensor_str.py`.
"""
import builtins
import itertools
import numbers
import warnings
from collections import OrderedDict

import numpy as np

from . import backend
from ._tensor_str import format_tensor
from .backend import (bool_, float16, float32, float64, int8, int16, int32, int64, uint8)  # noqa: F401

_ops = None
_engine = None  # glasstorch.autograd.engine, once backward() has run


def _lazy_ops():
    global _ops
    if _ops is None:
        from . import ops
        _ops = ops
    return _ops


class Tensor:
    """An n-dimensional array with a gradient and a place in the autograd graph.

    `_array` holds the data (a NumPy array, or a CuPy array on the GPU); `.data` is a Tensor alias of it
    that autograd does not see.
    Views (reshape, transpose, slices) share `_array` memory and the version counter with their base.
    """
    __slots__ = ("_array", "_requires_grad", "grad", "grad_fn", "_version_counter", "__weakref__", "__dict__")
    # rarely set per tensor: class defaults keep `_make` (run for every op result) short
    _base = None           # the tensor whose memory a view shares
    _views = None          # of a base: its views made in grad mode (id -> weak ref), remade after an in-place write
    _hooks = None          # register_hook functions of a leaf
    _retains_grad = False
    # NumPy defers `ndarray + tensor` to Tensor.__radd__ (so the result is a Tensor)
    __array_priority__ = 1000
    is_sparse = False
    is_quantized = False
    # the devices glasstorch does not have (Intel and Apple GPUs, meta): `input.is_cuda or input.is_xpu` runs
    is_xpu = False
    is_mps = False
    is_meta = False
    layout = "strided"

    # ------------------------------------------------------------------ construction
    @classmethod
    def _make(cls, array, requires_grad=False):
        """Wrap an array without copying or checking: the fast path every op result takes."""
        t = object.__new__(cls)
        t._array = array
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = None
        t._version_counter = [0]
        return t

    def __init__(self, *args, dtype=None, device=None):
        """Legacy constructor, as torch's: `Tensor([1, 2])` (float32 data) or `Tensor(2, 3)` (uninitialised shape)."""
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            array = _to_array(args[0], dtype=dtype or backend.get_default_dtype())
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            array = np.zeros(tuple(int(s) for s in shape), dtype=(dtype or backend.get_default_dtype()).np)
        if dtype is None and array.dtype != backend.get_default_dtype().np:
            array = array.astype(backend.get_default_dtype().np)
        Tensor._init_from(self, array)

    @staticmethod
    def _init_from(t, array, requires_grad=False):
        t._array = array
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = None
        t._version_counter = [0]

    # ------------------------------------------------------------------ basic properties
    @property
    def data(self):
        """A Tensor sharing this one's memory but outside autograd: `p.data -= lr * p.grad` bypasses the graph."""
        return Tensor._make(self._array)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._array = value._array

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    @property
    def dtype(self):
        return backend.from_numpy_dtype(self._array.dtype)

    @property
    def shape(self):
        return Size(self._array.shape)

    @property
    def ndim(self):
        return self._array.ndim

    @property
    def device(self):
        return backend.device_of(self._array)

    @property
    def is_cuda(self):
        return backend.on_device(self._array)

    @property
    def is_cpu(self):
        return not backend.on_device(self._array)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def _version(self):
        return self._version_counter[0]

    @property
    def itemsize(self):
        return self._array.itemsize

    @property
    def nbytes(self):
        return self._array.nbytes

    @property
    def T(self):
        return _lazy_ops().permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _lazy_ops().transpose(self, -2, -1)

    @property
    def H(self):
        return self.T

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def is_floating_point_type(self):
        return self.dtype.is_floating_point

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return False

    def size(self, dim=None):
        if dim is None:
            return Size(self._array.shape)
        return self._array.shape[wrap_dim(dim, self.ndim)]

    def dim(self):
        return self._array.ndim

    def ndimension(self):
        return self._array.ndim

    def numel(self):
        return int(self._array.size)

    def nelement(self):
        return int(self._array.size)

    def element_size(self):
        return self._array.itemsize

    def stride(self, dim=None):
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[wrap_dim(dim, self.ndim)]

    def is_contiguous(self, memory_format=None):
        return bool(self._array.flags.c_contiguous)

    def data_ptr(self):
        return backend.data_pointer(self._array)

    def storage_offset(self):
        base = self._array.base if self._array.base is not None else self._array
        return (self.data_ptr() - backend.data_pointer(base)) // self._array.itemsize

    def get_device(self):
        return self.device.index if self.is_cuda else -1

    # ------------------------------------------------------------------ conversions
    def item(self):
        if self._array.size != 1:
            raise RuntimeError(f"a Tensor with {self._array.size} elements cannot be converted to Scalar")
        return self._array.reshape(-1)[0].item()

    def tolist(self):
        return self._array.tolist()

    def numpy(self, force=False):
        """The NumPy array behind this tensor (shared memory, like torch); a GPU tensor must be copied with .cpu()."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.is_cuda:
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                                "the tensor to host memory first.")
            return backend.to_host(self._array)
        return self._array

    def __array__(self, dtype=None, copy=None):
        array = self.numpy(force=True) if self.is_cuda else self._array  # (np.asarray(gpu_tensor) copies, as torch)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __float__(self):
        _warn_if_scalar_leaves_graph(self)
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {'no values' if self._array.size == 0 else 'more than one value'} is ambiguous")
        return bool(self._array.reshape(-1)[0].item())

    def __complex__(self):
        _warn_if_scalar_leaves_graph(self)
        return complex(self.item())

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    def __hash__(self):
        return id(self)

    def __reduce_ex__(self, protocol):
        raise TypeError("glasstorch tensors are not pickled (loading pickles can run code); "
                        "use glasstorch.save(obj, path), which writes .npz without pickle")

    def __deepcopy__(self, memo):
        out = Tensor._make(self._array.copy(), self._requires_grad)
        if self.grad is not None:
            out.grad = Tensor._make(self.grad._array.copy())
        if type(self) is not Tensor:
            out.__class__ = type(self)
        out.__dict__.update(self.__dict__)
        memo[id(self)] = out
        return out

    def to(self, *args, **kwargs):
        """`to(dtype)`, `to('cpu')`, `to(device, dtype)`, `to(other_tensor)`; returns self when nothing changes."""
        dev, dtype, _non_blocking, copy, _memory_format = parse_to(*args, **kwargs)
        out = self
        if dev is not None and (dev := backend.check_device(dev)) != self.device:
            from .ops.device import to_device  # (lazy: ops import this module)
            out, copy = to_device(out, dev), False  # a copy, recorded by autograd
        if dtype is not None and backend.to_dtype(dtype) != out.dtype:
            return _lazy_ops().to_dtype(out, backend.to_dtype(dtype))
        return out.clone() if copy else out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(device if device is not None else "cuda")

    def type(self, dtype=None):
        if dtype is None:
            return {"float32": "glasstorch.FloatTensor", "float64": "glasstorch.DoubleTensor",
                    "int64": "glasstorch.LongTensor", "int32": "glasstorch.IntTensor",
                    "bool": "glasstorch.BoolTensor", "uint8": "glasstorch.ByteTensor"}.get(self.dtype.name, str(self.dtype))
        if isinstance(dtype, _LegacyTensorType):  # t.type(torch.LongTensor)
            dtype = dtype.dtype
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    # ------------------------------------------------------------------ new tensors like this one (dtype, device)
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A copy of `data` with this tensor's dtype and device unless given (torch.Tensor.new_tensor)."""
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return empty(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def half(self):
        return self.to(float16)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int32)

    def short(self):
        return self.to(int16)

    def char(self):
        return self.to(int8)

    def byte(self):
        return self.to(uint8)

    def bool(self):
        return self.to(bool_)

    def clone(self, memory_format=None):
        return _lazy_ops().clone(self)

    def contiguous(self, memory_format=None):
        return self if self._array.flags.c_contiguous else _lazy_ops().clone(self)

    def detach(self):
        """Same memory, no graph: gradients stop here."""
        t = Tensor._make(self._array)
        t._version_counter = self._version_counter
        t._base = self._base if self._base is not None else self
        return t

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not (self.dtype.is_floating_point):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        self._requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep .grad on this non-leaf after backward (leaves always keep theirs)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            import weakref
            node = self.grad_fn
            if node.retained is None:
                node.retained = []
            node.retained.append(weakref.ref(self))
            self._retains_grad = True

    def register_hook(self, hook):
        """`hook(grad)` runs when this tensor's gradient is computed; returning a Tensor replaces the gradient."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            node = self.grad_fn
            if node.tensor_hooks is None:
                node.tensor_hooks = OrderedDict()
            hooks = node.tensor_hooks
        else:
            if self._hooks is None:
                self._hooks = OrderedDict()
            hooks = self._hooks
        return RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        global _engine
        if _engine is None:  # imported once, at the first call (an import statement per step costs 0.2 us)
            from .autograd import engine
            _engine = engine
        _engine.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    # ------------------------------------------------------------------ printing
    def __repr__(self):
        return format_tensor(self)

    def __str__(self):
        return format_tensor(self)

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self.item(), spec)
        return str(self)

    # ------------------------------------------------------------------ operators
    def __add__(self, other):
        return _lazy_ops().add(self, other)

    def __radd__(self, other):
        return _lazy_ops().add(other, self)

    def __sub__(self, other):
        return _lazy_ops().sub(self, other)

    def __rsub__(self, other):
        return _lazy_ops().rsub(self, other)

    def __mul__(self, other):
        return _lazy_ops().mul(self, other)

    def __rmul__(self, other):
        return _lazy_ops().mul(other, self)

    def __truediv__(self, other):
        return _lazy_ops().div(self, other)

    def __rtruediv__(self, other):
        return _lazy_ops().div(other, self)

    def __floordiv__(self, other):
        return _lazy_ops().floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _lazy_ops().floor_divide(other, self)

    def __mod__(self, other):
        return _lazy_ops().remainder(self, other)

    def __rmod__(self, other):
        return _lazy_ops().remainder(other, self)

    def __pow__(self, other):
        return _lazy_ops().pow(self, other)

    def __rpow__(self, other):
        return _lazy_ops().pow(other, self)

    def __matmul__(self, other):
        return _lazy_ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _lazy_ops().matmul(other, self)

    def __neg__(self):
        return _lazy_ops().neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _lazy_ops().abs(self)

    def __invert__(self):
        return _lazy_ops().bitwise_not(self)

    def __and__(self, other):
        return _lazy_ops().bitwise_and(self, other)

    def __rand__(self, other):
        return _lazy_ops().bitwise_and(other, self)

    def __or__(self, other):
        return _lazy_ops().bitwise_or(self, other)

    def __ror__(self, other):
        return _lazy_ops().bitwise_or(other, self)

    def __xor__(self, other):
        return _lazy_ops().bitwise_xor(self, other)

    def __rxor__(self, other):
        return _lazy_ops().bitwise_xor(other, self)

    def __eq__(self, other):
        return _lazy_ops().eq(self, other)

    def __ne__(self, other):
        return _lazy_ops().ne(self, other)

    def __lt__(self, other):
        return _lazy_ops().lt(self, other)

    def __le__(self, other):
        return _lazy_ops().le(self, other)

    def __gt__(self, other):
        return _lazy_ops().gt(self, other)

    def __ge__(self, other):
        return _lazy_ops().ge(self, other)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __getitem__(self, key):
        return _lazy_ops().getitem(self, key)

    def __setitem__(self, key, value):
        _lazy_ops().setitem(self, key, value)

    # ------------------------------------------------------------------ arithmetic methods
    def add(self, other, alpha=1):
        return _lazy_ops().add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return _lazy_ops().sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return _lazy_ops().mul(self, other)

    multiply = mul

    def div(self, other, rounding_mode=None):
        return _lazy_ops().div(self, other, rounding_mode=rounding_mode)

    divide = div
    true_divide = div

    def floor_divide(self, other):
        return _lazy_ops().floor_divide(self, other)

    def remainder(self, other):
        return _lazy_ops().remainder(self, other)

    def fmod(self, other):
        return _lazy_ops().fmod(self, other)

    def pow(self, exponent):
        return _lazy_ops().pow(self, exponent)

    def neg(self):
        return _lazy_ops().neg(self)

    negative = neg

    def abs(self):
        return _lazy_ops().abs(self)

    absolute = abs

    def reciprocal(self):
        return _lazy_ops().reciprocal(self)

    def square(self):
        return _lazy_ops().square(self)

    def sqrt(self):
        return _lazy_ops().sqrt(self)

    def rsqrt(self):
        return _lazy_ops().rsqrt(self)

    def exp(self):
        return _lazy_ops().exp(self)

    def expm1(self):
        return _lazy_ops().expm1(self)

    def log(self):
        return _lazy_ops().log(self)

    def log2(self):
        return _lazy_ops().log2(self)

    def log10(self):
        return _lazy_ops().log10(self)

    def log1p(self):
        return _lazy_ops().log1p(self)

    def lgamma(self):
        return _lazy_ops().lgamma(self)

    def digamma(self):
        return _lazy_ops().digamma(self)

    def erfinv(self):
        return _lazy_ops().erfinv(self)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return _lazy_ops().cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def polygamma(self, n):
        return _lazy_ops().polygamma(n, self)

    def sin(self):
        return _lazy_ops().sin(self)

    def cos(self):
        return _lazy_ops().cos(self)

    def tan(self):
        return _lazy_ops().tan(self)

    def sinh(self):
        return _lazy_ops().sinh(self)

    def cosh(self):
        return _lazy_ops().cosh(self)

    def tanh(self):
        return _lazy_ops().tanh(self)

    def sigmoid(self):
        return _lazy_ops().sigmoid(self)

    def relu(self):
        return _lazy_ops().relu(self)

    def sign(self):
        return _lazy_ops().sign(self)

    def floor(self):
        return _lazy_ops().floor(self)

    def ceil(self):
        return _lazy_ops().ceil(self)

    def round(self, decimals=0):
        return _lazy_ops().round(self, decimals=decimals)

    def trunc(self):
        return _lazy_ops().trunc(self)

    def frac(self):
        return self - self.trunc()

    def clamp(self, min=None, max=None):
        return _lazy_ops().clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return _lazy_ops().clamp(self, min, None)

    def clamp_max(self, max):
        return _lazy_ops().clamp(self, None, max)

    def maximum(self, other):
        return _lazy_ops().maximum(self, other)

    def minimum(self, other):
        return _lazy_ops().minimum(self, other)

    def lerp(self, end, weight):
        return self + weight * (end - self)

    def addmm(self, mat1, mat2, beta=1, alpha=1):
        return _lazy_ops().addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, beta=1, alpha=1):
        return _lazy_ops().addmv(self, mat, vec, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, beta=1, alpha=1):
        return _lazy_ops().baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def where(self, condition, other):
        return _lazy_ops().where(condition, self, other)

    def masked_fill(self, mask, value):
        return _lazy_ops().masked_fill(self, mask, value)

    def isnan(self):
        return _lazy_ops().isnan(self)

    def isinf(self):
        return _lazy_ops().isinf(self)

    def isfinite(self):
        return _lazy_ops().isfinite(self)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _lazy_ops().nan_to_num(self, nan, posinf, neginf)

    def eq(self, other):
        return _lazy_ops().eq(self, other)

    def ne(self, other):
        return _lazy_ops().ne(self, other)

    def lt(self, other):
        return _lazy_ops().lt(self, other)

    def le(self, other):
        return _lazy_ops().le(self, other)

    def gt(self, other):
        return _lazy_ops().gt(self, other)

    def ge(self, other):
        return _lazy_ops().ge(self, other)

    def equal(self, other):
        return self.shape == other.shape and bool(self._xp().array_equal(self._array, other._array))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        other = other._array if isinstance(other, Tensor) else backend.like(self._array, np.asarray(other))
        return bool(self._xp().allclose(self._array, other, rtol=rtol, atol=atol, equal_nan=equal_nan))

    def _xp(self):
        return backend.array_module(self._array)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _lazy_ops().isclose(self, other, rtol, atol, equal_nan)

    def logical_and(self, other):
        return _lazy_ops().logical_and(self, other)

    def logical_or(self, other):
        return _lazy_ops().logical_or(self, other)

    def logical_xor(self, other):
        return _lazy_ops().logical_xor(self, other)

    def logical_not(self):
        return _lazy_ops().logical_not(self)

    # ------------------------------------------------------------------ reductions
    # (NumPy's `axis=` / `keepdims=` are accepted as aliases of `dim=` / `keepdim=`, as torch does)
    def sum(self, dim=None, keepdim=False, dtype=None, axis=None, keepdims=None):
        return _lazy_ops().sum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def mean(self, dim=None, keepdim=False, dtype=None, axis=None, keepdims=None):
        return _lazy_ops().mean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None, axis=None, keepdims=None):
        return _lazy_ops().var(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None, axis=None, keepdims=None):
        return _lazy_ops().std(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)

    def prod(self, dim=None, keepdim=False, dtype=None, axis=None, keepdims=None):
        return _lazy_ops().prod(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim=False, axis=None, keepdims=None):
        return _lazy_ops().max(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim=False, axis=None, keepdims=None):
        return _lazy_ops().min(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amax(self, dim=(), keepdim=False, axis=None, keepdims=None):
        return _lazy_ops().amax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amin(self, dim=(), keepdim=False, axis=None, keepdims=None):
        return _lazy_ops().amin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmax(self, dim=None, keepdim=False, axis=None, keepdims=None):
        return _lazy_ops().argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmin(self, dim=None, keepdim=False, axis=None, keepdims=None):
        return _lazy_ops().argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def logsumexp(self, dim, keepdim=False, keepdims=None):
        return _lazy_ops().logsumexp(self, dim, keepdim, keepdims=keepdims)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None, keepdims=None):
        return _lazy_ops().norm(self, p, dim, keepdim, keepdims=keepdims)

    def cumsum(self, dim=None, dtype=None, axis=None):
        return _lazy_ops().cumsum(self, dim, dtype=dtype, axis=axis)

    def cumprod(self, dim=None, dtype=None, axis=None):
        return _lazy_ops().cumprod(self, dim, dtype=dtype, axis=axis)

    def all(self, dim=None, keepdim=False, keepdims=None, axis=None):
        return _lazy_ops().all(self, dim, keepdim, keepdims=keepdims, axis=axis)

    def any(self, dim=None, keepdim=False, keepdims=None, axis=None):
        return _lazy_ops().any(self, dim, keepdim, keepdims=keepdims, axis=axis)

    def count_nonzero(self, dim=None):
        return _lazy_ops().count_nonzero(self, dim)

    def nonzero(self, as_tuple=False):
        return _lazy_ops().nonzero(self, as_tuple=as_tuple)

    def sort(self, dim=-1, descending=False, stable=False):
        return _lazy_ops().sort(self, dim, descending, stable=stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _lazy_ops().argsort(self, dim, descending, stable=stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _lazy_ops().topk(self, k, dim, largest, sorted)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _lazy_ops().unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength=0):
        return _lazy_ops().bincount(self, weights, minlength)

    # ------------------------------------------------------------------ matrix products
    def matmul(self, other):
        return _lazy_ops().matmul(self, other)

    def mm(self, other):
        return _lazy_ops().mm(self, other)

    def mv(self, vec):
        return _lazy_ops().mv(self, vec)

    def dot(self, other):
        return _lazy_ops().dot(self, other)

    def bmm(self, other):
        return _lazy_ops().bmm(self, other)

    def outer(self, other):
        return _lazy_ops().outer(self, other)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        return _lazy_ops().reshape(self, _shape_args(shape))

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (backend.dtype, type)):
            raise NotImplementedError("view(dtype) reinterpretation is not supported; use .to(dtype)")
        return _lazy_ops().view(self, _shape_args(shape))

    def view_as(self, other):
        return _lazy_ops().view(self, other.shape)

    def reshape_as(self, other):
        return _lazy_ops().reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _lazy_ops().flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _lazy_ops().unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return _lazy_ops().squeeze(self, dim)

    def unsqueeze(self, dim):
        return _lazy_ops().unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return _lazy_ops().transpose(self, dim0, dim1)

    swapaxes = transpose
    swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return _lazy_ops().permute(self, tuple(range(self.ndim - 1, -1, -1)))

    def permute(self, *dims):
        return _lazy_ops().permute(self, _shape_args(dims))

    def movedim(self, source, destination):
        return _lazy_ops().movedim(self, source, destination)

    def expand(self, *sizes):
        return _lazy_ops().expand(self, _shape_args(sizes))

    def expand_as(self, other):
        return _lazy_ops().expand(self, other.shape)

    def sum_to_size(self, *size):
        """Sum broadcast dims away until the shape is `size` (how the backward walk undoes broadcasting)."""
        return _lazy_ops().sum_to_shape(self, _shape_args(size))

    def broadcast_to(self, shape):
        return _lazy_ops().expand(self, tuple(shape))

    def repeat(self, *sizes):
        return _lazy_ops().repeat(self, _shape_args(sizes))

    def repeat_interleave(self, repeats, dim=None):
        return _lazy_ops().repeat_interleave(self, repeats, dim)

    def tile(self, dims):
        return _lazy_ops().tile(self, dims)

    def flip(self, *dims):
        return _lazy_ops().flip(self, _shape_args(dims))

    def roll(self, shifts, dims=None):
        return _lazy_ops().roll(self, shifts, dims)

    def split(self, split_size, dim=0):
        return _lazy_ops().split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _lazy_ops().chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _lazy_ops().unbind(self, dim)

    def narrow(self, dim, start, length):
        return _lazy_ops().narrow(self, dim, start, length)

    def select(self, dim, index):
        return _lazy_ops().select(self, dim, index)

    def gather(self, dim, index):
        return _lazy_ops().gather(self, dim, index)

    def scatter(self, dim, index, src):
        return _lazy_ops().scatter(self, dim, index, src)

    def scatter_add(self, dim, index, src):
        return _lazy_ops().scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        return _lazy_ops().index_select(self, dim, index)

    def take(self, index):
        return _lazy_ops().take(self, index)

    def masked_select(self, mask):
        return _lazy_ops().masked_select(self, mask)

    def tril(self, diagonal=0):
        return _lazy_ops().tril(self, diagonal)

    def triu(self, diagonal=0):
        return _lazy_ops().triu(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _lazy_ops().diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal=0):
        return _lazy_ops().diag(self, diagonal)

    def trace(self):
        return _lazy_ops().diagonal(self, 0, 0, 1).sum()

    def unfold(self, dimension, size, step):
        """Every slice of length `size` along `dimension`, `step` apart, as a new last dim (x.unfold(0, 3, 2)).

        Gathered with index_select (so it backpropagates: overlapping windows add up); torch returns a
        view, this returns a copy.
        """
        dim = wrap_dim(dimension, builtins.max(self.ndim, 1))
        length = self._array.shape[dim] if self.ndim else 1
        if size > length:
            raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
        if step <= 0:
            raise RuntimeError(f"step is {step} but must be > 0")
        n = (length - size) // step + 1
        source = self.reshape(1) if self.ndim == 0 else self
        index = (np.arange(n)[:, None] * step + np.arange(size)[None, :]).reshape(-1)
        picked = source.index_select(dim, Tensor._make(backend.like(self._array, index)))
        shape = tuple(source.shape[:dim]) + (n, size) + tuple(source.shape[dim + 1:])
        return picked.reshape(shape).movedim(dim + 1, -1)

    def inverse(self):
        return _lazy_ops().linalg.inv(self)

    def det(self):
        return _lazy_ops().linalg.det(self)

    def logdet(self):
        return _lazy_ops().linalg.logdet(self)

    # activations that torch also offers as tensor methods
    def softmax(self, dim):
        return _lazy_ops().softmax(self, dim)

    def log_softmax(self, dim):
        return _lazy_ops().log_softmax(self, dim)

    # ------------------------------------------------------------------ in-place (trailing underscore)
    def add_(self, other, alpha=1):
        return _lazy_ops().add_(self, other, alpha=alpha)

    def sub_(self, other, alpha=1):
        return _lazy_ops().sub_(self, other, alpha=alpha)

    def mul_(self, other):
        return _lazy_ops().mul_(self, other)

    def div_(self, other, rounding_mode=None):
        return _lazy_ops().div_(self, other, rounding_mode=rounding_mode)

    def pow_(self, exponent):
        return _lazy_ops().inplace(self, lambda t: _lazy_ops().pow(t, exponent))

    def neg_(self):
        return _lazy_ops().inplace(self, _lazy_ops().neg)

    def abs_(self):
        return _lazy_ops().inplace(self, _lazy_ops().abs)

    def sqrt_(self):
        return _lazy_ops().inplace(self, _lazy_ops().sqrt)

    def exp_(self):
        return _lazy_ops().inplace(self, _lazy_ops().exp)

    def log_(self):
        return _lazy_ops().inplace(self, _lazy_ops().log)

    def relu_(self):
        return _lazy_ops().inplace(self, _lazy_ops().relu)

    def sigmoid_(self):
        return _lazy_ops().inplace(self, _lazy_ops().sigmoid)

    def tanh_(self):
        return _lazy_ops().inplace(self, _lazy_ops().tanh)

    def clamp_(self, min=None, max=None):
        return _lazy_ops().inplace(self, lambda t: _lazy_ops().clamp(t, min, max))

    clip_ = clamp_

    def clamp_min_(self, min):
        return self.clamp_(min, None)

    def clamp_max_(self, max):
        return self.clamp_(None, max)

    def masked_fill_(self, mask, value):
        return _lazy_ops().inplace(self, lambda t: _lazy_ops().masked_fill(t, mask, value))

    def lerp_(self, end, weight):
        return _lazy_ops().inplace(self, lambda t: t.lerp(end, weight))

    def addcmul_(self, tensor1, tensor2, value=1):
        return _lazy_ops().inplace(self, lambda t: t + value * tensor1 * tensor2)

    def addcdiv_(self, tensor1, tensor2, value=1):
        return _lazy_ops().inplace(self, lambda t: t + value * tensor1 / tensor2)

    def zero_(self):
        return _lazy_ops().fill_(self, 0)

    def fill_(self, value):
        return _lazy_ops().fill_(self, value)

    def copy_(self, src, non_blocking=False):
        return _lazy_ops().copy_(self, src)

    def unsqueeze_(self, dim):
        return _lazy_ops().restride_(self, lambda t: t.unsqueeze(dim))

    def squeeze_(self, dim=None):
        return _lazy_ops().restride_(self, lambda t: t.squeeze(dim))

    def t_(self):
        return _lazy_ops().restride_(self, lambda t: t.t())

    def transpose_(self, dim0, dim1):
        return _lazy_ops().restride_(self, lambda t: t.transpose(dim0, dim1))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return _lazy_ops().fill_random_(self, "normal", mean, std, generator)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return _lazy_ops().fill_random_(self, "uniform", a, b, generator)

    def bernoulli_(self, p=0.5, generator=None):
        return _lazy_ops().fill_random_(self, "bernoulli", p, None, generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return multinomial(self, num_samples, replacement, generator=generator)

    def exponential_(self, lambd=1.0, generator=None):
        return _lazy_ops().fill_random_(self, "exponential", lambd, None, generator)

    def random_(self, low=0, high=None, generator=None):
        return _lazy_ops().fill_random_(self, "integers", low, high, generator)

    def index_put(self, indices, values, accumulate=False):
        return _lazy_ops().index_put(self, indices, values, accumulate)

    def index_add(self, dim, index, source, alpha=1):
        return _lazy_ops().index_add(self, dim, index, source, alpha)

    def index_put_(self, indices, values, accumulate=False):
        return _lazy_ops().index_put_(self, indices, values, accumulate)

    def scatter_(self, dim, index, src):
        return _lazy_ops().inplace(self, lambda t: _lazy_ops().scatter(t, dim, index, src))

    def scatter_add_(self, dim, index, src):
        return _lazy_ops().inplace(self, lambda t: _lazy_ops().scatter_add(t, dim, index, src))

    def index_add_(self, dim, index, source, alpha=1):
        return _lazy_ops().inplace(self, lambda t: _lazy_ops().index_add(t, dim, index, source, alpha))

    def share_memory_(self):
        return self

    def pin_memory(self):
        return self


class Size(tuple):
    """torch.Size: a tuple of ints that prints as `glasstorch.Size([2, 3])`."""

    def __repr__(self):
        return f"glasstorch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


class RemovableHandle:
    """What every register_*_hook returns (torch.utils.hooks.RemovableHandle): `handle.remove()` unregisters
    the hook, `handle.id` is its key in the hooks dict, and `with handle:` removes it on leaving the block."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict, hook=None):
        """Give the handle a fresh id; with `hook`, also store `hooks_dict[id] = hook`."""
        self.hooks_dict = hooks_dict
        self.id = next(RemovableHandle._next_id)
        if hook is not None:
            hooks_dict[self.id] = hook

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _is_device(x):
    """A device, 'cpu' / 'cuda:1', or a CUDA ordinal (torch reads `to(0)` as cuda:0)."""
    return (isinstance(x, backend.device) or (isinstance(x, str) and x.split(":")[0] in ("cpu", "cuda"))
            or (isinstance(x, numbers.Integral) and not isinstance(x, builtins.bool)))


def parse_to(*args, **kwargs):
    """torch's `to()` arguments -> (device, dtype, non_blocking, copy, memory_format); used by Tensor.to and Module.to.

    The signatures: to(device=None, dtype=None, non_blocking=False, copy=False), to(dtype, non_blocking=False,
    copy=False), to(tensor, non_blocking=False, copy=False) (its device and dtype); memory_format by keyword.
    """
    unknown = sorted(set(kwargs) - {"device", "dtype", "tensor", "non_blocking", "copy", "memory_format"})
    if unknown:
        raise TypeError(f"to() got unexpected keyword arguments {unknown}")
    given, rest = dict(kwargs), list(args)

    def take(name, value):
        if name in given:
            raise TypeError(f"to() got multiple values for argument '{name}'")
        given[name] = value

    if rest:
        first = rest.pop(0)
        if isinstance(first, Tensor):
            take("tensor", first)
        elif first is None or _is_device(first):
            take("device", f"cuda:{first}" if isinstance(first, numbers.Integral) else first)
            if rest and not isinstance(rest[0], builtins.bool):
                take("dtype", rest.pop(0))
        else:
            take("dtype", first)
    if len(rest) > 2:
        raise TypeError(f"to() takes at most 4 positional arguments ({len(args)} given)")
    for name, value in zip(("non_blocking", "copy"), rest):
        take(name, value)
    device, dtype, like = given.get("device"), given.get("dtype"), given.get("tensor")
    if like is not None:
        device, dtype = like.device, like.dtype
    return (device, dtype, builtins.bool(given.get("non_blocking", False)), builtins.bool(given.get("copy", False)),
            given.get("memory_format"))


def _shape_args(shape):
    """Accept both `reshape(2, 3)` and `reshape((2, 3))`."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        return tuple(shape[0])
    return tuple(shape)


def wrap_dim(dim, ndim):
    """A dim in [-ndim, ndim) as its index in [0, ndim) (a 0-d tensor takes dims -1 and 0); IndexError otherwise."""
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


# ----------------------------------------------------------------------------- creation
def _to_array(data, dtype=None):
    """Turn nested lists / scalars / arrays / tensors into an array with torch's dtype inference."""
    if isinstance(data, Tensor):
        array = data._array
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat_first(data)):
        array = np.array([backend.to_host(_to_array(x)) for x in data])
    else:
        array = np.asarray(data)
    if dtype is not None:
        return array.astype(backend.to_dtype(dtype).np, copy=False)
    if array.dtype.kind == "f" and not isinstance(data, Tensor) and not backend.is_array(data):
        return array.astype(backend.get_default_dtype().np, copy=False)  # Python floats -> float32
    if array.dtype.kind in "OUS":
        if isinstance(data, np.ndarray):  # (pandas' `df.values` of mixed columns is an object array)
            backend.from_numpy_dtype(array.dtype)  # (raises torch's words)
        raise TypeError(f"can't convert {type(data).__name__} of {array.dtype} to a tensor")
    backend.from_numpy_dtype(array.dtype)  # raises on unsupported dtypes
    if array.dtype.kind == "u" and array.dtype != np.uint8:
        array = array.astype(np.int64)
    return array


def _flat_first(data):
    while isinstance(data, (list, tuple)) and data:
        if isinstance(data[0], Tensor):
            return [data[0]]
        data = data[0]
    return []


class _LegacyTensorType(type):
    """torch.FloatTensor, torch.LongTensor, ...: the legacy typed constructors that older tutorials use.

    Calling one makes a CPU tensor of its dtype the way `Tensor(...)` does: `LongTensor([1, 2])` from data
    (any list or array, cast), `LongTensor(2, 3)` a new tensor of that shape. `isinstance(t, LongTensor)`
    asks whether t is a CPU int64 tensor, and `t.type(LongTensor)` casts, as in torch."""

    def __call__(cls, *args):
        return Tensor(*args, dtype=cls.dtype)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"


def _legacy_tensor_type(name, dtype):
    return _LegacyTensorType(name, (), {"dtype": dtype, "__module__": "glasstorch", "__qualname__": name})


FloatTensor = _legacy_tensor_type("FloatTensor", backend.float32)
DoubleTensor = _legacy_tensor_type("DoubleTensor", backend.float64)
HalfTensor = _legacy_tensor_type("HalfTensor", backend.float16)
LongTensor = _legacy_tensor_type("LongTensor", backend.int64)
IntTensor = _legacy_tensor_type("IntTensor", backend.int32)
ShortTensor = _legacy_tensor_type("ShortTensor", backend.int16)
CharTensor = _legacy_tensor_type("CharTensor", backend.int8)
ByteTensor = _legacy_tensor_type("ByteTensor", backend.uint8)
BoolTensor = _legacy_tensor_type("BoolTensor", backend.bool_)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data`; Python floats become float32, ints int64 (like torch)."""
    array = _to_array(data, dtype)
    if device is None and isinstance(data, Tensor):
        device = data.device
    return _finish(array.copy(), requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Like `tensor` but shares memory with an ndarray / tensor of the right dtype."""
    if isinstance(data, Tensor):
        return data.to(device=device if device is not None else data.device, dtype=dtype)
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OUS":
        array = data.astype(backend.to_dtype(dtype).np, copy=False) if dtype is not None else data
    else:
        array = np.array(_to_array(data, dtype))
    return _finish(array, False, device)


def from_numpy(array):
    """A tensor that shares memory with the NumPy array (writes show up on both sides)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    backend.from_numpy_dtype(array.dtype)
    return Tensor._make(array)


def _size(size, keyword=None):
    """`f(2, 3)`, `f((2, 3))`, `f([2, 3])` or `f(size=(2, 3))`: the shape as a tuple of ints."""
    if keyword is not None:
        if size:
            raise TypeError("size was given both positionally and as the `size=` keyword")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    out = tuple(int(s) for s in size)
    if any(s < 0 for s in out):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(out)}")
    return out


def _dtype(dtype, default=None):
    return backend.to_dtype(dtype) if dtype is not None else (default or backend.get_default_dtype())


_TORCH_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                     "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def write_out(result, out, name):
    """torch's `out=`: copy `result` into the given tensor(s) and return them (the one helper all out= use).

    torch's rules: out= does not record autograd (an input or `out` requiring grad is an error while
    grad mode is on); `out` takes the result's shape (resized, with torch's warning unless it was empty);
    the result is cast to out's dtype when the cast stays in its kind or widens it (int -> float), else an
    error; a (values, indices) result fills a pair of tensors.
    """
    if out is None:
        return result
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(result)} Tensors")
        for r, o in zip(result, out):
            if o.dtype != r.dtype and not r.dtype.is_floating_point:  # indices
                raise RuntimeError(f"Expected out tensor to have dtype {'long int' if r.dtype == int64 else r.dtype}"
                                   f", but got {_TORCH_TYPE_NAMES[o.dtype.name].lower()} instead")
            write_out(r, o, name)
        return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' (position last) must be Tensor, not {type(out).__name__}")
    from .autograd import grad_mode
    if result._requires_grad or (out._requires_grad and grad_mode.is_grad_enabled()):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           f"but one of the arguments requires grad.")
    if result.dtype._category > out.dtype._category:
        raise RuntimeError(f"result type {_TORCH_TYPE_NAMES[result.dtype.name]} can't be cast to the desired "
                           f"output type {_TORCH_TYPE_NAMES[out.dtype.name]}")
    if result.device != out.device:
        raise RuntimeError(f"Expected out tensor to be on {result.device}, but got {out.device} ({name})")
    if out._array.shape != result._array.shape:
        if out._array.size:
            import warnings
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape {list(result.shape)}."
                          f" This behavior is deprecated, and in a future PyTorch release outputs will not be "
                          f"resized unless they have zero elements.", UserWarning, stacklevel=3)
        out._array = backend.array_module(out._array).empty(result._array.shape, dtype=out._array.dtype)
    out._array[...] = result._array
    out._version_counter[0] += 1
    return out


def _finish(array, requires_grad, device=None):
    """A new tensor around a host-made array, moved to `device` (the GPU, with CuPy) when one is asked for."""
    if device is None:
        device = backend.default_device()  # set_default_device / `with torch.device(...)`
    if device is not None:
        array = backend.to_device(array, backend.check_device(device))
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*dims, size=None, out=None, dtype=None, device=None, requires_grad=False, layout=None,
          pin_memory=False):
    if out is not None:
        return write_out(zeros(*dims, size=size, dtype=dtype or out.dtype, device=out.device), out, "zeros")
    return _finish(np.zeros(_size(dims, size), dtype=_dtype(dtype).np), requires_grad, device)


def ones(*dims, size=None, out=None, dtype=None, device=None, requires_grad=False, layout=None,
         pin_memory=False):
    if out is not None:
        return write_out(ones(*dims, size=size, dtype=dtype or out.dtype, device=out.device), out, "ones")
    return _finish(np.ones(_size(dims, size), dtype=_dtype(dtype).np), requires_grad, device)


def empty(*dims, size=None, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None,
          pin_memory=False):
    return _finish(np.empty(_size(dims, size), dtype=_dtype(dtype).np), requires_grad, device)


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False, layout=None,
         pin_memory=False):
    if out is not None:
        return write_out(full(size, fill_value, dtype=dtype or out.dtype, device=out.device), out, "full")
    dtype = _dtype(dtype, backend.scalar_dtype(fill_value))
    return _finish(np.full(_size((size,)), fill_value, dtype=dtype.np), requires_grad, device)


def zeros_like(input, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.zeros(input.shape, dtype=_dtype(dtype, input.dtype).np), requires_grad,
                   input.device if device is None else device)


def ones_like(input, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.ones(input.shape, dtype=_dtype(dtype, input.dtype).np), requires_grad,
                   input.device if device is None else device)


def empty_like(input, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.empty(input.shape, dtype=_dtype(dtype, input.dtype).np), requires_grad,
                   input.device if device is None else device)


def full_like(input, fill_value, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.full(input.shape, fill_value, dtype=_dtype(dtype, input.dtype).np), requires_grad,
                   input.device if device is None else device)


def rand_like(input, dtype=None, generator=None, device=None, requires_grad=False, layout=None, memory_format=None):
    return rand(*input.shape, dtype=dtype or input.dtype, generator=generator, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, dtype=None, generator=None, device=None, requires_grad=False, layout=None, memory_format=None):
    return randn(*input.shape, dtype=dtype or input.dtype, generator=generator, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None, generator=None, device=None, requires_grad=False, layout=None,
                 memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, generator=generator,
                   device=device or input.device, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False, layout=None):
    """Integers when start/end/step are all ints (int64), else float32: like torch."""
    if out is not None:
        return write_out(arange(start, end, step, dtype=dtype or out.dtype, device=out.device), out, "arange")
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = int64 if all(isinstance(v, (int, np.integer)) for v in values) else backend.get_default_dtype()
    start, end, step = values
    if step == 0:
        raise RuntimeError("step must be nonzero")
    n = builtins.max(0, int(np.ceil((end - start) / step)))
    array = (start + step * np.arange(n, dtype=np.float64)) if not isinstance(start + step, int) else \
        np.arange(start, end, step, dtype=np.int64)
    return _finish(array.astype(backend.to_dtype(dtype).np), requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False, layout=None):
    return _finish(np.linspace(start, end, int(steps)).astype(_dtype(dtype).np), requires_grad, device)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False, layout=None):
    return _finish(np.logspace(start, end, int(steps), base=base).astype(_dtype(dtype).np), requires_grad, device)


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False, layout=None):
    if out is not None:
        return write_out(eye(n, m, dtype=dtype or out.dtype, device=out.device), out, "eye")
    return _finish(np.eye(n, m, dtype=_dtype(dtype).np), requires_grad, device)


def rand(*dims, size=None, generator=None, out=None, dtype=None, device=None, requires_grad=False, layout=None,
         pin_memory=False):
    """Uniform on [0, 1), from glasstorch's generator (`manual_seed` makes it reproducible)."""
    if out is not None:
        return write_out(rand(*dims, size=size, generator=generator, dtype=dtype or out.dtype, device=out.device),
                         out, "rand")
    array = backend.rng(generator).random(_size(dims, size), dtype=np.float64).astype(_dtype(dtype).np)
    return _finish(array, requires_grad, device)


def randn(*dims, size=None, generator=None, out=None, dtype=None, device=None, requires_grad=False, layout=None,
          pin_memory=False):
    """Standard normal samples from glasstorch's generator."""
    if out is not None:
        return write_out(randn(*dims, size=size, generator=generator, dtype=dtype or out.dtype, device=out.device),
                         out, "randn")
    array = backend.rng(generator).standard_normal(_size(dims, size), dtype=np.float64).astype(_dtype(dtype).np)
    return _finish(array, requires_grad, device)


def randint(low=0, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False, layout=None,
            pin_memory=False):
    """`randint(high, size)` or `randint(low, high, size)`: int64 samples in [low, high)."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=size)
        low, high = 0, low
    if high is None or size is None:
        raise TypeError("randint() missing required argument: `high` and `size` (randint(high, size) or "
                        "randint(low, high, size))")
    array = backend.rng(generator).integers(low, high, size=_size((size,))).astype(_dtype(dtype, int64).np)
    return _finish(array, requires_grad, device)


def randperm(n, generator=None, dtype=None, device=None):
    return _finish(backend.rng(generator).permutation(int(n)).astype(_dtype(dtype, int64).np), False, device)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of N(mean, std^2): `normal(0, 0.01, size=(3, 2))`, or tensor mean/std (broadcast)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = np.asarray(mean, dtype=np.float64)
        s = np.asarray(std, dtype=np.float64)
        shape = np.broadcast_shapes(m.shape, s.shape)
        like = mean if isinstance(mean, Tensor) else std
        dtype, device = dtype or like.dtype, device or like.device
    else:
        m, s, shape = mean, std, _size((size,)) if size is not None else ()
    array = (m + s * backend.rng(generator).standard_normal(shape)).astype(_dtype(dtype).np)
    return _finish(np.asarray(array), requires_grad, device)


def bernoulli(input, p=None, generator=None):
    """Drawn on the host from glasstorch's generator (the same numbers on every device), then moved."""
    probs = backend.to_host(input._array) if p is None else np.full(input.shape, p)
    draws = (backend.rng(generator).random(input.shape) < probs).astype(input._array.dtype)
    return Tensor._make(backend.like(input._array, draws))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """`num_samples` category indices per row of the (unnormalised) weights `input` (1-D or 2-D), int64."""
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype.name}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    probs = np.asarray(backend.to_host(input._array), dtype=np.float64)
    if not replacement and num_samples > probs.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    single = probs.ndim == 1
    probs = np.atleast_2d(probs)
    totals = probs.sum(axis=1)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and ((probs > 0).sum(axis=1) < num_samples).any():
        raise RuntimeError("invalid multinomial distribution (with replacement=False, not enough non-negative "
                           "category to sample)")
    out = np.stack([backend.rng(generator).choice(len(p), size=num_samples, replace=replacement, p=p / total)
                    for p, total in zip(probs, totals)])
    return Tensor._make(backend.like(input._array, (out[0] if single else out).astype(np.int64)))


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()


def is_floating_point(t):
    return t.dtype.is_floating_point


_warned_float_of_grad_tensor = False


def _warn_if_scalar_leaves_graph(t):
    """torch's warning for `float(t)` / `complex(t)` of a tensor that requires grad (the value leaves the graph),
    given as torch gives it: once per process, and only while grad mode is on (the notes' `float(l.sum())` in
    train_epoch_ch3 shows it; LBFGS, which runs under no_grad, does not)."""
    global _warned_float_of_grad_tensor
    if not t._requires_grad or _warned_float_of_grad_tensor:
        return
    from .autograd import grad_mode
    if not grad_mode.is_grad_enabled():
        return
    _warned_float_of_grad_tensor = True
    warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                  "Consider using tensor.detach() first.", UserWarning, stacklevel=3)
