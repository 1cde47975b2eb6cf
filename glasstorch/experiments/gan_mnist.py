"""A generative adversarial network (GAN) that draws MNIST digits, judged by a classifier trained in the same run.

Two networks play a game (Goodfellow et al. 2014). The generator G turns a noise vector z ~ N(0, I) into an
image; the discriminator D outputs the probability that an image is real. Two pairs of networks are built here.
The full size trains an MLP pair (G: nz -> 256 -> 512 -> 784 with BatchNorm1d and LeakyReLU, Tanh out; D: 784 -> 512
-> 256 -> 1, LeakyReLU) for 100 epochs, the last 40 with both learning rates decaying linearly: it is the one that
meets the targets (see "Measured" below). `arch="dcgan"` trains a small DCGAN (Radford et al. 2015), written the
way PyTorch's DCGAN tutorial writes it, scaled down to 28x28 digits; it learns much faster at first, then stalls:

    G: z (nz) -> Linear -> 2*ngf x 7 x 7 -> ConvTranspose2d(4, stride 2, padding 1) -> ngf x 14 x 14
              -> ConvTranspose2d(4, 2, 1) -> 1 x 28 x 28, Tanh          (BatchNorm2d + ReLU after each but the last)
    D: 1 x 28 x 28 -> Conv2d(4, 2, 1) -> ndf x 14 x 14 -> Conv2d(4, 2, 1) -> 2*ndf x 7 x 7 -> Linear -> 1, Sigmoid
              (LeakyReLU(0.2) after each conv, BatchNorm2d after the second)

- Why ConvTranspose2d makes the image larger: each input pixel stamps a copy of the 4x4 kernel (scaled by the
  pixel's value) onto the output, the stamps 2 pixels apart, so a 7x7 map becomes 14x14 (overlapping stamps add
  up). It is the backward pass of a stride-2 Conv2d, which maps 14x14 down to 7x7: G runs D's kind of layer in
  reverse. Being convolutions, both share one small kernel over every position: a stroke learnt in one place can
  be drawn anywhere, which an MLP must learn again for every pixel (this lesson's first version, an MLP GAN,
  reached 59.9% confident samples after 10 epochs and flattened near 75% after 34).
- What BatchNorm does for G: it rescales each channel to mean 0 and variance 1 over the batch, so the signal
  neither dies out nor blows up on its way through G, whatever D's gradients do to the weights. The DCGAN paper
  found G would not start learning without it. It is left out of G's output (the pixels must be free to reach
  -1 and 1) and of D's first layer, as in the paper.
- D downsamples with stride-2 convolutions instead of pooling (it learns its own downsampling), and uses
  LeakyReLU, whose slope 0.2 for negative inputs lets gradient flow back to G through every unit.
- Weights start from N(0, 0.02) (BatchNorm scales from N(1, 0.02)), the tutorial's `weights_init`.

The training loop is the tutorial's:

- D step: BCELoss(D(x), 1) on a real batch plus BCELoss(D(G(z).detach()), 0) on a fake one; `detach` stops
  this backward pass at the fake images (no gradient for G, and G's graph is kept for the G step).
- G step: BCELoss(D(G(z)), 1) on the same fakes, the "non-saturating" loss: G maximises log D(G(z)) rather than
  minimising log(1 - D(G(z))), whose gradient vanishes while D still wins easily (early in training).
- Adam(lr=2e-4, betas=(0.5, 0.999)) for both, as in the DCGAN paper; pixels scaled to [-1, 1] to match G's Tanh.

A fixed batch of noise is drawn once, so the grid of its digits after each epoch shows G learning. Afterwards a
small CNN (trained here on the real training digits) judges 1,000 fresh samples: a good G makes digits the
judge is sure of (softmax confidence >= 0.9) and makes every class (no mode collapse: each >= 3% of samples).
The quick size is the same game on the embedded 8x8 digits, played by two MLPs (see `build_mlp` for why).

Measured (full size, 2026-12-06, glasstorch, one BLAS thread, 16 min): the MLP pair meets both targets after its
100 epochs: 81.5% of the 1,000 samples judged confident, the rarest class 3.5% (judge: 98.93% on real digits).
The margin is small. Over the last 20 epochs the confident share went up and down between 76% and 84%, and the
rarest class between 1.4% and 3.5% (under 3% in most of them): as G's digits get cleaner, it draws fewer of its
hardest class. The decay makes the last steps small, but a run with other rounding (two BLAS threads, another
machine) can end on either side of 3%. Without the decay the same network ended at 79.8% and 2.4% (below).

The DCGAN (`arch="dcgan"`, 12 epochs, 2026-12-06): the 80% target is NOT met. On glasstorch (2 threads, quiet machine)
the judge scored 98.89% on real test digits; G's samples were judged confident after epoch 1, 6, 8 and 12 at 31.8,
59.1, 63.0 and 63.5%, every class >= 6.1%; 15 min 22 s of wall time, about 47 s per epoch. On PyTorch
(`--engine torch`, one thread): 30.7% after epoch 1, 57.5% after 4, then a plateau of 54-60% to epoch 12 (59.8%,
every class >= 5.5%; 8.4 min). The strokes are crisp; many digits are malformed or between two classes. The judge
is sure (>= 0.9) of only 94-96% of real test digits, so 80% asks for samples nearly as clean as real ones; a
judge trained 6 epochs (97% of real digits confident) scores the same G's samples the same (65.3 against 65.8%).

What else was tried (PyTorch, one thread, the same judge, confident share after 8 epochs unless noted; this
loop with BCEWithLogitsLoss reached 55.1% unchanged):

| change | confident share |
|---|---|
| least-squares GAN loss (LSGAN) | 53.7% |
| hinge loss, spectral norm in D instead of BatchNorm | 54.6% |
| learning rates decayed linearly to 0 over the last 4 epochs | 54.6% |
| one-sided label smoothing (real label 0.9) | 57% after 9 epochs |
| twice the feature maps (ngf = ndf = 64) | 59-65% at epochs 6-10 |
| a 3x3 convolution added at 7x7 in G; with ngf = ndf = 64 too | 55.4% (6 epochs); 58.1% (5 epochs) |
| InfoGAN's categorical code (10 one-hot inputs, a Q head on D's features; weight 1, 3) | 61.5%; 53.5% (6 epochs) |
| the InfoGAN code and the 3x3 convolution | 65.0%, 62.7% after 10 |
| an exponential moving average of G's weights (decay 0.999) | 64% |
| scaling the noise at sampling time (truncation, 0.5-0.9) | 61-66% (the trained G) |
| sampling G in training mode (batch statistics) | within 1% |

The MLP pair learns more slowly but does not plateau. On glasstorch, 100 epochs without the decay (19 min, one
BLAS thread: 9.4 s an epoch; its small products ran 4x slower on two threads while other jobs ran): 58.0% confident
after 10 epochs, 66.7% after 20, 71.1% after 30, 73.6% after
40, 77.5% after 50, 80.2% after 70, then 77-83% from epoch to epoch and 79.8% after 100. But as its confident
share rose, its rarest class shrank: under 3% in most epochs after 80 (2.4% after 100). It draws clean digits by
drawing fewer of one kind. With the decay (the full size) the first 60 epochs are the same, then see above.
"""
from dataclasses import dataclass

