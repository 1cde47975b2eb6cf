"""What the harness and its probes share: thread limits, alternating timing windows, copying weights.

Imports nothing from the rest of benchmarks/, so harness, layers and memory all import it (no loop).
"""
import time

_thread_limits = []  # (threadpoolctl limiter, [(framework, how to restore its thread count)]) per call, to undo


def limit_threads(n, *frameworks):
    """Cap NumPy's BLAS (threadpoolctl), glasstorch's elementwise thread pool and torch at `n` threads.

    None leaves them as they are."""
    if n is None:
        return
    from threadpoolctl import threadpool_limits
    previous = []
    for fw in frameworks:
        if fw.__name__ == "torch":
            previous.append((fw.set_num_threads, fw.get_num_threads()))
            fw.set_num_threads(n)
        elif fw.__name__ == "glasstorch":  # its pool; its BLAS is NumPy's, capped below
            previous.append((fw.backend.set_num_threads, fw.backend.get_num_threads()))
            fw.backend.set_num_threads(n)
    _thread_limits.append((threadpool_limits(limits=n, user_api="blas"), previous))


def restore_threads():
    """Undo every limit_threads (for callers that go on in the same process, like the tests)."""
    while _thread_limits:
        limiter, previous = _thread_limits.pop()
        limiter.restore_original_limits()
        for set_threads, count in previous:
            set_threads(count)


# ---------------------------------------------------------------- timing
#: --clock wall: elapsed time (what a user waits). --clock cpu: this process's CPU time, all threads
#: (with --threads 1 it stays close to a quiet machine's figure while other processes take the cores)
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _calibrate(fn, warmup_s, window_s, clock):
    """Warm `fn` up (at least 2 calls after a first one) and return how many calls fill one window."""
    fn()  # first call: lazy state (Adam's moments), allocator warm-up
    calls, start = 0, clock()
    while True:
        fn()
        calls += 1
        elapsed = clock() - start
        if calls >= 2 and elapsed >= warmup_s:
            return max(1, round(window_s / max(elapsed / calls, 1e-9)))


def time_alternating(calls, windows, window_s, warmup_s, clock=time.perf_counter, settle_s=0.0):
    """{engine: fn} -> {engine: [seconds per call, one per window]}, windows run A B A B ...

    settle_s: a pause before each window. After a multithreaded call OpenBLAS keeps its worker spinning on a
    core for about 0.1 s (OpenMP runtimes spin-wait a while too): without the pause, one engine's idle threads
    would take a core from the start of the other engine's window."""
    iterations = {name: _calibrate(fn, warmup_s, window_s, clock) for name, fn in calls.items()}
    seconds = {name: [] for name in calls}
    for _ in range(windows):
        for name, fn in calls.items():
            n = iterations[name]
            time.sleep(settle_s)
            start = clock()
            for _ in range(n):
                fn()
            seconds[name].append(max(clock() - start, 1e-9) / n)
    return seconds



# ---------------------------------------------------------------- both engines from the same weights
def copy_weights(src_model, dst_fw, dst_model):
    """Copy torch's parameters into the glasstorch model, in `parameters()` order."""
    src, dst = list(src_model.parameters()), list(dst_model.parameters())
    if [tuple(p.shape) for p in src] != [tuple(p.shape) for p in dst]:
        raise ValueError("the two models' parameters differ in shape or order")
    with dst_fw.no_grad():
        for s, d in zip(src, dst):
            d.copy_(dst_fw.from_numpy(s.detach().cpu().numpy().copy()).to(d.device))
