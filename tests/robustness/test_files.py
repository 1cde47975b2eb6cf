"""Faults on disk: a killed or failed write never loses the previous file nor leaves a temporary behind,
and every malformed file is refused with its name and what is wrong (glasstorch.errors.FileFormatError)."""
import gzip
import json
import os
import random
import resource
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import glasstorch
from glasstorch.errors import FileFormatError
from glasstorch.serialization import (atomic_write, load, load_safetensors, save, save_safetensors, stale_temps)
from glasstorch.vision.datasets import IDXError, read_idx, write_idx

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}  # this checkout's glasstorch


def temps(directory):
    return sorted(n for n in os.listdir(directory) if n.endswith(".tmp"))


# ----------------------------------------------------------------------------- killed and failed writes
SAVER = textwrap.dedent("""
    import sys, numpy as np, glasstorch
    path, n = sys.argv[1], int(sys.argv[2])
    big = glasstorch.tensor(np.full(n, 7.0, dtype=np.float32))
    print("ready", flush=True)
    while True:
        glasstorch.save({"w": big, "tag": "new"}, path)
""")


def test_sigkill_during_save_never_costs_the_previous_file_and_the_next_write_cleans_up(tmp_path):
    path = tmp_path / "ckpt.pt"
    save({"w": glasstorch.zeros(3), "tag": "old"}, path)
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    rng = random.Random(0)
    left_behind = 0
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, str(script), str(path), str(8_000_000)], cwd=REPO, env=ENV,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        left_behind += len(temps(tmp_path))
        loaded = load(path)  # the old file or a whole new one, never half of one
        assert loaded["tag"] in ("old", "new")
        if loaded["tag"] == "new":
            assert loaded["w"].shape == (8_000_000,) and float(loaded["w"][-1]) == 7.0
        assert [os.path.basename(t) for t in stale_temps(tmp_path)] == temps(tmp_path)  # the dead writers'
        save({"w": glasstorch.zeros(3), "tag": "old"}, path)  # the next write removes them
        assert temps(tmp_path) == []
    assert left_behind >= 1, "no kill landed inside a write: the test did not test anything"


def test_a_live_writers_temporary_is_kept(tmp_path):
    path = tmp_path / "m.pt"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        host = glasstorch.serialization._HOST
        live = tmp_path / f".m.pt.{host}.{sleeper.pid}.0.tmp"
        dead = tmp_path / f".m.pt.{host}.999999999.0.tmp"
        live.write_bytes(b"x")
        dead.write_bytes(b"x")
        save({"a": 1}, path)
        assert live.exists() and not dead.exists()
        assert load(path) == {"a": 1}
    finally:
        sleeper.kill()
        sleeper.wait()


FILLER = textwrap.dedent("""
    import resource, sys, numpy as np, glasstorch
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))   # files of at most 1 MiB: "disk full"
    try:
        glasstorch.save({"w": glasstorch.tensor(np.ones(1_000_000, dtype=np.float32))}, sys.argv[1])
    except OSError as e:
        print("OSError:", e)
""")


def test_a_failed_write_keeps_the_previous_file_leaves_no_temp_and_names_the_path(tmp_path):
    path = tmp_path / "ckpt.pt"
    save({"w": glasstorch.arange(4)}, path)
    before = path.read_bytes()
    script = tmp_path / "filler.py"
    script.write_text(FILLER)
    out = subprocess.run([sys.executable, str(script), str(path)], cwd=REPO, env=ENV, capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.startswith("OSError:") and str(path) in out.stdout, out.stdout + out.stderr
    assert path.read_bytes() == before
    assert temps(tmp_path) == []


def test_atomic_write_fsyncs_the_directory(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.path.isdir(f"/proc/self/fd/{fd}")) or real(fd))
    atomic_write(tmp_path / "f", lambda f: f.write(b"data"))
    assert synced == [False, True]  # the file, then its directory


# ----------------------------------------------------------------------------- safetensors
def safetensors_file(path, header, data=b""):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


F32 = lambda shape, begin: {"dtype": "F32", "shape": shape, "data_offsets": [begin, begin + 4 * int(np.prod(shape))]}

