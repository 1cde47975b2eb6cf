"""Run a published PyTorch program unchanged on glasstorch: `python -m glasstorch.as_torch script.py [args]`.

An import hook (a `sys.meta_path` finder) answers `import torch`, `import torch.nn.functional as F`,
`from torch.utils.data import DataLoader`, `import torchvision.transforms` ... with glasstorch's own
module objects: `torch.X` is `glasstorch.X`, and the few names that differ come from `ALIASES`
(`torchvision` is `glasstorch.vision`). Nothing is copied: `torch.nn is glasstorch.nn`.

When the program reaches something glasstorch does not have, the error says so in one line and names the
program's line:

    glasstorch has no torch.fft.rfft yet (script.py:41)

`--report` lists every torch API the run touched (module attributes and Tensor methods) and which are
missing. In a notebook, `glasstorch.as_torch.install()` installs the same hook (before `import torch`).
"""
import argparse
import difflib
import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys
import types

from .tensor import Tensor

#: torch-side module name -> glasstorch module name, where they differ (everything else: torch.X -> glasstorch.X)
ALIASES = {
    "torch": "glasstorch",
    "torchvision": "glasstorch.vision",
}
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class MissingAPIError(AttributeError):
    """A torch API the program uses that glasstorch does not have (yet). Its message is the one line to show."""

    def __init__(self, api, where, near=()):
        self.api, self.where = api, where
        at = f" ({where})" if where else ""
        prefix = api.rsplit(".", 1)[0] + "."
        same_but_case = [n for n in near if n.lower() == api.rsplit(".", 1)[1].lower()]
        if same_but_case:  # most likely a misspelt name (the notes' nn.Relu), which torch would refuse too
            message = f"glasstorch has no {api}{at}; did you mean {prefix}{same_but_case[0]}? " \
                      "(names are case-sensitive)"
        else:
            message = f"glasstorch has no {api} yet{at}"
            if near:
                message += "; did you mean " + " or ".join(prefix + n for n in near) + "?"
        super().__init__(message)


class MissingModuleError(ModuleNotFoundError):
    def __init__(self, api, where):
        self.api, self.where = api, where
        super().__init__(f"glasstorch has no {api} yet" + (f" ({where})" if where else ""), name=api)


def glasstorch_name(torch_name):
    """`torch.nn.functional` -> `glasstorch.nn.functional`; `torchvision.datasets` -> `glasstorch.vision.datasets`."""
    for prefix in sorted(ALIASES, key=len, reverse=True):
        if torch_name == prefix or torch_name.startswith(prefix + "."):
            return ALIASES[prefix] + torch_name[len(prefix):]
    return None


def torch_name(module_name):
    """The inverse: the torch-side name of a glasstorch module (what messages and the report show)."""
    best = None
    for prefix, target in ALIASES.items():
        if module_name == target or module_name.startswith(target + "."):
            if best is None or len(target) > len(ALIASES[best]):
                best = prefix
    return best + module_name[len(ALIASES[best]):] if best else module_name


