"""The benchmark suite's own checks: a smoke run at tiny sizes (no timing assertions) and its arithmetic."""
import json

import numpy as np

import pytest

torch = pytest.importorskip("torch")

from benchmarks import harness, memory, workloads  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_thread_counts():
    yield
    harness.restore_threads()  # the runs below cap BLAS and torch threads; leave the process as found


def test_forward_flops_counts_linear_and_conv_multiply_adds():
    # mlp: 784*256 + 256*10 multiply-adds per sample, 2 FLOPs each
    model = workloads.mlp_model(torch)
    x = torch.zeros(3, 1, 28, 28)
    assert workloads.forward_flops(torch, model, x) == 3 * 2 * (784 * 256 + 256 * 10)
    # lenet's first conv: 6 output channels of 28x28, each a 1x5x5 dot product
    conv = torch.nn.Conv2d(1, 6, 5, padding=2)
    assert workloads.forward_flops(torch, conv, torch.zeros(2, 1, 28, 28)) == 2 * 2 * 25 * 6 * 28 * 28


def test_summarise_takes_median_rates_and_median_pair_ratio():
    seconds = {"glasstorch": [0.5, 0.25, 1.0], "torch": [0.25, 0.25, 0.25]}
    s = harness.summarise(seconds, samples_per_call=10, flops_per_call=1e9)
    assert s["glasstorch"]["rate"] == pytest.approx(20.0)
    assert s["torch"]["rate"] == pytest.approx(40.0)
    assert s["ratio"] == pytest.approx(0.5)          # pair ratios 0.5, 1.0, 0.25
    assert s["torch"]["gflops"] == pytest.approx(4.0)
    assert s["disturbed"]                              # glasstorch's windows spread 4x


def test_workloads_build_the_same_parameters_on_both_engines():
    glasstorch = pytest.importorskip("glasstorch")
    for w in workloads.WORKLOADS.values():
        g, t = (workloads.build(fw, w, w.quick_batch) for fw in (glasstorch, torch))
        assert [tuple(p.shape) for p in g.model.parameters()] == [tuple(p.shape) for p in t.model.parameters()]
        assert tuple(g.x.shape) == tuple(t.x.shape)
        assert g.x.dtype.name == str(t.x.dtype).removeprefix("torch.") in ("float32", "int64")  # images or token ids


def test_quick_run_writes_the_table_and_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    results = harness.main(["--quick", "--no-memory", "--json", str(path), "--threads", "1"])
    saved = json.loads(path.read_text())
    assert set(saved["workloads"]) == set(workloads.WORKLOADS)
    for name, r in saved["workloads"].items():
        assert r["errors"] == {}, (name, r["errors"])
        for mode in ("train", "infer"):
            assert r[mode]["glasstorch"]["rate"] > 0 and r[mode]["torch"]["rate"] > 0
            assert r[mode]["ratio"] > 0
        assert r["float32_throughout"] is True
        assert r["max_abs_diff"] < 1e-3                # same weights, same data: same outputs
    if "epoch" in saved and not saved["epoch"]["errors"].get("both"):
        assert saved["epoch"]["errors"] == {}
        assert saved["epoch"]["glasstorch"]["rate"] > 0
    out = capsys.readouterr().out
    for name in workloads.WORKLOADS:
        assert f"| {name} | train" in out
    assert results["table"] in out
    # a second run compared against the first names every workload's change
    harness.main(["--quick", "--no-memory", "--only", "tiny", "--json", str(tmp_path / "b.json"),
                  "--threads", "1", "--compare", str(path)])
    assert "tiny train: glasstorch" in capsys.readouterr().out


def test_peak_memory_probe():
    # the subprocess path (glasstorch imports fast); torch's probe runs here, in this process
    args = harness.parse_args(["--quick", "--threads", "1"])
    probe = harness.peak_memory("glasstorch", "cnn", 4, args)
    assert probe.get("error") is None, probe
    assert probe["peak_mib"] > 0 and probe["engine"] == "glasstorch"


class _Ballast:
    """A stand-in workload whose training step holds `mib` MiB of touched memory (np.ones, not lazy zeros)."""

    def __init__(self, mib):
        self.mib, self.held = mib, None

    def train(self):
        self.held = np.ones(self.mib * 2 ** 20 // 8)


def test_peak_memory_sees_a_known_allocation(monkeypatch):
    # batch = MiB held by the step: the warm-up step (batch 1) is below the baseline, the measured one is not
    monkeypatch.setitem(memory.WORKLOADS, "ballast", None)
    monkeypatch.setattr(memory, "build", lambda fw, workload, batch: _Ballast(batch))
    small = memory.measure("glasstorch", "ballast", batch=8, threads=1, steps=1)
    large = memory.measure("glasstorch", "ballast", batch=200, threads=1, steps=1)
    assert large["peak_mib"] >= 200 * 0.95, large
    assert large["peak_mib"] - small["peak_mib"] >= 150, (small, large)


@pytest.mark.parametrize("option", ["--layers", "--profile"])
def test_layer_table_and_profile_run(option, capsys):
    harness.main(["--quick", option, "cnn", "--threads", "1"])
    out = capsys.readouterr().out
    if option == "--layers":
        for layer in ("conv1", "conv2", "maxpool", "fc1", "loss CrossEntropyLoss", "optimizer Adam.step"):
            assert f"| {layer} |" in out
    else:
        assert "ranked by own time" in out and "glasstorch/" in out


def test_scaling_writes_its_section_figure_and_json(tmp_path, monkeypatch, capsys):
    from benchmarks import scaling
    monkeypatch.setattr(scaling, "THREADS", (1,))  # one setting of each kind keeps the smoke run short
    monkeypatch.setattr(scaling, "WORKLOADS", ("mlp",))
    monkeypatch.setattr(scaling, "CONV_WORKLOADS", ("lenet",))
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text("# Performance\n\nbefore\n")
    args = ["--quick", "--scaling", "--doc", str(doc), "--json", str(tmp_path / "s.json")]
    harness.main(args)
    text = doc.read_text()
    assert text.startswith("# Performance\n\nbefore\n\n## Scaling\n") and (tmp_path / "scaling.png").stat().st_size
    assert "| mlp | 1 |" in text and "| mlp | 4 |" in text and "| lenet | 3 Conv2d | 8x6x14x14 |" in text
    saved = json.loads((tmp_path / "s.json").read_text())
    assert set(saved["throughput"]["mlp"]["1"]) == {"1", "4"} and saved["gemm_peak"]["1"] > 0
    harness.main(args)  # a second run replaces the section between the markers instead of adding one
    again = doc.read_text()
    assert again.count("## Scaling") == 1 and again.count(scaling.START) == 1


@pytest.mark.parametrize("workload, rows", [("lstm", ("embed", "lstm (2 layers)", "flatten", "decoder")),
                                            ("transformer", ("embed", "+ positions", "encoder layer 0",
                                                             "encoder layer 1", "head"))])
def test_layer_table_of_the_sequence_models(workload, rows, capsys):
    harness.main(["--quick", "--layers", workload, "--threads", "1", "--windows", "1"])
    out = capsys.readouterr().out
    for row in rows + ("loss CrossEntropyLoss",):
        assert f"| {row} |" in out
