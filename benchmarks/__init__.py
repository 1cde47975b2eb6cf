"""glasstorch's benchmark suite: the same workloads on glasstorch and on PyTorch, in one run.

    python -m benchmarks                 # everything (make bench)
    python -m benchmarks --only mlp,cnn  # some workloads
    python -m benchmarks --quick         # tiny sizes: the test suite's smoke run
    python -m benchmarks --profile cnn   # where glasstorch's training step spends its time (cProfile)
    python -m benchmarks --layers cnn    # each layer, the loss and the optimizer step, both engines

workloads.py holds the models (written once against the torch API), harness.py the timing and the
table, memory.py the peak-memory probe (a fresh process per engine), hotspots.py the profiler,
layers.py the layer-by-layer timing.
Not part of the installed library: it lives next to it in the repository.
"""
