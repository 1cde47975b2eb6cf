"""The lessons as notebooks: one jupytext percent-format script per lesson (`<module>.py`, named like the
lesson's file in glasstorch/experiments/), turned into .ipynb by `glasstorch notebook` (glasstorch/lab/notebook.py).

These scripts are notebook sources, not modules to import: each runs a lesson top to bottom as a learner would
write it (`import glasstorch as torch`), with a size switch (`QUICK`) in its first code cell, tagged `parameters`,
and the lesson's targets (EXPECTED / QUICK_EXPECTED) asserted in its last cell.
"""