import numpy as np

from .common import fit_and_log, image_arrays, make_loader

NAME = "gan-mnist"
NOTE = "GAN (Goodfellow 2014) in the PyTorch DCGAN tutorial's loop: BCELoss, detach; and a DCGAN (ConvTranspose2d)"
SUMMARY = "a GAN on MNIST (MLPs; a DCGAN beside): digits per epoch, D/G losses; >= 80% of 1,000 samples confident"


@dataclass
class Config:
    dataset: str = "mnist"   # "digits": the 8x8 digits that ship with glasstorch (the quick size)
    epochs: int = 100
    batch_size: int = 64
    nz: int = 64             # length of the noise vector z
    ngf: int = 32            # G's feature maps: 2*ngf at side/4, ngf at side/2
    ndf: int = 32            # D's feature maps: ndf at side/2, 2*ndf at side/4
    arch: str = "mlp"        # "dcgan": the DCGAN of the docstring (the 8x8 quick size always uses the MLPs)
    hidden: int = 256        # the MLPs: G nz -> hidden -> 2 hidden -> pixels, D the reverse
    lr: float = 2e-4
    beta1: float = 0.5
    decay_epochs: int = 40   # the last this many epochs take both learning rates linearly down to 0
    train_limit: int = None  # use only this many training images (None: all 60,000)
    judge_epochs: int = 2
    samples: int = 1000      # generated digits the judge classifies
    confidence: float = 0.9  # a sample counts as a recognisable digit at this softmax probability
    log_every: int = 50      # iterations per history row
    seed: int = 0
    device: str = "cpu"

    @classmethod
    def quick(cls):
        return cls(dataset="digits", epochs=20, batch_size=32, nz=16, hidden=128, lr=1e-3, decay_epochs=0,
                   judge_epochs=10, log_every=20)


