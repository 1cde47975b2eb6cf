"""Time glasstorch against PyTorch on the same workloads, in one process, and print one table.

How a figure is made (both engines, same process, same thread count):
1. Build the workload on each engine (same seed, same NumPy data; glasstorch gets torch's weights).
2. Warm each engine up, then size a window so that it lasts about `--window-seconds`.
3. Run the windows alternately, A B A B ..., so that a disturbance (the machine is shared) hits both.
4. Report the median rate over the windows, and the median of the per-window-pair ratios.
A run whose windows spread by more than DISTURBED_SPREAD of their median is marked disturbed.
"""
import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import workloads as W
from .hotspots import profile_workload
from .layers import layer_table, layer_times
from .memory import MALLOC_ENV
from .scaling import plot, run_scaling, section, write_section
from .timing import CLOCKS, copy_weights, limit_threads, restore_threads, time_alternating  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
DEFAULT_DATA = REPO.parent / "shared" / "data"
PERFORMANCE_DOC = REPO / "docs" / "PERFORMANCE.md"
ENGINES = ("glasstorch", "torch")
#: glasstorch / torch training samples/s the project aims for (issue 7)
TARGETS = {"tiny": 2.0, "mlp": 1.15, "lenet": 1.0, "cnn": 0.9, "lstm": 0.6, "transformer": 0.6}  # issue 17
#: peak training memory, glasstorch / torch, at most
MEMORY_TARGETS = {"cnn": 1.5}
#: (max - min) / median of the window rates above which a run is flagged as disturbed
DISTURBED_SPREAD = 0.25

def blas_info():
    from threadpoolctl import threadpool_info
    return [{k: p.get(k) for k in ("internal_api", "version", "num_threads", "architecture", "filepath")}
            for p in threadpool_info()]


def blas_summary():
    """'openblas 0.3.31, SkylakeX kernels' (and whether the environment forced the kernels)."""
    parts = [f"{p['internal_api']} {p['version']}, {p['architecture']} kernels" for p in blas_info()
             if p.get("internal_api") in ("openblas", "mkl", "blis")]
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return "; ".join(parts or ["unknown"]) + (f" (forced by OPENBLAS_CORETYPE={forced})" if forced else "")


def summarise(seconds, samples_per_call, flops_per_call):
    """Median rates, achieved GFLOP/s, the median per-window ratio and the disturbance flag."""
    out = {}
    for name, secs in seconds.items():
        rates = [samples_per_call / s for s in secs]
        median = statistics.median(rates)
        out[name] = {"rate": median, "windows": rates, "spread": (max(rates) - min(rates)) / median,
                     "gflops": flops_per_call / statistics.median(secs) / 1e9 if flops_per_call else None}
    if len(seconds) == 2:
        glass, torch = (seconds[e] for e in ENGINES)
        out["ratio"] = statistics.median(t / g for g, t in zip(glass, torch))
    out["disturbed"] = any(v["spread"] > DISTURBED_SPREAD for k, v in out.items() if k in ENGINES)
    return out


# ---------------------------------------------------------------- checks that both engines compute the same thing
def agreement(instances):
    """Max |glasstorch - torch| of the eval-mode outputs, after giving glasstorch torch's weights."""
    glass, torch = instances["glasstorch"], instances["torch"]
    copy_weights(torch.model, glass.fw, glass.model)
    glass.model.eval(), torch.model.eval()
    a, b = glass.infer().cpu().numpy(), torch.infer().cpu().numpy()
    glass.model.train(), torch.model.train()
    return float(np.max(np.abs(a.astype(np.float64) - b)))


def float32_throughout(instance):
    """True when every parameter and gradient is still float32 after training (no NEP 50 upcast)."""
    fw = instance.fw
    return all(p.dtype == fw.float32 and (p.grad is None or p.grad.dtype == fw.float32)
               for p in instance.model.parameters())


