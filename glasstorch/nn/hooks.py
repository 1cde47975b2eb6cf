"""Module hooks: registering them (each returns a RemovableHandle) and calling a module with them.

Forward pre-hooks and forward hooks run around `forward`. Full backward hooks are run by watching
identity nodes placed on the module's inputs and outputs: their tensor hooks see the gradients flow.
"""
import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..ops import cat
from ..tensor import RemovableHandle, Tensor


def add_hook(hooks, entry, prepend=False):
    """Store `entry` in the ordered dict `hooks` under a new handle's id (first when prepend); return the handle."""
    handle = RemovableHandle(hooks, entry)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def call_with_hooks(module, args, kwargs):
    """module(*args, **kwargs) with its hooks: forward pre-hooks, forward, forward hooks; backward hooks are
    armed by wrapping the inputs and outputs in identity nodes (see _BackwardHook)."""
    for hook, with_kwargs in list(module._forward_pre_hooks.values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    backward_hook = None
    if module._backward_hooks or module._backward_pre_hooks:
        backward_hook = _BackwardHook(module)
        args = backward_hook.wrap_inputs(args)
    output = module.forward(*args, **kwargs)
    for hook, with_kwargs in list(module._forward_hooks.values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result
    if backward_hook is not None:
        output = backward_hook.wrap_outputs(output)
    return output


class _Identity(Function):
    """y = x;  dL/dx = dL/dy  (a graph node whose gradient a module backward hook can watch)"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad


class _Pack(Function):
    """y = concat(x_1.ravel(), x_2.ravel(), ...);  dL/dx_i = the matching slice of dL/dy, reshaped"""
    needs_inputs = False

    @staticmethod
    def forward(ctx, *arrays):
        ctx.shapes = [a.shape for a in arrays]
        return ctx.xp.concatenate([a.ravel() for a in arrays])

    @staticmethod
    def backward(ctx, grad):
        parts, start = [], 0
        for shape in ctx.shapes:
            size = int(np.prod(shape))
            parts.append(grad[start:start + size].reshape(shape))
            start += size
        return tuple(parts)


class _BackwardHook:
    """Runs a module's full backward hooks by watching identity nodes placed on its inputs and outputs."""

    def __init__(self, module):
        self.module = module
        self.n_inputs = 0
        self.input_slots = []      # positions in args of the tensors that require grad
        self.grad_inputs = {}
        self.grad_outputs = None
        self.pending_outputs = 0

    def wrap_inputs(self, args):
        self.n_inputs = len(args)
        if not grad_mode.is_grad_enabled():
            return args
        self.input_slots = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        tensors = [args[i] for i in self.input_slots]
        if not tensors:
            return args
        wrapped = list(args)
        if len(tensors) == 1 or len({t.dtype for t in tensors}) > 1:
            for i in self.input_slots:
                wrapped[i] = _Identity.apply(args[i])
                wrapped[i].register_hook(self._single_input_hook(i))
            return tuple(wrapped)
        # several inputs go through ONE node, which receives all their gradients at once: the hooks then see
        # (and may replace) the whole grad_input together, as in torch
        packed = _Pack.apply(*tensors)
        bounds = np.cumsum([0] + [t.numel() for t in tensors])
        for i, t, lo, hi in zip(self.input_slots, tensors, bounds[:-1], bounds[1:]):
            wrapped[i] = packed[int(lo):int(hi)].reshape(t.shape)

        def hook(grad):
            parts = {i: grad[int(lo):int(hi)].reshape(t.shape)
                     for i, t, lo, hi in zip(self.input_slots, tensors, bounds[:-1], bounds[1:])}
            final = self._run_hooks(parts)
            return cat([final[i].reshape(-1) for i in self.input_slots])
        packed.register_hook(hook)
        return tuple(wrapped)

    def wrap_outputs(self, output):
        if not grad_mode.is_grad_enabled():
            return output
        single = isinstance(output, Tensor)
        outputs = [output] if single else list(output) if isinstance(output, tuple) else None
        if outputs is None:
            return output
        self.grad_outputs = [None] * len(outputs)
        self.pending_outputs = sum(1 for o in outputs if isinstance(o, Tensor) and o.requires_grad)
        for i, o in enumerate(outputs):
            if isinstance(o, Tensor) and o.requires_grad:
                outputs[i] = _Identity.apply(o)
                outputs[i].register_hook(self._output_hook(i))
        return outputs[0] if single else tuple(outputs)

    def _output_hook(self, index):
        def hook(grad):
            self.grad_outputs[index] = grad
            self.pending_outputs -= 1
            if self.pending_outputs:
                return None
            grad_outputs = tuple(self.grad_outputs)
            for pre_hook in list(self.module._backward_pre_hooks.values()):
                result = pre_hook(self.module, grad_outputs)
                if result is not None:
                    grad_outputs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            self.grad_outputs = list(grad_outputs)
            if not self.input_slots:  # nothing upstream needs a gradient: torch calls the hook now with Nones
                grad_input = (None,) * self.n_inputs
                for user_hook in list(self.module._backward_hooks.values()):
                    result = user_hook(self.module, grad_input, grad_outputs)
                    if result is not None and any(r is not None for r in result):
                        raise RuntimeError("Backward hook for Modules where no input requires gradient should "
                                           "always return None or None for all gradients.")
            return grad_outputs[index]
        return hook

    def _single_input_hook(self, index):
        def hook(grad):
            self.grad_inputs[index] = grad
            if len(self.grad_inputs) < len(self.input_slots):  # mixed dtypes: wait for the last input
                return None
            grads, self.grad_inputs = self.grad_inputs, {}
            return self._run_hooks(grads)[index]
        return hook

    def _run_hooks(self, grads):
        """Call the module's backward hooks with grad_input (one entry per positional arg); return the final grads."""
        grad_input = tuple(grads.get(i) for i in range(self.n_inputs))
        grad_outputs = tuple(self.grad_outputs) if self.grad_outputs is not None else ()
        for user_hook in list(self.module._backward_hooks.values()):
            result = user_hook(self.module, grad_input, grad_outputs)
            if result is not None:
                if len(result) != len(grad_input):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(result)}, "
                                       f"but expected {len(grad_input)}")
                grad_input = tuple(result)
        return {i: grad_input[i] for i in grads}