EXPECTED = {"confident_frac": (">=", 0.80), "min_class_share": (">=", 0.03)}
# 8x8 digits are often ambiguous even when real: seeds 0-2 reach 0.42-0.45 and 0.05-0.07 (torch, seed 0: 0.48 and
# 0.035), while G after one epoch scores 0.07 and 0.006
QUICK_EXPECTED = {"confident_frac": (">=", 0.3), "min_class_share": (">=", 0.02)}


def build(fw, cfg, side):
    """(G, D) for side x side images: G maps noise (N, nz) to images (N, 1, side, side) in [-1, 1]; D maps images
    to P(real) in (0, 1), shape (N, 1). The DCGAN of the docstring (side divisible by 4), or an MLP pair at side 8
    or when cfg.arch is "mlp"."""
    if side == 8 or cfg.arch == "mlp":
        return build_mlp(fw, cfg, side)
    nn = fw.nn
    s = side // 4  # G starts from s x s maps and doubles them twice; D halves twice down to s x s

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                # no biases before a BatchNorm: it subtracts the batch mean, which would cancel them
                nn.Linear(cfg.nz, 2 * cfg.ngf * s * s, bias=False), nn.Unflatten(1, (2 * cfg.ngf, s, s)),
                nn.BatchNorm2d(2 * cfg.ngf), nn.ReLU(True),
                nn.ConvTranspose2d(2 * cfg.ngf, cfg.ngf, 4, 2, 1, bias=False),  # s -> 2s
                nn.BatchNorm2d(cfg.ngf), nn.ReLU(True),
                nn.ConvTranspose2d(cfg.ngf, 1, 4, 2, 1, bias=False),  # 2s -> 4s = side
                nn.Tanh())

        def forward(self, z):
            return self.main(z)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(1, cfg.ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),  # side -> side/2
                nn.Conv2d(cfg.ndf, 2 * cfg.ndf, 4, 2, 1, bias=False),  # side/2 -> s
                nn.BatchNorm2d(2 * cfg.ndf), nn.LeakyReLU(0.2, inplace=True),
                nn.Flatten(), nn.Linear(2 * cfg.ndf * s * s, 1), nn.Sigmoid())

        def forward(self, x):
            return self.main(x)

    def weights_init(m):  # the tutorial's initialisation
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    return Generator().apply(weights_init), Discriminator().apply(weights_init)


def build_mlp(fw, cfg, side):
    """The quick size's (G, D): MLPs. At 8x8 a DCGAN's G would start from 2x2 maps, too few pixels for shared
    kernels to pay: measured (quick size, seed 0), it drew blotchy digits, 25% of them confident after 20 epochs
    against 44% for these MLPs, in no less time."""
    nn = fw.nn
    pixels = side * side

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Linear(cfg.nz, cfg.hidden), nn.BatchNorm1d(cfg.hidden), nn.LeakyReLU(0.2),
                nn.Linear(cfg.hidden, 2 * cfg.hidden), nn.BatchNorm1d(2 * cfg.hidden), nn.LeakyReLU(0.2),
                nn.Linear(2 * cfg.hidden, pixels), nn.Tanh(), nn.Unflatten(1, (1, side, side)))

        def forward(self, z):
            return self.main(z)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Flatten(), nn.Linear(pixels, 2 * cfg.hidden), nn.LeakyReLU(0.2),
                nn.Linear(2 * cfg.hidden, cfg.hidden), nn.LeakyReLU(0.2),
                nn.Linear(cfg.hidden, 1), nn.Sigmoid())

        def forward(self, x):
            return self.main(x)

    return Generator(), Discriminator()


