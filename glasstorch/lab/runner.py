"""Run an experiment on one or both engines, check its targets, and write its run folder.

    record = run_experiment("xor-mlp", engines=("glass", "torch"), quick=True)
    record.passed          # every target met on every engine
    record.folder          # out/xor-mlp-20260101-120000/ with report.md, metrics.json, ...
"""
import dataclasses
import os
import operator
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from .context import Lab
from .registry import expected_for, get
from .report import write_run

ENGINES = ("glass", "torch")
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}


def load_engine(engine):
    """The framework module for an engine name: glasstorch for "glass", torch for "torch"."""
    if engine == "glass":
        import glasstorch
        return glasstorch
    if engine == "torch":
        try:
            import torch
        except ImportError as exc:
            raise RuntimeError("--engine torch needs PyTorch: pip install torch (CPU build is enough)") from exc
        return torch
    raise ValueError(f"unknown engine {engine!r}; choose from glass, torch, both")


def make_config(module, quick=False, **overrides):
    """The experiment's Config at full or quick size, with the CLI's overrides (epochs, lr, ...) applied
    where the Config has such a field. Returns (config, names of overrides it does not have)."""
    cfg = module.Config.quick() if quick else module.Config()
    fields = {f.name for f in dataclasses.fields(cfg)}
    given = {k: v for k, v in overrides.items() if v is not None}
    ignored = sorted(k for k in given if k not in fields)
    return dataclasses.replace(cfg, **{k: v for k, v in given.items() if k in fields}), ignored


def check_targets(results, expected):
    """One row per target: (metric, op, target, achieved, ok)."""
    rows = []
    for metric, (op, target) in expected.items():
        achieved = results.get(metric)
        ok = achieved is not None and bool(_OPS[op](achieved, target))
        rows.append((metric, op, target, achieved, ok))
    return rows


@dataclasses.dataclass
class EngineRun:
    engine: str
    results: dict
    checks: list
    seconds: float
    lab: Lab
    error: str = ""

    @property
    def passed(self):
        return not self.error and all(row[-1] for row in self.checks)


@dataclasses.dataclass
class RunRecord:
    name: str
    module: object
    config: object
    quick: bool
    folder: Path
    runs: list
    command: str = ""
    ignored: list = dataclasses.field(default_factory=list)
    started: str = ""
    load: tuple = ()  # 1-minute load average before and after the run: wall times mean little on a busy machine

    @property
    def passed(self):
        return all(run.passed for run in self.runs)


def run_on_engine(module, cfg, engine, folder, quick, data_dir=None, device="cpu", verbose=True, suffix="",
                  tensorboard=None):
    """Run `module` once on `engine`; exceptions are caught and recorded (the other engine still runs).
    `tensorboard`: a folder; the lab's history (and fit's lr and histograms) go to <folder>/<NAME>/<engine>."""
    writer = None
    if tensorboard is not None:
        from ..utils.tensorboard import SummaryWriter
        writer = SummaryWriter(os.path.join(str(tensorboard), module.NAME, engine))
    lab = Lab(None, engine, folder, data_dir=data_dir, device=device, verbose=verbose, suffix=suffix, quick=quick,
              writer=writer)
    expected = expected_for(module, quick)
    try:
        fw = load_engine(engine)  # imported before the clock starts: `import torch` alone takes seconds
    except Exception as exc:
        fw = None
        load_error = exc
    start = time.perf_counter()
    try:
        if fw is None:
            raise load_error
        lab.fw = fw
        if hasattr(cfg, "seed"):
            fw.manual_seed(cfg.seed)
        results = module.run(fw, cfg, lab)
        error = ""
    except Exception as exc:  # report it, don't hide the other engine's results
        results = {}
        error = traceback.format_exc()  # the whole of it: the report keeps what a first line would lose
        if verbose:
            print(f"[{engine}] FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
    seconds = time.perf_counter() - start
    if writer is not None:
        writer.close()
    results = {k: float(v) for k, v in results.items()}
    return EngineRun(engine, results, check_targets(results, expected), seconds, lab, error)


def run_experiment(name, engines=("glass",), quick=False, overrides=None, data_dir=None, out_root="out",
                   device="cpu", verbose=True, folder=None, command="", write=True, tensorboard=None):
    """Run experiment `name` (or an experiment module) on each engine, write its run folder, return the RunRecord.
    `tensorboard`: a folder for TensorBoard event files, one run per engine (<folder>/<NAME>/<engine>)."""
    module = get(name) if isinstance(name, str) else name
    cfg, ignored = make_config(module, quick, **(overrides or {}))
    if hasattr(cfg, "device"):
        cfg = dataclasses.replace(cfg, device=device)
    now = datetime.now(timezone.utc)
    if folder is None:
        folder = new_run_folder(Path(out_root), f"{module.NAME}-{now.strftime('%Y%m%d-%H%M%S')}")
    folder = Path(folder)
    both = len(engines) > 1
    load_before = load_average()
    runs = [run_on_engine(module, cfg, engine, folder, quick, data_dir, device, verbose,
                          suffix=f"-{engine}" if both else "", tensorboard=tensorboard) for engine in engines]
    record = RunRecord(module.NAME, module, cfg, quick, folder, runs, command, ignored,
                       now.strftime("%Y-%m-%d %H:%M:%S UTC"), (load_before, load_average()))
    if write:
        write_run(record)
    return record


def new_run_folder(out_root, name):
    """Create and return out_root/name, or name-2, name-3 ... when a run started in the same second already
    holds it (mkdir claims a name atomically, so two runs never share, and overwrite, one folder)."""
    out_root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        folder = out_root / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"{out_root / name}: 999 run folders of this name exist already")


def load_average():
    """The machine's 1-minute load average (None where the OS has none, e.g. Windows)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None
