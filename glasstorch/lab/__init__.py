"""glasstorch.lab: the machinery around the lessons of glasstorch/experiments/.

    registry.py   which experiments exist (course order) and their targets
    context.py    Lab, what a lesson's run(fw, cfg, lab) talks to: say, progress, log, figure, checkpoint
    runner.py     run a lesson on one or both engines, check its targets          (imports report)
    report.py     the run folder: report.md, metrics.json, history.csv, curves.png; docs/RESULTS.md
    compare.py    `glasstorch compare`: glasstorch and PyTorch in lockstep
    general.py    `glasstorch train`: any of the notes' models on a dataset
    datastore.py  `glasstorch data`;  doctor.py  `glasstorch doctor`;  loc.py  the README's table of sizes

The lab imports lessons; lessons never import the lab (they get a Lab object as an argument).
"""