def build_judge(fw, side):
    """A small CNN classifier for side x side digits (log-probabilities of the 10 classes)."""
    nn = fw.nn
    if side == 8:  # the quick size: an MLP is as good as a CNN on 8x8 digits, and much faster
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10), nn.LogSoftmax(dim=1))
    return nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),    # 8 x 14 x 14
                         nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 7 x 7
                         nn.Flatten(), nn.Dropout(0.25), nn.Linear(16 * 7 * 7, 10), nn.LogSoftmax(dim=1))


def gan_step(fw, G, D, criterion, optimizerD, optimizerG, real, noise):
    """One iteration of the DCGAN tutorial's loop: a D step, then a G step on the same fakes.
    Returns (loss_D, loss_G, D(x), D(G(z)) before and after D's step) as floats."""
    real_label, fake_label = 1.0, 0.0
    b_size = real.shape[0]
    # (1) D: maximise log D(x) + log(1 - D(G(z)))
    D.zero_grad()
    label = fw.full((b_size,), real_label, dtype=fw.float, device=real.device)
    output = D(real).view(-1)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    fake = G(noise)
    label.fill_(fake_label)
    output = D(fake.detach()).view(-1)  # detach: this step trains D only
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()
    # (2) G: maximise log D(G(z)) (the real label on fakes)
    G.zero_grad()
    label.fill_(real_label)
    output = D(fake).view(-1)  # D has just been updated: a fresh forward pass through it
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    return errD.item(), errG.item(), D_x, D_G_z1, D_G_z2


def train_gan(fw, cfg, lab, X, judge):
    """The GAN loop of PyTorch's DCGAN tutorial, with the judge's verdict on fresh samples after every epoch.
    Returns G, per-iteration (loss_D, loss_G, D(x), D(G(z)) before and after D's step), the images G draws from a
    fixed noise batch after each epoch, the judge's probabilities for each epoch's samples, and the last samples."""
    G, D = build(fw, cfg, X.shape[-1])
    G, D = G.to(cfg.device), D.to(cfg.device)
    criterion = fw.nn.BCELoss()
    optimizerD = fw.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    optimizerG = fw.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    # a linear decay over the last epochs lets G settle instead of drifting with every step of the game
    schedulers = [fw.optim.lr_scheduler.LambdaLR(o, lambda done: lr_factor(cfg, done))
                  for o in (optimizerD, optimizerG)] if cfg.decay_epochs else []
    fixed_noise = fw.randn(16, cfg.nz, device=cfg.device)
    judge_noise = fw.Generator().manual_seed(cfg.seed + 2)  # its own stream: judging leaves training's draws alone
    loader = make_loader(fw, X * 2 - 1, np.zeros(len(X), np.int64), cfg.batch_size, shuffle=True, seed=cfg.seed,
                         device=cfg.device)  # pixels in [-1, 1], like G's Tanh; the labels are not used
    curves, snapshots, judged = [], [], []
    for epoch in range(1, cfg.epochs + 1):
        for real, _ in lab.progress(loader, f"epoch {epoch}"):
            noise = fw.randn(real.shape[0], cfg.nz, device=cfg.device)
            curves.append(gan_step(fw, G, D, criterion, optimizerD, optimizerG, real, noise))
            if len(curves) % cfg.log_every == 0:
                lossD, lossG, dx, dgz, _ = np.mean(curves[-cfg.log_every:], axis=0)
                lab.log(iteration=len(curves), epoch=epoch, loss_D=lossD, loss_G=lossG, D_x=dx, D_G_z=dgz)
        for scheduler in schedulers:
            scheduler.step()
        with fw.no_grad():
            snapshots.append(G(fixed_noise).detach().cpu().numpy())
        probs, samples = judge_samples(fw, cfg, G, judge, judge_noise)
        judged.append(probs)
        confident, shares = verdict(probs, cfg.confidence)
        lab.log(epoch=epoch, confident_frac=confident.mean(), min_class_share=shares.min())
        lossD, lossG, dx, dgz1, dgz2 = np.mean(curves[-len(loader):], axis=0)
        lab.say(f"[{epoch}/{cfg.epochs}] Loss_D: {lossD:.4f} Loss_G: {lossG:.4f} D(x): {dx:.4f} "
                f"D(G(z)): {dgz1:.4f} / {dgz2:.4f}; judged confident {100 * confident.mean():.1f}%, "
                f"smallest class {100 * shares.min():.1f}% ({lab.elapsed():.0f} s)")
    return G, np.array(curves), snapshots, judged, samples


