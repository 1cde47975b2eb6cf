"""What a run leaves behind: report.md, metrics.json, history.csv, curves.png; and docs/RESULTS.md.

Everything here reads a RunRecord (see runner.py) or the metrics.json files of earlier runs; it imports
nothing from runner.py (the runner calls `write_run`, never the other way round).
"""
import csv
import dataclasses
import json
import os
import platform
from pathlib import Path

from .registry import expected_for, get, names

X_KEYS = ("epoch", "step", "iteration", "iter", "epsilon", "processes")  # processes: data-parallel


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


# ----------------------------------------------------------------------------- closing table
def results_table(record):
    """Markdown-ish table: metric | target | achieved per engine | ok; then time per engine."""
    engines = [run.engine for run in record.runs]
    header = ["metric", "target"] + [f"{e}" for e in engines]
    rows = []
    for i, (metric, op, target, _, _) in enumerate(record.runs[0].checks):
        cells = [metric, f"{op} {target:g}"]
        for run in record.runs:
            achieved, ok = run.checks[i][3], run.checks[i][4]
            cells.append(f"{_fmt(achieved)} {'ok' if ok else 'MISSED'}")
        rows.append(cells)
    extra = sorted({k for run in record.runs for k in run.results} - {r[0] for r in record.runs[0].checks})
    for metric in extra:
        rows.append([metric, ""] + [_fmt(run.results.get(metric)) for run in record.runs])
    rows.append(["wall time (s)", ""] + [f"{run.seconds:.1f}" for run in record.runs])
    for run in record.runs:
        if run.error:
            rows.append(["error", ""] + [run.error.splitlines()[0] if r is run else "" for r in record.runs])
    return _markdown(header, rows)


def _markdown(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


# ----------------------------------------------------------------------------- run folder
def write_run(record):
    folder = Path(record.folder)
    folder.mkdir(parents=True, exist_ok=True)
    curves = plot_history(record, folder)
    (folder / "metrics.json").write_text(json.dumps(metrics_dict(record), indent=2))
    write_history_csv(record, folder / "history.csv")
    (folder / "report.md").write_text(report_markdown(record, curves))
    return folder


def metrics_dict(record):
    return {
        "experiment": record.name,
        "note": record.module.NOTE,
        "summary": record.module.SUMMARY,
        "size": "quick" if record.quick else "full",
        "config": dataclasses.asdict(record.config),
        "targets": {m: [op, v] for m, (op, v) in expected_for(record.module, record.quick).items()},
        "started": record.started,
        "passed": record.passed,
        "engines": {run.engine: {"results": run.results, "passed": run.passed, "seconds": round(run.seconds, 3),
                                 "checkpoint": run.lab.checkpoint_path, "error": run.error or None}
                    for run in record.runs},
        "versions": versions(),
        "machine": {"cpus": os.cpu_count(), "load_average_1min": list(record.load)},
    }


def write_history_csv(record, path):
    keys = []
    for run in record.runs:
        for row in run.lab.history:
            keys += [k for k in row if k not in keys]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["engine"] + keys)
        for run in record.runs:
            for row in run.lab.history:
                writer.writerow([run.engine] + [row.get(k, "") for k in keys])


def plot_history(record, folder):
    """One figure with every logged metric against epoch/step, both engines' curves in the same axes."""
    histories = [(run.engine, run.lab.history) for run in record.runs if run.lab.history]
    if not histories:
        return None
    def x_of(row):  # each row is plotted against its own x (experiments may log epochs, then steps)
        return next((k for k in X_KEYS if k in row), None)

    metrics = []
    for _, history in histories:
        for row in history:
            metrics += [k for k, v in row.items() if k not in X_KEYS and k not in metrics
                        and isinstance(v, (int, float)) and not isinstance(v, bool)]
    metrics = metrics[:12]
    if not metrics:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    cols = min(3, len(metrics))
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.4 * rows), squeeze=False)
    styles = {"glass": dict(color="tab:blue", lw=2), "torch": dict(color="tab:orange", lw=1.5, ls="--")}
    for ax, metric in zip(axes.flat, metrics):
        for engine, history in histories:
            points = [(row.get(x_of(row), i), row[metric]) for i, row in enumerate(history) if metric in row]
            x_key = next((x_of(row) for row in history if metric in row), None)
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, label=engine, marker="o" if len(xs) < 30 else None, ms=3, **styles.get(engine, {}))
        ax.set_title(metric)
        ax.set_xlabel(x_key or "step")
        if x_key != "epsilon":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        ax.grid(alpha=0.3)
        ax.legend()
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle(f"{record.name}: history" + (" (glasstorch vs PyTorch)" if len(histories) > 1 else ""))
    fig.tight_layout()
    fig.savefig(folder / "curves.png", dpi=100)
    plt.close(fig)
    return "curves.png"


