"""Sampling throughput: particles x steps per second of a trained-size model, per sampler and N.

Untrained weights (throughput does not depend on them); the network is the default MLP
(TrainConfig defaults). A "step" is one sampler step (Heun and midpoint cost two network
evaluations per step, so their particle-steps per second are about half of Euler's).

    python bench/throughput.py --device cpu
    python bench/throughput.py --device cuda --n 1000 10000 100000 1000000
"""
from __future__ import annotations

import argparse
import time

import torch

from sandbox.datasets import make_preset
from sandbox.train import TrainConfig, build_model, resolve_device


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def throughput(model, sampler: str, n: int, steps: int, device: torch.device, repeats: int = 3) -> float:
    """Best-of-`repeats` particle-steps per second for one (sampler, n)."""
    model.sample(min(n, 256), sampler=sampler, steps=2, seed=0)  # warm up kernels
    best = float("inf")
    for r in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        model.sample(n, sampler=sampler, steps=steps, seed=r)
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return n * steps / best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--samplers", nargs="+", default=["ddpm", "ddim", "euler", "heun", "euler_maruyama"])
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    ps = make_preset("moons", 1000, seed=0, labels=False)
    models = {kind: build_model(TrainConfig(objective=kind), ps, device) for kind in ("ddpm", "flow")}
    cfg = TrainConfig()
    print(f"# device {device}, {torch.get_num_threads()} threads, "
          f"MLP width {cfg.width} depth {cfg.depth} fourier {cfg.fourier}, "
          f"{args.steps} steps; millions of particle-steps per second (higher is better)")
    print(f"{'sampler':<16} {'model':<5} " + " ".join(f"{f'N={n}':>10}" for n in args.n))
    for sampler in args.samplers:
        kinds = ["ddpm"] if sampler in ("ddpm", "ddim") else ["ddpm", "flow"]
        for kind in kinds:
            vals = [throughput(models[kind], sampler, n, args.steps, device) / 1e6 for n in args.n]
            print(f"{sampler:<16} {kind:<5} " + " ".join(f"{v:>10.2f}" for v in vals), flush=True)


if __name__ == "__main__":
    main()