def lr_factor(cfg, epochs_done):
    """The learning rates' factor in the epoch after `epochs_done`: 1, then over the last `cfg.decay_epochs` epochs
    linearly down (the last epoch trains at 1/decay_epochs of the rate)."""
    return min(1.0, (cfg.epochs - epochs_done) / cfg.decay_epochs) if cfg.decay_epochs else 1.0


def train_judge(fw, cfg, lab, X_train, y_train, X_test, y_test):
    """The judge: a small CNN trained by glasstorch.train.fit on the real digits (inputs in [-1, 1])."""
    judge = build_judge(fw, X_train.shape[-1]).to(cfg.device)
    train = make_loader(fw, X_train * 2 - 1, y_train, 64, shuffle=True, seed=cfg.seed, device=cfg.device)
    test = make_loader(fw, X_test * 2 - 1, y_test, 1000, device=cfg.device)
    optimizer = fw.optim.Adam(judge.parameters(), lr=2e-3)
    history = fit_and_log(judge, fw.nn.NLLLoss(), optimizer, train, test, cfg.judge_epochs, lab.quiet(),
                          device=cfg.device)
    return judge, history.records[-1]["val_accuracy"]


def judge_samples(fw, cfg, G, judge, generator):
    """Softmax probabilities the judge gives `cfg.samples` fresh samples of G (noise drawn from `generator`), and
    those samples (N, 1, side, side). G is sampled in eval mode (BatchNorm's running statistics), then set back."""
    G.eval()
    judge.eval()
    with fw.no_grad():
        images = G(fw.randn(cfg.samples, cfg.nz, generator=generator).to(cfg.device))
        probs = judge(images).exp()
    G.train()
    return probs.cpu().numpy(), images.cpu().numpy()


def verdict(probs, confidence):
    """(which samples the judge gives probability >= confidence, the share of samples in each of the 10 classes)."""
    return probs.max(axis=1) >= confidence, np.bincount(probs.argmax(axis=1), minlength=10) / len(probs)


def image_grid(images, nrow):
    """glasstorch.vision.utils.make_grid of images in [-1, 1] as an H x W x 3 array for imshow."""
    import glasstorch
    from glasstorch.vision.utils import make_grid
    grid = make_grid(glasstorch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)), nrow=nrow, padding=1,
                     normalize=True, value_range=(-1, 1), pad_value=1.0)
    return grid.numpy().transpose(1, 2, 0)


