"""Data parallelism: the same MNIST MLP trained by 1, 2 and 4 processes ends with the same weights.

Each job is started as the learner would start it, `python -m glasstorch.distributed.run --nproc-per-node N`,
and every process runs `worker` (in glasstorch/experiments/data_parallel.py): torch.distributed's API, nothing
else (init_process_group, DistributedSampler with set_epoch, DistributedDataParallel around the model).

**The sampler.** `DistributedSampler` draws one permutation of the training set per epoch (seeded with
`seed + epoch`, so every process draws the same one) and hands process r the positions r, r + N, r + 2N, ...
With a per-process batch of B/N, step k of the N processes reads, together, exactly positions kB .. kB + B - 1
of that permutation: the global batch that one process with batch B reads at its step k.

**What all-reduce does.** After `backward()` each process holds the gradient of the mean loss over its own B/N
samples. All-reduce is the collective that leaves, on every process, the element-wise sum of the arrays all
processes gave (MPI's `Allreduce`; a ring or tree of messages underneath, so that no process receives
everything). DistributedDataParallel divides that sum by N: the mean of N shard means over equal shards is
the mean over the global batch, so every process now holds the gradient one process would have computed on
all B samples. Same weights (DDP copies rank 0's at construction, even when the processes drew different
random ones), same gradient, same optimizer step: the replicas never drift apart, and after any number of
steps they equal the one-process run.

**Buckets.** DDP does not all-reduce one parameter at a time (a message per tensor: latency dominates), nor
everything after backward (the network idles while backward computes). A hook on each parameter notes when its
gradient is ready; parameters are packed, in reverse order (backward reaches the last layer first), into
buckets of `bucket_cap_mb`; a full bucket is flattened into one array and its all-reduce starts at once,
asynchronously, while backward goes on with the earlier layers (glasstorch/nn/parallel/distributed.py).

**Equal, to the last bit?** In float64 the weights agree to ~1e-15: the only difference is the order of the
additions (each shard's mean, then their sum / N, instead of one mean of B), and float64 rounds each addition at
~1e-16. float32 rounds at ~1e-7, and float addition is not associative, so N processes and one differ in the
last bits from the first step. For a while that is all; then, somewhere in an epoch, one hidden unit's input
for one sample lies closer to 0 than that difference, the ReLU takes the other branch in one run than in the
other, that sample's gradient changes by a whole term, and from there the two runs follow different (equally
good) paths: the `weight_difference` figure shows the jump. float64 has the same cliff, but a difference of
1e-16 almost never finds it. torch's DDP behaves the same: bitwise-equal runs need the same order of sums.

**Throughput.** Samples per second of training (barrier to barrier, each process with one BLAS thread) for
N = 1, 2, 4. With N processes each computes a batch N times smaller, then all of them wait for the all-reduce:
it pays when a step's computation outweighs the all-reduce's messages (bigger models and batches scale better
than this small MLP, whose step takes about a millisecond). On a machine with fewer free cores than processes
(the CI machine has 2, shared) the processes take turns on the cores, and whoever waits in an all-reduce waits
for a partner that is not running: N = 4 oversubscribes 2 cores, and the figure shows it (the report gives the
machine's load average).
`--engine torch` runs the same worker on PyTorch (torch.distributed's gloo backend; the launcher sets
MASTER_ADDR and MASTER_PORT for its rendezvous).
"""
import dataclasses
import importlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .common import image_arrays

NAME = "data-parallel"
NOTE = "beyond one machine: torch.distributed over MPI, DistributedDataParallel, DistributedSampler"
SUMMARY = "an MNIST MLP trained by 1, 2, 4 processes: identical weights (float64), throughput per process count"


@dataclass
class Config:
    nprocs: tuple = (1, 2, 4)            # process counts; 1 is the reference (`--nproc N` runs 1 and N)
    dtypes: tuple = ("float64", "float32")  # float64 shows the equality, float32 where runs part
    hidden: int = 256
    epochs: int = 1
    batch_size: int = 128                # the global batch: each of N processes reads batch_size / N
    lr: float = 0.1
    momentum: float = 0.9
    train_limit: int = None
    test_limit: int = None
    seed: int = 0
    timeout: float = 900                 # seconds for one job

    @classmethod
    def quick(cls):
        return cls(nprocs=(1, 2), dtypes=("float64",), hidden=32, batch_size=64, lr=0.05, epochs=3, train_limit=512,
                   test_limit=200)