# ---------------------------------------------------------------- one workload
def run_workload(workload, engines, args):
    batch = workload.quick_batch if args.quick else workload.batch
    instances, result = {}, {"description": workload.description, "batch": batch, "unit": workload.unit,
                             "errors": {}}
    for name, fw in engines.items():
        try:
            instances[name] = W.build(fw, workload, batch, device=args.device)
        except Exception as e:  # a part of glasstorch not there yet: report it, time the rest
            result["errors"][name] = f"build: {type(e).__name__}: {e}"
    torch = engines["torch"]
    flops = W.forward_flops(torch, instances["torch"].model, instances["torch"].x)
    result["forward_flops_per_sample"] = flops / batch
    if len(instances) == 2:
        try:
            result["max_abs_diff"] = agreement(instances)
        except Exception as e:
            result["errors"]["glasstorch"] = f"check: {type(e).__name__}: {e}"
    samples_per_call = 1 if workload.unit == "steps/s" else batch
    for mode, flops_per_call in (("train", 3 * flops), ("infer", flops)):
        calls = {}
        for name, inst in instances.items():
            if mode == "infer":
                inst.model.eval()
            fn = inst.train if mode == "train" else inst.infer
            try:
                fn()
                calls[name] = fn
            except Exception as e:
                result["errors"][name] = f"{mode}: {type(e).__name__}: {e}"
        seconds = time_alternating(calls, args.windows, args.window_seconds, args.warmup_seconds, args.clock_fn,
                                   args.settle_seconds)
        result[mode] = summarise(seconds, samples_per_call, flops_per_call)
        if mode == "train" and "glasstorch" in calls:
            result["float32_throughout"] = float32_throughout(instances["glasstorch"])
    return result


def measure_memory(results, args):
    """Every workload's peak memory on each engine: fresh processes, two at a time (after the timing)."""
    from concurrent.futures import ThreadPoolExecutor
    jobs = [(name, engine, r["batch"]) for name, r in results["workloads"].items() for engine in ENGINES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        peaks = list(pool.map(lambda job: peak_memory(job[1], job[0], job[2], args), jobs))
    for (name, engine, _), peak in zip(jobs, peaks):
        results["workloads"][name].setdefault("memory", {})[engine] = peak


def peak_memory(engine, workload_name, batch, args):
    """Run benchmarks.memory in a fresh process (see its docstring for the method)."""
    cmd = [sys.executable, "-m", "benchmarks.memory", engine, workload_name, "--batch", str(batch),
           "--threads", str(args.threads), "--steps", "1" if args.quick else "3"]
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, **MALLOC_ENV, PYTHONPATH=path)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- a real MNIST epoch through each DataLoader
def epoch_loaders(engines, data_root, batch):
    """glasstorch: its MNIST dataset + transforms + DataLoader; torch: the same arrays in a TensorDataset."""
    loaders, errors = {}, {}
    x, y = W.mnist_train_arrays(data_root)
    torch = engines["torch"]
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    loaders["torch"] = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True)
    glass = engines["glasstorch"]
    try:
        from glasstorch.vision import datasets, transforms
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((W.MNIST_MEAN,), (W.MNIST_STD,))])
        mnist = datasets.MNIST(str(Path(data_root) / "mnist"), train=True, transform=transform)
        loaders["glasstorch"] = glass.utils.data.DataLoader(mnist, batch_size=batch, shuffle=True)
    except Exception as e:
        errors["glasstorch"] = f"{type(e).__name__}: {e}"
    return loaders, errors


