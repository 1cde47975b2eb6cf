"""Peak memory of one engine's training step, measured in a fresh process.

    python -m benchmarks.memory glasstorch cnn [--batch 64] [--threads 2] [--steps 3]

Method (Linux): the parent starts this process with glibc's mmap threshold fixed at 64 KiB
(MALLOC_MMAP_THRESHOLD_), so every buffer larger than that is its own mapping, returned to the
system when freed: resident memory then follows the live buffers of NumPy and torch alike. Here we
import the framework and run one throw-away step of the workload at batch 1 (lazy imports, thread
pools, kernel caches: the library's one-time costs), note the resident set (VmRSS), reset the
kernel's high-water mark (writing 5 to /proc/self/clear_refs), build the model, optimizer and batch
and run a few training steps. The peak is VmHWM minus that baseline: parameters, gradients, optimizer
state, activations and temporaries. Where clear_refs cannot be written, ru_maxrss (the peak since the
process started) is reported with a baseline of 0. Prints one JSON line.
"""
import argparse
import gc
import importlib
import json
import resource

from .timing import limit_threads
from .workloads import WORKLOADS, build

#: the environment the parent gives this process (see the docstring)
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(engine, workload_name, batch=None, threads=None, steps=3):
    fw = importlib.import_module(engine)
    limit_threads(threads, fw)
    workload = WORKLOADS[workload_name]
    build(fw, workload, 1).train()  # the library's one-time costs, outside the measurement
    gc.collect()
    baseline = _status_kib("VmRSS")
    method = "VmHWM-after-clear_refs" if _reset_peak() else "ru_maxrss"
    if method == "ru_maxrss":
        baseline = 0
    instance = build(fw, workload, batch or workload.batch)
    for _ in range(steps):
        instance.train()
    peak = _status_kib("VmHWM") if method != "ru_maxrss" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"engine": engine, "workload": workload_name, "batch": batch or workload.batch,
            "peak_mib": (peak - baseline) / 1024, "baseline_mib": baseline / 1024, "method": method}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=["glasstorch", "torch"])
    parser.add_argument("workload")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.engine, args.workload, args.batch, args.threads, args.steps)))


if __name__ == "__main__":
    main()