MALFORMED = {
    "overlap": ({"a": F32([2], 0), "b": F32([2], 4)}, bytes(12), "overlaps"),
    "gap": ({"a": F32([1], 0), "b": F32([1], 8)}, bytes(12), "gap"),
    "left over": ({"a": F32([1], 0)}, bytes(8), "left over"),
    "truncated": ({"a": F32([4], 0)}, bytes(8), "truncated"),
    "no offsets": ({"a": {"dtype": "F32", "shape": [1]}}, bytes(4), "lacks data_offsets"),
    "string offsets": ({"a": {"dtype": "F32", "shape": [1], "data_offsets": ["0", "4"]}}, bytes(4), "data_offsets"),
    "negative shape": ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4), "shape"),
    "length != shape x size": ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, bytes(4), "span"),
    "unknown dtype": ({"a": {"dtype": "F31", "shape": [1], "data_offsets": [0, 4]}}, bytes(4), "unknown dtype"),
    "not an object": ([1, 2], b"", "not an object"),
    "bad metadata": ({"__metadata__": {"k": 1}}, b"", "__metadata__"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_safetensors_are_refused_by_name(tmp_path, case):
    header, data, message = MALFORMED[case]
    path = safetensors_file(tmp_path / "x.safetensors", header, data)
    with pytest.raises(FileFormatError, match=message) as error:
        load_safetensors(path)
    assert str(path) in str(error.value)
    with pytest.raises(FileFormatError):
        load(path)


def test_duplicate_names_and_huge_headers_are_refused(tmp_path):
    text = b'{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "a": {"dtype": "U8", "shape": [1], ' \
           b'"data_offsets": [1, 2]}}'
    path = tmp_path / "dup.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"xy")
    with pytest.raises(FileFormatError, match="appear twice"):
        load_safetensors(path)
    path.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(FileFormatError, match="limit"):
        load_safetensors(path)


def test_valid_safetensors_tensors_do_not_share_memory(tmp_path):
    path = tmp_path / "ok.safetensors"
    save_safetensors({"a": glasstorch.ones(2), "b": glasstorch.ones(2)}, path)
    loaded = load_safetensors(path)
    loaded["a"].mul_(100)
    assert loaded["b"].tolist() == [1.0, 1.0]


# ----------------------------------------------------------------------------- glasstorch's own .pt (npz)
def saved(tmp_path):
    path = tmp_path / "m.pt"
    save({"w": glasstorch.arange(1000, dtype=glasstorch.float32), "epoch": 3}, path)
    return path


def test_a_truncated_file_names_the_file(tmp_path):
    path = saved(tmp_path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(FileFormatError, match="truncated or corrupt") as error:
        load(path)
    assert str(path) in str(error.value)


def test_a_bit_flip_names_the_file_and_the_entry(tmp_path):
    path = saved(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"\x93NUMPY") + 200] ^= 0x01  # inside t0's data
    path.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError, match="entry 't0.npy'") as error:
        load(path)
    assert str(path) in str(error.value)


def test_an_entry_claiming_1e12_elements_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.pt"
    header = {"descr": "<f4", "fortran_order": False, "shape": (10 ** 12,)}
    with zipfile.ZipFile(path, "w") as z:
        with z.open("t0.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, header)
            f.write(bytes(16))
    with pytest.raises(FileFormatError, match="inconsistent sizes") as error:
        load(path)
    assert "t0.npy" in str(error.value) and str(path) in str(error.value)


def test_empty_and_non_files_are_named(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty"):
        load(path)


# ----------------------------------------------------------------------------- IDX
def test_an_idx_header_claiming_2e31_images_is_refused_before_allocating(tmp_path):
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    for name in ("x.gz", "x"):
        path = tmp_path / name
        write_idx(path, images)
        raw = bytearray(gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes())
        raw[4:8] = (2 ** 31).to_bytes(4, "big")
        path.write_bytes(gzip.compress(bytes(raw)) if name.endswith(".gz") else bytes(raw))
        with pytest.raises(IDXError, match="truncated") as error:
            read_idx(path)
        assert str(path) in str(error.value) and "glasstorch data fetch" in str(error.value)
        assert isinstance(error.value, FileFormatError) and isinstance(error.value, RuntimeError)


def test_an_idx_bit_flip_mid_stream_says_corrupt_gzip(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, np.random.default_rng(0).integers(0, 255, (50, 28, 28), dtype=np.uint8))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    path.write_bytes(bytes(raw))
    with pytest.raises(IDXError, match="corrupt"):
        read_idx(path)
