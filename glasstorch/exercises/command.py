"""The `glasstorch exercise` subcommand: list, start, check, solution (exit status 0 = pass, 1 = fail)."""
import os
import sys

from . import EXERCISES, check, get, solution, start, where

EPILOG = """examples:
  glasstorch exercise list
  glasstorch exercise start softmax --dir work/        writes work/softmax.py
  glasstorch exercise check softmax work/softmax.py    grades it; exit status 0 when it passes
  glasstorch exercise solution softmax                 where glasstorch implements it
  glasstorch exercise solution softmax --write ref.py  the reference solution, in the starter's form
"""


def add_arguments(parser):
    parser.add_argument("action", choices=["list", "start", "check", "solution"])
    parser.add_argument("name", nargs="?", help="the exercise (see `glasstorch exercise list`)")
    parser.add_argument("file", nargs="?", help="check: your solution file")
    parser.add_argument("--dir", default=".", help="start: where to write the starter (default: here)")
    parser.add_argument("--write", metavar="FILE", help="solution: write the reference solution to FILE")
    parser.add_argument("--seed", type=int, default=0, help="check: the seed of the random cases")


def main(args, out=sys.stdout):
    if args.action == "list":
        width = max(map(len, EXERCISES))
        for name, exercise in EXERCISES.items():
            print(f"{name:<{width}}  {exercise.title}", file=out)
        return 0
    if not args.name:
        raise SystemExit(f"glasstorch exercise {args.action}: name an exercise ({', '.join(EXERCISES)})")
    try:
        get(args.name)
    except KeyError as error:
        raise SystemExit(f"glasstorch exercise: {error.args[0]}") from None
    if args.action == "start":
        path = start(args.name, args.dir)
        print(f"wrote {path}: fill in the functions, then run\n  glasstorch exercise check {args.name} {path}",
              file=out)
        return 0
    if args.action == "check":
        if not args.file:
            raise SystemExit(f"glasstorch exercise check {args.name} FILE: name your solution file")
        if not os.path.isfile(args.file):
            raise SystemExit(f"glasstorch exercise check: no file {args.file}")
        passed, lines = check(args.name, args.file, seed=args.seed)
        print("\n".join(lines), file=out)
        return 0 if passed else 1
    try:
        path, first, last = where(args.name)
        print(f"glasstorch's own version: {os.path.relpath(path)}:{first}-{last}", file=out)
    except (ImportError, AttributeError) as error:
        print(f"glasstorch's own version: not found in this install ({error})", file=out)
    if args.write:
        if os.path.exists(args.write):
            raise SystemExit(f"glasstorch exercise solution: {args.write} exists; choose another name")
        with open(args.write, "w") as f:
            f.write(solution(args.name))
        print(f"wrote the reference solution to {args.write}", file=out)
    return 0
