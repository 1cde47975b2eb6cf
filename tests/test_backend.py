"""backend: dtype promotion lives in test_tensor.py; here the generator's saved state."""
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import glasstorch
from glasstorch import backend


@pytest.mark.parametrize("draws_before", [0, 1, 2, 3])
def test_generator_state_round_trip_includes_buffered_half_word(draws_before):
    # permutation() draws 32-bit halves; an odd number of them leaves one buffered in NumPy's PCG64
    g = glasstorch.Generator().manual_seed(123)
    for _ in range(draws_before):
        glasstorch.randperm(63, generator=g)
    state = g.get_state()
    first = glasstorch.randperm(64, generator=g).tolist()
    g.set_state(state)
    again = glasstorch.randperm(64, generator=g).tolist()
    assert first == again
    assert state.dtype == np.uint8 and state.shape == (48,)


def test_set_state_rejects_garbage():
    with pytest.raises(ValueError, match="48 bytes"):
        glasstorch.Generator().set_state(np.zeros(5, dtype=np.uint8))


def test_manual_seed_reproduces_draws_and_leaves_numpy_global_rng_alone():
    np.random.seed(7)
    expected_numpy = np.random.rand()
    np.random.seed(7)
    glasstorch.manual_seed(0)
    a = glasstorch.randn(5).tolist()
    glasstorch.manual_seed(0)
    b = glasstorch.randn(5).tolist()
    assert a == b
    assert np.random.rand() == expected_numpy


def test_result_type_follows_torch_categories():
    assert backend.result_type((backend.int64, 2), (backend.float32, 0)) is backend.float32
    assert backend.result_type((backend.float32, 2), (backend.float64, 1)) is backend.float32
    assert backend.result_type((backend.int32, 2), (backend.float64, 1)) is backend.float64
    assert backend.result_type((backend.uint8, 2), (backend.int8, 2)) is backend.int16


