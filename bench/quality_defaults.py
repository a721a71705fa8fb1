"""Final quality of default training: every preset and the held-out sets, both objectives.

    python bench/quality_defaults.py                       # the full table (docs/BENCHMARKS.md)
    python bench/quality_defaults.py --sets moons grid_5x5 --objectives flow --set steps=800
    python bench/quality_defaults.py --busy                # with another process keeping a core busy

Per data set and objective, for each of --seeds training draws (seed k: the set drawn with seed
k as the CLI draws it -- presets and the picture with 20,000 points, the other held-out sets as a
user's file of 2000 points, `quality.training_data` -- and TrainConfig(seed=k)): train
`TrainConfig(objective=...)` (plus --set overrides) as `diffusion-sandbox train` does, sample
4 x 2000 points with the model's default sampler, and report the means over the seeds of: wall
and CPU seconds of training, steps, the sliced-Wasserstein ratio to fresh data (quality.sw_ratio:
1 = as close as another draw of the data; bar 1.2) and the share of samples farther than 4 noise
scales from a fresh draw of 20000 points (bar 1%), and `near` (quality.near_ratio: how close the
samples sit to the data, over the same for fresh data; thick rings and blurred edges show here,
the issue sets no bar for it). Several training draws because one draw of
2000 points is itself 0.8-1.6x data-vs-data away from the others, and a model inherits its
training draw's luck.
Threads: the engine's policy (sandbox.threads) unless --threads. Run timings under
`flock /work/bench.lock` on a shared machine, and quote the load it prints.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _value(v: str):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(v.lower(), v)


def run_one(name: str, objective: str, overrides: dict, seed: int = 0, n_train: int | None = None) -> dict:
    import numpy as np
    import torch

    from sandbox import quality
    from sandbox.train import TrainConfig

    r = quality.train_and_score(name, TrainConfig(objective=objective, seed=seed, **overrides), n_train=n_train)
    data, score = r["data"], r["scores"][0]
    pick = np.random.default_rng(seed).choice(len(data.points), min(2000, len(data.points)), replace=False)
    own = quality.sw_ratio([data.points[pick]], quality.data_sets()[name][0])  # a model inherits its draw's luck
    return {"data": name, "objective": objective, "data_ratio": round(own, 3), "seconds": round(r["seconds"], 2),
            "cpu_seconds": round(r["cpu_seconds"], 2), "steps": r["steps"], "stopped": r["stopped"],
            "ratio": round(score["ratio"], 3), "far_4sigma": round(score["far"], 4), "near": round(score["near"], 3),
            "threads": torch.get_num_threads()}


def main() -> int:
    from sandbox import quality

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=list(quality.data_sets()))
    ap.add_argument("--objectives", nargs="+", default=["flow", "ddpm"])
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="TrainConfig overrides")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = sandbox.threads policy)")
    ap.add_argument("--busy", action="store_true", help="run a busy-loop process beside it (one core)")
    ap.add_argument("--seeds", type=int, default=5, help="training draws per data set and objective")
    ap.add_argument("--train-n", type=int, default=None,
                    help="training points per run (default: as the CLI draws them, quality.training_data)")
    ap.add_argument("--json", type=Path, help="append the rows to this JSON-lines file")
    ap.add_argument("--markdown", type=Path, help="print the rows of this JSON-lines file as a table and exit")
    args = ap.parse_args()
    if args.markdown:
        print("| data set | objective | wall s | CPU s | steps | ratio (per draw) | training draws' own ratio "
              "| far > 4σ | near | load |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for line in args.markdown.read_text().splitlines():
            r = json.loads(line)
            ok = "" if r["ratio"] <= 1.2 and r["far_4sigma"] <= 0.01 else " ✗"
            per = " ".join(f"{x:.2f}" for x in r.get("ratios", [r["ratio"]]))
            print(f"| {r['data']} | {r['objective']} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['steps']} | "
                  f"{r['ratio']:.2f}{ok} ({per}) | {r.get('data_ratio', float('nan')):.2f} | "
                  f"{100 * r['far_4sigma']:.2f}% | {r.get('near', float('nan')):.2f} | "
                  f"{'-' if r['load'] is None else format(r['load'], '.1f')} |")
        return 0
    import torch

    from sandbox.threads import apply_thread_policy

    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        apply_thread_policy()
    overrides = dict(kv.split("=", 1) for kv in args.set)
    overrides = {k: _value(v) for k, v in overrides.items()}
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        print(f"# load {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cpus, busy={args.busy}, "
              f"overrides {overrides}", flush=True)
        print(f"{'data':16s} {'obj':5s} {'wall s':>7s} {'cpu s':>6s} {'steps':>6s} {'stop':>10s} "
              f"{'ratio':>6s} {'far4σ':>7s} {'near':>5s} thr", flush=True)
        worst = 0.0
        for name in args.sets:
            for obj in args.objectives:
                runs = [run_one(name, obj, overrides, k, args.train_n) for k in range(args.seeds)]
                row = dict(runs[0])
                for key in ("seconds", "cpu_seconds", "ratio", "far_4sigma", "data_ratio", "near"):
                    row[key] = round(sum(r[key] for r in runs) / len(runs), 4)
                row["steps"] = round(sum(r["steps"] for r in runs) / len(runs))
                row["ratios"] = [r["ratio"] for r in runs]
                row["seeds"] = args.seeds
                row.update(load=round(os.getloadavg()[0], 2), busy=args.busy)
                worst = max(worst, row["ratio"])
                print(f"{row['data']:16s} {obj:5s} {row['seconds']:7.2f} {row['cpu_seconds']:6.2f} {row['steps']:6d} "
                      f"{row['stopped']:>10s} {row['ratio']:6.3f} {100 * row['far_4sigma']:6.2f}% {row['near']:5.2f} "
                      f"{row['threads']}",
                      flush=True)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(row) + "\n")
        print(f"# load after {os.getloadavg()[0]:.2f}; worst ratio {worst:.3f}")
    finally:
        if busy is not None:
            busy.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
