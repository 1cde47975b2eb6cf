"""download(): mirrors in turn, MD5 check, resume with Range, retries, atomic rename; MNIST(download=True)."""
import gzip
import hashlib

import numpy as np
import pytest

from glasstorch.datasets import download as download_module
from glasstorch.datasets import DownloadError, cache_dir, check_integrity, download_file, md5sum
from glasstorch.vision.datasets import MNIST, write_idx


def md5(data):
    return hashlib.md5(data).hexdigest()


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GLASSTORCH_DATA", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("GLASSTORCH_DATA")
    assert cache_dir().parts[-2:] == (".cache", "glasstorch")


def test_md5_and_integrity(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"glasstorch")
    assert md5sum(path) == md5(b"glasstorch")
    assert check_integrity(path, md5(b"glasstorch")) and check_integrity(path)
    assert not check_integrity(path, md5(b"other")) and not check_integrity(tmp_path / "missing")


def test_downloads_a_good_file(file_server, tmp_path):
    data = np.random.default_rng(0).bytes(5000)
    file_server.files["/data/a.bin"] = data
    path = download_file("a.bin", [file_server.url + "data/"], md5=md5(data), folder=tmp_path / "cache")
    assert path.read_bytes() == data
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.bin"]
    download_file("a.bin", [file_server.url + "data/"], md5=md5(data), folder=tmp_path / "cache")
    assert len(file_server.requests) == 1  # present and valid: nothing fetched again


def test_checksum_mismatch_is_rejected_and_nothing_is_left_behind(file_server, tmp_path):
    good = b"the real bytes" * 100
    file_server.files["/a/f.gz"] = b"corrupt" * 100
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download_file("f.gz", [file_server.url + "a/"], md5=md5(good), folder=tmp_path, backoff=0)
    assert list(tmp_path.iterdir()) == []


def test_next_mirror_after_a_corrupt_or_missing_file(file_server, tmp_path):
    good = b"0123456789" * 1000
    file_server.files["/bad/f"] = b"x" * 10000
    file_server.files["/good/f"] = good
    mirrors = [file_server.url + "missing/", file_server.url + "bad/", file_server.url + "good/"]
    path = download_file("f", mirrors, md5=md5(good), folder=tmp_path, backoff=0)
    assert path.read_bytes() == good
    assert [p for p, _ in file_server.requests] == ["/missing/f", "/bad/f", "/good/f"]


def test_an_interrupted_transfer_resumes_with_a_range_request(file_server, tmp_path):
    data = np.random.default_rng(1).bytes(200_000)
    file_server.files["/m/big"] = data
    file_server.cut_once.add("/m/big")
    path = download_file("big", [file_server.url + "m/"], md5=md5(data), folder=tmp_path, backoff=0)
    assert path.read_bytes() == data
    assert file_server.requests[0] == ("/m/big", None)
    assert file_server.requests[1] == ("/m/big", f"bytes={len(data) // 2}-")


def test_offline_and_missing_files_give_a_clear_error(closed_port_url, file_server, tmp_path):
    with pytest.raises(DownloadError) as error:
        download_file("f", [closed_port_url, file_server.url], md5=None, folder=tmp_path, retries=2, backoff=0)
    message = str(error.value)
    assert "could not download f" in message and "HTTP 404" in message and closed_port_url in message
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- MNIST(download=True)
def fake_mnist_files(n=6):
    rng = np.random.default_rng(0)
    payloads = {}
    for prefix, count in (("train", n), ("t10k", n // 2)):
        for kind, array in (("images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28)).astype(np.uint8)),
                            ("labels-idx1-ubyte", rng.integers(0, 10, count).astype(np.uint8))):
            header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
            payloads[f"{prefix}-{kind}.gz"] = gzip.compress(header + array.tobytes())
    return payloads


@pytest.fixture
def fake_mnist_mirror(file_server, monkeypatch, tmp_path):
    payloads = fake_mnist_files()
    for name, body in payloads.items():
        file_server.files["/mnist/" + name] = body
    monkeypatch.setattr(MNIST, "mirrors", [file_server.url + "mnist/"])
    monkeypatch.setattr(MNIST, "resources", [(name, md5(body), None) for name, body in payloads.items()])
    monkeypatch.setenv("GLASSTORCH_DATA", str(tmp_path / "cache"))
    return file_server


def test_mnist_download_into_the_cache(fake_mnist_mirror, tmp_path):
    train = MNIST(root=tmp_path / "data", train=True, download=True)
    assert len(train) == 6 and train.data.shape == (6, 28, 28)
    raw = tmp_path / "cache" / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    requests = len(fake_mnist_mirror.requests)
    MNIST(root=tmp_path / "data", train=True, download=True)
    assert len(fake_mnist_mirror.requests) == requests  # already present and valid
    assert len(MNIST(root=None, train=False, download=True)) == 3


def test_mnist_corrupt_download_is_rejected(fake_mnist_mirror, tmp_path):
    fake_mnist_mirror.files["/mnist/train-labels-idx1-ubyte.gz"] = b"\x1f\x8bgarbage"
    with pytest.raises(DownloadError, match="checksum mismatch") as error:
        MNIST(root=tmp_path / "data", train=True, download=True)
    assert "train-labels-idx1-ubyte.gz" in str(error.value) and "Put them in" in str(error.value)
    raw = tmp_path / "cache" / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == ["train-images-idx3-ubyte.gz"]  # no half-written labels


def test_mnist_replaces_a_damaged_local_file_when_download_is_set(fake_mnist_mirror, tmp_path):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte.gz", np.zeros((6, 28, 28), np.uint8))  # valid IDX, wrong MD5
    write_idx(raw / "train-labels-idx1-ubyte.gz", np.zeros(6, np.uint8))
    assert MNIST(root=tmp_path / "data").data.sum() == 0  # without download=True local files are trusted
    assert MNIST(root=tmp_path / "data", download=True).data.sum() > 0  # with it, they are checked


def test_mnist_offline_error_names_the_files_and_folders(closed_port_url, monkeypatch, tmp_path):
    monkeypatch.setattr(download_module.time, "sleep", lambda seconds: None)  # no waiting between retries
    monkeypatch.setattr(MNIST, "mirrors", [closed_port_url])
    monkeypatch.setenv("GLASSTORCH_DATA", str(tmp_path / "cache"))
    with pytest.raises(DownloadError) as error:
        MNIST(root=tmp_path / "data", download=True)
    message = str(error.value)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", str(tmp_path / "data" / "MNIST" / "raw")):
        assert name in message


def test_mnist_names_a_damaged_local_file_when_the_download_fails(closed_port_url, monkeypatch, tmp_path):
    monkeypatch.setattr(MNIST, "mirrors", [closed_port_url])
    monkeypatch.setenv("GLASSTORCH_DATA", str(tmp_path / "cache"))
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DownloadError, match="but its MD5 is wrong") as error:
        MNIST(root=tmp_path, download=True)
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in str(error.value)
