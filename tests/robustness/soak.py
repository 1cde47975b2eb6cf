"""The soak (`make soak`, outside CI): an hour of training, killed and resumed at random, against an
uninterrupted run.

    python tests/robustness/soak.py --minutes 60 --kills 20 [--write]

Two trainers run side by side, each `fit` on MNIST (../shared/data, or random images of the same shape
when it is absent) through a DataLoader with 4 workers, Dropout, Adam and a StepLR, writing
`checkpoint.pt` after every epoch (an epoch is sized to about a minute on this machine):

- the *reference* runs from start to end once;
- the *soaked* run is SIGKILLed --kills times at random moments (the trainer and its workers together,
  as an OOM kill or a power cut would) and restarted with `resume=True` after each kill.

At the end the soak checks what docs/RELIABILITY.md promises and prints its table (`--write` puts it
into that file between the `soak-table` markers): the final weights are bit-identical to the
reference's, every checkpoint left by a kill loads, no temporary file and no process is left behind,
and the trainers' resident memory and open files stay flat. Exit status 0 when every check holds.
"""
import argparse
import datetime
import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
RELIABILITY = os.path.join(REPO, "docs", "RELIABILITY.md")
WORKERS = 4
RSS_FLAT_MIB = 16  # allowed spread of a trainer's resident memory once its first epoch is done


# --- the trainer (a child process: `soak.py train RUN_DIR SAMPLES EPOCHS`) ---------------------------------

def make_loader(samples):
    import glasstorch as torch
    from glasstorch.utils.data import DataLoader, Subset, TensorDataset
    from glasstorch.vision import datasets, transforms
    if os.path.isdir(os.path.join(DATA, "mnist")):
        normalize = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
        data = datasets.MNIST(DATA, train=True, transform=normalize)
        data = Subset(data, range(min(samples, len(data))))
    else:
        rng = np.random.default_rng(0)
        data = TensorDataset(torch.tensor(rng.random((samples, 1, 28, 28), dtype=np.float32)),
                             torch.tensor(rng.integers(0, 10, samples)))
    return DataLoader(data, batch_size=64, shuffle=True, num_workers=WORKERS,
                      generator=torch.Generator().manual_seed(1))


def train(run_dir, samples, epochs):
    import glasstorch as torch
    from glasstorch import nn
    from glasstorch.train import fit
    loader = make_loader(samples)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.7)
    print("ready", flush=True)
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs, scheduler=scheduler,
        checkpoint_dir=run_dir, resume=True, progress=False)
    torch.save(model.state_dict(), os.path.join(run_dir, "final.pt"))
    print("done", flush=True)


# --- the soak (the parent) ---------------------------------------------------------------------------

class Trainer:
    """One trainer process in its own process group, sampled for memory and open files."""

    def __init__(self, run_dir, samples, epochs):
        env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, __file__, "train", run_dir, str(samples), str(epochs)],
                                     cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.started = time.monotonic()
        self.samples = []  # (seconds since start, RSS MiB, open files)

    def sample(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
            files = len(os.listdir(f"/proc/{self.proc.pid}/fd"))
        except (OSError, StopIteration):
            return  # between exit and reaping
        self.samples.append((time.monotonic() - self.started, rss, files))

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)

    def finish(self):
        out, err = self.proc.communicate()
        return self.proc.returncode, out, err

    def group_left(self, wait=5.0):
        """How many processes of the trainer's group are still alive (zombies waiting for init don't count)."""
        deadline = time.monotonic() + wait
        while True:
            alive = 0
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                alive += int(fields[2]) == self.proc.pid and fields[0] != "Z"  # fields: state, ppid, pgrp
            if alive == 0 or time.monotonic() > deadline:
                return alive
            time.sleep(0.2)


def calibrate(scratch):
    """Samples per second of one trainer on this machine now, timed from its "ready" (after imports and data
    loading, which every epoch does not pay) to its end."""
    samples = 6400
    trainer = Trainer(os.path.join(scratch, "calibrate"), samples, 1)
    if trainer.proc.stdout.readline().strip() == "ready":
        began = time.monotonic()
        code, _, err = trainer.finish()
        if code == 0:
            return samples / max(time.monotonic() - began, 1e-3)
    sys.exit(f"soak: the calibration run failed:\n{trainer.finish()[2]}")


