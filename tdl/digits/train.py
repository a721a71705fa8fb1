"""Train the built-in digits denoiser and digit encoder; write them to assets/digits/.

    python -m tdl.digits.train --out assets/digits    # ~6.5 min on a 2-core CPU shared with other jobs

Both training loops are generators (as `sandbox.train`): they yield `(step, loss, net)` so a caller
can print, plot or stop. The denoiser keeps an exponential moving average of its weights (the EMA is
what ships). The encoder is a classifier trained on 80% of the digits with shift and noise
augmentation; its held-out accuracy is recorded. The quality of the denoiser is then measured
with `tdl.digits.quality` and written into `denoiser.json`.
"""
from __future__ import annotations

import argparse
import copy
import time
from typing import Iterator

import numpy as np
import torch
from torch.nn import functional as F

from sandbox.model import MLP
from sandbox.objectives import Objective
from tdl.digits.encoder import DigitsEncoder, EncoderConfig
from sandbox.bundle import TrainedField
from tdl.digits.model import NUM_CLASSES, SIDE, default_objective, denoiser_config, load_data


def train_denoiser(net: MLP, objective: Objective, x: torch.Tensor, y: torch.Tensor, steps: int,
                   batch_size: int = 256, lr: float = 2e-3, label_dropout: float = 0.1, ema_decay: float = 0.999,
                   seed: int = 0) -> Iterator[tuple[int, float, MLP]]:
    """Yield `(step, loss, ema_net)` after every step. x: `(N, 64)` in [-1, 1], y: `(N,)` int64."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(x), (batch_size,), generator=g)
        loss = objective.loss(net, x[idx], y[idx], g, label_dropout, NUM_CLASSES)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            decay = min(ema_decay, (1 + step) / (10 + step))  # short warm-up of the average
            for pe, p in zip(ema.parameters(), net.parameters()):
                pe.lerp_(p, 1.0 - decay)
        yield step, loss.item(), ema


def augment(x: torch.Tensor, g: torch.Generator, max_noise: float = 0.5) -> torch.Tensor:
    """Random shifts of up to one pixel (zero = background filled in) and Gaussian noise. `(B, 64)`."""
    b = x.shape[0]
    img = F.pad(x.reshape(b, 1, SIDE, SIDE) + 1.0, (1, 1, 1, 1))  # background 0 while padding
    dx, dy = torch.randint(0, 3, (2, b), generator=g)
    out = torch.empty(b, 1, SIDE, SIDE)
    for sy in range(3):
        for sx in range(3):
            m = (dy == sy) & (dx == sx)
            out[m] = img[m, :, sy:sy + SIDE, sx:sx + SIDE]
    out = out - 1.0
    noise = torch.rand(b, 1, 1, 1, generator=g) * max_noise
    return (out + noise * torch.randn(out.shape, generator=g)).reshape(b, SIDE * SIDE)


def train_encoder(net: DigitsEncoder, x: torch.Tensor, y: torch.Tensor, steps: int, batch_size: int = 128,
                  lr: float = 3e-3, seed: int = 0) -> Iterator[tuple[int, float, DigitsEncoder]]:
    """Yield `(step, loss, net)`: cross-entropy on augmented digits."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(x), (batch_size,), generator=g)
        loss = F.cross_entropy(net(augment(x[idx], g)), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        yield step, loss.item(), net


def split(n: int, test_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    k = int(round(n * test_share))
    return perm[k:], perm[:k]


def measure(field: TrainedField, encoder: DigitsEncoder, per_class: int = 100, steps: int = 20,
            guidances: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0), seed: int = 1) -> dict:
    """Quality of guided DDIM samples: judge accuracy, encoder accuracy, diversity, nearest-real distance."""
    from tdl.digits import quality
    from tdl.sources.digits import sample_path

    labels = torch.arange(NUM_CLASSES).repeat_interleave(per_class)
    out = {}
    for w in guidances:
        x = sample_path(field, labels, steps, w, "ddim", seed)[1][-1].clamp(-1, 1)
        with torch.no_grad():
            enc = (encoder(x).argmax(1) == labels).float().mean().item()
        near, base = quality.nearest_real_distance(x.numpy())
        out[f"guidance_{w:g}"] = {
            "judge_accuracy": quality.prompt_accuracy(x.numpy(), labels.numpy()),
            "encoder_accuracy": enc, "diversity_ratio": quality.diversity_ratio(x.numpy(), labels.numpy()),
            "nearest_real_distance": near, "real_nearest_real_distance": base}
    out["setting"] = f"{per_class} samples per class, ddim {steps} steps, seed {seed}"
    return out


def as_shipped(net: torch.nn.Module) -> torch.nn.Module:
    """The net with its weights rounded to float16, as they are stored, so we measure what ships."""
    net.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})
    return net.eval()


def main(argv: list[str] | None = None) -> None:
    from tdl.digits import weights

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder for the files (the repository's assets/digits to ship them)")
    p.add_argument("--steps", type=int, default=12000, help="denoiser training steps")
    p.add_argument("--encoder-steps", type=int, default=3000)
    p.add_argument("--width", type=int, default=192)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest for these sizes)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = load_data()

    t0 = time.time()
    tr, te = split(len(x), 0.2, a.seed)
    enc = DigitsEncoder(EncoderConfig())
    for step, loss, enc in train_encoder(enc, x[tr], y[tr], a.encoder_steps, seed=a.seed):
        if step % 500 == 0:
            print(f"encoder step {step} loss {loss:.4f}", flush=True)
    enc = as_shipped(enc)
    with torch.no_grad():
        enc_acc = (enc(x[te]).argmax(1) == y[te]).float().mean().item()
    enc_time = time.time() - t0
    print(f"encoder held-out accuracy {enc_acc:.4f} ({len(te)} digits), {enc_time:.0f} s")

    t0 = time.time()
    objective = default_objective()
    net = MLP(denoiser_config(width=a.width))
    for step, loss, ema in train_denoiser(net, objective, x, y, a.steps, seed=a.seed):
        if step % 1000 == 0:
            print(f"denoiser step {step} loss {loss:.4f} ({time.time() - t0:.0f} s)", flush=True)
    den_time = time.time() - t0
    ema = as_shipped(ema)
    quality = measure(TrainedField(ema, objective), enc)
    for k, v in quality.items():
        print(k, v)

    how = (f"python -m tdl.digits.train --steps {a.steps} --encoder-steps {a.encoder_steps} --width {a.width} "
           f"--seed {a.seed} --threads {a.threads}")
    weights.save(enc, "encoder", f"{a.out}/encoder", {
        "made_by": how, "train_seconds_cpu": round(enc_time, 1), "train_digits": len(tr),
        "heldout_accuracy": enc_acc, "heldout_digits": len(te), "input": "(N, 64) in [-1, 1]"})
    weights.save(ema, "denoiser", f"{a.out}/denoiser", {
        "made_by": how, "train_seconds_cpu": round(den_time, 1), "objective": objective.config(),
        "label_dropout": 0.1, "ema_decay": 0.999, "data": "sklearn.datasets.load_digits, all 1797, x = pixels/8 - 1",
        "quality": quality})
    print(f"wrote {a.out}/denoiser.* and {a.out}/encoder.*")


if __name__ == "__main__":
    main()
