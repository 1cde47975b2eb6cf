"""torch.multiprocessing: Python's multiprocessing, and `spawn` (call a function in N new processes).

    import glasstorch.multiprocessing as mp
    mp.spawn(work, args=(data,), nprocs=4)   # work(0, data), work(1, data), ... each in its own process

torch's version also moves tensors between processes through shared memory. glasstorch tensors refuse to be
pickled (loading a pickle can run code: see glasstorch/serialization.py), so pass NumPy arrays (`t.numpy()`),
numbers or file paths in `args` and in queues. Data-parallel training does not start its processes with
`spawn` here: glasstorch.distributed gets its processes from MPI, so DDP programs run under the launcher,
`python -m glasstorch.distributed.run --nproc-per-node N train.py`; in spawned processes, init_process_group
with rank= and world_size= says so (see docs/DIFFERENCES.md).
"""
import multiprocessing
import multiprocessing.connection
import sys
import traceback
from multiprocessing import (Array, Barrier, Condition, Event, Lock, Manager, Pipe, Pool, Process, Queue, RLock,
                             Semaphore, SimpleQueue, Value, active_children, cpu_count, current_process, get_context,
                             get_start_method, set_start_method)

__all__ = ["Array", "Barrier", "Condition", "Event", "Lock", "Manager", "Pipe", "Pool", "Process",
           "ProcessContext", "ProcessExitedException", "ProcessRaisedException", "Queue", "RLock", "Semaphore",
           "SimpleQueue", "Value", "active_children", "cpu_count", "current_process", "get_context",
           "get_start_method", "set_start_method", "spawn", "start_processes"]


class ProcessException(Exception):
    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised: the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero status (or was killed by a signal) without raising."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn, i, args, error_queue):
    """What each process runs: fn(i, *args); an exception goes back to the parent as its traceback text."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is stopping everyone
    except Exception:
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The spawned processes; `join()` waits, and raises as soon as one of them failed (the others are stopped)."""

    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """True when every process has ended well; False if some still run after `timeout` seconds."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self.sentinels), timeout=timeout)
        failed = None
        for sentinel in ready:
            i = self.sentinels.pop(sentinel)
            self.processes[i].join()
            if self.processes[i].exitcode != 0 and failed is None:
                failed = i
        if failed is None:
            return not self.sentinels
        for p in self.processes:  # one failed: stop the others, as torch does
            if p.is_alive():
                p.terminate()
            p.join()
        process = self.processes[failed]
        if not self.error_queues[failed].empty():
            text = self.error_queues[failed].get()
            raise ProcessRaisedException(f"\n\n-- Process {failed} terminated with the following error:\n{text}",
                                         failed, process.pid)
        code = process.exitcode
        signal_name = None if code > 0 else f"signal {-code}"
        what = f"exit code {code}" if code > 0 else signal_name
        raise ProcessExitedException(f"process {failed} terminated with {what}", failed, process.pid, code,
                                     signal_name)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run fn(i, *args) for i = 0 .. nprocs - 1, each in a new process (`start_method` of multiprocessing).

    Under glasstorch.as_torch (`torch` is glasstorch in this process) the processes are forked: a spawned one
    starts a fresh Python that would re-import the program with the real torch, silently."""
    as_torch = getattr(sys.modules.get("torch"), "__name__", "") == "glasstorch"
    if as_torch and "fork" in multiprocessing.get_all_start_methods():
        start_method = "fork"
    context = get_context(start_method)
    processes, error_queues = [], []
    for i in range(nprocs):
        error_queue = context.SimpleQueue()
        process = context.Process(target=_wrap, args=(fn, i, args, error_queue), daemon=daemon)
        process.start()
        processes.append(process)
        error_queues.append(error_queue)
    spawned = ProcessContext(processes, error_queues)
    if not join:
        return spawned
    while not spawned.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """torch.multiprocessing.spawn: fn(i, *args) in `nprocs` new processes; with join, wait and re-raise a failure
    (ProcessRaisedException with the process's traceback); without, return the ProcessContext."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
