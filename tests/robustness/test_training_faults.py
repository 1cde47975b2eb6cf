"""Faults during training: kills mid-epoch, dead and failing workers, Ctrl-C, memory over epochs,
hostile pickles, bad command lines. Each test is what a fault probe does, made repeatable."""
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import glasstorch
from glasstorch.serialization import UnsafeLoadError, load

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}

TRAINER = textwrap.dedent("""
    import sys, numpy as np, glasstorch as torch
    from glasstorch import nn
    from glasstorch.train import fit
    from glasstorch.utils.data import DataLoader, TensorDataset
    run_dir, workers, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((12000, 20)).astype(np.float32))
    y = torch.tensor(rng.integers(0, 3, 12000))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, num_workers=workers,
                        generator=torch.Generator().manual_seed(1))
    cross_entropy = nn.CrossEntropyLoss()

    def loss_fn(logits, labels):  # one line per training step, so that the test can kill at a chosen step
        print("step", flush=True)
        return cross_entropy(logits, labels)

    print("ready", flush=True)
    fit(model, loss_fn, optimizer, loader, epochs=epochs, checkpoint_dir=run_dir, resume=True, progress=False)
    torch.save(model.state_dict(), run_dir + "/final.pt")
    print("done", flush=True)
""")


STEPS_PER_EPOCH = 12000 // 16


def train(script, run_dir, workers, epochs, kill_at_step=None, linger=0.0):
    """Run the trainer; with `kill_at_step`, SIGKILL it (and its workers, as an OOM kill or a power cut
    would) `linger` seconds after its kill_at_step-th training step began."""
    with open(script.parent / "stderr.txt", "w+") as err_file:
        proc = subprocess.Popen([sys.executable, str(script), str(run_dir), str(workers), str(epochs)], cwd=REPO,
                                env=ENV, stdout=subprocess.PIPE, stderr=err_file, text=True, start_new_session=True)
        watchdog = threading.Timer(120, lambda: os.killpg(proc.pid, signal.SIGKILL))
        watchdog.start()
        try:
            assert proc.stdout.readline().strip() == "ready"
            if kill_at_step is not None:
                steps = 0
                while steps < kill_at_step and proc.stdout.readline().strip() == "step":
                    steps += 1
                assert steps == kill_at_step, f"the trainer stopped after {steps} steps"
                time.sleep(linger)
                os.killpg(proc.pid, signal.SIGKILL)
            # the rest through the same buffered reader that read "ready": communicate() would read the pipe
            # behind it and lose the lines that reader had already taken in (seen: 4,499 of 4,500 steps)
            out = proc.stdout.read()
            proc.wait()
        finally:
            watchdog.cancel()
        err_file.seek(0)
        return proc.returncode, out, err_file.read()


def epochs_done(run_dir):
    checkpoint = run_dir / "checkpoint.pt"
    return load(checkpoint)["epoch"] if checkpoint.exists() else 0


