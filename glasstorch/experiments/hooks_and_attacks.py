"""Hooks, saliency and a white-box attack (002 "Pytorch中的Hook", "白盒攻击: 反向溯源过程, 找到梯度的敏感特征").

1. Train the notes' CNN shape on the 8x8 digits (common.simple_cnn, as in digits-cnn).
2. Forward hooks capture every layer's output without touching the model's code; a tensor hook captures
   the gradient of a non-leaf tensor (which .grad does not keep), checked against retain_grad();
   register_full_backward_hook sees the gradient leaving a module.
3. Saliency maps: |d score_true_class / d input|, the pixels the decision is most sensitive to.
4. FGSM: x_adv = clamp(x + ε·sign(∇x loss), 0, 1); accuracy falls as ε grows.
"""
from dataclasses import dataclass, field

import numpy as np

from .common import accuracy, fit_and_log, image_arrays, make_loader, simple_cnn, tensor

NAME = "hooks-and-attacks"
NOTE = "002 (Hook 机制提取非叶子张量的梯度, 白盒攻击), 000 (CNN)"
SUMMARY = "forward/backward hooks, non-leaf gradients, saliency maps, FGSM accuracy vs ε"


@dataclass
class Config:
    epochs: int = 10
    lr: float = 2e-3
    batch_size: int = 32
    epsilons: list = field(default_factory=lambda: [0.0, 0.05, 0.1, 0.15, 0.2, 0.3])
    seed: int = 0

    @classmethod
    def quick(cls):
        return cls(epochs=1, epsilons=[0.0, 0.1, 0.3])


EXPECTED = {"clean_acc": (">=", 0.9), "acc_at_max_eps_over_clean": ("<=", 0.5), "layers_hooked": (">=", 11),
            "nonleaf_grad_error": ("<=", 1e-6), "backward_hook_error": ("<=", 1e-6)}
QUICK_EXPECTED = {"clean_acc": (">=", 0.4), "acc_at_max_eps_over_clean": ("<=", 0.8), "layers_hooked": (">=", 11),
                  "nonleaf_grad_error": ("<=", 1e-6), "backward_hook_error": ("<=", 1e-6)}


def fgsm(fw, model, X, y, eps):
    """Fast gradient sign method: one step of size eps along the sign of the input gradient."""
    X = X.clone().requires_grad_(True)
    fw.nn.functional.nll_loss(model(X), y).backward()
    with fw.no_grad():
        return (X + eps * X.grad.sign()).clamp(0, 1)


def run(fw, cfg, lab):
    X_train, y_train = image_arrays("digits", train=True)
    X_test, y_test = image_arrays("digits", train=False)
    train = make_loader(fw, X_train, y_train, cfg.batch_size, shuffle=True, seed=cfg.seed)
    test = make_loader(fw, X_test, y_test, 500)
    model = simple_cnn(fw)
    fit_and_log(model, fw.nn.NLLLoss(), fw.optim.Adam(model.parameters(), lr=cfg.lr), train, test, cfg.epochs, lab)
    model.eval()
    clean_acc = accuracy(model, test)

    # forward hooks on every layer
    captured = {}
    handles = [layer.register_forward_hook(lambda m, inp, out, name=name: captured.__setitem__(name, out.detach()))
               for name, layer in model.named_children()]
    X = tensor(fw, X_test[:8])
    y = tensor(fw, y_test[:8])
    out = model(X)
    for h in handles:
        h.remove()
    for name, layer in model.named_children():
        lab.say(f"hook on layer {name} ({type(layer).__name__}): output {tuple(captured[name].shape)}")

    # non-leaf gradient through a tensor hook vs retain_grad, and a module backward hook
    grads = {}
    conv_out = model[1](model[0](X))  # the first ReLU's output: a non-leaf tensor
    conv_out.retain_grad()
    conv_out.register_hook(lambda g: grads.__setitem__("hook", g.detach().clone()))
    seen = {}
    handle = model[2].register_full_backward_hook(lambda m, gin, gout: seen.__setitem__("out", gout[0].detach()))
    rest = conv_out
    for layer in list(model)[2:]:
        rest = layer(rest)
    fw.nn.functional.nll_loss(rest, y).backward()
    handle.remove()
    nonleaf_error = float(np.abs(grads["hook"].numpy() - conv_out.grad.numpy()).max())
    lab.say(f"tensor hook on a non-leaf: |hook grad - retain_grad| = {nonleaf_error:.1e}")
    # the second conv's output gradient, seen by its backward hook, must equal the one a forward pass recomputes
    x2 = model[2](conv_out.detach()).detach().requires_grad_(True)
    rest = x2
    for layer in list(model)[3:]:
        rest = layer(rest)
    fw.nn.functional.nll_loss(rest, y).backward()
    backward_hook_error = float(np.abs(seen["out"].numpy() - x2.grad.numpy()).max())
    lab.say("module backward hook on conv2: grad_output matches d loss / d conv2 output "
            f"(error {backward_hook_error:.1e})")

    # saliency
    Xs = X.clone().requires_grad_(True)
    scores = model(Xs)
    scores.gather(1, y.reshape(-1, 1)).sum().backward()
    saliency = Xs.grad.abs().numpy()[:, 0]

    # FGSM
    Xall, yall = tensor(fw, X_test), tensor(fw, y_test)
    accs = []
    for eps in cfg.epsilons:
        X_adv = fgsm(fw, model, Xall, yall, eps)
        with fw.no_grad():
            acc = float((model(X_adv).argmax(dim=1) == yall).float().mean())
        accs.append(acc)
        lab.log(epsilon=eps, adversarial_acc=acc)
        lab.say(f"FGSM ε = {eps:<5g}: test accuracy {acc:.4f}")
    X_adv = fgsm(fw, model, X, y, cfg.epsilons[-1]).numpy()
    with fw.no_grad():
        adv_pred = model(fw.from_numpy(X_adv)).argmax(dim=1).numpy()

    with lab.figure("saliency", "Inputs, saliency maps and FGSM examples (ε = max)", figsize=(12, 5), nrows=3,
                    ncols=8) as (_, axes):
        for i in range(8):
            axes[0, i].imshow(X_test[i, 0], cmap="gray")
            axes[0, i].set_title(f"label {y_test[i]}", fontsize=8)
            axes[1, i].imshow(saliency[i], cmap="hot")
            axes[2, i].imshow(X_adv[i, 0], cmap="gray")
            axes[2, i].set_title(f"adv -> {adv_pred[i]}", fontsize=8, color="red" if adv_pred[i] != y_test[i] else "k")
            for r in range(3):
                axes[r, i].axis("off")
        axes[1, 0].set_title("saliency", fontsize=8)
    with lab.figure("fgsm", "FGSM: accuracy vs ε", figsize=(5, 4)) as (_, ax):
        ax.plot(cfg.epsilons, accs, "o-")
        ax.set(xlabel="ε", ylabel="test accuracy", ylim=(0, 1))
        ax.grid(alpha=0.3)
    return {"clean_acc": clean_acc, "acc_at_max_eps": accs[-1], "acc_at_max_eps_over_clean": accs[-1] / clean_acc,
            "layers_hooked": len(captured), "nonleaf_grad_error": nonleaf_error,
            "backward_hook_error": backward_hook_error}