def _caller_location(skip_importlib=True):
    """`file.py:LINE` of the first frame outside glasstorch and importlib (the program's line)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = filename.startswith(_PACKAGE_DIR) or (skip_importlib and filename.startswith("<frozen"))
        if not inside:
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


class _Recorder:
    """What --report collects: API name -> count, and missing API name -> where it was first reached."""

    def __init__(self):
        self.touched = {}
        self.missing = {}

    def profile(self, frame, event, arg):
        # Tensor methods called from the program's own code (module attributes are seen by TorchModule)
        if event != "call":
            return
        code = frame.f_code
        if not code.co_filename.startswith(_PACKAGE_DIR) or not code.co_qualname.startswith("Tensor."):
            return
        caller = frame.f_back
        if caller is not None and not caller.f_code.co_filename.startswith(_PACKAGE_DIR):
            name = "torch." + code.co_qualname
            self.touched[name] = self.touched.get(name, 0) + 1


_recorder = None


class TorchModule(types.ModuleType):
    """The class a glasstorch module takes while the hook is installed: a missing attribute says
    `glasstorch has no torch.X.Y yet (file:line)`, and under --report every access from the program is counted."""

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):  # protocol probes (pickle, inspect, doctest ...)
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        api = f"{torch_name(self.__name__)}.{name}"
        where = _caller_location()
        if _recorder is not None:
            _recorder.missing.setdefault(api, where)
        public = [n for n in dir(self) if not n.startswith("_") and (not n.isupper() or name.isupper())]  # (no tables)
        near = [n for n in public if n.lower() == name.lower()] or difflib.get_close_matches(name, public, 2, 0.8)
        raise MissingAPIError(api, where, near)


class _RecordingTorchModule(TorchModule):
    def __getattribute__(self, name):
        value = super().__getattribute__(name)
        if _recorder is not None and not name.startswith("_"):
            caller = sys._getframe(1).f_code.co_filename
            if not caller.startswith(_PACKAGE_DIR) and not caller.startswith("<frozen") \
                    and not isinstance(value, types.ModuleType):
                api = f"{torch_name(super().__getattribute__('__name__'))}.{name}"
                _recorder.touched[api] = _recorder.touched.get(api, 0) + 1
        return value


class _Loader(importlib.abc.Loader):
    """Hands back the already-imported glasstorch module (no second copy is ever executed)."""

    def __init__(self, module):
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.spec  # importlib set the torch-side spec; the module keeps its own


class TorchFinder(importlib.abc.MetaPathFinder):
    """`sys.meta_path` finder: torch.X / torchvision.X -> the glasstorch module (or a one-line 'has no' error)."""

    def find_spec(self, fullname, path=None, target=None):
        target_name = glasstorch_name(fullname)
        if target_name is None:
            return None
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as error:
            if error.name is not None and not target_name.startswith(error.name):
                raise  # glasstorch itself needs something that is not installed
            where = _caller_location()
            if _recorder is not None:
                _recorder.missing.setdefault(fullname, where)
            raise MissingModuleError(fullname, where) from None
        _adopt(module)
        return importlib.util.spec_from_loader(fullname, _Loader(module))


_finder = None


def _adopt(module):
    """Give a glasstorch module the TorchModule class (missing attributes explain themselves)."""
    if isinstance(module, TorchModule) or not module.__name__.startswith("glasstorch"):
        return
    if module.__name__.startswith("glasstorch.as_torch"):
        return
    module.__class__ = _RecordingTorchModule if _recorder is not None else TorchModule


def installed():
    return _finder is not None


def install(report=False):
    """Make `import torch` / `import torchvision` give glasstorch (for a notebook: call it before `import torch`).

    Refuses when the real torch (or torchvision) is already imported: the two cannot share a process's names.
    """
    global _finder, _recorder
    for name in ("torch", "torchvision"):
        module = sys.modules.get(name)
        if module is not None and not (module.__name__.startswith("glasstorch")):
            raise RuntimeError(f"the real {name} is already imported in this process ({module.__file__}); "
                               f"glasstorch.as_torch can only stand in for it before the first `import {name}`. "
                               f"Restart the interpreter (or kernel) and call install() first.")
    if report and _recorder is None:
        _recorder = _Recorder()
    if _finder is None:
        _finder = TorchFinder()
        sys.meta_path.insert(0, _finder)
    for name, module in list(sys.modules.items()):
        if name.startswith("glasstorch") and isinstance(module, types.ModuleType):
            _adopt(module)
    for torch_side, target in ALIASES.items():
        sys.modules[torch_side] = importlib.import_module(target)
    return _finder


def uninstall():
    """Undo install(): `torch` names leave sys.modules and glasstorch modules get their plain class back."""
    global _finder, _recorder
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder = _recorder = None
    for name in list(sys.modules):
        if name.split(".")[0] in ("torch", "torchvision") and sys.modules[name].__name__.startswith("glasstorch"):
            del sys.modules[name]
    for name, module in list(sys.modules.items()):
        if isinstance(module, TorchModule):
            module.__class__ = types.ModuleType


def explain(error, script):
    """The one-line 'glasstorch has no ...' message for an error the program hit, or None for other errors."""
    if isinstance(error, (MissingAPIError, MissingModuleError)):
        return str(error)
    where = None
    tb = error.__traceback__
    while tb is not None:  # the program's last line on the way to the error
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(script):
            where = f"{os.path.basename(script)}:{tb.tb_lineno}"
        tb = tb.tb_next
    text = str(error)
    if isinstance(error, AttributeError) and getattr(error, "obj", None) is not None:
        obj = error.obj
        if isinstance(obj, Tensor):
            api = f"torch.Tensor.{error.name}"
        elif isinstance(obj, type) and issubclass(obj, Tensor):
            api = f"torch.Tensor.{error.name}"
        elif isinstance(obj, types.ModuleType) and obj.__name__.startswith("glasstorch"):
            api = f"{torch_name(obj.__name__)}.{error.name}"
        else:
            return None
    elif isinstance(error, ImportError) and text.startswith("cannot import name") and \
            (error.name or "").startswith("glasstorch"):
        api = f"{torch_name(error.name)}.{text.split(chr(39))[1]}"
    else:
        return None
    if _recorder is not None:
        _recorder.missing.setdefault(api, where)
    return f"glasstorch has no {api} yet" + (f" ({where})" if where else "")


def format_report(recorder):
    lines = [f"glasstorch as-torch report: {len(recorder.touched)} torch APIs touched, "
             f"{len(recorder.missing)} missing"]
    for api in sorted(recorder.touched):
        lines.append(f"  ok       {api}  ({recorder.touched[api]}x)")
    for api, where in sorted(recorder.missing.items()):
        lines.append(f"  MISSING  {api}" + (f"  ({where})" if where else ""))
    return "\n".join(lines)


def run(script, args=(), report=False):
    """Run `script` as __main__ with sys.argv = [script, *args] and torch resolving to glasstorch.

    Returns the exit status: 0, the program's own SystemExit code, or 1 after a 'glasstorch has no' line.
    """
    install(report=report)
    recorder = _recorder
    saved_argv, saved_path0 = sys.argv, sys.path[0] if sys.path else None
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    status = 0
    if recorder is not None:
        sys.setprofile(recorder.profile)
    try:
        runpy.run_path(os.path.abspath(script), run_name="__main__")  # (__file__ absolute, as python sets it)
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except (AttributeError, ImportError) as error:
        message = explain(error, script)
        if message is None:
            raise
        sys.stdout.flush()
        print(message, file=sys.stderr)
        status = 1
    finally:
        if recorder is not None:
            sys.setprofile(None)
        sys.argv = saved_argv
        if sys.path and saved_path0 is not None:
            sys.path.pop(0)
    if recorder is not None:
        sys.stdout.flush()
        print(format_report(recorder), file=sys.stderr)
    return status


def build_parser(parser=None):
    parser = parser or argparse.ArgumentParser(
        prog="python -m glasstorch.as_torch",
        description="Run an unmodified PyTorch program on glasstorch (import torch / torchvision -> glasstorch).")
    parser.add_argument("--report", action="store_true",
                        help="after the run, list every torch API the program touched and which are missing")
    parser.add_argument("script", help="the PyTorch program (.py)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its own arguments")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if not os.path.exists(args.script):
        print(f"no such file: {args.script}", file=sys.stderr)
        return 2
    return run(args.script, args.args, report=args.report)


if __name__ == "__main__":  # (run the one imported copy of this module, not a second __main__ copy)
    from glasstorch.as_torch import main as _main
    sys.exit(_main())
