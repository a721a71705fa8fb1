"""Train the shipped preset models: assets/models/<preset>-<objective>.safetensors.

One unconditional model per preset and objective, trained longer than the one-second default,
then scored (sliced Wasserstein of 2000 samples with the default sampler vs the data, over the
data-vs-data baseline at the same n; 1.0 = as close as fresh data) into quality.json and
QUALITY.md beside the files. Each file stays under 200 KB (float32 weights + a 2000-point data
subsample).

    python scripts/train_presets.py                  # all presets, both objectives
    python scripts/train_presets.py --presets smiley --objectives flow --steps 3000
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from sandbox import metrics
from sandbox.datasets import PRESETS, make_preset
from sandbox.modelio import load_model, save_model
from sandbox.train import TrainConfig, train

# the shipped size: a little smaller than the training default so that files stay < 200 KB
SHIPPED = dict(width=96, depth=3, fourier=16, steps=4000, lr=5e-3, batch_size=1024, ema=0.995, eval_every=0)
# the window's DDPM pane shows an eps-predicting model on the linear schedule (app/settings.py): the
# shipped DDPM models stay that kind whatever TrainConfig's defaults become (now v on cosine)
SHIPPED_DDPM = dict(prediction="eps", schedule="linear")
N_TRAIN = 10000
REPO_MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"  # a repository script: writes the source tree


def quality(model, data: torch.Tensor, sets: int = 8, n: int = 2000) -> tuple[float, float]:
    """(mean SW of `sets` sample sets of n vs fresh data draws, data-vs-data baseline at n).

    SW2 of one set is noisy (a mode with 1% too many points moves it a lot), so several sample
    sets and many baseline pairs are averaged."""
    g = torch.Generator().manual_seed(1)
    sw = [metrics.sliced_wasserstein(model.sample(n, seed=100 + k, coords="canonical").final, metrics.draw(data, n, g))
          for k in range(sets)]
    return sum(sw) / sets, metrics.baseline(data, n, generator=g, repeats=64)


def train_one(preset: str, objective: str, out_dir: Path, overrides: dict) -> float:
    """Train and save one model; returns the training time in seconds."""
    ps = make_preset(preset, N_TRAIN, seed=0, labels=False)
    kind = SHIPPED_DDPM if objective == "ddpm" else {}
    cfg = TrainConfig(**{**TrainConfig().to_dict(), **SHIPPED, **kind, "objective": objective, "device": "cpu",
                         **overrides})
    t0 = time.perf_counter()
    for ev in train(cfg, ps):
        pass
    save_model(ev.model, out_dir / f"{preset}-{objective}.safetensors")
    return time.perf_counter() - t0


def score_file(preset: str, objective: str, out_dir: Path, seconds: float | None) -> dict:
    """Score what ships, read back from the file."""
    path = out_dir / f"{preset}-{objective}.safetensors"
    model = load_model(path)
    ps = make_preset(preset, N_TRAIN, seed=0, labels=False)
    sw, base = quality(model, model.normalizer.forward(torch.as_tensor(ps.points)))
    cfg = model.config["train"]
    row = {"preset": preset, "objective": objective, "file": path.name, "bytes": path.stat().st_size,
           "sampler": model.default_sampler, "sw": sw, "baseline": base, "ratio": sw / base,
           "final_loss": model.config["stats"].get("loss"), "train_seconds": seconds,
           "config": {k: cfg.get(k) for k in ("steps", "lr", "batch_size", "width", "depth", "fourier", "ema")}}
    print(f"{preset:<16} {objective:<5} ratio {sw / base:5.2f}  {path.stat().st_size / 1024:6.1f} KB", flush=True)
    return row


def write_report(rows: list[dict], out_dir: Path) -> None:
    (out_dir / "quality.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["# Shipped preset models", "",
             "Written by `scripts/train_presets.py`. Quality: sliced Wasserstein (SW2, 256 projections) of",
             "2000 samples (default sampler and steps) against a fresh draw of the data, averaged over 8 sample",
             "sets, divided by the data-vs-data baseline at the same n (64 pairs): 1.0 = as close as fresh data.",
             "SW2 of a single set is noisy on data with separated modes (three_modes, eight_gaussians), hence",
             "the averaging.",
             f"Trained on {platform.machine()} CPU, torch {torch.__version__}.", "",
             "| file | sampler | SW | baseline | ratio | size (KB) | steps | train (s) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['file']} | {r['sampler']} | {r['sw']:.4f} | {r['baseline']:.4f} | {r['ratio']:.2f} | "
                     f"{r['bytes'] / 1024:.0f} | {r['config']['steps']} | {r['train_seconds'] or 0:.0f} |")
    (out_dir / "QUALITY.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    ap.add_argument("--objectives", nargs="+", default=["flow", "ddpm"])
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--out", type=Path, default=REPO_MODELS, help=f"folder (default {REPO_MODELS})")
    ap.add_argument("--score-only", action="store_true", help="re-score the files already there")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    overrides = {} if args.steps is None else {"steps": args.steps}
    report = args.out / "quality.json"
    old = {(r["preset"], r["objective"]): r for r in json.loads(report.read_text())} if report.exists() else {}
    for preset in args.presets:
        for objective in args.objectives:
            seconds = None
            if not args.score_only:
                seconds = train_one(preset, objective, args.out, overrides)
            elif (preset, objective) in old:
                seconds = old[(preset, objective)].get("train_seconds")
            old[(preset, objective)] = score_file(preset, objective, args.out, seconds)
    order = {p: i for i, p in enumerate(PRESETS)}
    rows = sorted(old.values(), key=lambda r: (order.get(r["preset"], 99), r["objective"]))
    write_report(rows, args.out)


if __name__ == "__main__":
    main()
