"""`glasstorch exercise`: implement an op yourself in NumPy, and have it graded.

    glasstorch exercise list                      the exercises
    glasstorch exercise start softmax             writes softmax.py: the math, the signatures, NotImplementedError
    glasstorch exercise check softmax softmax.py  forward, backward (autograd and central differences), shapes,
                                                  stability; names the first wrong element and the likely mistake
    glasstorch exercise solution softmax          where glasstorch's own version lives; --write FILE writes ours
"""
import importlib
import inspect
import os

import numpy as np

from . import activations, layers, losses, sequence, training
from .framework import HINTS, CheckFailed, Exercise, load_module

EXERCISES = {ex.name: ex for family in (activations, losses, layers, sequence, training) for ex in family.EXERCISES}


def get(name):
    if name not in EXERCISES:
        raise KeyError(f"no exercise {name!r}; `glasstorch exercise list` shows them: {', '.join(EXERCISES)}")
    return EXERCISES[name]


def start(name, directory="."):
    """Write the starter file NAME.py (with underscores) into `directory`; refuse to overwrite one."""
    exercise = get(name)
    path = os.path.join(directory, name.replace("-", "_") + ".py")
    if os.path.exists(path):
        raise FileExistsError(f"{path} exists: your work is kept; check it with "
                              f"`glasstorch exercise check {name} {path}` or pass --dir")
    os.makedirs(directory, exist_ok=True)
    with open(path, "w") as f:
        f.write(exercise.starter_file())
    return path


def check(name, path, seed=0):
    """Grade the file: returns (passed, lines of the report)."""
    exercise = get(name)
    try:
        module = load_module(path)
    except Exception as error:  # a syntax error or an import failure in the learner's file
        return False, [f"FAIL {name}: {path} does not load: {type(error).__name__}: {error}"]
    try:
        timing = exercise.check(module, np.random.default_rng(seed))
    except CheckFailed as failure:
        lines = [f"FAIL {name}: {failure.message}"]
        if failure.hint:
            lines.append(f"hint: {HINTS[failure.hint]}")
        return False, lines
    return True, [f"PASS {name}: every check passed ({timing})"]


def where(name):
    """(file, first line, last line) of glasstorch's own version of the exercise's op."""
    module_name, attribute = get(name).where
    obj = getattr(importlib.import_module(module_name), attribute)
    lines, first = inspect.getsourcelines(obj)
    return inspect.getsourcefile(obj), first, first + len(lines) - 1


def solution(name):
    """The reference solution in the starter's form (it passes `check`)."""
    return get(name).solution_file()


__all__ = ["EXERCISES", "CheckFailed", "Exercise", "check", "get", "solution", "start", "where"]
