"""`glasstorch doctor`: what is installed and usable, and for each problem the command that fixes it."""
import importlib
import os
import platform
import shutil
import sys


def _version(module_name):
    try:
        module = importlib.import_module(module_name)
        return getattr(module, "__version__", "installed")
    except Exception:  # not installed, or broken on import
        return None


def _blas():
    """(BLAS library name, threads) as threadpoolctl reports them for NumPy."""
    try:
        from threadpoolctl import threadpool_info
        import numpy  # noqa: F401  (load its BLAS so threadpoolctl sees it)
        for info in threadpool_info():
            if info.get("user_api") == "blas":
                return f"{info.get('internal_api')} ({os.path.basename(info.get('filepath', ''))})", info.get(
                    "num_threads")
    except Exception:
        pass
    return None, None


def _stale_temps_row(folders):
    """Temporary files of killed writers (a SIGKILL during a save leaves one of the checkpoint's size)."""
    from ..serialization import stale_temps
    found = sorted({os.path.relpath(t) for folder in folders if os.path.isdir(folder)
                    for t in stale_temps(folder) if os.path.isfile(t)})
    if not found:
        return ("leftover temporary files", "none", "", "")
    size = sum(os.path.getsize(t) for t in found) / 2 ** 20
    shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
    return ("leftover temporary files", f"{len(found)} ({size:.1f} MiB): {shown}",
            "temporaries of writes that were killed midway (the files they were replacing are intact)",
            "delete them (the next save to the same file also removes them): rm " + " ".join(found[:3]))


def checks(data_dir):
    """Rows (name, found, problem or '', fix or '')."""
    rows = []
    py_ok = sys.version_info >= (3, 10)
    rows.append(("Python", platform.python_version(), "" if py_ok else "glasstorch needs Python >= 3.10",
                 "" if py_ok else "install Python 3.10 or newer"))
    import numpy
    rows.append(("NumPy", numpy.__version__, "", ""))
    blas, threads = _blas()
    if blas:
        few = threads is not None and threads < min(4, os.cpu_count() or 1)
        rows.append(("BLAS", f"{blas}, {threads} thread(s) of {os.cpu_count()} cores",
                     "BLAS uses fewer threads than cores" if few else "",
                     "unset OMP_NUM_THREADS / OPENBLAS_NUM_THREADS (or raise them)" if few else ""))
    else:
        rows.append(("BLAS", "unknown", "cannot see NumPy's BLAS (threadpoolctl missing)",
                     "pip install threadpoolctl"))
    import glasstorch
    rows.append(("glasstorch", glasstorch.__version__, "", ""))
    cupy = _version("cupy")
    gpu = ""
    if cupy:
        gpu = (f"{glasstorch.cuda.device_count()} GPU(s): {glasstorch.cuda.get_device_name(0)}"
               if glasstorch.cuda.is_available() else "no GPU visible")
    rows.append(("CuPy / GPU (optional)", f"{cupy} ({gpu})" if cupy else "not installed", "",
                 "" if cupy else "optional: pip install cupy-cuda12x for --device cuda"))
    torch = _version("torch")
    rows.append(("PyTorch (optional)", torch or "not installed", "" if torch else "--engine torch/both and "
                 "`glasstorch compare` need it", "" if torch else "pip install 'torch==2.13.0' (pinned: an "
                 "unpinned torch pulls a multi-GB CUDA build)"))
    for name, module, why in (("matplotlib", "matplotlib", "figures in the reports"),
                              ("tqdm", "tqdm", "progress bars"), ("pandas", "pandas", "the preprocessing experiment"),
                              ("scikit-learn", "sklearn", "the 8x8 digits (demo)")):
        v = _version(module)
        rows.append((name, v or "not installed", "" if v else f"needed for {why}",
                     "" if v else "pip install 'glasstorch[lab]'"))
    dot = shutil.which("dot")
    rows.append(("Graphviz (optional)", dot or "not found", "" if dot else "viz.draw_graph falls back to matplotlib",
                 "" if dot else "apt install graphviz  (or brew install graphviz)"))
    rows.append(_stale_temps_row([data_dir, "out", "runs", "."]))
    from .datastore import status
    for key, files in status(data_dir).items():
        states = {s for _, s in files}
        ok = states == {"ok"}
        rows.append((f"data: {key}", f"{data_dir}/{key}: " + ("ok" if ok else ", ".join(sorted(states))),
                     "" if ok else "experiments on this dataset cannot run",
                     "" if ok else f"glasstorch data fetch {key} --data-dir {data_dir}"))
    return rows


def doctor(data_dir):
    rows = checks(data_dir)
    width = max(len(r[0]) for r in rows)
    problems = 0
    for name, found, problem, fix in rows:
        mark = "!!" if problem else "ok"
        print(f"[{mark}] {name:<{width}}  {found}")
        if problem:
            problems += 1
            print(f"     {'':<{width}}  problem: {problem}")
        if fix:
            print(f"     {'':<{width}}  fix:     {fix}")
    print(f"\n{problems} problem(s)." if problems else "\nall good.")
    return 0
