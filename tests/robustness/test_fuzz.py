"""Parser fuzzing: byte flips, insertions and truncations of valid files. The only outcomes allowed are a
load (a mutation can make another valid file) or `FileFormatError`: never another exception type, never a
hang (hypothesis' deadline), never an allocation far beyond the file's size (an address-space limit).

`make test` runs the quick profile (600 cases per parser, 2,400 in all); `make fuzz` sets
GLASSTORCH_FUZZ_EXAMPLES for more.
"""
import io
import os
import resource

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import glasstorch
from glasstorch.errors import FileFormatError
from glasstorch.serialization import load, load_safetensors, save, save_safetensors
from glasstorch.vision.datasets import read_idx, write_idx

EXAMPLES = int(os.environ.get("GLASSTORCH_FUZZ_EXAMPLES", "600"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def valid_files(tmp):
    rng = np.random.default_rng(0)
    pt = tmp / "m.pt"
    save({"w": glasstorch.tensor(rng.standard_normal((4, 3)).astype(np.float32)), "b": glasstorch.arange(5),
          "epoch": 3, "name": "x"}, pt)
    st_path = tmp / "m.safetensors"
    save_safetensors({"w": glasstorch.ones(3, 2), "i": glasstorch.arange(4)}, st_path, metadata={"k": "v"})
    idx_gz, idx_raw = tmp / "i.gz", tmp / "i"
    images = rng.integers(0, 255, (6, 4, 4), dtype=np.uint8)
    write_idx(idx_gz, images)
    write_idx(idx_raw, images)
    return {"pt": pt.read_bytes(), "safetensors": st_path.read_bytes(), "idx.gz": idx_gz.read_bytes(),
            "idx": idx_raw.read_bytes()}


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    return valid_files(tmp_path_factory.mktemp("fuzz"))


@st.composite
def mutations(draw, kinds=("flip", "set", "insert", "delete", "truncate")):
    ops = []
    for _ in range(draw(st.integers(1, 4))):
        ops.append((draw(st.sampled_from(kinds)), draw(st.floats(0, 1)), draw(st.integers(0, 255))))
    return ops


def mutate(data, ops):
    data = bytearray(data)
    for kind, where, value in ops:
        i = min(int(where * len(data)), max(len(data) - 1, 0))
        if kind == "truncate":
            del data[i:]
        elif not data:
            continue
        elif kind == "flip":
            data[i] ^= 1 << (value % 8)
        elif kind == "set":
            data[i] = value
        elif kind == "insert":
            data[i:i] = bytes([value])
        elif kind == "delete":
            del data[i]
    return bytes(data)


LOADERS = {
    "pt": lambda path: load(path),
    "safetensors": lambda path: load_safetensors(path),
    "idx.gz": lambda path: read_idx(path),
    "idx": lambda path: read_idx(path),
}


def limited_memory(file_size):
    """An address-space cap of ~1 GiB above what the process uses now: a parser that trusted a size field
    and allocated it would hit MemoryError (which is not the documented error, so the test fails)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    return soft, hard, used + (1 << 30) + 64 * file_size


@pytest.mark.parametrize("fmt", sorted(LOADERS))
def test_mutated_files_load_or_raise_the_documented_error(fmt, originals, tmp_path):
    path = tmp_path / ("f." + fmt)

    @FUZZ
    @given(ops=mutations())
    def check(ops):
        data = mutate(originals[fmt], ops)
        path.write_bytes(data)
        soft, hard, cap = limited_memory(len(data))
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        try:
            LOADERS[fmt](path)
        except FileFormatError as e:
            assert str(path) in str(e) or "<file>" in str(e)
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))

    check()


def test_the_originals_load(originals, tmp_path):
    for fmt, data in originals.items():
        path = tmp_path / ("f." + fmt)
        path.write_bytes(data)
        LOADERS[fmt](path)
