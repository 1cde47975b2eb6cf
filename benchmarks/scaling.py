"""How cost grows: training throughput against batch size and threads, and the convolutions against the GEMM peak.

    python -m benchmarks --scaling [--doc docs/PERFORMANCE.md]

For mlp and cnn, each batch size of BATCHES and each thread count of THREADS, both engines run the
training step in alternating windows (as the main table; shorter windows, median of 3). Then the
machine's GEMM peak (one large float32 matrix product through NumPy's BLAS, as many threads) and each
convolution of the lenet and cnn workloads alone, forward + backward on both engines, in GFLOP/s.
The result goes into the Scaling section of docs/PERFORMANCE.md (between its two markers, replaced
on every run), with the figure beside it under docs/, and into benchmarks/results/ as JSON.
"""
import time

import numpy as np

from . import workloads as W
from .layers import layer_times
from .timing import copy_weights, limit_threads, restore_threads, time_alternating

BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
THREADS = (1, 2)
WORKLOADS = ("mlp", "cnn")
CONV_WORKLOADS = ("lenet", "cnn")
START, END = "<!-- scaling:start (python -m benchmarks --scaling writes this part) -->", "<!-- scaling:end -->"


def throughput(engines, workload, batch, args):
    """{engine: median samples/s} of the training step at this batch size."""
    built = {name: W.build(fw, workload, batch) for name, fw in engines.items()}
    copy_weights(built["torch"].model, engines["glasstorch"], built["glasstorch"].model)
    seconds = time_alternating({name: inst.train for name, inst in built.items()}, args.windows, args.window_seconds,
                               args.warmup_seconds, args.clock_fn, getattr(args, "settle_seconds", 0.0))
    return {name: batch / float(np.median(s)) for name, s in seconds.items()}


def gemm_peak(size=2048, repeats=3, clock=time.perf_counter):
    """GFLOP/s of one float32 (size x size) @ (size x size) through NumPy's BLAS: the best of `repeats`."""
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a
    best = min(_seconds(lambda: a @ a, clock) for _ in range(repeats))
    return 2 * size ** 3 / best / 1e9


def _seconds(fn, clock):
    start = clock()
    fn()
    return max(clock() - start, 1e-9)


def conv_rates(engines, args):
    """[(workload, layer, input shape, forward GFLOP, {engine: GFLOP/s of forward + backward})] for every Conv2d."""
    torch = engines["torch"]
    rows = []
    for name in CONV_WORKLOADS:
        workload = W.WORKLOADS[name]
        batch = workload.quick_batch if args.quick else workload.batch
        model = W.build(torch, workload, batch).model
        convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        first = convs[0]  # the model's first layer: its input needs no gradient, so its backward is 1 GEMM, not 2
        for label, shape, _, both in layer_times(engines, workload, args):
            if not (label.startswith("conv") or label.endswith("Conv2d")):
                continue
            conv = convs.pop(0)
            kh, kw = conv.kernel_size
            out_hw = [(s + 2 * p - k) // st + 1 for s, p, k, st in zip(shape[2:], conv.padding, (kh, kw), conv.stride)]
            flops = 2 * conv.in_channels * kh * kw * conv.out_channels * shape[0] * out_hw[0] * out_hw[1]
            products = 2 if conv is first else 3
            rows.append((name, label, shape, flops / 1e9,
                         {e: products * flops / float(np.median(t)) / 1e9 for e, t in both.items()}))
    return rows


def run_scaling(engines, args):
    batches = (1, 4) if args.quick else BATCHES
    results = {"throughput": {}, "gemm_peak": {}, "conv": {}}
    for threads in THREADS:
        limit_threads(threads, *engines.values())
        try:
            results["gemm_peak"][threads] = gemm_peak(256 if args.quick else 2048, clock=args.clock_fn)
            for name in WORKLOADS:
                for batch in batches:
                    rates = throughput(engines, W.WORKLOADS[name], batch, args)
                    results["throughput"].setdefault(name, {}).setdefault(threads, {})[batch] = rates
                    print(f"  {name} batch {batch} threads {threads}: " + ", ".join(
                        f"{e} {r:,.0f}/s" for e, r in rates.items()), flush=True)
            results["conv"][threads] = conv_rates(engines, args)
        finally:
            restore_threads()
    return results


def scaling_table(results):
    head = ("workload", "batch") + tuple(f"{e} {t}T" for t in THREADS for e in ("glasstorch", "torch")) + tuple(
        f"ratio {t}T" for t in THREADS)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for name, by_threads in results["throughput"].items():
        for batch in by_threads[THREADS[0]]:
            rates = [by_threads[t][batch] for t in THREADS]
            cells = [name, str(batch)] + [f"{r[e]:,.0f}" for r in rates for e in ("glasstorch", "torch")]
            cells += [f"{r['glasstorch'] / r['torch']:.2f}" for r in rates]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def conv_table(results):
    head = ("workload", "layer", "input", "forward GFLOP", "threads", "GEMM peak GFLOP/s", "glasstorch GFLOP/s",
            "torch GFLOP/s", "glasstorch / peak")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for threads, rows in results["conv"].items():
        peak = results["gemm_peak"][threads]
        for name, label, shape, gflop, rates in rows:
            cells = (name, label, "x".join(map(str, shape)), f"{gflop:.3f}", str(threads), f"{peak:.0f}",
                     f"{rates['glasstorch']:.0f}", f"{rates['torch']:.0f}", f"{rates['glasstorch'] / peak:.0%}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results, path):
    """Samples/s against batch size, one panel per workload: both engines, solid 2 threads, dashed 1."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(results["throughput"])
    fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for engine, colour in (("glasstorch", "tab:blue"), ("torch", "tab:orange")):
            for threads in THREADS:
                series = results["throughput"][name][threads]
                ax.plot(list(series), [r[engine] for r in series.values()], color=colour, marker="o", markersize=3,
                        linestyle="-" if threads == max(THREADS) else "--", label=f"{engine}, {threads} thread(s)")
        ax.set(xscale="log", yscale="log", xlabel="batch size", ylabel="training samples/s", title=name)
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def section(results, meta, figure_name):
    return "\n".join([
        START,
        f"**{meta['time_utc'][:16].replace('T', ' ')} UTC**, `python -m benchmarks --scaling` ({meta['clock']} clock, "
        f"median of {meta['windows']} alternating windows of {meta['window_seconds']} s; load average "
        f"{meta['load_average_start'][0]:.1f} at the start; git {meta['git']}).",
        "",
        f"![training throughput against batch size]({figure_name})",
        "",
        "Training samples/s (the whole step: forward, loss, backward, optimizer) against batch size, at 1 and 2 "
        "threads (T):",
        "",
        scaling_table(results),
        "",
        "Each convolution alone, forward + backward (3x the forward's FLOPs; 2x for a first layer, whose input "
        "needs no gradient), against the GEMM peak (one "
        "float32 2048x2048 @ 2048x2048 through NumPy's BLAS at the same thread count):",
        "",
        conv_table(results),
        END])


def write_section(doc_path, text):
    """Replace the part between the markers in `doc_path` (or append it under a Scaling heading)."""
    doc = doc_path.read_text()
    if START in doc and END in doc:
        doc = doc[:doc.index(START)] + text + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n## Scaling\n\n" + text + "\n"
    doc_path.write_text(doc)
