"""Layer by layer: where glasstorch's training step loses (or wins) against torch's.

    python -m benchmarks --layers cnn [--threads 1 --clock cpu]

Each layer of the workload is timed alone on both engines, with the same input (the activation the
previous layer produced, as NumPy data) and the same upstream gradient: forward alone (under no_grad,
as in inference; with grad on and no backward, glasstorch's saved-output nodes would keep their
result alive until the cycle collector runs) and forward + backward (grad on, as in training). The
loss (forward + backward) and `optimizer.step()` get a row each. Windows alternate between the
engines as in the main table; times are medians, in ms.
"""
import numpy as np

from . import workloads as W
from .timing import copy_weights, time_alternating


class Step:
    """One row of the table that is not a module of its own: `fn(x)`, with `owner`'s parameters."""

    def __init__(self, fn, owner):
        self.fn, self.owner = fn, owner

    def __call__(self, x):
        return self.fn(x)

    def parameters(self):
        return iter(self.owner) if isinstance(self.owner, list) else self.owner.parameters()


def layer_sequence(fw, model):
    """(name, module) in the order the model's forward calls them."""
    nn = fw.nn
    if isinstance(model, fw.nn.Sequential):
        return [(f"{i} {type(m).__name__}", m) for i, m in enumerate(model)]
    if hasattr(model, "lstm"):  # the word-level LM: (T, B) tokens -> (T * B, vocabulary) logits
        return [("embed", model.embed), ("lstm (2 layers)", Step(lambda x: model.lstm(x)[0], model.lstm)),
                ("flatten", nn.Flatten(0, 1)), ("decoder", model.decoder)]
    if hasattr(model, "encoder"):  # the causal transformer LM
        rows = [("embed", model.embed), ("+ positions", Step(lambda h: h + model.pos[:h.shape[1]], [model.pos]))]
        for i, layer in enumerate(model.encoder.layers):
            rows.append((f"encoder layer {i}", Step(lambda h, layer=layer: layer(h, src_mask=model.mask, is_causal=True),
                                                    layer)))
        return rows + [("head", Step(lambda h: model.head(h).reshape(-1, model.head.out_features), model.head))]
    # the notes' SimpleCNN: its forward, one call per row
    return [("conv1", model.conv1), ("relu", nn.ReLU()), ("conv2", model.conv2), ("relu", nn.ReLU()),
            ("maxpool", nn.MaxPool2d(2)), ("dropout", model.dropout), ("flatten", nn.Flatten()),
            ("fc1", model.fc1), ("relu", nn.ReLU()), ("fc2", model.fc2), ("log_softmax", nn.LogSoftmax(dim=1))]


def _forward(fw, layer, array):
    x = fw.from_numpy(array)

    def run():
        with fw.no_grad():
            layer(x)
    return run


def _forward_backward(fw, layer, array, grad, input_grad):
    x, g = fw.from_numpy(array).requires_grad_(input_grad), fw.from_numpy(grad)
    if not input_grad and not any(p.requires_grad for p in layer.parameters()):
        return lambda: layer(x)  # nothing below needs a gradient: training only runs the forward

    def run():
        layer(x).backward(g)
    return run


def layer_times(engines, workload, args):
    batch = workload.quick_batch if args.quick else workload.batch
    built = {name: W.build(fw, workload, batch) for name, fw in engines.items()}
    copy_weights(built["torch"].model, engines["glasstorch"], built["glasstorch"].model)
    sequences = {name: layer_sequence(engines[name], inst.model) for name, inst in built.items()}
    rng = np.random.default_rng(1)
    torch = engines["torch"]
    activation = built["torch"].x.numpy()
    rows = []
    timing = (max(3, args.windows // 2), min(args.window_seconds, 0.3), min(args.warmup_seconds, 0.2), args.clock_fn)
    for i, (label, _) in enumerate(sequences["torch"]):
        with torch.no_grad():
            out = sequences["torch"][i][1](torch.from_numpy(activation)).numpy()
        grad = rng.standard_normal(out.shape).astype(np.float32)
        fwd = time_alternating({n: _forward(engines[n], seq[i][1], activation) for n, seq in sequences.items()},
                               *timing)
        # as in training: an input needs a gradient only when some earlier layer has parameters
        input_grad = any(True for _, layer in sequences["torch"][:i] for _ in layer.parameters())
        both = time_alternating({n: _forward_backward(engines[n], seq[i][1], activation, grad, input_grad)
                                 for n, seq in sequences.items()}, *timing)
        rows.append((label, tuple(activation.shape), fwd, both))
        activation = out
    # the loss on the model's output, and one optimizer step
    y = built["torch"].y.numpy()

    def loss_call(n):
        inst = built[n]
        fw = engines[n]
        x, target = fw.from_numpy(activation).requires_grad_(), fw.from_numpy(y)
        return lambda: inst.loss_fn(x, target).backward()
    for inst in built.values():
        inst.train()  # gives every parameter a gradient for step()
    loss = time_alternating({n: loss_call(n) for n in built}, *timing)
    step = time_alternating({n: inst.optimizer.step for n, inst in built.items()}, *timing)
    rows.append((f"loss {type(built['torch'].loss_fn).__name__}", tuple(activation.shape), None, loss))
    rows.append((f"optimizer {type(built['torch'].optimizer).__name__}.step", (), None, step))
    return rows


def layer_table(workload_name, rows):
    def ms(times, engine):
        return float(np.median(times[engine])) * 1000 if times is not None else None
    total = sum(ms(both, "glasstorch") for _, _, _, both in rows)
    head = ("layer", "input", "glass fwd ms (no_grad)", "torch fwd ms (no_grad)", "glass fwd+bwd ms",
            "torch fwd+bwd ms", "glass/torch time", "share of glass step")
    lines = [f"{workload_name}: layer by layer (the rows' fwd+bwd sum to {total:.2f} ms for glasstorch)",
             "| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for label, shape, fwd, both in rows:
        gf, tf, gb, tb = ms(fwd, "glasstorch"), ms(fwd, "torch"), ms(both, "glasstorch"), ms(both, "torch")
        cells = (label, "x".join(map(str, shape)), _f(gf), _f(tf), _f(gb), _f(tb), f"{gb / tb:.2f}",
                 f"{gb / total:.0%}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _f(v):
    return "-" if v is None else f"{v:.3f}"
