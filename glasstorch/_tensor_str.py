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
    suffixes = []
    if t.is_cuda:
        suffixes.append(f"device='{t.device}'")
    if a.size == 0 and a.ndim != 1:
        suffixes.append(f"size={tuple(a.shape)}")
    if d not in (backend.get_default_dtype(), backend.int64, backend.bool_):
        suffixes.append(f"dtype={d}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    prefix = "tensor("
    return _add_suffixes(prefix + format_array(a, d.is_floating_point, len(prefix)), suffixes, len(prefix))


def format_array(a, floating, indent):
    """The nested brackets of `a`, lines broken at `linewidth`, `...` past `threshold` elements."""
    if a.size == 0:
        return "[]"
    summarize = a.size > _options["threshold"]
    shown = _summarized(a, _options["edgeitems"]) if summarize else a
    formatter = _Formatter(shown, floating, _options["precision"], _options["sci_mode"])
    return _nested(a, indent, summarize, formatter)


def _summarized(a, edge):
    """What a summary shows (the first and last `edge` entries along each dim): it alone sets the widths."""
    for axis in range(a.ndim):
        n = a.shape[axis]
        if n > 2 * edge:
            a = np.take(a, list(range(edge)) + list(range(n - edge, n)), axis=axis)
    return a


def _nested(a, indent, summarize, formatter):
    """One bracket level: a 0-d value, a row of values wrapped to the line width, or the rows of each sub-array
    (a blank line between 2-d blocks, two between 3-d blocks ...), each level indented one more column."""
    if a.ndim == 0:
        return formatter(a.item())
    edge, n = _options["edgeitems"], a.shape[0]
    cut = summarize and n > 2 * edge
    if a.ndim == 1:
        if summarize and not edge:
            items = ["..."]
        elif cut:
            items = [formatter(v) for v in a[:edge].tolist()] + [" ..."] + [formatter(v) for v in a[n - edge:].tolist()]
        else:
            items = [formatter(v) for v in a.tolist()]
        per_line = builtins.max(1, int((_options["linewidth"] - indent) // (formatter.width + 2)))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = list(range(edge)) + [None] + list(range(n - edge, n)) if cut else range(n)
    parts = ["..." if i is None else _nested(a[i], indent + 1, summarize, formatter) for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _add_suffixes(text, suffixes, indent):
    """`, dtype=...` after the values, on a new line (indented) when it would pass the line width."""
    out = [text]
    line = len(text) - text.rfind("\n") + 1  # (torch's count of the last line's length)
    for suffix in suffixes:
        if line + len(suffix) + 2 > _options["linewidth"]:
            out.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            out.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(out) + ")"


class _Formatter:
    """torch's number printing. Integers and bools as Python prints them. Floats: integral values as '1.',
    else `precision` decimals, and scientific notation when the nonzero finite magnitudes span more than
    1000x or leave [1e-4, 1e8] (or as sci_mode says). Every value is padded to the widest one."""

    def __init__(self, a, floating, precision=4, sci_mode=None):
        self.precision, self.width = precision, 1
        if not floating:
            self.mode = "plain"
            self.width = builtins.max([len(str(v)) for v in a.ravel().tolist()] + [1])
            return
        self.mode = "int"
        values = a[np.isfinite(a) & (a != 0)].astype(np.float64)
        if values.size == 0:
            return
        magnitude = np.abs(values)
        big, small = magnitude.max(), magnitude.min()
        if sci_mode is None:
            sci_mode = bool(big / small > 1000.0 or big > 1.0e8 or small < 1.0e-4)
        if sci_mode:
            self.mode = "sci"
        elif not np.all(values == np.ceil(values)):
            self.mode = "fixed"
        self.width = builtins.max(len(self.plain(v)) for v in values.tolist())

    def plain(self, v):
        if self.mode == "plain":
            return str(v)
        if self.mode == "sci":
            return f"{v:.{self.precision}e}"
        if self.mode == "fixed":
            return f"{v:.{self.precision}f}"
        return f"{v:.0f}." if math.isfinite(v) else f"{v:.0f}"

    def __call__(self, v):
        return self.plain(v).rjust(self.width)