def report_markdown(record, curves):
    module = record.module
    lines = [f"# {record.name}: {module.SUMMARY}", "",
             f"*From the notes:* {module.NOTE}  ", f"*Run:* `{record.command or 'glasstorch run ' + record.name}` "
             f"({'quick' if record.quick else 'full'} size, {record.started})  ",
             f"*Result:* {'all targets met' if record.passed else 'SOME TARGETS MISSED'}", ""]
    if module.__doc__:
        lines += [module.__doc__.strip(), ""]
    lines += ["## Results", "", results_table(record), ""]
    lines += ["## Config", "", "| field | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in dataclasses.asdict(record.config).items()]
    if record.ignored:
        lines += ["", f"(options this experiment has no use for, ignored: {', '.join(record.ignored)})"]
    lines += ["", "## Versions", "", ", ".join(f"{k} {v}" for k, v in versions().items()), ""]
    if record.load:
        lines += [f"Machine: {os.cpu_count()} cores, 1-minute load average "
                  f"{' -> '.join(str(v) for v in record.load)} (before -> after the run).", ""]
    if curves:
        lines += ["## Curves", "", f"![history]({curves})", ""]
    for run in record.runs:
        if run.lab.figures:
            lines += [f"## Figures ({run.engine})", ""]
            lines += [f"![{caption}]({name})  \n*{caption}*\n" for name, caption in run.lab.figures]
    for run in record.runs:
        printed = run.lab.printed.getvalue().strip()
        if printed:
            lines += [f"## What it printed ({run.engine})", "", "```", printed, "```", ""]
        if run.error:
            lines += [f"## Error ({run.engine})", "", "```", run.error.strip(), "```", ""]
    lines += ["## Files", "", "metrics.json, history.csv" + (", curves.png" if curves else "") +
              "".join(f", {run.lab.checkpoint_path}" for run in record.runs if run.lab.checkpoint_path), ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- docs/RESULTS.md
def collect_latest(out_root):
    """The newest metrics.json per (experiment, size) under out_root."""
    latest = {}
    for path in sorted(Path(out_root).glob("*/metrics.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        data["folder"] = path.parent.name
        key = (data["experiment"], data["size"])
        if key not in latest or data["started"] >= latest[key]["started"]:
            latest[key] = data
    return latest


def results_markdown(out_root):
    """docs/RESULTS.md: experiment, size, target, achieved and wall time on glasstorch and on PyTorch."""
    latest = collect_latest(out_root)
    header = ["experiment", "size", "target", "glasstorch", "time (s)", "PyTorch", "time (s)"]
    rows, loads, cpus = [], [], set()
    for name in names():
        for size in ("full", "quick"):
            data = latest.get((get(name).NAME, size))
            if not data:
                continue
            machine = data.get("machine", {})
            loads += [v for v in machine.get("load_average_1min", []) if v is not None]
            cpus.add(machine.get("cpus"))
            targets = data["targets"]
            cells = [name, size, ", ".join(f"{m} {op} {v:g}" for m, (op, v) in targets.items())]
            for engine in ("glass", "torch"):
                run = data["engines"].get(engine)
                if run is None:
                    cells += ["not run", ""]
                    continue
                if run.get("error"):
                    cells += [f"error: {run['error'].splitlines()[0][:60]}", f"{run['seconds']:.1f}"]
                    continue
                achieved = ", ".join(_fmt(run["results"].get(m)) for m in targets)  # in the targets' order
                cells += [f"{achieved} {'✓' if run['passed'] else '✗'}", f"{run['seconds']:.1f}"]
            rows.append(cells)
    text = ["# Results", "",
            "Produced by `glasstorch results` from the newest run folder of each experiment "
            f"under `{out_root}`. Achieved values are listed in the order of the targets; ✓ = every target met. "
            "Full size = measured with `--data-dir ../shared/data`. " + _machine_sentence(cpus, loads), "",
            _markdown(header, rows) if rows else "(no runs yet)", ""]
    return "\n".join(text)


def _machine_sentence(cpus, loads):
    """Where the wall times come from, as recorded in the runs' metrics.json."""
    known = sorted(c for c in cpus if c)
    cores = ", ".join(str(c) for c in known) or "?"
    if not loads:
        return f"Wall times were measured on a {cores}-core machine (load not recorded)."
    busy = bool(known) and max(loads) > max(known)
    return (f"Wall times were measured on a {cores}-core machine; its 1-minute load average before/after each run "
            f"ranged {min(loads):.1f}-{max(loads):.1f}" +
            (" (above the core count: other jobs shared the CPU, so the times compare poorly)." if busy else "."))


def write_results(out_root, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(results_markdown(out_root))
    return path


def versions():
    """Versions worth writing into every report."""
    import numpy
    info = {"python": platform.python_version(), "numpy": numpy.__version__, "platform": platform.platform()}
    try:
        import glasstorch
        info["glasstorch"] = glasstorch.__version__
    except Exception:  # pragma: no cover
        pass
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = "not installed"
    return info
