"""Floor 1: how a tensor prints (`repr`, `str`), with torch's print options (`set_printoptions`).

torch's rules (torch/_tensor_str.py): floats print integral values as `1.`, else `precision` decimals, and
switch to scientific notation when the nonzero finite magnitudes span more than 1000x or leave [1e-4, 1e8].
Non-default dtypes, the device, and `grad_fn` / `requires_grad` follow the values. Imports backend only
(the Tensor is read through its attributes), so tensor.py can import this module at its top.
"""
import builtins
import math
import sys

import numpy as np

from . import backend

_DEFAULTS = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}
_options = dict(_DEFAULTS)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """torch.set_printoptions: digits after the point, how many elements before summarising with `...`,
    how many items per edge in a summary, characters per line; `profile` ('default', 'short', 'full') sets
    all four first; `sci_mode` True/False forces scientific notation on/off (None: torch's automatic rule)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        _options.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            _options[name] = value
    _options["sci_mode"] = sci_mode


def get_printoptions():
    """The current print options, as a dict (torch._tensor_str.PRINT_OPTS, read-only here)."""
    return dict(_options)


def format_tensor(t):
    """`tensor([...], dtype=..., grad_fn=<...>)`: what repr(t) and str(t) return."""
    a = backend.to_host(t._array)
    d = t.dtype
    suffix = []
    if t.is_cuda:
        suffix.append(f"device='{t.device}'")
    if a.size == 0 and a.ndim != 1:
        suffix.append(f"size={tuple(a.shape)}")
    if d not in (backend.get_default_dtype(), backend.int64, backend.bool_):
        suffix.append(f"dtype={d}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    body = _format_array(a, d)
    return "tensor(" + body + "".join(", " + s for s in suffix) + ")"


def _format_array(a, d):
    if a.size == 0:
        return "[]"
    if d is backend.bool_:
        width = 5 if not a.all() else 4  # torch pads True to False's width
        formatter = {"bool": lambda v: ("True" if v else "False").rjust(width)}
    elif d.is_floating_point:
        formatter = {"float_kind": _FloatFormatter(a, _options["precision"], _options["sci_mode"])}
    else:
        formatter = None
    threshold = _options["threshold"]
    return np.array2string(a, separator=", ", prefix="tensor(", formatter=formatter,
                           threshold=sys.maxsize if threshold == math.inf else int(threshold),
                           edgeitems=_options["edgeitems"], max_line_width=_options["linewidth"])


class _FloatFormatter:
    """torch's float printing: integral values as '1.', else `precision` decimals, and scientific notation
    when the nonzero finite magnitudes span more than 1000x or leave [1e-4, 1e8] (or when sci_mode says so)."""

    def __init__(self, a, precision=4, sci_mode=None):
        values = a[np.isfinite(a) & (a != 0)].astype(np.float64)
        self.precision = precision
        self.mode, self.width = "int", 1
        if values.size == 0:
            if sci_mode:
                self.mode = "sci"
            return
        magnitude = np.abs(values)
        big, small = magnitude.max(), magnitude.min()
        integral = bool(np.all(values == np.ceil(values)))
        if sci_mode is None:
            if big / small > 1000.0 or big > 1.0e8 or (not integral and small < 1.0e-4):
                self.mode = "sci"
            elif not integral:
                self.mode = "fixed"
        elif sci_mode:
            self.mode = "sci"
        elif not integral:
            self.mode = "fixed"
        self.width = builtins.max(len(self.plain(v)) for v in values)

    def plain(self, v):
        if self.mode == "sci":
            return f"{v:.{self.precision}e}"
        if self.mode == "fixed":
            return f"{v:.{self.precision}f}"
        return f"{v:.0f}." if np.isfinite(v) else f"{v:.0f}"

    def __call__(self, v):
        return self.plain(float(v)).rjust(self.width)
