"""glasstorch.experiments: every experiment of the course notes, one file each.

Each experiment module holds:
    NAME, NOTE, SUMMARY      what it is, which note it reproduces
    Config                   a dataclass of its knobs; Config.quick() is the seconds-long size the tests run
    EXPECTED, QUICK_EXPECTED targets: {"metric": (">=", value)} for the full and the quick size
    build(fw, cfg)           the model (where there is one)
    run(fw, cfg, lab)        does the work on the framework module `fw` (glasstorch or torch) -> results dict

`fw` is a parameter, so `--engine torch` runs the identical code on PyTorch.
"""
import importlib

# name -> module (in the order a learner meets them)
REGISTRY = {
    "tensors": "tensors",
    "logic-gates": "logic_gates",
    "xor-mlp": "xor_mlp",
    "forward-pass": "forward_pass",
    "numerical-diff": "numerical_diff",
    "gradient-descent": "gradient_descent",
    "linear-regression": "linear_regression",
    "diamond": "diamond",
    "two-layer-net": "two_layer_net",
    "softmax-regression": "softmax_regression",
    "mlp": "mlp",
    "cnn-mnist": "cnn_mnist",
    "activations": "activations",
    "optimizers": "optimizers",
    "overfitting": "overfitting",
    "kfold": "kfold",
    "batchnorm": "batchnorm",
    "preprocessing": "preprocessing",
    "hooks-and-attacks": "hooks_and_attacks",
    "losses": "losses",
    "digits-cnn": "digits_cnn",
    "sine-lstm": "sine_lstm",
}


def names():
    """The experiment names, in course order."""
    return list(REGISTRY)


def get(name):
    """The experiment module called `name` (dashes or underscores)."""
    key = name.replace("_", "-")
    if key not in REGISTRY:
        close = [n for n in REGISTRY if key in n or n in key]
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown experiment {name!r}.{hint} `glasstorch list` shows them all.")
    return importlib.import_module(f"{__name__}.{REGISTRY[key]}")