EXPECTED = {"max_weight_diff_float64": ("<=", 1e-10), "test_acc": (">=", 0.95)}
QUICK_EXPECTED = {"max_weight_diff_float64": ("<=", 1e-10), "test_acc": (">=", 0.5)}

ENGINE_MODULES = {"glass": "glasstorch", "torch": "torch"}
SNAPSHOTS = 40  # rank 0 keeps the weights this many times during training


def build(fw, cfg, in_features=784):
    nn = fw.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 10))


def check_config(cfg):
    """Bad sizes, said before any process starts."""
    if not cfg.nprocs or any(int(n) < 1 for n in cfg.nprocs):
        raise ValueError(f"nprocs must be positive process counts, got {cfg.nprocs}")
    if 1 not in cfg.nprocs:
        raise ValueError(f"nprocs must include 1 (the one-process reference), got {cfg.nprocs}")
    for n in cfg.nprocs:
        if cfg.batch_size % n:
            multiple = int(np.lcm.reduce([int(k) for k in cfg.nprocs]))
            example = multiple * max(1, cfg.batch_size // multiple)
            raise ValueError(f"the global batch {cfg.batch_size} must divide evenly among {n} processes (equal "
                             f"shards: their mean gradients average to the global one); take a batch size that is "
                             f"a multiple of {multiple}, e.g. --batch-size {example}")
    for dtype in cfg.dtypes:
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtypes: float32 or float64, got {dtype!r}")


# ----------------------------------------------------------------------------- what every process runs
def worker(spec):
    """One process of a job: DDP training on this rank's share, then rank 0 writes the weights and timings."""
    fw = importlib.import_module(ENGINE_MODULES[spec["engine"]])
    dist = importlib.import_module(f"{fw.__name__}.distributed")  # torch.distributed / glasstorch.distributed
    DDP = fw.nn.parallel.DistributedDataParallel
    data = fw.utils.data
    cfg = Config(**spec["config"])
    dtype = getattr(fw, spec["dtype"])

    dist.init_process_group("mpi" if spec["engine"] == "glass" else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    X, y = image_arrays("mnist", spec["data_dir"], True, cfg.train_limit, cfg.seed)
    train_set = data.TensorDataset(fw.from_numpy(X).to(dtype), fw.from_numpy(y))
    sampler = data.DistributedSampler(train_set, shuffle=True, seed=cfg.seed, drop_last=True)
    loader = data.DataLoader(train_set, batch_size=cfg.batch_size // world, sampler=sampler, drop_last=True)

    fw.manual_seed(cfg.seed + rank)  # every rank draws different weights: DDP must copy rank 0's
    model = build(fw, cfg, X[0].size).to(dtype)
    ddp = DDP(model)
    loss_fn = fw.nn.CrossEntropyLoss()
    optimizer = fw.optim.SGD(ddp.parameters(), lr=cfg.lr, momentum=cfg.momentum)

    steps, every, trace = 0, max(1, cfg.epochs * len(loader) // SNAPSHOTS), []
    dist.barrier()  # start the clock together
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        sampler.set_epoch(epoch)  # the epoch's permutation, the same on every rank
        for images, labels in loader:
            optimizer.zero_grad()
            loss_fn(ddp(images), labels).backward()  # here DDP all-reduces the gradients
            optimizer.step()
            steps += 1
            if rank == 0 and steps % every == 0:  # the weights along the way, to see where runs part
                trace.append(np.concatenate([p.detach().numpy().ravel() for p in model.parameters()]))
    dist.barrier()
    seconds = time.perf_counter() - start

    if rank == 0:
        X_test, y_test = image_arrays("mnist", spec["data_dir"], False, cfg.test_limit, cfg.seed)
        model.eval()
        with fw.no_grad():
            predicted = model(fw.from_numpy(X_test).to(dtype)).argmax(dim=1).numpy()
        weights = {k: v.detach().numpy() for k, v in model.state_dict().items()}
        np.savez(os.path.join(spec["out"], "weights.npz"), **weights)
        np.savez(os.path.join(spec["out"], "trace.npz"), steps=np.arange(1, len(trace) + 1) * every,
                 weights=np.stack(trace))
        result = {"seconds": seconds, "steps": steps, "samples": steps * cfg.batch_size,
                  "test_acc": float((predicted == y_test).mean()), "world": world}
        Path(spec["out"], "result.json").write_text(json.dumps(result))
    dist.destroy_process_group()


# ----------------------------------------------------------------------------- the lesson: start the jobs
def free_port():
    """A TCP port nobody listens on now (torch's gloo rendezvous; parallel runs must not share 29500)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(engine, cfg, dtype, nproc, data_dir, folder):
    """Run one job through the launcher; return (its result dict, its final weights)."""
    spec = {"engine": engine, "config": dataclasses.asdict(cfg), "dtype": dtype, "out": str(folder),
            "data_dir": None if data_dir is None else str(Path(data_dir).resolve())}
    spec_path = Path(folder) / "spec.json"
    spec_path.write_text(json.dumps(spec))
    cmd = [sys.executable, "-m", "glasstorch.distributed.run", "--nproc-per-node", str(nproc),
           "--master-port", str(free_port()), "-m", "glasstorch.experiments.data_parallel", str(spec_path)]
    env = dict(os.environ, OMP_NUM_THREADS="1")  # one BLAS thread per process: N processes use N cores
    package_root = str(Path(__file__).resolve().parents[2])  # the workers import this very glasstorch
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in [env.get("PYTHONPATH")] if p])
    job = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=cfg.timeout)
    if job.returncode != 0 or not (Path(folder) / "result.json").exists():
        raise RuntimeError(f"the {nproc}-process {dtype} job failed (exit status {job.returncode}):\n"
                           f"{job.stderr[-3000:]}\n{failure_line(job.stderr)}")
    result = json.loads((Path(folder) / "result.json").read_text())
    with np.load(Path(folder) / "weights.npz") as f:
        weights = {k: f[k] for k in f.files}
    with np.load(Path(folder) / "trace.npz") as f:
        result["trace_steps"], result["trace"] = f["steps"], f["weights"]
    return result, weights


def failure_line(stderr):
    """The failing rank's exception line (`[rank 1]: ValueError: ...`), last in the message so that a one-line
    summary shows it rather than MPI's closing `Abort(1) on node 0` line."""
    lines = [line for line in stderr.splitlines() if line.startswith("[rank ")]
    body = [line.partition("]: ")[2] for line in lines]
    frames = [i for i, text in enumerate(body) if text.startswith("  File ")]
    if not frames:  # no traceback (a rank's sys.exit): its last line
        return lines[-1] if lines else "(no [rank N] line: see the output above)"
    i = frames[-1] + 1
    while i < len(body) - 1 and body[i].startswith("  "):  # the last frame's source lines and carets
        i += 1
    return lines[i]  # the exception's first line


def max_difference(a, b):
    return max(float(np.abs(a[k].astype(np.float64) - b[k]).max()) for k in a)


def run(fw, cfg, lab):
    check_config(cfg)
    engine = lab.engine if lab.engine in ENGINE_MODULES else "glass"
    nprocs = sorted(set(int(n) for n in cfg.nprocs))
    table, reference = {}, {}
    with tempfile.TemporaryDirectory(prefix="data-parallel-") as tmp:
        for dtype in cfg.dtypes:
            for n in lab.progress(nprocs, f"{dtype} jobs"):
                folder = Path(tmp) / f"{dtype}-{n}"
                folder.mkdir()
                result, weights = launch(engine, cfg, dtype, n, lab.data_dir, folder)
                reference.setdefault(dtype, (weights, result["trace"]))  # nprocs is sorted: 1 comes first
                diff = max_difference(weights, reference[dtype][0])
                result["trace_diff"] = np.abs(result.pop("trace") - reference[dtype][1]).max(axis=1)
                result.update(diff=diff, throughput=result["samples"] / result["seconds"])
                table[dtype, n] = result
                lab.log(processes=n, **{f"samples_per_s_{dtype}": result["throughput"],
                                        f"max_weight_diff_{dtype}": diff})
                lab.say(f"{n} process{'es' if n > 1 else '  '} {dtype}: {result['steps']} steps of "
                        f"{cfg.batch_size // n} samples each in {result['seconds']:6.2f} s, "
                        f"{result['throughput']:7.0f} samples/s, test acc {result['test_acc']:.4f}, "
                        f"max |w_{n} - w_1| = {diff:.2e}")
    first = reference[cfg.dtypes[0]][0]
    model = build(fw, cfg, first[next(k for k in first if k.endswith("weight"))].shape[1])
    model.load_state_dict({k: fw.from_numpy(v) for k, v in first.items()})
    lab.checkpoint(model)

    cores = os.cpu_count()
    lab.say(f"\nThis machine has {cores} cores; {max(nprocs)} processes "
            f"{'oversubscribe them' if max(nprocs) > cores else 'fit on them'}.")
    for dtype in cfg.dtypes:
        for n in nprocs[1:]:
            row = table[dtype, n]
            early = row["trace_diff"][:max(1, len(row["trace_diff"]) // 10)].max()
            lab.say(f"{dtype}, {n} processes: max |w_{n} - w_1| {early:.1e} over the first tenth of training, "
                    f"{row['diff']:.1e} at the end (machine epsilon {np.finfo(dtype).eps:.1e}); test accuracy "
                    f"{row['test_acc']:.4f} vs {table[dtype, 1]['test_acc']:.4f} for one process.")
    figures(lab, cfg, table, nprocs, cores)

    results = {"test_acc": table[cfg.dtypes[0], 1]["test_acc"]}
    for dtype in cfg.dtypes:
        results[f"max_weight_diff_{dtype}"] = max(table[dtype, n]["diff"] for n in nprocs)
    timed = "float32" if "float32" in cfg.dtypes else cfg.dtypes[0]
    for n in nprocs:
        results[f"samples_per_s_{n}p"] = table[timed, n]["throughput"]
        results[f"speedup_{n}p"] = table[timed, n]["throughput"] / table[timed, 1]["throughput"]
    return results


def figures(lab, cfg, table, nprocs, cores):
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with lab.figure("throughput", "training throughput against the number of processes (one BLAS thread each); "
                    "ideal: linear up to the number of cores, as if they were free",
                    figsize=(7, 5.5)) as (_, ax):
        for dtype, marker in zip(cfg.dtypes, "os"):
            rates = [table[dtype, n]["throughput"] for n in nprocs]
            ax.plot(nprocs, rates, marker + "-", label=f"{dtype} measured")
            ax.plot(nprocs, [rates[0] * min(n, cores) for n in nprocs], ":", color=ax.lines[-1].get_color(),
                    label=f"{dtype} ideal")
        if cores < max(nprocs):
            ax.axvspan(cores + 0.5, max(nprocs) + 0.5, color="gray", alpha=0.15,
                       label=f"more processes than {cores} cores")
        ax.set(xlabel="processes", ylabel="training samples / s", xticks=nprocs,
               title=f"global batch {cfg.batch_size}; {cores} cores, load average {load:.1f} at the end")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)  # below: clear of the lines
    with lab.figure("weight_difference", "largest difference between the weights of N processes and of one "
                    "process, during training", figsize=(7, 4.5)) as (_, ax):
        for i, dtype in enumerate(cfg.dtypes):
            for n, style in zip([n for n in nprocs if n > 1], ["-", "--", ":", "-."] * 4):
                row = table[dtype, n]
                ax.plot(row["trace_steps"], np.maximum(row["trace_diff"], 1e-18), style, color=f"C{i}",
                        label=f"{dtype}, {n} processes")  # 0 (bitwise equal) drawn at the floor
            ax.axhline(np.finfo(dtype).eps, color=f"C{i}", linewidth=0.6, alpha=0.5,
                       label=f"{dtype} machine epsilon")
        ax.set_yscale("log")
        ax.set_ylim(bottom=1e-18)
        ax.set(xlabel="training step", ylabel="max |w_N - w_1|",
               title="N processes vs one process on the global batch")
        ax.legend(fontsize=8)


if __name__ == "__main__":  # a worker process: python -m glasstorch.distributed.run ... -m <this module> spec.json
    worker(json.loads(Path(sys.argv[1]).read_text()))
