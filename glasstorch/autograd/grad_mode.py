"""Grad mode: whether ops record the graph. Context managers that also work as decorators."""
import functools
import threading

class _GradState(threading.local):
    enabled = True  # each thread starts with grad mode on (read on every op: a plain attribute)


_state = _GradState()


def is_grad_enabled():
    return _state.enabled


def _set_enabled(flag):
    _state.enabled = bool(flag)


class _GradModeContext:
    """Base for no_grad / enable_grad / set_grad_enabled / inference_mode: `with` block or decorator."""
    _target = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        _set_enabled(self._target)
        return self

    def __exit__(self, *exc):
        _set_enabled(self._previous)
        return False

    def __call__(self, fn):
        target = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = is_grad_enabled()
            _set_enabled(target)
            try:
                return fn(*args, **kwargs)
            finally:
                _set_enabled(previous)
        return wrapper


class no_grad(_GradModeContext):
    """Ops inside record no graph: results have requires_grad=False (evaluation, parameter updates).

    Use as `with no_grad():`, `@no_grad()` or `@no_grad`.
    """
    _target = False

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self(fn) if callable(fn) else self

    def __init__(self, fn=None):
        pass


class enable_grad(_GradModeContext):
    """Turn recording back on inside a no_grad block."""
    _target = True


class inference_mode(_GradModeContext):
    """Like no_grad (glasstorch has no separate inference tensors); `inference_mode(False)` records."""

    def __init__(self, mode=True):
        self._target = not mode


class set_grad_enabled(_GradModeContext):
    """`set_grad_enabled(False)` as a call takes effect at once (like torch); as a `with` it is scoped."""

    def __init__(self, mode):
        # the state read and written directly (not through the helpers above): every backward() enters one
        self._previous = _state.enabled
        _state.enabled = self._target = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self._previous
        return False


# ----------------------------------------------------------------------------- anomaly detection
class _AnomalyState(threading.local):
    enabled = False


_anomaly = _AnomalyState()


def is_anomaly_enabled():
    return _anomaly.enabled


class set_detect_anomaly:
    """`set_detect_anomaly(True)`: the first op whose forward or backward makes NaN/Inf raises, naming it.

    Works as a plain call (global switch) and as a context manager, like torch's.
    """

    def __init__(self, mode=True):
        self._previous = is_anomaly_enabled()
        _anomaly.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _anomaly.enabled = self._previous
        return False


class detect_anomaly(set_detect_anomaly):
    def __init__(self):
        super().__init__(True)