@pytest.mark.parametrize("name", ["float32", "float64", "float16"])
def test_finfo_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = glasstorch.finfo(getattr(glasstorch, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)
    assert glasstorch.finfo().dtype == "float32"


@pytest.mark.parametrize("name", ["int64", "int32", "int8", "uint8"])
def test_iinfo_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = glasstorch.iinfo(getattr(glasstorch, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


def test_finfo_and_iinfo_refuse_the_other_kind_like_torch():
    with pytest.raises(TypeError, match="floating point"):
        glasstorch.finfo(glasstorch.int64)
    with pytest.raises(TypeError, match="integer"):
        glasstorch.iinfo(glasstorch.float32)


# ---------------------------------------------------------------- parallel_elementwise (the elementwise thread pool)
@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 7 elements and the pool from 20 elements: small arrays then take the threaded path."""
    monkeypatch.setattr(backend, "BLOCK_ELEMENTS", 7)
    monkeypatch.setattr(backend, "PARALLEL_MIN_ELEMENTS", 20)
    before = backend._num_threads
    yield
    backend.set_num_threads(before or backend.cpu_count())
    backend._num_threads = before


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("size", [0, 1, 13, 14, 20, 61, 1000])
def test_parallel_elementwise_covers_every_element_once(small_blocks, threads, size):
    backend.set_num_threads(threads)
    x = np.random.default_rng(size).standard_normal((size, 1)).astype(np.float32)
    calls = []

    def add_one(out, a, scale):  # records its parts: each element must be written by exactly one call
        calls.append(out.size)
        np.multiply(a, scale, out=out)
        out += 1

    out = backend.parallel_elementwise(add_one, np.full_like(x, np.nan), x, np.float32(2))
    np.testing.assert_array_equal(out, x * 2 + 1)
    assert sum(calls) == size and max(calls) <= (size if size < 14 else 7)


def test_parallel_elementwise_passes_other_shapes_whole_and_falls_back_when_not_contiguous(small_blocks):
    backend.set_num_threads(2)
    x = np.arange(60, dtype=np.float64).reshape(6, 10)
    row = np.arange(10, dtype=np.float64)
    seen = []

    def add(out, a, b):
        seen.append(b.shape)
        np.add(a, b if b.shape != (10,) else 0, out=out)

    backend.parallel_elementwise(add, np.empty_like(x), x, row)
    assert set(seen) == {(10,)}  # `row` is not shaped like out: every call got all of it
    strided = x[:, ::2]  # not C-contiguous: one whole call on the views
    calls = []
    out = backend.parallel_elementwise(lambda o, a: (calls.append(1), np.negative(a, out=o)), np.empty((6, 5)), strided)
    np.testing.assert_array_equal(out, -strided)
    assert calls == [1]


def test_parallel_elementwise_reraises_a_worker_error(small_blocks):
    backend.set_num_threads(2)

    def fail_on_second_share(out, a):
        if a[0] >= 50:
            raise FloatingPointError("from a worker")
        out[...] = a

    with pytest.raises(FloatingPointError, match="from a worker"):
        backend.parallel_elementwise(fail_on_second_share, np.empty(100), np.arange(100.0))


def test_set_num_threads_is_what_get_num_threads_reports_and_rejects_zero():
    before = glasstorch.get_num_threads()
    try:
        glasstorch.set_num_threads(1)
        assert glasstorch.get_num_threads() == 1 and backend.get_num_threads() == 1
        with pytest.raises(ValueError, match="positive"):
            backend.set_num_threads(0)
    finally:
        glasstorch.set_num_threads(before)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_parallel_elementwise_in_a_forked_child_makes_its_own_pool(small_blocks):
    """A forked child (a DataLoader worker) inherits the pool object but not its threads: it must not hang."""
    import multiprocessing
    backend.set_num_threads(2)
    x = np.arange(100.0)
    backend.parallel_elementwise(lambda o, a: np.negative(a, out=o), np.empty_like(x), x)  # the parent's pool
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        total = pool.apply_async(_negated_sum_in_threads, (x,)).get(timeout=60)
    assert total == -x.sum()


def _negated_sum_in_threads(x):
    return float(backend.parallel_elementwise(lambda o, a: np.negative(a, out=o), np.empty_like(x), x).sum())


def blas_threads():
    pytest.importorskip("threadpoolctl")
    return backend.blas_thread_count()


def test_parallel_ranges_with_one_blas_thread_sets_the_blas_to_one_thread_and_back():
    """Shares that make their own GEMMs: the BLAS runs on one thread while they run, at its count again after
    (an error in a share included); nested calls inside a share run in that share's thread."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = backend.get_num_threads()
    try:
        backend.set_num_threads(2)
        with threadpoolctl.threadpool_limits(2, user_api="blas"):
            seen = []

            def share(lo, hi):
                inner = []
                backend.parallel_ranges(lambda a, b: inner.append((a, b, threading.get_ident())), 10)
                seen.append((lo, hi, blas_threads(), threading.get_ident(), inner))
            backend.parallel_ranges(share, 7, one_blas_thread=True)
            assert sorted(s[:3] for s in seen) == [(0, 4, 1), (4, 7, 1)]
            assert len({s[3] for s in seen}) == 2
            assert all(inner == [(0, 10, thread)] for *_, thread, inner in seen)  # nested: inline, whole
            assert blas_threads() == 2

            def fail(lo, hi):
                if lo:
                    raise FloatingPointError("from a share")
            with pytest.raises(FloatingPointError, match="from a share"):
                backend.parallel_ranges(fail, 4, one_blas_thread=True)
            assert blas_threads() == 2
            seen.clear()
            backend.parallel_ranges(share, 1, one_blas_thread=True)  # one share: the caller alone, BLAS untouched
            assert [s[:3] for s in seen] == [(0, 1, 2)]
    finally:
        backend.set_num_threads(before)


def test_parallel_ranges_with_one_blas_thread_runs_in_one_piece_without_threadpoolctl(monkeypatch):
    """Without a way to set the BLAS's threads, the shares' GEMMs would fight over the cores: no split."""
    monkeypatch.setattr(backend, "_blas", [None])
    monkeypatch.setattr(backend, "_openblas", [None])
    monkeypatch.setattr(backend, "_num_threads", 2)
    calls = []
    backend.parallel_ranges(lambda lo, hi: calls.append((lo, hi)), 9, one_blas_thread=True)
    assert calls == [(0, 9)]
    backend.parallel_ranges(lambda lo, hi: calls.append((lo, hi)), 9)
    assert sorted(calls[1:]) == [(0, 5), (5, 9)]


def test_blas_on_one_thread_from_several_python_threads_sets_the_count_back_after_the_last():
    """OpenBLAS's count is process-wide: two threads inside at once share the setting; the first to leave does
    not give the BLAS its threads back under the other, the last one does, and it restores the earlier count."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if backend._openblas_thread_functions() is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    seen, inside, leave_first = [], threading.Barrier(2), threading.Event()

    def first():
        with backend.blas_on_one_thread():
            inside.wait(10)
            seen.append(("first inside", blas_threads()))
        leave_first.set()

    def second():
        with backend.blas_on_one_thread():
            inside.wait(10)
            leave_first.wait(10)
            seen.append(("second, after the first left", blas_threads()))

    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        workers = [threading.Thread(target=first), threading.Thread(target=second)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(10)
        assert seen == [("first inside", 1), ("second, after the first left", 1)]
        assert blas_threads() == 2


def test_blas_on_one_thread_sets_numpys_openblas_when_scipy_brought_its_own_first():
    """SciPy's wheels load a second OpenBLAS; loaded before NumPy's is asked about, it must not be the one set."""
    pytest.importorskip("scipy")
    pytest.importorskip("threadpoolctl")
    script = textwrap.dedent("""
        import json
        import scipy.linalg  # its OpenBLAS first
        from threadpoolctl import threadpool_info, threadpool_limits
        from glasstorch import backend
        threadpool_limits(2, user_api="blas")
        def counts():
            return {("numpy" if "numpy" in i["filepath"] else "other"): i["num_threads"]
                    for i in threadpool_info() if i["internal_api"] == "openblas"}
        with backend.blas_on_one_thread():
            inside = counts()
        print(json.dumps([inside, counts()]))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    inside, after = json.loads(result.stdout)
    if "numpy" not in inside:
        pytest.skip("NumPy's BLAS is not a bundled OpenBLAS here")
    assert inside["numpy"] == 1 and after["numpy"] == 2
    assert inside.get("other", 2) == 2  # SciPy's own copy left alone


# --- backend.keep_freed_memory: glibc keeps a training step's freed arrays for the next step
_PAGE_FAULTS = textwrap.dedent("""
    import json, resource, numpy as np
    import glasstorch
    import os
    kept = glasstorch.backend.keep_freed_memory() if os.environ.get("KEEP") else None  # (import alone: nothing)
    def faults_per_cycle():  # a 48 MiB array made, written and freed, as a big step's activation is
        for _ in range(3):
            np.ones(12 * 1024 * 1024, np.float32)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            np.ones(12 * 1024 * 1024, np.float32)
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20
    print(json.dumps([kept, faults_per_cycle()]))
""")


def _page_faults(**env):
    import os
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | env
    out = subprocess.run([sys.executable, "-c", _PAGE_FAULTS], capture_output=True, text=True, timeout=120,
                         env=environment, check=True).stdout
    return json.loads(out)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_arrays_are_reused_without_new_page_faults():
    import os
    if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
        pytest.skip("not glibc")
    tuned, faults = _page_faults(KEEP="1")
    assert tuned is True and faults < 50  # the freed block is reused: its pages are already there
    untuned, system_faults = _page_faults(KEEP="1", GLASSTORCH_SYSTEM_MALLOC="1")
    # glibc's own rule: above 32 MiB always a fresh mmap, one fault per 4 KiB page (below, it adapts its limit as
    # it goes, but trims the heap back whenever twice the limit is free: a real step's mix of sizes pays there)
    assert untuned is False and system_faults > 200 and faults < system_faults / 10
    respected, _ = _page_faults(KEEP="1", MALLOC_TRIM_THRESHOLD_="131072")  # the user's own setting wins
    assert respected is False
    _, import_only_faults = _page_faults()  # importing glasstorch leaves the allocator as it is
    assert import_only_faults > 200


def test_parallel_ranges_called_from_two_python_threads_at_once_covers_each_range(small_blocks):
    """The team serves one region at a time: a second Python thread that finds it busy runs its region alone.
    Either way every call sees its whole range exactly once, and no call waits on another's shares."""
    import time
    backend.set_num_threads(2)
    failures, modes = [], []

    def caller():
        for _ in range(15):
            seen = []

            def share(lo, hi):
                time.sleep(0.002)  # (releases the GIL: the other caller's region overlaps this one)
                seen.append((lo, hi))
            backend.parallel_ranges(share, 10)
            covered = sorted(i for lo, hi in seen for i in range(lo, hi))
            if covered != list(range(10)):
                failures.append(seen)
            modes.append(len(seen))

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a caller hung"
    assert failures == []
    assert set(modes) <= {1, 2} and 1 in modes  # some calls found the team busy and ran alone


def test_floating_point_errors_inside_glasstorch_are_silent_as_in_torch_but_users_numpy_still_warns():
    """1 / 0, log(0), exp(1000), sqrt(-1), a float16 overflow: torch gives inf / nan without a word; NumPy warns.
    The warnings NumPy raises inside glasstorch are filtered out (backend.py); the user's own NumPy keeps them."""
    code = ("import glasstorch as torch, numpy as np\n"
            "x = torch.tensor([1.0, 0.0])\n"
            "print((2 / x).tolist(), torch.log(x).tolist(), torch.exp(torch.tensor([1000.0])).tolist())\n"
            "print(torch.sqrt(torch.tensor([-1.0])).tolist(), (torch.tensor([6e4], dtype=torch.float16) * 2).tolist())\n"
            "print(torch.tensor([0.0], requires_grad=True).log().sum().backward())\n"
            "np.log(np.zeros(1))\n")
    result = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["[2.0, inf] [0.0, -inf] [inf]", "[nan] [inf]"]
    warnings = [line for line in result.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warnings) == 1 and warnings[0].startswith("<string>:6: RuntimeWarning: divide by zero"), result.stderr
