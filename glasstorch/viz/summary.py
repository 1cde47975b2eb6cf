"""Look inside a model with forward hooks: a layer table (`model_summary`) and captured outputs.

    >>> model_summary(model, (1, 28, 28))          # doctest: +SKIP
    ----------------------------------------------------------------
            Layer (type)               Output Shape         Param #
    ================================================================
                Conv2d-1           [-1, 32, 26, 26]             320
    ...

A forward hook is a function the module calls after its forward, `hook(module, inputs, output)`; the
summary registers one on every layer, runs one batch of zeros through the model, and removes them.
"""
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, zeros
from .plots import _in_notebook


def _shapes(output):
    """[-1, ...] shapes of a tensor (batch dim shown as -1, as torchsummary does) or of a tuple of them."""
    if isinstance(output, Tensor):
        return [-1] + [int(s) for s in output.shape[1:]]
    if isinstance(output, (tuple, list)):
        return [_shapes(o) for o in output if isinstance(o, Tensor)]
    return []


def _leaf_modules(model):
    """(name, module) of the layers that hold no sub-layers (the rows of the table)."""
    return [(name, m) for name, m in model.named_modules() if not list(m.children()) and m is not model] or \
        [("", model)]


def _run_with_hooks(model, inputs, modules, record):
    """Run `model(*inputs)` in eval mode without a graph, calling `record(name, module, output)` per layer."""
    handles = [m.register_forward_hook(lambda mod, args, out, name=name: record(name, mod, out))
               for name, m in modules]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            output = model(*inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return output


class ModelSummary:
    """The table `model_summary` prints: `rows` [(layer, output shape, params)], and the totals."""

    def __init__(self, rows, total, trainable, input_shapes, output_shape, param_bytes):
        self.rows = rows
        self.total_params = total
        self.trainable_params = trainable
        self.input_shapes = input_shapes
        self.output_shape = output_shape
        self.param_bytes = param_bytes

    def __str__(self):
        width = max([23] + [len(r[0]) + 2 for r in self.rows])
        line = "-" * (width + 40)
        out = [line, f"{'Layer (type)':>{width}}  {'Output Shape':>25} {'Param #':>12}", "=" * (width + 40)]
        for layer, shape, params in self.rows:
            out.append(f"{layer:>{width}}  {str(shape):>25} {params:>12,}")
        out += ["=" * (width + 40), f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}", line,
                f"Input shape: {', '.join(str(list(s)) for s in self.input_shapes)}",
                f"Output shape: {self.output_shape}",
                f"Params size (MB): {self.param_bytes / 2 ** 20:.2f}", line]
        return "\n".join(out)

    __repr__ = __str__


def model_summary(model, input_shape=None, input=None, batch_size=2, dtype=None, print_summary=None):
    """Print each layer's output shape and parameter count, like torchsummary's `summary(model, input_size)`.

    Args:
        model: a glasstorch `nn.Module`.
        input_shape: shape of ONE sample, without the batch dim (e.g. (1, 28, 28)); a list of shapes for
            models with several inputs. Or give `input` (a tensor or tuple of tensors) instead.
        batch_size: samples in the batch of zeros run through the model (2 so BatchNorm works).
        print_summary: print the table (default: yes in scripts, no in Jupyter where the returned
            object shows itself).
    Returns:
        ModelSummary (its str() is the table).
    """
    if input is None:
        if input_shape is None:
            raise ValueError("model_summary needs input_shape (one sample's shape) or an input tensor")
        shapes = [input_shape] if isinstance(input_shape[0], int) else list(input_shape)
        inputs = tuple(zeros(batch_size, *s, dtype=dtype) for s in shapes)
    else:
        inputs = input if isinstance(input, tuple) else (input,)
    rows = []

    def record(name, module, output):
        kind = type(module).__name__
        n_params = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append((f"{kind}-{len(rows) + 1}", _shapes(output), n_params))

    output = _run_with_hooks(model, inputs, _leaf_modules(model), record)
    params = list(model.parameters())
    summary = ModelSummary(rows, sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad),
                           [tuple(x.shape) for x in inputs], _shapes(output), sum(p.nbytes for p in params))
    if print_summary if print_summary is not None else not _in_notebook():
        print(summary)
    return summary


def capture_outputs(model, input, layers=None):
    """{layer name: output tensor} of the model's layers for one input (for `plot_feature_maps`).

    Args:
        layers: names (as in `model.named_modules()`) or layer types (e.g. `nn.Conv2d`) to capture;
            default: every layer without sub-layers.
    """
    if layers is None:
        modules = _leaf_modules(model)
    else:
        wanted = [layers] if isinstance(layers, (str, type)) else list(layers)
        modules = [(n, m) for n, m in model.named_modules()
                   if n in wanted or any(isinstance(w, type) and isinstance(m, w) for w in wanted)]
        if not modules:
            raise ValueError(f"no layer of the model matches {layers!r}")
    captured = {}
    _run_with_hooks(model, input if isinstance(input, tuple) else (input,), modules,
                    lambda name, module, out: captured.setdefault(name, out))
    return captured

