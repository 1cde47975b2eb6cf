"""Parser fuzzing: byte flips, insertions and truncations of valid files. The only outcomes allowed are a
load (a mutation can make another valid file) or `FileFormatError`: never another exception type, never a
hang (hypothesis' deadline), never an allocation far beyond the file's size (an address-space limit).

PyTorch's own `.pt` files (zip and legacy layouts, written here by the real torch) are fuzzed the same way,
and the restricted unpickler also gets pickle opcode streams that hypothesis writes from scratch (GLOBAL,
STACK_GLOBAL, REDUCE, BUILD, INST, memo and persistent-id opcodes with hostile names and sizes), wrapped as
a torch zip or a legacy file: besides the rules above, no name from the stream may run (a canary module
records any call).

`make test` runs the quick profile (600 cases per parser, 200 per torch-file case); `make fuzz` sets
GLASSTORCH_FUZZ_EXAMPLES for more.
"""
import io
import os
import pickle
import resource
import sys
import types
import zipfile
from collections import OrderedDict

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


# ----------------------------------------------------------------------------- PyTorch's .pt files
TORCH_EXAMPLES = max(EXAMPLES // 3, 50)
TORCH_FUZZ = settings(FUZZ, max_examples=TORCH_EXAMPLES)


@pytest.fixture(scope="module")
def torch_files(tmp_path_factory):
    """A state_dict-like checkpoint written by the real torch, in both of its layouts."""
    torch = pytest.importorskip("torch")
    tmp = tmp_path_factory.mktemp("torchfiles")
    base = torch.arange(12, dtype=torch.float32)
    obj = {"model": OrderedDict([("w", base.view(3, 4)), ("w_t", base.view(3, 4).t()), ("half", base[2:6].half()),
                                 ("i", torch.arange(5)), ("mask", torch.tensor([True, False])),
                                 ("p", torch.nn.Parameter(torch.ones(2)))]),
           "epoch": 7, "lr": 0.5, "name": "run", "shape": torch.Size([3, 4]), "dtype": torch.float16}
    files = {}
    for layout, zipped in (("zip", True), ("legacy", False)):
        path = tmp / f"{layout}.pt"
        torch.save(obj, path, _use_new_zipfile_serialization=zipped)
        files[layout] = path.read_bytes()
    return files


def test_the_torch_files_load(torch_files, tmp_path):
    for layout, data in torch_files.items():
        path = tmp_path / f"{layout}.pt"
        path.write_bytes(data)
        back = load(path)
        np.testing.assert_array_equal(back["model"]["w_t"].numpy(), np.arange(12, dtype=np.float32).reshape(3, 4).T)
        assert back["epoch"] == 7 and back["model"]["half"].dtype == glasstorch.float16


def _load_checked(path, data):
    """load(path) under the memory cap: returns normally or raises FileFormatError naming the file."""
    soft, hard, cap = limited_memory(len(data))
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        load(path)
    except FileFormatError as e:
        assert str(path) in str(e) or "<file>" in str(e), e
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_mutated_torch_files_load_or_raise_the_documented_error(layout, torch_files, tmp_path):
    path = tmp_path / "f.pt"

    @TORCH_FUZZ
    @given(ops=mutations())
    def check(ops):
        data = mutate(torch_files[layout], ops)
        path.write_bytes(data)
        _load_checked(path, data)

    check()


# the canary: a module that records every call into it; no pickle may ever reach it
CANARY_CALLS = []
_canary = types.ModuleType("fuzz_canary")


class _Boom:
    def __init__(self, *args, **kwargs):
        CANARY_CALLS.append(("init", args))

    def __setstate__(self, state):
        CANARY_CALLS.append(("setstate", state))

    def __reduce__(self):
        CANARY_CALLS.append(("reduce",))
        return (_Boom, ())


_canary.run = lambda *args, **kwargs: CANARY_CALLS.append(("run", args))
_canary.Boom = _Boom
sys.modules["fuzz_canary"] = _canary

NAMES = ["fuzz_canary", "run", "Boom", "builtins", "eval", "exec", "getattr", "__import__", "os", "system", "posix",
         "subprocess", "Popen", "collections", "OrderedDict", "torch._utils", "_rebuild_tensor_v2",
         "_rebuild_parameter", "torch", "FloatStorage", "LongStorage", "storage", "cpu", "0", "1", "data",
         "__import__('fuzz_canary').run('eval')", "copyreg", "_reconstructor", "object", "__reduce_ex__",
         "torch.serialization", "_get_layout", "glasstorch.serialization", "load", "", "x" * 300]


@st.composite
def pickle_streams(draw):
    """A sequence of pickle opcodes with hostile arguments (not necessarily a well-formed pickle)."""
    name = st.sampled_from(NAMES)
    u32 = st.integers(0, 2 ** 32 - 1)
    small = st.integers(0, 8)

    def text(s):
        raw = s.encode()
        return b"\x8c" + bytes([len(raw)]) + raw if len(raw) < 256 else b"X" + len(raw).to_bytes(4, "little") + raw

    opcodes = {
        "proto": lambda: b"\x80" + bytes([draw(st.integers(0, 6))]),
        "global": lambda: b"c" + draw(name).encode() + b"\n" + draw(name).encode() + b"\n",
        "inst": lambda: b"i" + draw(name).encode() + b"\n" + draw(name).encode() + b"\n",
        "stack_global": lambda: text(draw(name)) + text(draw(name)) + b"\x93",
        "string": lambda: text(draw(name)),
        "binunicode_bad_length": lambda: b"X" + draw(u32).to_bytes(4, "little") + draw(name).encode(),
        "binbytes8": lambda: b"\x8e" + draw(st.integers(0, 2 ** 63 - 1)).to_bytes(8, "little"),
        "frame": lambda: b"\x95" + draw(st.integers(0, 2 ** 63 - 1)).to_bytes(8, "little"),
        "int": lambda: b"J" + draw(st.integers(-2 ** 31, 2 ** 31 - 1)).to_bytes(4, "little", signed=True),
        "long4": lambda: b"\x8b" + draw(u32).to_bytes(4, "little") + b"\x01",
        "put": lambda: b"r" + draw(small).to_bytes(4, "little"),
        "get": lambda: b"j" + draw(small).to_bytes(4, "little"),
        "put_huge": lambda: b"r" + draw(u32).to_bytes(4, "little"),
        "get_huge": lambda: b"j" + draw(u32).to_bytes(4, "little"),
        "ext": lambda: b"\x82" + bytes([draw(st.integers(0, 255))]),
        "persid": lambda: b"P" + draw(name).encode() + b"\n",
        "simple": lambda: draw(st.sampled_from([b"(", b")", b"]", b"}", b"N", b"\x88", b"t", b"\x85", b"\x86",
                                               b"\x87", b"R", b"b", b"\x81", b"\x92", b"o", b"a", b"e", b"s",
                                               b"u", b"0", b"2", b"1", b"Q", b"\x94", b"."])),
    }
    # mostly well-formed opcodes, so that most streams reach the unpickler's find_class and stack machine;
    # the hostile lengths and memo indices (the *_huge, bad_length, 8-byte kinds) come one time in ~5
    hostile = ["binunicode_bad_length", "binbytes8", "frame", "long4", "put_huge", "get_huge"]
    kinds = [k for k in sorted(opcodes) if k not in hostile] * 4 + hostile
    body = b"".join(opcodes[draw(st.sampled_from(kinds))]() for _ in range(draw(st.integers(1, 30))))
    return b"\x80\x02" + body + (b"." if draw(st.integers(0, 9)) else b"")


def _torch_zip(pickle_bytes):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", np.arange(4, dtype=np.float32).tobytes())
        z.writestr("archive/version", "3\n")
    return buffer.getvalue()


def _legacy(pickle_bytes):
    header = b"".join(pickle.dumps(v, protocol=2) for v in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}))
    return header + pickle_bytes + pickle.dumps([], protocol=2)


