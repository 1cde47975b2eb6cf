"""The `glasstorch` command: the lab that reproduces every experiment of the course notes.

    glasstorch list                                   the experiments
    glasstorch run digits-cnn                         one experiment, with report and figures
    glasstorch run mlp --engine both --data-dir ../shared/data
    glasstorch compare xor-mlp                        glasstorch vs PyTorch, step by step
    glasstorch train --model lenet --dataset mnist    a general training run
    glasstorch data verify                            the datasets and their checksums
    glasstorch doctor                                 what is installed, what to fix
    glasstorch results                                docs/RESULTS.md from the runs under out/
    glasstorch exercise start softmax                 implement an op yourself; `exercise check` grades it
    glasstorch gradcheck --all                        every op, layer and loss against central differences
    glasstorch trace notes-autograd                   the backward pass of the notes' example, node by node
    glasstorch notebook xor-mlp                       the lesson as a Jupyter notebook (--all: every lesson)
"""
import argparse
import os
import shlex
import sys
from pathlib import Path

EPILOG_RUN = """examples:
  glasstorch run digits-cnn                      the demo: a CNN on 8x8 digits in seconds
  glasstorch run xor-mlp --quick                 the quick (test) size
  glasstorch run cnn-mnist --engine both         glasstorch and PyTorch side by side
  glasstorch run mlp --epochs 3 --lr 0.2 --data-dir ../shared/data --out runs/
  glasstorch run all --quick                     every experiment, quick size
  glasstorch run xor-mlp --tensorboard runs      then: tensorboard --logdir runs
  glasstorch run data-parallel --nproc 2         1 and 2 processes (MPI) end with the same weights

exit status: 0 done and every target met, 1 targets missed, 2 usage error (nothing ran),
             3 the run failed (its whole traceback is in the report)
"""


def default_data_dir():
    """$GLASSTORCH_DATA, else ../shared/data when it exists (relative to the current folder), else the cache."""
    if os.environ.get("GLASSTORCH_DATA"):
        return os.environ["GLASSTORCH_DATA"]
    shared = Path("..") / "shared" / "data"
    if shared.is_dir():
        return str(shared)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "glasstorch", "data")


def _engines(choice):
    return ("glass", "torch") if choice == "both" else (choice,)


