"""LazyModuleMixin: layers whose input size is read from the first batch (nn.LazyLinear, nn.LazyConv2d).

Until the first forward the parameters are `UninitializedParameter`s. A forward pre-hook then
calls `initialize_parameters(input)`, which gives them their shapes and the layer's usual
initialisation, removes itself, and turns the module into its plain class (`cls_to_become`), so
afterwards `type(m) is nn.Linear`.
"""
from ..parameter import is_lazy


class LazyModuleMixin:
    """Mix in before the layer class: `class LazyLinear(LazyModuleMixin, Linear)`; set `cls_to_become`."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self):
        """True while some parameter or buffer is still waiting for its shape."""
        return any(is_lazy(p) for p in list(self._parameters.values()) + list(self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    @staticmethod
    def _infer_parameters(module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become