@pytest.mark.parametrize("wrap", [_torch_zip, _legacy], ids=["zip", "legacy"])
def test_generated_pickles_never_run_code(wrap, tmp_path):
    path = tmp_path / "gen.pt"

    @TORCH_FUZZ
    @given(stream=pickle_streams())
    def check(stream):
        data = wrap(stream)
        path.write_bytes(data)
        _load_checked(path, data)
        assert not CANARY_CALLS, CANARY_CALLS

    check()


def test_the_canary_would_see_code_run(tmp_path):
    """The canary works: the same kind of stream, unpickled by plain pickle, calls it."""
    stream = b"\x80\x02cfuzz_canary\nrun\n\x8c\x02hi\x85R."
    pickle.loads(stream)
    assert CANARY_CALLS == [("run", ("hi",))]
    CANARY_CALLS.clear()
    path = tmp_path / "evil.pt"
    path.write_bytes(_torch_zip(stream))
    with pytest.raises(FileFormatError, match="fuzz_canary.run"):
        load(path)
    assert not CANARY_CALLS


def _text(s):
    return b"\x8c" + bytes([len(s)]) + s.encode()


@pytest.mark.parametrize("offset, stride", [(0, -5), (-3, 1), (0, 2 ** 70)])
def test_hostile_tensor_geometry_is_refused_with_the_file_name(tmp_path, offset, stride):
    """A storage view with a negative stride/offset would make as_strided read outside the storage; a huge
    one overflows. Found by the fuzzer (and the message had lost the file's name)."""
    def integer(v):
        raw = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
        return b"\x8a" + bytes([len(raw)]) + raw
    stream = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n("
              + b"(" + _text("storage") + b"ctorch\nFloatStorage\n" + _text("0") + _text("cpu") + b"K\x04tQ"
              + integer(offset) + b"K\x02\x85" + integer(stride) + b"\x85\x89ccollections\nOrderedDict\n)RtR.")
    path = tmp_path / "hostile.pt"
    path.write_bytes(_torch_zip(stream))
    with pytest.raises(FileFormatError, match=f"{path}.*(non-negative|corrupt)"):
        load(path)