def _add_common(p, data=True):
    p.add_argument("--engine", choices=["glass", "torch", "both"], default="glass",
                   help="glass = glasstorch (default), torch = PyTorch, both = side by side")
    p.add_argument("--epochs", type=int, help="override the number of epochs / iterations")
    p.add_argument("--lr", type=float, help="override the learning rate")
    p.add_argument("--batch-size", type=int, dest="batch_size", help="override the batch size")
    p.add_argument("--seed", type=int, help="random seed (default: the experiment's)")
    if data:
        p.add_argument("--data-dir", default=None, help="dataset folder (default: $GLASSTORCH_DATA, else "
                       "../shared/data if it exists, else ~/.cache/glasstorch/data)")
    p.add_argument("--out", default="out", help="where run folders go (default: out/)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="compute device (default: cpu)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or experiment printout")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="glasstorch", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="glasstorch: deep learning from scratch on NumPy, with PyTorch's API. "
                    "This command runs the experiments of the course notes on glasstorch and, side by side, "
                    "on PyTorch.",
        epilog="examples:\n" + __doc__.split("\n", 2)[2])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the experiments", formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  glasstorch list\n  glasstorch list --quick    (show quick-size targets)")
    p.add_argument("--quick", action="store_true", help="show the quick-size targets instead of the full ones")

    p = sub.add_parser("run", help="run one experiment (or all) and write its report",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG_RUN,
                       description="Run an experiment: progress bars, a closing table (target vs achieved, "
                                   "time) and a folder OUT/NAME-<timestamp>/ with report.md, metrics.json, "
                                   "history.csv, figures and the final checkpoint.")
    p.add_argument("name", help="experiment name (see `glasstorch list`), or `all`")
    p.add_argument("--quick", action="store_true", help="the seconds-long size the tests use")
    p.add_argument("--tensorboard", metavar="DIR", default=None,
                   help="also write TensorBoard event files to DIR/NAME/ENGINE: every logged metric per epoch "
                        "(and the lr and weight/gradient histograms where the lesson trains with fit)")
    p.add_argument("--nproc", type=int, nargs="+", metavar="N", default=None,
                   help="data-parallel: train with N processes (several: each) besides the one-process reference")
    _add_common(p)

    p = sub.add_parser("compare", help="lockstep glasstorch vs PyTorch from identical weights",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Train the experiment's model on glasstorch and PyTorch from identical initial "
                                   "weights on identical batches; after every step print |Δloss| and the largest "
                                   "|Δgrad| and |Δweight|; stop at the first divergence beyond tolerance.",
                       epilog="examples:\n  glasstorch compare xor-mlp\n  glasstorch compare digits-cnn --steps 20"
                              "\n  glasstorch compare mlp --steps 5 --tol 1e-3 --verbose")
    p.add_argument("name", help="an experiment with a model (xor-mlp, digits-cnn, mlp, cnn-mnist, ...)")
    p.add_argument("--steps", type=int, default=10, help="training steps to compare (default 10)")
    p.add_argument("--tol", type=float, default=1e-4, help="relative tolerance before calling it a divergence")
    p.add_argument("--batch-size", type=int, dest="batch_size", default=None, help="batch size")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--seed", type=int, default=0, help="seed for the weights and the batches")
    p.add_argument("--data-dir", default=None, help="dataset folder")
    p.add_argument("--verbose", action="store_true", help="print every parameter at every step")

    p = sub.add_parser("train", help="a general training run (model x dataset)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  glasstorch train --model cnn --dataset digits\n"
                              "  glasstorch train --model lenet --dataset mnist --epochs 3 --engine both\n"
                              "  glasstorch train --model mlp --dataset fashion-mnist --optimizer adam --lr 1e-3")
    p.add_argument("--model", choices=["softmax", "mlp", "lenet", "cnn"], default="mlp")
    p.add_argument("--dataset", choices=["digits", "mnist", "fashion-mnist"], default="digits")
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], default=None,
                   help="default: sgd for softmax/mlp, adam for lenet/cnn")
    p.add_argument("--limit", type=int, default=None, help="use only this many training samples")
    p.add_argument("--quick", action="store_true", help="a seconds-long run (small subset, 1 epoch)")
    _add_common(p)

    p = sub.add_parser("data", help="datasets: list, fetch, verify, path",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  glasstorch data list\n  glasstorch data verify --data-dir ../shared/data\n"
                              "  glasstorch data fetch mnist                      (download, checksum)\n"
                              "  glasstorch data fetch mnist --from ~/Downloads   (import from a folder)\n"
                              "  glasstorch data path")
    p.add_argument("action", choices=["list", "fetch", "verify", "path"])
    p.add_argument("dataset", nargs="?", default=None, help="mnist or fashion-mnist (default: all)")
    p.add_argument("--data-dir", default=None, help="dataset folder")
    p.add_argument("--from", dest="source", default=None, help="fetch: copy the .gz files from this folder")

    sub.add_parser("doctor", help="check the installation; each problem with its fix",
                   formatter_class=argparse.RawDescriptionHelpFormatter, epilog="example:\n  glasstorch doctor")

    p = sub.add_parser("results", help="write docs/RESULTS.md from the run folders",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  glasstorch results --out out --write docs/RESULTS.md")
    p.add_argument("--out", default="out", help="folder holding the run folders (default out/)")
    p.add_argument("--write", default="docs/RESULTS.md", help="the markdown file to write")

    from .exercises import command as exercise_command
    p = sub.add_parser("exercise", help="implement an op yourself in NumPy and have it graded",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=exercise_command.EPILOG)
    exercise_command.add_arguments(p)

    from .teaching import gradcheck_sweep, trace_command
    p = sub.add_parser("gradcheck", help="check every op, layer and loss (or your own) against central differences",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=gradcheck_sweep.EPILOG)
    gradcheck_sweep.add_arguments(p)
    p = sub.add_parser("trace", help="walk a backward pass node by node (text, markdown or an HTML page)",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=trace_command.EPILOG)
    trace_command.add_arguments(p)
    add_as_torch(sub)
    _add_launch(sub)

    from .lab import notebook as notebook_command
    p = sub.add_parser("notebook", help="write a lesson as a Jupyter notebook (.ipynb)",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=notebook_command.EPILOG)
    notebook_command.add_arguments(p)
    return parser


def _add_launch(sub):
    """`glasstorch launch -n 4 train.py`: the distributed launcher's flags (torchrun's), over mpiexec."""
    from .distributed import run as distributed_run
    sub.add_parser("launch", help="start N processes of a training script over MPI (like torchrun)",
                   parents=[distributed_run.parser(add_help=False)], formatter_class=argparse.RawDescriptionHelpFormatter,
                   epilog="examples:\n  glasstorch launch -n 4 train.py --epochs 3\n"
                          "  glasstorch launch --nproc-per-node 2 -m mypackage.train")


# ----------------------------------------------------------------------------- commands
def cmd_list(args):
    from .lab.registry import describe_targets, expected_for, get, names
    rows = []
    for name in names():
        module = get(name)
        rows.append((name, module.SUMMARY, module.NOTE, describe_targets(expected_for(module, args.quick))))
    width = max(len(r[0]) for r in rows)
    for name, summary, note, target in rows:
        print(f"{name:<{width}}  {summary}\n{'':<{width}}  note: {note}\n{'':<{width}}  target: {target}")
    print(f"\n{len(rows)} experiments. `glasstorch run NAME` runs one; `glasstorch run NAME --help` for options.")
    return 0


def _overrides(args):
    overrides = {"epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size, "seed": args.seed}
    if getattr(args, "nproc", None):
        overrides["nprocs"] = tuple(sorted({1, *args.nproc}))  # 1: the reference the others are compared with
    return overrides


# exit statuses of `run` and `train`, documented in --help
EXIT_DONE, EXIT_TARGETS_MISSED, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


class UsageError(Exception):
    """A bad argument, found before any work starts: one line on stderr, exit status 2."""


def _check_run_args(args):
    """Validate every argument and prepare the output folder before anything trains."""
    checks = [("epochs", 1, "--epochs"), ("batch_size", 1, "--batch-size"), ("seed", 0, "--seed")]
    for attribute, least, flag in checks:
        value = getattr(args, attribute, None)
        if value is not None and value < least:
            raise UsageError(f"{flag} must be >= {least} (got {value})")
    lr = getattr(args, "lr", None)
    if lr is not None and not (lr > 0 and lr != float("inf")):
        raise UsageError(f"--lr must be a positive number (got {lr})")
    _prepare_out(args.out)
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        raise UsageError(f"--data-dir {args.data_dir} is not a folder")


def _check_lesson_configs(todo, args):
    """--nproc, and a lesson's own `check_config(config)` (sizes that cannot work), before anything runs."""
    from .lab.registry import get
    from .lab.runner import make_config
    if args.nproc is not None:
        if min(args.nproc) < 1:
            raise UsageError(f"--nproc must be >= 1 (got {min(args.nproc)})")
        if len(todo) == 1 and "nprocs" not in make_config(get(todo[0]))[0].__dataclass_fields__:
            raise UsageError(f"--nproc is for lessons that start several processes (data-parallel), not {todo[0]}")
    for name in todo:
        module = get(name)
        if hasattr(module, "check_config"):
            try:
                module.check_config(make_config(module, args.quick, **_overrides(args))[0])
            except ValueError as error:
                raise UsageError(f"{name}: {error}") from None


def _check_tensorboard(folder):
    """--tensorboard DIR: tensorboardX must be installed and DIR writable, before anything trains."""
    try:
        import tensorboardX  # noqa: F401  (the event-file writer under glasstorch.utils.tensorboard)
    except ImportError:
        raise UsageError("--tensorboard needs tensorboardX: pip install 'glasstorch[tensorboard]'") from None
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--tensorboard {folder}: can't write there ({error.strerror or error})") from None


def _prepare_out(out):
    """Create the output folder and prove it is writable, so a run can't die at its end for want of it."""
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, f".glasstorch-write-test-{os.getpid()}")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as error:
        raise UsageError(f"--out {out}: can't write there ({error.strerror or error})") from None


def _finish(record):
    from .lab.report import results_table
    print()
    print(f"{record.name} ({'quick' if record.quick else 'full'} size)")
    print(results_table(record))
    print(f"\nreport: {record.folder / 'report.md'}")
    failed = [run for run in record.runs if run.error]
    if failed:
        for run in failed:
            print(f"[{run.engine}] the run FAILED: {run.error.strip().splitlines()[-1]} (whole traceback in the "
                  "report)", file=sys.stderr)
        return EXIT_FAILED
    print("all targets met" if record.passed else "SOME TARGETS MISSED (see the report)")
    return EXIT_DONE if record.passed else EXIT_TARGETS_MISSED


def cmd_run(args):
    from .lab.registry import names
    from .lab.runner import run_experiment
    data_dir = args.data_dir or default_data_dir()
    todo = names() if args.name == "all" else [args.name]
    unknown = [n for n in todo if n not in names()]
    if unknown:
        raise UsageError(f"no experiment {unknown[0]!r} (`glasstorch list` shows them)")
    _check_run_args(args)
    if args.tensorboard is not None:
        _check_tensorboard(args.tensorboard)
    _check_lesson_configs(todo, args)
    status = EXIT_DONE
    for name in todo:
        status = max(status, _finish(run_experiment(name, _engines(args.engine), args.quick, _overrides(args),
                                                    data_dir, args.out, args.device, verbose=not args.quiet,
                                                    command=_command_line(), tensorboard=args.tensorboard)))
    return status


def cmd_train(args):
    from .lab import general
    from .lab.runner import run_experiment
    _check_run_args(args)
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be >= 1 (got {args.limit})")
    overrides = _overrides(args)
    overrides.update(model=args.model, dataset=args.dataset, optimizer=args.optimizer, limit=args.limit)
    record = run_experiment(general, _engines(args.engine), args.quick, overrides, args.data_dir or default_data_dir(),
                            args.out, args.device, verbose=not args.quiet, command=_command_line())
    return _finish(record)


def cmd_compare(args):
    from .lab.compare import compare
    result = compare(args.name, steps=args.steps, tol=args.tol, batch_size=args.batch_size, lr=args.lr,
                     seed=args.seed, data_dir=args.data_dir or default_data_dir(), verbose=args.verbose)
    return 0 if result.agreed else 1


def cmd_data(args):
    from .lab import datastore
    return datastore.main(args.action, args.dataset, args.data_dir or default_data_dir(), args.source)


def cmd_doctor(args):
    from .lab.doctor import doctor
    return doctor(default_data_dir())


def cmd_results(args):
    from .lab.report import write_results
    path = write_results(args.out, args.write)
    print(Path(path).read_text())
    print(f"written: {path}")
    return 0


def add_as_torch(sub):
    """`glasstorch as-torch script.py [args]`: run an unmodified PyTorch program (see glasstorch/as_torch.py)."""
    from . import as_torch
    p = sub.add_parser("as-torch", help="run an unmodified PyTorch program on glasstorch (import torch -> glasstorch)")
    as_torch.build_parser(p)


def cmd_as_torch(args):
    from . import as_torch
    return as_torch.run(args.script, args.args, report=args.report)


def cmd_exercise(args):
    from .exercises import command as exercise_command
    return exercise_command.main(args)


def cmd_launch(args):
    from .distributed import run as distributed_run
    try:
        return distributed_run.launch(args)
    except ValueError as error:  # flags that cannot go together
        raise UsageError(str(error)) from None


def cmd_notebook(args):
    from .lab import notebook as notebook_command
    return notebook_command.main(args, data_dir=default_data_dir())
def cmd_gradcheck(args):
    from .teaching import gradcheck_sweep
    return gradcheck_sweep.main(args)


def cmd_trace(args):
    from .teaching import trace_command
    return trace_command.main(args)


def _command_line():
    return "glasstorch " + " ".join(shlex.quote(a) for a in sys.argv[1:])


COMMANDS = {"list": cmd_list, "run": cmd_run, "compare": cmd_compare, "train": cmd_train, "data": cmd_data,
            "doctor": cmd_doctor, "results": cmd_results, "exercise": cmd_exercise, "as-torch": cmd_as_torch, "launch": cmd_launch,
            "notebook": cmd_notebook,
            "gradcheck": cmd_gradcheck, "trace": cmd_trace}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"glasstorch {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `glasstorch data verify | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_DONE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