def peaks_per_epoch(samples, epoch_seconds):
    """The highest RSS and open-file count of each epoch-long window: what grows, if anything leaks."""
    windows = {}
    for t, rss, files in samples:
        peak = windows.setdefault(int(t // epoch_seconds), [0.0, 0])
        peak[0], peak[1] = max(peak[0], rss), max(peak[1], files)
    return [windows[k] for k in sorted(windows)]


def growth(peaks):
    """How much the per-epoch peaks grew from the first epochs to the last (medians of up to 5 each, after the
    first epoch: imports, worker start-up and caches warm up). A leak grows steadily; a checkpoint write's
    brief extra file or buffer does not move the medians."""
    steady = peaks[1:] or peaks
    first, last = steady[:5], steady[-5:]
    return (float(np.median([p[0] for p in last]) - np.median([p[0] for p in first])),
            float(np.median([p[1] for p in last]) - np.median([p[1] for p in first])))


def soak(minutes, kills, out_dir):
    from glasstorch.serialization import load
    os.makedirs(out_dir, exist_ok=True)
    rate = calibrate(out_dir)  # (two trainers beside each other on an otherwise busy machine go about as fast)
    epochs = max(2, int(minutes))  # an epoch a minute: checkpoints every minute
    samples = min(60_000, max(640, int(rate * 60)))  # at most MNIST's training set
    epoch_seconds = samples / rate
    print(f"soak: {epochs} epochs of {samples:,} samples ({epoch_seconds:.0f} s each at {rate:.0f} samples/s), "
          f"{WORKERS} workers, {kills} kills", flush=True)

    reference = Trainer(os.path.join(out_dir, "reference"), samples, epochs)
    soaked_dir = os.path.join(out_dir, "soaked")
    rng = random.Random(0)
    # kill moments: 30-100% of an even share of the run after each start, so that every kill lands before
    # the end, some before the next checkpoint (progress lost) and some after (progress kept)
    mean_gap = max(20.0, minutes * 60 / (kills + 1))
    starts, kill_log, broken_checkpoints, orphans = [], [], 0, 0
    soaked = Trainer(soaked_dir, samples, epochs)
    starts.append(soaked)
    next_kill = rng.uniform(0.3, 1.0) * mean_gap
    began = time.monotonic()
    while True:
        time.sleep(1.0)
        reference.sample()
        soaked.sample()
        if soaked.proc.poll() is not None:  # done (or failed); a run that ends before every kill lands is reported
            break
        if time.monotonic() - soaked.started >= next_kill and len(kill_log) < kills:
            soaked.kill()
            soaked.finish()
            orphans += soaked.group_left()
            checkpoint = os.path.join(soaked_dir, "checkpoint.pt")
            epoch = None
            if os.path.exists(checkpoint):
                try:
                    epoch = load(checkpoint)["epoch"]
                except Exception as error:  # noqa: BLE001 - the soak reports any failure to load
                    broken_checkpoints += 1
                    print(f"soak: checkpoint after kill {len(kill_log) + 1} does not load: {error}", flush=True)
            kill_log.append({"after_s": round(time.monotonic() - soaked.started, 1), "checkpoint_epoch": epoch})
            print(f"soak: kill {len(kill_log)}/{kills} after {kill_log[-1]['after_s']} s "
                  f"(checkpoint at epoch {epoch})", flush=True)
            soaked = Trainer(soaked_dir, samples, epochs)
            starts.append(soaked)
            next_kill = rng.uniform(0.3, 1.0) * mean_gap
    soaked_code, _, soaked_err = soaked.finish()
    while reference.proc.poll() is None:
        time.sleep(1.0)
        reference.sample()
    reference_code, _, reference_err = reference.finish()
    total_minutes = (time.monotonic() - began) / 60

    checks, rows = {}, []
    checks["reference finished"] = reference_code == 0
    checks["soaked run finished"] = soaked_code == 0
    if not (checks["reference finished"] and checks["soaked run finished"]):
        print(reference_err[-3000:], soaked_err[-3000:], sep="\n")
    identical, differing = False, []
    if all(checks.values()):
        want = load(os.path.join(out_dir, "reference", "final.pt"))
        got = load(os.path.join(soaked_dir, "final.pt"))
        differing = [k for k in want if not np.array_equal(want[k].numpy(), got[k].numpy())]
        identical = not differing
    checks["final weights bit-identical"] = identical
    checks["every checkpoint left by a kill loads"] = broken_checkpoints == 0
    temps = [n for d in (soaked_dir, os.path.join(out_dir, "reference")) for n in os.listdir(d) if n.endswith(".tmp")]
    checks["no temporary file left"] = not temps
    checks["no process left after a kill"] = orphans == 0
    checks[f"all {kills} kills landed"] = len(kill_log) == kills
    peaks = peaks_per_epoch(reference.samples, epoch_seconds)
    rss_growth, files_growth = growth(peaks)
    checks[f"reference RSS flat (per-epoch peaks grow <= {RSS_FLAT_MIB} MiB)"] = rss_growth <= RSS_FLAT_MIB
    checks["reference open files flat (per-epoch peaks do not grow)"] = files_growth <= 0
    start_peaks = [max(r for _, r, _ in s.samples) for s in starts if s.samples]

    rows = [
        ("when", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
         + f", {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end"),
        ("training", f"{epochs} epochs of {samples:,} MNIST samples, batch 64, {WORKERS} workers, "
                     "Dropout, Adam, StepLR, a checkpoint per epoch"),
        ("reference (uninterrupted)", f"{(reference.samples[-1][0] if reference.samples else 0) / 60:.1f} min"),
        ("killed and resumed", f"{len(kill_log)} SIGKILLs at random times, {len(starts)} starts, "
                               f"{total_minutes:.1f} min"),
        ("final weights", "bit-identical" if identical else f"DIFFER: {', '.join(differing) or 'not compared'}"),
        ("checkpoints left by a kill", f"{len(kill_log) - broken_checkpoints}/{len(kill_log)} load"),
        ("temporary files left", str(len(temps))),
        ("processes left after a kill", str(orphans)),
        ("reference trainer's peak RSS per epoch", f"{peaks[0][0]:.0f} MiB in the first, then "
                                                   f"{min(p[0] for p in peaks[1:] or peaks):.0f}-"
                                                   f"{max(p[0] for p in peaks[1:] or peaks):.0f} MiB "
                                                   f"(growth {rss_growth:+.1f} MiB)"),
        ("reference trainer's open files, peak per epoch", f"{min(p[1] for p in peaks)}-{max(p[1] for p in peaks)} "
                                                           f"(growth {files_growth:+.0f})"),
    ]
    if start_peaks:
        rows.append(("soaked trainer's peak RSS, over its starts",
                     f"{min(start_peaks):.0f}-{max(start_peaks):.0f} MiB"))
    table = "| soak | result |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
    with open(os.path.join(out_dir, "soak.json"), "w") as f:
        json.dump({"checks": checks, "rows": dict(rows), "kills": kill_log}, f, indent=2)
    return checks, table


def write_table(table):
    text = open(RELIABILITY).read()
    start, end = "<!-- soak-table -->", "<!-- /soak-table -->"
    if start not in text or end not in text:
        sys.exit(f"soak: {RELIABILITY} has no {start} ... {end} markers")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    with open(RELIABILITY, "w") as f:
        f.write(f"{head}{start}\n{table}{end}{tail}")


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["train"]:
        run_dir, samples, epochs = argv[1], int(argv[2]), int(argv[3])
        return train(run_dir, samples, epochs)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60, help="length of the run (about one epoch a minute)")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs during the run")
    parser.add_argument("--out", default=None, help="folder for the runs (default: out/soak-<time>)")
    parser.add_argument("--write", action="store_true", help="put the table into docs/RELIABILITY.md")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.kills < 1:
        parser.error("--minutes must be > 0 and --kills >= 1")
    out = args.out or os.path.join(REPO, "out", "soak-" + time.strftime("%Y%m%d-%H%M%S"))
    checks, table = soak(args.minutes, args.kills, out)
    print(table)
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if args.write:
        write_table(table)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
