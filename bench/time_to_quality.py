"""Time-to-quality: seconds from the start of training until samples are as good as data.

Clock: starts before `train()` builds the model and stops at the first evaluation whose sliced
Wasserstein distance (SW2, 256 projections) between `eval_samples` = 2000 model samples and the
data is <= 1.5 x the data-vs-data baseline at the same n (sandbox.metrics.baseline). Evaluation
(sampling 2000 points with the model's default sampler + the metric) runs inside the clock.
The device is warmed up (CUDA context, kernels) before the clock starts.

    python bench/time_to_quality.py --device cpu --repeats 3
    python bench/time_to_quality.py --datasets moons smiley --objectives flow --set batch_size=1024

Also prints the steps to quality (machine-independent) and the time per training step measured
apart (best of several short runs, so less disturbed by other processes).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import fields

import torch

from sandbox.datasets import make_preset
from sandbox.train import TrainConfig, resolve_device, train

DATASETS = ["moons", "eight_gaussians", "checkerboard", "smiley"]
TARGET = 1.5


def parse_overrides(items: list[str]) -> dict:
    types = {f.name: f.type for f in fields(TrainConfig)}
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in types:
            sys.exit(f"unknown TrainConfig field {key!r}")
        default = getattr(TrainConfig(), key)
        out[key] = value.lower() in ("1", "true", "yes") if isinstance(default, bool) else type(default)(value)
    return out


def warm_up(device: torch.device) -> None:
    """Create the CUDA context / load kernels outside the clock (a few steps on a toy run)."""
    cfg = TrainConfig(steps=5, eval_every=5, eval_samples=64, device=str(device))
    for _ in train(cfg, make_preset("moons", 256, seed=0)):
        pass
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_to_quality(cfg: TrainConfig, dataset: str, n_train: int, seed: int) -> dict:
    pointset = make_preset(dataset, n_train, seed=seed, labels=False)
    t0 = time.perf_counter()
    result = {"dataset": dataset, "objective": cfg.objective, "seconds": None, "steps": None}
    last = None
    for ev in train(cfg, pointset):
        if ev.score is None:
            continue
        last = ev
        if ev.score <= TARGET * ev.baseline:
            result.update(seconds=time.perf_counter() - t0, steps=ev.step)
            break
    result.update(total_seconds=time.perf_counter() - t0, score=last.score, baseline=last.baseline,
                  ratio=last.score / last.baseline, eval_steps=last.step)
    return result


def step_time(cfg: TrainConfig, dataset: str, n_train: int, steps: int = 100, tries: int = 3) -> float:
    """Seconds per training step without evaluation: the best of `tries` runs of `steps` steps."""
    pointset = make_preset(dataset, n_train, seed=0, labels=False)
    run_cfg = TrainConfig(**{**cfg.to_dict(), "steps": steps, "eval_every": 0})
    best = float("inf")
    for _ in range(tries):
        t0 = time.perf_counter()
        for ev in train(run_cfg, pointset):
            pass
        float(ev._loss)  # sync
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def machine(device: torch.device) -> str:
    import os

    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch threads, torch {torch.__version__}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=1, help="seeds per (dataset, objective); medians are shown")
    ap.add_argument("--datasets", nargs="+", default=DATASETS)
    ap.add_argument("--objectives", nargs="+", default=["ddpm", "flow"])
    ap.add_argument("--n-train", type=int, default=10000)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="TrainConfig overrides")
    ap.add_argument("--no-step-time", action="store_true")
    ap.add_argument("--json", help="also write the rows here")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    overrides = parse_overrides(args.set)
    warm_up(device)
    print(f"# {machine(device)}; target SW <= {TARGET} x data-vs-data baseline, 2000 samples")
    print(f"{'dataset':<16} {'objective':<9} {'seconds':>8} {'steps':>6} {'SW':>7} "
          f"{'baseline':>8} {'ratio':>6} {'ms/step':>8}")
    rows = []
    for dataset in args.datasets:
        for objective in args.objectives:
            cfg = TrainConfig(**{**TrainConfig().to_dict(), "objective": objective, "device": str(device), **overrides})
            runs = []
            for r in range(args.repeats):
                cfg.seed = r
                runs.append(time_to_quality(cfg, dataset, args.n_train, seed=r))
            ok = [x for x in runs if x["seconds"] is not None]
            ms = None if args.no_step_time else 1000 * step_time(cfg, dataset, args.n_train)
            row = {"dataset": dataset, "objective": objective, "reached": f"{len(ok)}/{len(runs)}",
                   "seconds": statistics.median([x["seconds"] for x in ok]) if ok else None,
                   "steps": statistics.median([x["steps"] for x in ok]) if ok else None,
                   "score": statistics.median([x["score"] for x in runs]),
                   "baseline": statistics.median([x["baseline"] for x in runs]),
                   "ratio": statistics.median([x["ratio"] for x in runs]), "ms_per_step": ms, "runs": runs}
            rows.append(row)
            sec = f"{row['seconds']:.2f}" if ok else "  --"
            mss = "--" if ms is None else f"{ms:.2f}"
            stp = f"{row['steps']:.0f}" if ok else "--"
            print(f"{dataset:<16} {objective:<9} {sec:>8} {stp:>6} {row['score']:>7.4f} {row['baseline']:>8.4f} "
                  f"{row['ratio']:>6.2f} {mss:>8}  ({row['reached']} reached)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(device), "overrides": overrides, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
