"""Parameter: a Tensor that a Module registers as learnable (what `model.parameters()` yields).

Assigning a Parameter to a module attribute (`self.weight = nn.Parameter(...)`) registers it;
a plain Tensor attribute is not a parameter. `UninitializedParameter` is the placeholder of lazy
modules (`nn.LazyLinear`): it gets its shape at the first forward through `materialize`.
"""
import numpy as np

from .. import backend
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module parameter; requires_grad=True unless told otherwise.

    Args:
        data (Tensor): the values (shared, not copied). Default: an empty tensor.
        requires_grad (bool): whether autograd records operations on it. Default: True.

    Example::

        >>> w = nn.Parameter(torch.zeros(2))
        >>> w
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = np.empty((0,), dtype=backend.get_default_dtype().np)
        elif isinstance(data, Tensor):
            array = data._array
        else:
            raise TypeError(f"Parameter data must be a Tensor, not {type(data).__name__}")
        Tensor._init_from(self, array)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


_UNINITIALIZED = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
                  "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
                  "`forward` to initialize the parameters before accessing their attributes.")


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (lazy modules); `materialize(shape)` turns it into a Parameter."""

    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        if device is not None:
            backend.check_device(device)
        self._lazy_dtype = backend.to_dtype(dtype) if dtype is not None else backend.get_default_dtype()
        Parameter.__init__(self, Tensor._make(np.empty((0,), dtype=self._lazy_dtype.np)), requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        """Give the parameter its shape (uninitialised values) and make it a plain Parameter, in place."""
        dtype = backend.to_dtype(dtype) if dtype is not None else self._lazy_dtype
        self._array = np.empty(tuple(int(s) for s in shape), dtype=dtype.np)
        del self._lazy_dtype
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(_UNINITIALIZED)

    def size(self, dim=None):
        raise RuntimeError(_UNINITIALIZED)

    def numel(self):
        raise RuntimeError(_UNINITIALIZED)

    def __repr__(self):
        return "<UninitializedParameter>"

    __str__ = __repr__

    def __deepcopy__(self, memo):
        out = UninitializedParameter(self.requires_grad, dtype=self._lazy_dtype)
        memo[id(self)] = out
        return out


def is_lazy(param):
    """True for a parameter still waiting for its shape."""
    return isinstance(param, UninitializedParameter)