def run_epoch(engines, args, batch=128):
    """Full training epochs of `mlp`, alternating engines; samples/s = samples seen / wall time."""
    if not (Path(args.data) / "mnist").is_dir():
        return {"errors": {"both": f"no MNIST under {args.data}"}}
    loaders, errors = epoch_loaders(engines, args.data, batch)
    workload = W.WORKLOADS["mlp"]
    max_batches = 3 if args.quick else None
    runs = {}
    for name, loader in loaders.items():
        fw = engines[name]
        fw.manual_seed(0)
        model = workload.build_model(fw)
        runs[name] = (fw, model, workload.build_optimizer(fw, model.parameters()), workload.build_loss(fw), loader)

    def one_epoch(fw, model, optimizer, loss_fn, loader, limit):
        samples = 0
        for i, (x, y) in enumerate(loader):
            if limit is not None and i >= limit:
                break
            W.train_step(model, optimizer, loss_fn, x, y)
            samples += len(y)
        return samples

    rates = {name: [] for name in runs}
    for name, run in list(runs.items()):
        try:
            one_epoch(*run, limit=2)  # warm-up
        except Exception as e:
            errors[name] = f"{type(e).__name__}: {e}"
            del runs[name], rates[name]
    for _ in range(1 if args.quick else args.epochs):
        for name, run in runs.items():
            start = args.clock_fn()
            samples = one_epoch(*run, limit=max_batches)
            rates[name].append(samples / max(args.clock_fn() - start, 1e-9))
    result = summarise({k: [1 / r for r in v] for k, v in rates.items()}, 1, 0)
    result["errors"] = errors
    result["batch"] = batch
    return result


