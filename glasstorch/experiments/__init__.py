"""glasstorch.experiments: the lessons, every experiment of the course notes, one file each.

Each experiment module holds:
    NAME, NOTE, SUMMARY      what it is, which note it reproduces
    Config                   a dataclass of its knobs; Config.quick() is the seconds-long size the tests run
    EXPECTED, QUICK_EXPECTED targets: {"metric": (">=", value)} for the full and the quick size
    build(fw, cfg)           the model (where there is one)
    run(fw, cfg, lab)        does the work on the framework module `fw` (glasstorch or torch) -> results dict

`fw` is a parameter, so `--engine torch` runs the identical code on PyTorch. `common.py` holds the few helpers
lessons share (data as arrays, loaders, d2l's from-scratch pieces); lessons never import each other.
The machinery that lists, runs, reports and compares them is `glasstorch.lab` (registry, runner, report, ...).
"""
