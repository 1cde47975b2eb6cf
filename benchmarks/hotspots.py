"""Where glasstorch's time goes: cProfile over training steps of one workload.

    python -m benchmarks --profile cnn [--quick]

Prints the functions ranked by their own time (tottime) and by time including callees (cumtime),
as a share of the profiled steps. The timer is the process's CPU time (all threads), so other
processes on a shared machine do not distort the shares; with --threads 1 a BLAS call's share is
its real share (with N threads it counts up to N times). cProfile adds a fixed cost per Python call, so op-heavy small
workloads (tiny) look more Python-bound under it than they are; the ranking is still the one to fix.
"""
import cProfile
import io
import pstats
import time

from .workloads import build


def profile_workload(fw, workload, args, seconds=None, top=25):
    batch = workload.quick_batch if args.quick else workload.batch
    instance = build(fw, workload, batch)
    for _ in range(2):
        instance.train()
    start, steps = time.process_time(), 0
    budget = seconds if seconds is not None else (0.2 if args.quick else 3.0)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    while steps < 2 or time.process_time() - start < budget:
        instance.train()
        steps += 1
    profiler.disable()
    elapsed = time.process_time() - start
    out = io.StringIO()
    out.write(f"{workload.name}: {steps} training steps (batch {batch}) in {elapsed:.2f} CPU s under cProfile "
              f"= {1000 * elapsed / steps:.2f} ms/step\n")
    stats = pstats.Stats(profiler, stream=out)
    total = sum(row[2] for row in stats.stats.values())  # sum of tottime = profiled time
    for key, label in (("tottime", "own time"), ("cumulative", "time with callees")):
        out.write(f"\n-- ranked by {label} (share of {total:.2f} s) --\n")
        rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2 if key == "tottime" else 3], reverse=True)
        for (file, line, func), (cc, nc, tt, ct, _) in rows[:top]:
            where = f"{_short(file)}:{line}({func})"
            out.write(f"{100 * tt / total:6.1f}% own {100 * ct / total:6.1f}% cum {nc / steps:8.1f} calls/step  "
                      f"{where}\n")
    return out.getvalue()


def _short(path):
    for marker in ("glasstorch/", "benchmarks/", "site-packages/", "lib/python"):
        if marker in path:
            return path[path.index(marker):]
    return path
