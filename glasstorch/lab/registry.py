"""Which experiments exist, in course order, and what each promises (its targets).

    from glasstorch.lab.registry import get, names
    names()                    # ['tensors', 'logic-gates', ..., 'digits-cnn']
    get("xor-mlp").run         # the lesson module glasstorch/experiments/xor_mlp.py
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
    "char-rnn": "char_rnn",
    "seq2seq-attention": "seq2seq_attention",
    "transformer": "char_transformer",
    "gan-mnist": "gan_mnist",
    "data-parallel": "data_parallel",
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
    return importlib.import_module(f"glasstorch.experiments.{REGISTRY[key]}")


def expected_for(module, quick):
    """The targets {"metric": (op, value)} of an experiment module at the quick or the full size."""
    return getattr(module, "QUICK_EXPECTED", module.EXPECTED) if quick else module.EXPECTED


def describe_targets(expected):
    return ", ".join(f"{metric} {op} {value:g}" for metric, (op, value) in expected.items())