# ---------------------------------------------------------------- the table
def _fmt(value, digits=0):
    if value is None:
        return "-"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def table(results):
    """One Markdown table (it pastes into docs/PERFORMANCE.md as is)."""
    head = ("workload", "mode", "glasstorch", "torch", "ratio", "target", "GFLOP/s glass", "GFLOP/s torch",
            "peak MiB glass", "peak MiB torch", "notes")
    rows = []
    for name, r in results["workloads"].items():
        mem = r.get("memory", {})
        for mode in ("train", "infer"):
            m = r.get(mode, {})
            g, t = m.get("glasstorch", {}), m.get("torch", {})
            ratio = m.get("ratio")
            notes = []
            target = ""
            if mode == "train" and name in TARGETS and results["meta"].get("device", "cpu") == "cpu":  # CPU targets
                verdict = "" if ratio is None else (" ok" if ratio >= TARGETS[name] else " MISS")
                target = f">= {TARGETS[name]}{verdict}"
            if mode == "train":
                peaks = [mem.get(e, {}).get("peak_mib") for e in ENGINES]
                if name in MEMORY_TARGETS and None not in peaks and peaks[1] > 0:
                    mratio = peaks[0] / peaks[1]
                    notes.append(f"memory {mratio:.2f}x (target <= {MEMORY_TARGETS[name]})")
                if r.get("float32_throughout") is False:
                    notes.append("glasstorch left float32!")
                if r.get("max_abs_diff") is not None and r["max_abs_diff"] > 1e-3:
                    notes.append(f"outputs differ by {r['max_abs_diff']:.2g}")
            if m.get("disturbed"):
                notes.append("disturbed (spread " + "/".join(f"{m[e]['spread']:.0%}" for e in ENGINES if e in m) + ")")
            if mode == "train":
                notes += [f"{e}: {msg}" for e, msg in r["errors"].items()]
                notes += [f"{e} memory: {v['error']}" for e, v in mem.items() if "error" in v]
            unit = " steps/s" if r["unit"] == "steps/s" else ""
            rows.append((name, mode + unit, _fmt(g.get("rate")), _fmt(t.get("rate")), _fmt(ratio, 2), target,
                         _fmt(g.get("gflops"), 1), _fmt(t.get("gflops"), 1),
                         _fmt(mem.get("glasstorch", {}).get("peak_mib"), 1) if mode == "train" else "",
                         _fmt(mem.get("torch", {}).get("peak_mib"), 1) if mode == "train" else "",
                         "; ".join(notes)))
    e = results.get("epoch")
    if e:
        notes = [f"{k}: {v}" for k, v in e.get("errors", {}).items()]
        if e.get("disturbed"):
            notes.append("disturbed")
        rows.append(("mlp", "epoch (MNIST, DataLoader)", _fmt(e.get("glasstorch", {}).get("rate")),
                     _fmt(e.get("torch", {}).get("rate")), _fmt(e.get("ratio"), 2), "", "", "", "", "",
                     "; ".join(notes)))
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def comparison(before, after, before_name):
    """Lines 'workload mode: glasstorch a -> b (x.xx), ratio c -> d' against an earlier results JSON."""
    lines = [f"against {before_name} ({before['meta'].get('time_utc')}, git {before['meta'].get('git')}):"]
    rows = [(name, mode, r.get(mode, {}), before["workloads"].get(name, {}).get(mode, {}))
            for name, r in after["workloads"].items() for mode in ("train", "infer")]
    if after.get("epoch") and before.get("epoch"):
        rows.append(("mlp", "epoch", after["epoch"], before["epoch"]))
    for name, mode, new, old in rows:
        g_new, g_old = new.get("glasstorch", {}).get("rate"), old.get("glasstorch", {}).get("rate")
        if g_new is None or g_old is None:
            continue
        lines.append(f"  {name} {mode}: glasstorch {g_old:,.0f} -> {g_new:,.0f} ({g_new / g_old:.2f}x), "
                     f"ratio {_fmt(old.get('ratio'), 2)} -> {_fmt(new.get('ratio'), 2)}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the command line
def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny batches and windows (the test suite's smoke run)")
    p.add_argument("--only", default="", help="comma-separated workloads and/or 'epoch' (default: all)")
    p.add_argument("--windows", type=int, help="timed windows per engine (default 5; --quick 2)")
    p.add_argument("--window-seconds", type=float, help="length of one window (default 1.0; --quick 0.01)")
    p.add_argument("--warmup-seconds", type=float, help="warm-up per engine (default 0.5; --quick 0)")
    p.add_argument("--settle-seconds", type=float, help="pause before each window, so that the other engine's "
                   "spinning threads are asleep (default 0.2; --quick 0)")
    p.add_argument("--epochs", type=int, default=3, help="MNIST epochs per engine for the epoch figure")
    p.add_argument("--threads", type=int, help="threads for both engines (default: glasstorch.get_num_threads())")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                   help="wall (default) or cpu: process CPU time, steadier on a busy machine with --threads 1")
    p.add_argument("--json", help="where to save the results (default benchmarks/results/<UTC time>.json)")
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder holding mnist/ (default ../shared/data)")
    p.add_argument("--compare", metavar="JSON", help="also print the change against an earlier results file")
    p.add_argument("--no-memory", dest="memory", action="store_false", help="skip the peak-memory subprocesses")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="cuda: both engines on the GPU (glasstorch through CuPy); the training steps only, no "
                        "memory or epoch runs")
    p.add_argument("--profile", metavar="WORKLOAD", help="cProfile glasstorch's training step instead of timing")
    p.add_argument("--layers", metavar="WORKLOAD", help="time each layer, the loss and the optimizer step alone")
    p.add_argument("--scaling", action="store_true",
                   help="throughput against batch size (1-512) and threads (1, 2) for mlp and cnn, and the convolutions "
                        "against the GEMM peak: written into --doc's Scaling section, the figure beside it")
    p.add_argument("--doc", default=str(PERFORMANCE_DOC), help="the page --scaling writes (default docs/PERFORMANCE.md)")
    args = p.parse_args(argv)
    scaling = (3, 0.3, 0.1, 0.2)  # --scaling: 2 x 2 x 20 settings, so shorter windows
    for (name, default, quick), short in zip((("windows", 5, 2), ("window_seconds", 1.0, 0.01),
                                              ("warmup_seconds", 0.5, 0.0), ("settle_seconds", 0.2, 0.0)), scaling):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else short if args.scaling else default)
    names = [n for n in args.only.split(",") if n] or [*W.WORKLOADS, "epoch"]
    unknown = [n for n in names if n not in W.WORKLOADS and n != "epoch"]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; choose from {[*W.WORKLOADS, 'epoch']}")
    if args.device == "cuda":  # the epoch and memory runs are CPU measurements
        names, args.memory = [n for n in names if n != "epoch"], False
    args.names = names
    args.clock_fn = CLOCKS[args.clock]
    for option in ("profile", "layers"):
        if getattr(args, option) and getattr(args, option) not in W.WORKLOADS:
            p.error(f"--{option}: unknown workload {getattr(args, option)!r}; choose from {list(W.WORKLOADS)}")
    return args