def run(fw, cfg, lab):
    if cfg.dataset == "digits":
        X_train, y_train = image_arrays("digits", train=True)
        X_test, y_test = image_arrays("digits", train=False)
    else:
        X_train, y_train = image_arrays(cfg.dataset, lab.data_dir, True, cfg.train_limit, cfg.seed)
        X_test, y_test = image_arrays(cfg.dataset, lab.data_dir, False, None, cfg.seed)
    side = X_train.shape[-1]
    lab.say(f"{cfg.dataset}: {len(y_train)} training images of {side}x{side} for the GAN")
    fw.manual_seed(cfg.seed + 1)  # the judge first: trained on real digits only, before G exists
    judge, judge_acc = train_judge(fw, cfg, lab, X_train, y_train, X_test, y_test)
    lab.say(f"judge: {100 * judge_acc:.2f}% on the {len(y_test)} real test digits")
    fw.manual_seed(cfg.seed)
    G, curves, snapshots, judged, samples = train_gan(fw, cfg, lab, X_train, judge)
    probs = judged[-1]  # the verdict on the last epoch's samples
    confident, shares = verdict(probs, cfg.confidence)
    lab.say(f"{cfg.samples} samples: {100 * confident.mean():.1f}% judged with confidence >= {cfg.confidence}; "
            f"class shares {' '.join(f'{d}:{100 * s:.1f}%' for d, s in enumerate(shares))}")

    snapshots = np.stack(snapshots).reshape(len(snapshots), -1, 1, side, side)
    rows = np.linspace(0, len(snapshots) - 1, min(len(snapshots), 10)).round().astype(int)
    with lab.figure("samples_per_epoch", "G(fixed noise) after each epoch: one row per epoch",
                    figsize=(8, 0.55 * len(rows) + 0.6)) as (_, ax):
        ax.imshow(image_grid(snapshots[rows].reshape(-1, 1, side, side), nrow=snapshots.shape[1]))
        ax.set_yticks([(i + 0.5) * (side + 1) for i in range(len(rows))], [f"epoch {r + 1}" for r in rows])
        ax.set_xticks([])
        ax.set_title("the same 16 noise vectors, epoch by epoch")
    order = np.argsort(-probs.max(axis=1))[:100]  # the 100 the judge is surest of, shown by class
    order = order[np.argsort(probs[order].argmax(axis=1), kind="stable")]
    with lab.figure("samples", "100 generated digits the judge is surest of, sorted by class",
                    figsize=(6, 6.4)) as (_, ax):
        ax.imshow(image_grid(samples[order], nrow=10))
        ax.axis("off")
        ax.set_title(f"{100 * confident.mean():.0f}% of {cfg.samples} judged with confidence >= {cfg.confidence}")
    with lab.figure("random_samples", "64 generated digits, not selected", figsize=(6, 6.4)) as (_, ax):
        ax.imshow(image_grid(samples[:64], nrow=8))
        ax.axis("off")
        ax.set_title("G(z) for 64 fresh z")
    with lab.figure("losses", "D and G losses (left) and D's outputs (right) per iteration, smoothed",
                    figsize=(11, 4), ncols=2) as (_, (ax1, ax2)):
        window = max(1, min(cfg.log_every, len(curves) // 20))
        smooth = np.array([np.convolve(c, np.ones(window) / window, mode="valid") for c in curves.T])
        steps = np.arange(len(smooth[0])) + window
        ax1.plot(steps, smooth[0], label="loss_D = BCE(D(x), 1) + BCE(D(G(z)), 0)")
        ax1.plot(steps, smooth[1], label="loss_G = BCE(D(G(z)), 1)")
        ax1.set(xlabel="iteration", ylabel="BCE", title="losses")
        ax1.legend()
        ax2.plot(steps, smooth[2], label="D(x) on real batches")
        ax2.plot(steps, smooth[3], label="D(G(z)) on fakes")
        ax2.axhline(0.5, color="gray", linestyle="--", linewidth=0.8)
        ax2.set(xlabel="iteration", ylabel="probability 'real'", ylim=(0, 1), title="what D says")
        ax2.legend()
    with lab.figure("judged_per_epoch", "the judge's verdict on 1,000 fresh samples after each epoch",
                    figsize=(6.4, 4)) as (_, ax):
        epochs = np.arange(1, len(judged) + 1)
        ax.plot(epochs, [(p.max(axis=1) >= cfg.confidence).mean() for p in judged], "o-",
                label=f"share judged with confidence >= {cfg.confidence}")
        ax.plot(epochs, [verdict(p, cfg.confidence)[1].min() for p in judged], "s-", label="smallest class share")
        target = (QUICK_EXPECTED if cfg.dataset == "digits" else EXPECTED)["confident_frac"][1]
        ax.axhline(target, color="tab:red", linestyle="--", linewidth=0.8, label=f"target {target:g}")
        ax.set(xlabel="epoch", ylabel="share of samples", ylim=(0, 1), xticks=epochs[::max(1, len(epochs) // 10)])
        ax.legend()
    with lab.figure("class_histogram", f"the judge's classes for {cfg.samples} generated digits",
                    figsize=(6.4, 4)) as (_, ax):
        confident_shares = np.bincount(probs.argmax(axis=1)[confident], minlength=10) / len(probs)
        ax.bar(range(10), shares, color="lightgray", label="all samples")
        ax.bar(range(10), confident_shares, color="tab:blue", label=f"confidence >= {cfg.confidence}")
        ax.axhline(0.03, color="tab:red", linestyle="--", label="3% (no mode collapse)")
        ax.axhline(0.1, color="gray", linestyle=":", linewidth=0.8)
        ax.set(xticks=range(10), xlabel="class the judge gives", ylabel="share of samples")
        ax.legend()
    lab.checkpoint(G)
    return {"confident_frac": float(confident.mean()), "min_class_share": float(shares.min()),
            "judge_acc": float(judge_acc), "loss_D": float(curves[-len(curves) // 10:, 0].mean()),
            "loss_G": float(curves[-len(curves) // 10:, 1].mean())}
