"""nn.Sequential's fusion: a Conv2d followed by a ReLU runs as one op, and so does a Conv2d, ReLU, AvgPool2d.

Why: a ReLU after a convolution reads the convolution's whole output back from memory and writes it again, and
its backward reads that output and the gradient once more (LeNet's first layer: 4.8 MB each time, a tenth of the
step). Run as one op (ops/conv_fast.py's FastConv2dReLUFunction), each block of the output gets its ReLU while it
is still in the CPU's cache, and backward masks the gradient block by block as it copies it anyway.

An AvgPool2d after them whose windows tile the ReLU's output (LeNet's 2 x 2) joins the same op
(FastConv2dReLUAvgPoolFunction): each block is pooled while in cache, and backward spreads each block's gradient
over its windows just before it masks it, where the pool alone wrote and read back the whole gradient.

The values and gradients are those of the modules run one after the other. What differs is the graph: the
convolution's own output is never a tensor, so the pair is one node, `Conv2dReluBackward0` (the three,
`Conv2dReluAvgPool2dBackward0`), where torch shows a `ReluBackward0` whose input comes from a
`ConvolutionBackward0`. So they are fused only when nothing can look at the outputs in between: the modules are
exactly nn.Conv2d (zero padding), nn.ReLU and nn.AvgPool2d, none has a hook or a `forward` of its own set on the
instance, and no tracer (onnx.export) is watching the ops. Set `enabled = False` to run every module on its own
(to show a class the unfused graph, say).
"""
from ...autograd import function
from .. import functional as F
from .activation import ReLU
from .conv import Conv2d
from .pooling import AvgPool2d

#: False: a Sequential runs each of its modules on its own
enabled = True
#: what conv_then returns for "no module left to run" (a Sequential may hold None itself, which must fail as in torch)
NOTHING_LEFT = object()


def conv_then(conv, rest, input):
    """(output, module left to run) for a Conv2d `conv` whose Sequential goes on with the iterator `rest`:
    relu(conv(input)), pooled too when an AvgPool2d follows that can be fused (`_fusable_avg_pool`), as one op,
    and the module after those; or conv(input) and the module after it (NOTHING_LEFT at the end)."""
    following = next(rest, NOTHING_LEFT)
    if not (enabled and type(following) is ReLU and type(conv) is Conv2d and conv.padding_mode == "zeros"
            and function.forward_observer is None and _runs_as_its_class(conv) and _runs_as_its_class(following)):
        return conv(input), following
    after = next(rest, NOTHING_LEFT)
    avg_pool = _fusable_avg_pool(after)
    out = F._conv2d(input, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups, relu=True,
                    avg_pool=avg_pool)
    return out, (after if avg_pool is None else next(rest, NOTHING_LEFT))


def _fusable_avg_pool(module):
    """(kernel, divisor_override) of an nn.AvgPool2d whose windows sit side by side (stride = kernel, no padding,
    so count_include_pad changes nothing; no ceil_mode), or None. (ops/conv_fast.py then fuses it when its windows
    tile the convolution's output.) Arguments F.avg_pool2d refuses (a kernel below 1, a zero divisor) are left to
    it: the modules then run apart and it raises torch's error."""
    if type(module) is not AvgPool2d or not _runs_as_its_class(module) or module.ceil_mode \
            or module.divisor_override == 0:
        return None
    kernel, stride, padding = (_pair(v) for v in (module.kernel_size, module.stride, module.padding))
    if kernel is None or min(kernel) < 1 or stride != kernel or padding != (0, 0):
        return None
    return kernel, module.divisor_override


def _pair(value):
    if isinstance(value, int):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return tuple(value)
    return None


def _runs_as_its_class(module):
    """No hooks, and no `forward` set on the instance (a patch that Module.__call__ would run)."""
    return not (module._forward_pre_hooks or module._forward_hooks or module._backward_hooks
                or module._backward_pre_hooks or "forward" in module.__dict__)