@pytest.mark.parametrize("workers", [0, 2])
def test_killed_and_resumed_training_ends_bit_identical_to_an_uninterrupted_run(tmp_path, workers):
    script = tmp_path / "trainer.py"
    script.write_text(TRAINER)
    epochs = 6
    code, out, err = train(script, tmp_path / "straight", workers, epochs)
    # (on failure: how many steps ran, and stderr, where fit names a loss that became NaN/Inf)
    assert code == 0 and out.count("step") == epochs * STEPS_PER_EPOCH, (code, out.count("step"), err[-3000:])
    expected = load(tmp_path / "straight" / "final.pt")

    # kills land at chosen steps, not after chosen times, so that a slow or busy machine cannot let the
    # run finish first; the short linger sometimes catches a checkpoint being written
    run_dir, rng = tmp_path / "killed", random.Random(workers)
    for _ in range(4):
        done = epochs_done(run_dir)
        remaining = (epochs - done) * STEPS_PER_EPOCH
        code, out, err = train(script, run_dir, workers, epochs, kill_at_step=rng.randint(1, remaining // 2),
                               linger=rng.uniform(0.0, 0.02))
        assert code == -signal.SIGKILL and "done" not in out, err
        assert epochs_done(run_dir) >= done  # a checkpoint is never lost nor left half-written
    assert 0 < epochs_done(run_dir) < epochs, "the kills should land on both sides of a checkpoint"
    code, out, err = train(script, run_dir, workers, epochs)
    assert code == 0 and "done" in out, err
    got = load(run_dir / "final.pt")
    for name in expected:
        np.testing.assert_array_equal(got[name].numpy(), expected[name].numpy(), err_msg=name)
    assert [n for n in os.listdir(run_dir) if n.endswith(".tmp")] == []


class Poisoned(glasstorch.utils.data.Dataset):
    def __init__(self, fault):
        self.fault = fault

    def __len__(self):
        return 64

    def __getitem__(self, i):
        if i == 37:
            if self.fault == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise KeyError(f"no sample {i}")
        return glasstorch.tensor([float(i)])


def test_a_killed_worker_ends_the_epoch_with_an_error_not_a_hang():
    loader = glasstorch.utils.data.DataLoader(Poisoned("kill"), batch_size=4, num_workers=2)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        for _ in loader:
            pass
    assert time.monotonic() - start < 20


def test_a_workers_key_error_arrives_readable_with_its_index():
    loader = glasstorch.utils.data.DataLoader(Poisoned("raise"), batch_size=4, num_workers=2)
    with pytest.raises(KeyError) as info:
        for _ in loader:
            pass
    text = str(info.value)
    assert text.startswith("Caught KeyError in DataLoader worker process")
    assert "indices [36, 37, 38, 39]" in text and "\n" in text and "\\n" not in text
    assert "no sample 37" in text


CTRL_C = textwrap.dedent("""
    import time, glasstorch
    from glasstorch.utils.data import DataLoader, Dataset
    class Slow(Dataset):
        def __len__(self): return 10 ** 6
        def __getitem__(self, i):
            time.sleep(0.01)
            return glasstorch.tensor([float(i)])
    print("ready", flush=True)
    for batch in DataLoader(Slow(), batch_size=2, num_workers=2):
        pass
""")


def test_ctrl_c_stops_quietly_workers_print_nothing(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(CTRL_C)
    proc = subprocess.Popen([sys.executable, str(script)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # the terminal sends Ctrl-C to the whole process group
    _, err = proc.communicate(timeout=30)
    assert err.count("Traceback") == 1 and "KeyboardInterrupt" in err  # the main process's, once
    assert "Process ForkProcess" not in err  # a worker that printed its own KeyboardInterrupt


def test_memory_stays_flat_over_epochs():
    from glasstorch import nn
    from glasstorch.train import fit
    from glasstorch.utils.data import DataLoader, TensorDataset
    rng = np.random.default_rng(0)
    data = TensorDataset(glasstorch.tensor(rng.standard_normal((2000, 50)).astype(np.float32)),
                         glasstorch.tensor(rng.integers(0, 5, 2000)))
    model = nn.Sequential(nn.Linear(50, 128), nn.ReLU(), nn.Linear(128, 5))
    optimizer = glasstorch.optim.Adam(model.parameters())
    loader = DataLoader(data, batch_size=32, shuffle=True)

    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20

    sizes = []
    for _ in range(8):
        fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=1, progress=False)
        sizes.append(rss_mib())
    assert max(sizes[2:]) - sizes[2] < 8, sizes  # after warm-up, no growth beyond a few MB


# ----------------------------------------------------------------------------- hostile pickles
class _Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def hostile_corpus(marker):
    """Pickles that would run code (each would create `marker`) in several disguises."""
    command = f"touch {marker}"
    corpus = {
        "os.system": pickle.dumps(_Reduce(os.system, (command,))),
        "builtins.eval": pickle.dumps(_Reduce(eval, (f"open({str(marker)!r}, 'w')",))),
        "builtins.exec": pickle.dumps(_Reduce(exec, (f"open({str(marker)!r}, 'w')",))),
        "subprocess": pickle.dumps(_Reduce(subprocess.call, (["touch", str(marker)],))),
        "nested": pickle.dumps({"state_dict": {"w": [1, 2]}, "x": _Reduce(os.system, (command,))}),
        # protocol 0 GLOBAL opcode naming a module outside any allow-list
        "GLOBAL opcode": f"cposix\nsystem\n(V{command}\ntR.".encode(),
        "STACK_GLOBAL": pickle.dumps(_Reduce(os.system, (command,)), protocol=4),
    }
    return corpus


@pytest.mark.parametrize("name", sorted(hostile_corpus("/x")))
def test_hostile_pickles_are_refused_and_nothing_runs(tmp_path, name):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    path.write_bytes(hostile_corpus(marker)[name])
    with pytest.raises(UnsafeLoadError):
        load(path)
    assert not marker.exists()


# ----------------------------------------------------------------------------- the command line
@pytest.mark.parametrize("argv,message", [
    (["run", "xor-mlp", "--epochs", "-1"], "--epochs must be >= 1"),
    (["run", "xor-mlp", "--batch-size", "0"], "--batch-size must be >= 1"),
    (["run", "xor-mlp", "--lr", "-0.5"], "--lr must be a positive number"),
    (["run", "no-such-lesson"], "no experiment 'no-such-lesson'"),
    (["run", "xor-mlp", "--out", "{file}/sub"], "can't write there"),
    (["run", "xor-mlp", "--out", "{readonly}/sub"], "can't write there"),
])
def test_bad_command_lines_fail_at_once_with_one_line(tmp_path, argv, message):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o500)
    if any("{readonly}" in a for a in argv) and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders (CI runs as root: the regular-file case covers it)")
    argv = [a.format(file=afile, readonly=readonly) for a in argv]
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "glasstorch", *argv], cwd=tmp_path, env=ENV, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr and not list(tmp_path.glob("**/report.md"))
    assert time.monotonic() - start < 60


def test_a_reader_that_leaves_early_gets_no_broken_pipe_traceback(tmp_path):
    out = subprocess.run(f"{sys.executable} -m glasstorch list | head -1", shell=True, cwd=tmp_path, env=ENV,
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() and "BrokenPipe" not in out.stderr and "Traceback" not in out.stderr
