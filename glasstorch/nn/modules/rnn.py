"""Recurrent layers: RNN (tanh/relu), LSTM (with proj_size), GRU, and their one-step cells.

A layer runs, for each layer and direction: the input projection of the whole sequence as one matrix
product (x W_ih^T + b_ih), then the recurrence as one RecurrentScanFunction node (ops/rnn.py), whose
loop calls the fused step kernels (an LSTM without projection runs ops/rnn_fast.py's tuned copy of it).
Parameters are named and ordered as torch's (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
weight_hr_l0, then *_reverse, then layer 1 ...), so state_dicts load both ways. The gates written with ordinary ops (the lesson) are ops/rnn.py's *_cell_reference.
"""
import math
import numbers
import warnings

from ...ops import rnn as _rnn
from ...ops import rnn_fast as _rnn_fast
from ...ops.shape import cat, stack
from ...tensor import empty, zeros
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_SCAN_MODE = {"RNN_TANH": "tanh", "RNN_RELU": "relu", "LSTM": "lstm", "GRU": "gru"}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks, the loop."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}")
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(empty(*shape, device=device, dtype=dtype)))
                    names.append(name + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """Accepted for torch compatibility and does nothing: cuDNN's one-buffer weight layout does not apply."""

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ the shared forward
    def _state_sizes(self):
        directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return self.num_layers * directions, real_hidden

    def _prepare(self, input, hx):
        """Packed rows, batch sizes and the initial states (D*L, B, *): (data, sizes, h0, c0, how to finish)."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            data, batch_sizes = input.data, [int(b) for b in input.batch_sizes.tolist()]
            batch, finish = batch_sizes[0], ("packed", input)
            if data.dim() != 2:
                raise ValueError(f"{name}: Expected packed data to be 2D, got {data.dim()}D instead")
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
            batched = input.dim() == 3
            if not batched:
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[0], input.shape[1]
            data, batch_sizes = input.reshape(steps * batch, input.shape[2]), [batch] * steps
            finish = ("batched" if batched else "unbatched", steps)
            if hx is not None:
                parts = hx if isinstance(hx, tuple) else (hx,)
                want = 3 if batched else 2
                if any(p.dim() != want for p in parts):
                    dims = ", ".join(f"{p.dim()}-D" for p in parts)
                    what = "hx and cx" if len(parts) == 2 else "hx"
                    kind = "batched 3-D" if batched else "unbatched 2-D"
                    raise RuntimeError(f"For {kind} input, {what} should also be {want}-D but got "
                                       f"({dims}) tensor" + ("s" if len(parts) == 2 else ""))
                if not batched:
                    hx = tuple(p.unsqueeze(1) for p in parts) if isinstance(hx, tuple) else hx.unsqueeze(1)
        if data.dtype != self.weight_ih_l0.dtype:
            raise ValueError(f"input must have the type {self.weight_ih_l0.dtype}, got type {data.dtype}")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {data.shape[-1]}")
        num_states, real_hidden = self._state_sizes()
        if self.mode == "LSTM":
            if hx is None:
                h0 = zeros(num_states, batch, real_hidden, dtype=data.dtype, device=data.device)
                c0 = zeros(num_states, batch, self.hidden_size, dtype=data.dtype, device=data.device)
            else:
                h0, c0 = hx
                _check_hidden(h0, (num_states, batch, real_hidden), "Expected hidden[0] size {}, got {}")
                _check_hidden(c0, (num_states, batch, self.hidden_size), "Expected hidden[1] size {}, got {}")
        else:
            if isinstance(hx, tuple):
                raise TypeError(f"{name}: hx should be a Tensor, not a tuple")
            h0 = zeros(num_states, batch, real_hidden, dtype=data.dtype, device=data.device) if hx is None else hx
            _check_hidden(h0, (num_states, batch, real_hidden), "Expected hidden size {}, got {}")
            c0 = None
        if finish[0] == "packed" and input.sorted_indices is not None and hx is not None:
            # the states follow the batch into the sorted order (hx is given in the original order)
            h0 = h0.index_select(1, input.sorted_indices)
            c0 = c0.index_select(1, input.sorted_indices) if c0 is not None else None
        return data, batch_sizes, h0, c0, finish

    def _run(self, input, hx):
        data, batch_sizes, h0, c0, finish = self._prepare(input, hx)
        directions = 2 if self.bidirectional else 1
        mode = _SCAN_MODE[self.mode]
        layer_input, h_n, c_n = data, [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = dict(zip(("w_ih", "w_hh") + (("b_ih", "b_hh") if self.bias else ()) +
                                   (("w_hr",) if self.proj_size else ()), self.all_weights[k]))
                b_ih, b_hh = weights.get("b_ih"), weights.get("b_hh")
                if mode != "gru" and b_ih is not None:  # both biases simply add to the gates: fold them
                    b_ih, b_hh = b_ih + b_hh, None
                gx = F.linear(layer_input, weights["w_ih"], b_ih)  # the whole sequence in one product
                if mode == "lstm" and not self.proj_size:  # the tuned scan (ops/rnn_fast.py), tested equal
                    out, h, c = _rnn_fast.lstm_scan(gx, weights["w_hh"], h0[k], c0[k], batch_sizes=batch_sizes,
                                                    reverse=direction == 1)
                else:
                    out, h, c = _rnn.recurrent_scan(gx, weights["w_hh"], h0[k], c0[k] if c0 is not None else None,
                                                    b_hh, weights.get("w_hr"), mode=mode, batch_sizes=batch_sizes,
                                                    reverse=direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if directions == 1 else cat(outputs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n = stack(h_n)
        c_n = stack(c_n) if self.mode == "LSTM" else None
        kind, info = finish
        if kind == "packed":
            output = PackedSequence(layer_input, info.batch_sizes, info.sorted_indices, info.unsorted_indices)
            if info.unsorted_indices is not None:
                h_n = h_n.index_select(1, info.unsorted_indices)
                c_n = c_n.index_select(1, info.unsorted_indices) if c_n is not None else None
            return output, h_n, c_n
        output = layer_input.reshape(info, len(layer_input) // info if info else 0, layer_input.shape[-1])
        if kind == "unbatched":
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n, c_n


def _check_hidden(hx, expected, message):
    if tuple(hx.shape) != tuple(expected):
        raise RuntimeError(message.format(list(expected), list(hx.shape)))


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked num_layers deep.

    Args:
        input_size, hidden_size: features of x and of h. num_layers: stacked layers (default 1).
        nonlinearity: 'tanh' (default) or 'relu'. bias: use b_ih, b_hh (default True).
        batch_first: input/output (B, T, *) instead of (T, B, *) (default False; h stays (D*L, B, H)).
        dropout: dropout on the outputs of every layer but the last (training only; default 0).
        bidirectional: also run each layer backwards in time; outputs concatenated (default False).

    Shape: input (T, B, H_in), (B, T, H_in), (T, H_in) unbatched, or a PackedSequence; h_0 (D*L, B, H),
    zeros when omitted. Returns (output (T, B, D*H), h_n (D*L, B, H)).

    Example::

        >>> rnn = nn.RNN(10, 20, 2)
        >>> output, hn = rnn(torch.randn(5, 3, 10), torch.randn(2, 3, 20))
        >>> output.shape, hn.shape
        (glasstorch.Size([5, 3, 20]), glasstorch.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        args = list(args)
        if len(args) > 3:  # torch's positional order: input_size, hidden_size, num_layers, nonlinearity, ...
            kwargs["nonlinearity"] = args.pop(3)
        self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        output, h_n, _ = self._run(input, hx)
        return output, h_n


class LSTM(RNNBase):
    """LSTM: i,f,g,o = sigma,sigma,tanh,sigma(x W_ih^T + b_ih + h W_hh^T + b_hh); c' = f c + i g; h' = o tanh(c').

    Args as RNN (no nonlinearity), plus proj_size: if > 0, h' = (o tanh(c')) W_hr^T has proj_size features.

    Shape: input as RNN; (h_0 (D*L, B, P), c_0 (D*L, B, H)) zeros when omitted, P = proj_size or H.
    Returns (output (T, B, D*P), (h_n (D*L, B, P), c_n (D*L, B, H))).

    Example::

        >>> lstm = nn.LSTM(10, 20, 2)
        >>> output, (hn, cn) = lstm(torch.randn(5, 3, 10))
        >>> output.shape, hn.shape, cn.shape
        (glasstorch.Size([5, 3, 20]), glasstorch.Size([2, 3, 20]), glasstorch.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        output, h_n, c_n = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """GRU: r,z = sigma(x W_i^T + b_i + h W_h^T + b_h); n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn));
    h' = (1 - z) n + z h.

    Args and shapes as RNN (no nonlinearity). Returns (output (T, B, D*H), h_n (D*L, B, H)).

    Example::

        >>> gru = nn.GRU(10, 20, 2, batch_first=True)
        >>> output, hn = gru(torch.randn(3, 5, 10))
        >>> output.shape, hn.shape
        (glasstorch.Size([3, 5, 20]), glasstorch.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        output, h_n, _ = self._run(input, hx)
        return output, h_n


# ----------------------------------------------------------------------------- one step
class RNNCellBase(Module):
    """weight_ih (G*H, input_size), weight_hh (G*H, H), bias_ih, bias_hh: all U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _batched(self, input, hx):
        """Input as (B, input_size) (a 1-D input is one sample) and the states checked; zeros when omitted."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        parts = hx if isinstance(hx, tuple) else (hx,)
        states = []
        for p in parts:
            if p is None:
                p = zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            else:
                if p.dim() != (2 if batched else 1):
                    raise RuntimeError(f"{name}: Expected hidden to be {2 if batched else 1}D, got {p.dim()}D")
                if not batched:
                    p = p.unsqueeze(0)
                if tuple(p.shape) != (input.shape[0], self.hidden_size):
                    raise RuntimeError(f"hidden{len(states)} has inconsistent hidden_size: got {p.shape[-1]}, "
                                       f"expected {self.hidden_size}" if p.shape[-1] != self.hidden_size else
                                       f"Input batch size {input.shape[0]} doesn't match hidden{len(states)} "
                                       f"batch size {p.shape[0]}")
            states.append(p)
        return input, states, batched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu): one step.

    Example::

        >>> cell = nn.RNNCell(10, 20)
        >>> cell(torch.randn(3, 10)).shape
        glasstorch.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        input, (h,), batched = self._batched(input, hx)
        cell = _rnn.rnn_tanh_cell if self.nonlinearity == "tanh" else _rnn.rnn_relu_cell
        h = cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """(h', c') of one LSTM step: i,f,g,o = sigma,sigma,tanh,sigma(gates); c' = f c + i g; h' = o tanh(c').

    Example::

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(torch.randn(3, 10))
        >>> h.shape, c.shape
        (glasstorch.Size([3, 20]), glasstorch.Size([3, 20]))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        input, (h, c), batched = self._batched(input, hx if hx is not None else (None, None))
        h, c = _rnn.lstm_cell(input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """h' of one GRU step: r, z = sigma(...); n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)); h' = (1-z) n + z h.

    Example::

        >>> cell = nn.GRUCell(10, 20)
        >>> cell(torch.randn(3, 10)).shape
        glasstorch.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        input, (h,), batched = self._batched(input, hx)
        h = _rnn.gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)
