"""The IDX reader on tiny files written here: valid (raw and gz, every element type), and every way to be broken."""
import gzip

import numpy as np
import pytest

from glasstorch.vision.datasets import IDXError, read_idx, write_idx


def idx_bytes(array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.tobytes()


@pytest.mark.parametrize("compressed", [False, True])
def test_reads_what_the_format_says(tmp_path, compressed):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (int(rng.integers(1, 5)), 28, 28)).astype(np.uint8)
    path = tmp_path / ("images.gz" if compressed else "images")
    raw = idx_bytes(images)
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    array = read_idx(path, dtype=np.uint8, shape=(None, 28, 28))
    np.testing.assert_array_equal(array, images)
    assert array.flags.writeable and array.flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_big_endian_element_types_round_trip(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    write_idx(tmp_path / "a.gz", array)
    back = read_idx(tmp_path / "a.gz")
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    raw = (tmp_path / "b")
    write_idx(raw, array)
    assert raw.read_bytes()[4:8] == (2).to_bytes(4, "big")  # sizes are big-endian


def test_empty_array(tmp_path):
    write_idx(tmp_path / "e", np.zeros((0, 28, 28), np.uint8))
    assert read_idx(tmp_path / "e").shape == (0, 28, 28)


@pytest.mark.parametrize("name, body, message", [
    ("wrong magic", b"\x08\x03\x00\x00" + bytes(10), "wrong magic number"),
    ("unknown type", bytes([0, 0, 0x07, 1]) + (3).to_bytes(4, "big") + bytes(3), "wrong magic number"),
    ("zero dims", bytes([0, 0, 8, 0]), "0 dimensions"),
    ("tiny", b"\x00\x00", "too short"),
    ("header cut", bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big"), "truncated header"),
    ("data cut", bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(7), "truncated"),
    ("trailing", bytes([0, 0, 8, 1]) + (2).to_bytes(4, "big") + bytes(5), "trailing bytes"),
])
@pytest.mark.parametrize("compressed", [False, True])
def test_broken_files_raise_idx_error(tmp_path, name, body, message, compressed):
    path = tmp_path / "broken"
    path.write_bytes(gzip.compress(body) if compressed else body)
    with pytest.raises(IDXError, match=message) as error:
        read_idx(path)
    assert str(path) in str(error.value)


def test_truncated_and_corrupt_gzip(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(5000, dtype=np.uint8).reshape(50, 100)))
    (tmp_path / "cut.gz").write_bytes(packed[:len(packed) // 2])
    with pytest.raises(IDXError, match="corrupt or truncated gzip"):
        read_idx(tmp_path / "cut.gz")
    damaged = bytearray(packed)
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / "bad.gz").write_bytes(bytes(damaged))
    with pytest.raises(IDXError):
        read_idx(tmp_path / "bad.gz")


@pytest.mark.parametrize("kwargs, message", [
    (dict(dtype=np.float32), "holds uint8 elements, expected float32"),
    (dict(ndim=1), "has 3 dimensions"),
    (dict(shape=(None, 28, 28)), r"has shape \(2, 5, 5\), expected \('N', 28, 28\)"),
])
def test_unexpected_dtype_or_dims(tmp_path, kwargs, message):
    write_idx(tmp_path / "x", np.zeros((2, 5, 5), np.uint8))
    with pytest.raises(IDXError, match=message):
        read_idx(tmp_path / "x", **kwargs)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nothing")
