"""After a stroke: how fast do the samples reflect the new data with a warm start?

    flock /work/bench.lock python bench/warm_start.py

Start: the shipped moons model (flow and DDPM). The user draws a stroke (400 points along a
segment under the moons). We continue training with `warm_start_config()` (100 steps, no scores)
and sample 2000 particles with the model's default sampler, as the window does after a stroke.
Reports wall and CPU seconds (training + sampling, one thread: sandbox/threads.py) and the
sliced-Wasserstein ratio of the samples to the new data (over data vs data) before and after,
and for comparison the ratio after the same number of steps from scratch. The process is warmed
up first (a 5-step run), as the window's is when the user draws.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    import argparse

    import numpy as np

    from sandbox import quality
    from sandbox.datasets import PointSet, make_preset
    from sandbox.modelio import load_model, shipped_model_path
    from sandbox.threads import apply_thread_policy
    from sandbox.train import TrainConfig, train, warm_start_config

    ap = argparse.ArgumentParser(description="warm start after a stroke")
    ap.add_argument("--steps", type=int, default=0, help="warm-start steps (0 = warm_start_config's)")
    args = ap.parse_args()
    apply_thread_policy()

    def stroke_data(n: int, seed: int) -> np.ndarray:
        g = np.random.default_rng(seed)
        k = n // 5
        u = g.uniform(0, 1, k)
        stroke = np.stack([-0.5 + 2.5 * u, np.full(k, -1.0)], 1) + 0.03 * g.standard_normal((k, 2))
        return np.concatenate([make_preset("moons", n=n - k, seed=seed).points, stroke])

    new = PointSet(stroke_data(2000, 0), None, [], "moons+stroke")
    # the window's process is warm: pay torch's one-time start-up (thread pool, first kernels) here
    for _ in train(TrainConfig(steps=5, eval_every=0), new, "cpu"):
        pass
    print(f"# {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}, torch threads 1")
    print(f"{'objective':9s} {'steps':>5s} {'train s':>8s} {'sample s':>8s} {'total s':>8s} {'cpu s':>6s} "
          f"{'before':>7s} {'after':>7s} {'scratch':>7s}")
    for objective in ("flow", "ddpm"):
        old = load_model(shipped_model_path("moons", objective))
        before = quality.sw_ratio([old.sample(2000, seed=1).final.numpy()], stroke_data)
        cfg = warm_start_config(TrainConfig(objective=objective), **({"steps": args.steps} if args.steps else {}))
        wall, cpu = time.perf_counter(), time.process_time()
        for ev in train(cfg, new, "cpu", init=old):
            pass
        t_train = time.perf_counter() - wall
        x = ev.model.sample(2000, seed=1).final.numpy()
        t_all, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = quality.sw_ratio([x], stroke_data)
        for ev2 in train(TrainConfig(objective=objective, steps=cfg.steps, eval_every=0, patience=0), new, "cpu"):
            pass
        scratch = quality.sw_ratio([ev2.model.sample(2000, seed=1).final.numpy()], stroke_data)
        print(f"{objective:9s} {cfg.steps:5d} {t_train:8.2f} {t_all - t_train:8.2f} {t_all:8.2f} {cpu:6.2f} "
              f"{before:7.2f} {after:7.2f} {scratch:7.2f}", flush=True)
    print(f"# load after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