def meta(args, engines):
    def git_commit():
        """HEAD's short hash, with '+dirty' when the library has uncommitted changes (then it is not HEAD)."""
        try:
            head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                  text=True).stdout.strip()
            dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "glasstorch"],
                                   cwd=REPO, capture_output=True, text=True).stdout.strip()
        except OSError:
            return None
        return (head + ("+dirty" if dirty else "")) or None
    return {"time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "git": git_commit(),
            "machine": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, **{f"{k}_version": getattr(v, "__version__", None) for k, v in engines.items()},
            "threads": args.threads, "device": args.device, "clock": args.clock, "blas": blas_info(), "windows": args.windows,
            "window_seconds": args.window_seconds, "quick": args.quick, "load_average_start": os.getloadavg(),
            "malloc_kept": getattr(args, "malloc_kept", None)}


def scaling(engines, args):
    """--scaling: measure, then write the section and figure into --doc and the JSON into results/."""
    info = meta(args, engines)
    results = run_scaling(engines, args)
    info["load_average_end"] = os.getloadavg()
    doc = Path(args.doc)
    figure = doc.parent / "scaling.png"
    plot(results, figure)
    text = section(results, info, figure.name)
    write_section(doc, text)
    path = Path(args.json) if args.json else RESULTS_DIR / f"scaling-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": info, **results}, indent=1, default=str) + "\n")
    print(text + f"\n\nwrote {doc} and {figure}; saved {path}")
    return results


def main(argv=None):
    args = parse_args(argv)
    engines = {name: importlib.import_module(name) for name in ENGINES}
    if args.threads is None:
        args.threads = engines["glasstorch"].get_num_threads()
    # glibc keeps freed arrays for reuse in this process, for both engines alike: otherwise whether a workload's
    # large arrays cost fresh page faults depends on which workloads ran before it (docs/PERFORMANCE.md, round 7)
    args.malloc_kept = engines["glasstorch"].backend.keep_freed_memory()
    if args.scaling:  # sets its own thread counts, 1 and 2
        return scaling(engines, args)
    limit_threads(args.threads, *engines.values())
    if args.profile:
        print(profile_workload(engines["glasstorch"], W.WORKLOADS[args.profile], args))
        return None
    if args.layers:
        print(layer_table(args.layers, layer_times(engines, W.WORKLOADS[args.layers], args)))
        return None
    results = {"meta": meta(args, engines), "workloads": {}}
    print(f"glasstorch vs torch {engines['torch'].__version__} on {args.device}, {args.threads} thread(s) each, "
          f"median of {args.windows} alternating windows ({args.clock} clock); "
          f"load average {os.getloadavg()[0]:.2f}; NumPy's BLAS: {blas_summary()}", flush=True)
    for name in args.names:
        started = time.perf_counter()
        if name == "epoch":
            results["epoch"] = run_epoch(engines, args)
        else:
            results["workloads"][name] = run_workload(W.WORKLOADS[name], engines, args)
        print(f"  {name} done ({time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
    if args.memory:
        started = time.perf_counter()
        measure_memory(results, args)
        print(f"  memory done ({time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)
    results["meta"]["load_average_end"] = os.getloadavg()
    text = table(results)
    print(text)
    if any(r.get(m, {}).get("disturbed") for r in results["workloads"].values() for m in ("train", "infer")):
        print(f"\nSome windows spread by more than {DISTURBED_SPREAD:.0%} of their median: the machine was busy "
              f"(load average {os.getloadavg()[0]:.2f}); rerun on a quiet machine for figures to quote.")
    if args.compare:
        print("\n" + comparison(json.loads(Path(args.compare).read_text()), results, args.compare))
    path = Path(args.json) if args.json else RESULTS_DIR / f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    results["table"] = text
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nsaved {path}")
    return results
