"""Sweep training configurations for final quality, many single-thread runs in parallel.

    python bench/quality_sweep.py OUT.jsonl                # every config x data set x 5 seeds
    PROCS=16 SEEDS=5 BUDGET=300 python bench/quality_sweep.py OUT.jsonl

Each task trains one config (`CONFIGS`: objective + TrainConfig overrides, eval off) on one data set
(sandbox.quality.data_sets(), training draw = seed, drawn as the CLI does: quality.training_data)
and samples 3 x 2000 points with each sampler
of `SAMPLERS`, writing one JSON line per sampler: the SW ratio and far share as in
bench/quality_defaults.py, and the training CPU seconds (with PROCS processes sharing the machine
these are only relative). Quality does not depend on the machine's speed (seeded, CPU), so the
sweep ran on the GPU machine's 16 CPU cores (bench/results/quality_sweep_h200cpu.jsonl,
docs/BENCHMARKS.md); summarise with `--summary OUT.jsonl`. BUDGET (s) stops it early.
"""
import json
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np  # noqa: E402
import torch  # noqa: E402

CONFIGS = {
 "flow-default": ("flow", {}),
 "ddpm-default": ("ddpm", {}),
 "FA": ("flow", dict(reference=0, steps=600)),
 "FB": ("flow", dict(reference=256, steps=600)),
 "FC": ("flow", dict(reference=0, steps=800)),
 "FD": ("flow", dict(reference=256, steps=800)),
 "DA": ("ddpm", dict(schedule="cosine", reference=0, steps=600)),
 "DB": ("ddpm", dict(schedule="cosine", reference=256, steps=600)),
 "DC": ("ddpm", dict(schedule="cosine", reference=0, steps=800)),
 "DD": ("ddpm", dict(schedule="cosine", reference=256, steps=800)),
 # session 16: batch 384 x 800 steps, DDPM predicting v
 "F384": ("flow", dict(batch_size=384, steps=800)),
 "Dv": ("ddpm", dict(prediction="v")),
 "D384": ("ddpm", dict(batch_size=384, steps=800)),
 "Dv384": ("ddpm", dict(prediction="v", batch_size=384, steps=800)),
 "Dv384e": ("ddpm", dict(prediction="v", batch_size=384, steps=800, ema=0.995)),
 "Dv384lr": ("ddpm", dict(prediction="v", batch_size=384, steps=800, lr=1.5e-2)),
 "Dv900": ("ddpm", dict(prediction="v", batch_size=384, steps=900)),
 "Dv320": ("ddpm", dict(prediction="v", batch_size=320, steps=900)),
 "Dv288": ("ddpm", dict(prediction="v", batch_size=288, steps=1000)),
}
SAMPLERS = {"flow": [("euler_maruyama", 100), ("euler_maruyama", 50)], "ddpm": [("ddpm", 100), ("ddpm", 200)]}
if os.environ.get("DDPM_SAMPLERS"):  # e.g. "ddpm:100,ddpm:150"
    SAMPLERS["ddpm"] = [(s.split(":")[0], int(s.split(":")[1])) for s in os.environ["DDPM_SAMPLERS"].split(",")]
NSETS = 3
if os.environ.get("FIRST_SAMPLER"):  # only each objective's first sampler (the models' defaults)
    SAMPLERS = {k: v[:1] for k, v in SAMPLERS.items()}

def task(args):
    cname, name, seed = args
    torch.set_num_threads(1)
    from sandbox import quality
    from sandbox.train import TrainConfig
    obj, over = CONFIGS[cname]
    try:
        cfg = TrainConfig(objective=obj, seed=seed, eval_every=0, patience=0, **over)
        r = quality.train_and_score(name, cfg, samplers=SAMPLERS[obj], sets=NSETS)
        return [dict(cfg=cname, data=name, seed=seed, obj=obj, sampler=f"{smp}:{k}", ratio=s["ratio"], far=s["far"],
                     near=s["near"], cpu=r["cpu_seconds"]) for (smp, k), s in zip(SAMPLERS[obj], r["scores"])]
    except Exception:
        return [dict(cfg=cname, data=name, seed=seed, error=traceback.format_exc()[-800:])]

def summary(path: str) -> None:
    """Per config and sampler: data sets within the bar (mean over seeds), worst ratio and far."""
    import collections

    rows = [json.loads(x) for x in open(path)]
    rows = [r for r in rows if "error" not in r]
    cells = collections.defaultdict(list)
    for r in rows:
        cells[(r["cfg"], r["sampler"], r["data"])].append(r)
    print(f"{'config':6s} {'sampler':20s} {'within bar':>10s} {'worst ratio':>11s} {'worst far':>9s}")
    for cfg, smp in sorted({(c, s) for c, s, _ in cells}):
        means = [(np.mean([r["ratio"] for r in v]), np.mean([r["far"] for r in v]))
                 for (c, s, _), v in cells.items() if (c, s) == (cfg, smp)]
        ok = sum(r <= 1.2 and f <= 0.01 for r, f in means)
        print(f"{cfg:6s} {smp:20s} {ok:4d} / {len(means):<3d} {max(r for r, _ in means):11.2f} "
              f"{100 * max(f for _, f in means):8.2f}%")


if __name__ == "__main__":
    if sys.argv[1] == "--summary":
        summary(sys.argv[2])
        sys.exit(0)
    import multiprocessing as mp
    from sandbox import quality
    sets = os.environ["SETS"].split(",") if os.environ.get("SETS") else list(quality.data_sets())
    cfgs = os.environ["CFGS"].split(",") if os.environ.get("CFGS") else [c for c in CONFIGS if "default" not in c]
    seeds = list(range(int(os.environ.get("SEEDS", "5"))))
    tasks = [(c, s, sd) for sd in seeds for c in cfgs for s in sets]
    out = open(sys.argv[1], "w")
    t0 = time.time()
    with mp.get_context("fork").Pool(int(os.environ.get("PROCS", "16"))) as pool:
        for i, rows in enumerate(pool.imap_unordered(task, tasks)):
            for r in rows:
                out.write(json.dumps(r) + "\n")
            out.flush()
            if i % 100 == 0:
                print(i, len(tasks), round(time.time() - t0), flush=True)
            if time.time() - t0 > float(os.environ.get("BUDGET", "330")):
                print("budget reached at", i)
                pool.terminate()
                break
    print("done", round(time.time() - t0))
