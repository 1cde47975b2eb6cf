"""nn.Sequential's one fusion: a Conv2d followed by a ReLU runs as one op.

Why: a ReLU after a convolution reads the convolution's whole output back from memory and writes it again, and
its backward reads that output and the gradient once more (LeNet's first layer: 4.8 MB each time, a tenth of the
step). Run as one op (ops/conv_fast.py's FastConv2dReLUFunction), each block of the output gets its ReLU while it
is still in the CPU's cache, and backward masks the gradient block by block as it copies it anyway.

The values and gradients are those of the two modules run one after the other. What differs is the graph: the
convolution's own output is never a tensor, so the pair is one node, `Conv2dReluBackward0`, where torch shows a
`ReluBackward0` whose input comes from a `ConvolutionBackward0`. So the pair is fused only when nothing can look
at the convolution's output alone: the modules are exactly nn.Conv2d (zero padding) and nn.ReLU, neither has a
hook, and no tracer (onnx.export) is watching the ops. Set `enabled = False` to run every module on its own (to
show a class the unfused graph, say).
"""
from ...autograd import function
from .. import functional as F
from .activation import ReLU
from .conv import Conv2d

#: False: a Sequential runs each of its modules on its own
enabled = True


def conv_then(conv, following, input):
    """(output, module left to run) for a Conv2d `conv` and the module after it in a Sequential (None at the end):
    relu(conv(input)) as one op and None when `following` is a ReLU the two can be fused with; else conv(input)
    and `following`."""
    if (enabled and type(following) is ReLU and conv.padding_mode == "zeros" and function.forward_observer is None
            and _without_hooks(conv) and _without_hooks(following)):
        return F._conv2d(input, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups,
                         relu=True), None
    return conv(input), following


def _without_hooks(module):
    return not (module._forward_pre_hooks or module._forward_hooks or module._backward_hooks
                or module._backward_pre_hooks)
