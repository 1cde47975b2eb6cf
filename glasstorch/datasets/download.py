"""Fetch a file from a list of mirrors into a cache: MD5-checked, retried, resumed, written atomically.

    path = download_file("train-labels-idx1-ubyte.gz", mirrors=["https://a/mnist/", "http://b/mnist/"],
                    md5="d53e105ee54ea40749a09fcbcd1e9432", folder=cache_dir() / "MNIST" / "raw")

The bytes go to a hidden temporary file beside the target (`.NAME.part`); an interrupted transfer
continues from where it stopped with an HTTP `Range` request; only a file whose MD5 matches is renamed
to its final name (an atomic step), so the target is either absent or complete, never half-written.
When every mirror fails the temporary file is removed and `DownloadError` lists what went wrong.
"""
import hashlib
import http.client
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """No mirror delivered the file with the right checksum."""


def cache_dir():
    """Where downloads go: `$GLASSTORCH_DATA` if set, else `~/.cache/glasstorch`."""
    return Path(os.environ.get("GLASSTORCH_DATA") or Path.home() / ".cache" / "glasstorch")


def md5sum(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def check_integrity(path, md5=None):
    """True when the file exists and (if `md5` is given) has that MD5."""
    return Path(path).is_file() and (md5 is None or md5sum(path) == md5)


def _fetch(url, part, timeout):
    """Append the bytes of `url` to `part`, continuing after what it already holds when the server allows."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "glasstorch"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        resumed = have and response.status == 206
        expected = response.headers.get("Content-Length")
        received = 0
        with open(part, "ab" if resumed else "wb") as out:
            for block in iter(lambda: response.read(_CHUNK), b""):
                out.write(block)
                received += len(block)
    if expected is not None and received < int(expected):  # http.client returns b"" when cut off
        raise ConnectionError(f"connection closed after {received} of {expected} bytes")


def download_file(filename, mirrors, md5=None, folder=None, retries=3, timeout=30.0, backoff=1.0):
    """Download `filename` from the first mirror that delivers it intact; return its path.

    Args:
        filename: the file's name, appended to each mirror URL.
        mirrors: base URLs tried in order (each ends with '/').
        md5: the expected MD5 hex digest; a mismatch discards the bytes and moves on.
        folder: where the file goes (default `cache_dir()`).
        retries: attempts per mirror; network errors resume the partial file, waits grow by `backoff` seconds.
    """
    folder = Path(folder) if folder is not None else cache_dir()
    target = folder / filename
    if check_integrity(target, md5):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{filename}.part"
    failures = []
    try:
        for mirror in mirrors:
            url = mirror + filename
            for attempt in range(retries):
                try:
                    _fetch(url, part, timeout)
                except urllib.error.HTTPError as error:
                    failures.append(f"{url}: HTTP {error.code} {error.reason}")
                    if error.code == 416:  # a bad partial file: start over
                        part.unlink(missing_ok=True)
                        continue
                    break  # 404 and friends: this mirror will not have it
                except (urllib.error.URLError, http.client.HTTPException, OSError) as error:  # incl. cut-off transfers
                    reason = getattr(error, "reason", error)
                    failures.append(f"{url}: {reason}")
                    if isinstance(reason, (socket.gaierror, ConnectionRefusedError)):
                        break  # no such host / nothing listening: retrying will not help, try the next mirror
                    time.sleep(backoff * attempt)
                    continue
                got = md5sum(part) if md5 is not None else None
                if got != md5:
                    failures.append(f"{url}: checksum mismatch (MD5 {got}, expected {md5})")
                    part.unlink()
                    break
                os.replace(part, target)
                return target
    finally:
        part.unlink(missing_ok=True)
    raise DownloadError(f"could not download {filename} into {folder}:\n  " + "\n  ".join(failures))
