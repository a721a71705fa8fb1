"""Layouts that scale (issue 11 item 2): the default embedding at 20 ... 20,000 instances per step.

Data: `tdl.synthetic.branching(steps, I, dim)` (8 groups by a branching random walk; data seed = embedding
seed). Measures, per run (`tdl.metrics`):
- trust: display trustworthiness per step, mean (`trustworthiness_sampled`, 1000 queries per step:
  exact up to 1000 instances);
- sep: step separation of the optimised radii/positions shown as the reference does (min over steps);
- swaps, late: share of instances whose group jumps across the axis by more than a ring/band spacing
  in the later half of the steps, picture / features (`metrics.swaps`);
- one arc: share of instances whose group is one arc/band piece in the later half, picture / features
  (`metrics.arcs`), by prompt label, and by *data group*: the tree node each instance belongs to at that
  step (`tdl.synthetic.branching_nodes`; before the last split two labels are one group in the data);
- purity by data group (late half), and the run's CPU and wall seconds.

    python bench/tdl_layouts.py --sizes 20 200 2000 --seeds 3
    python bench/tdl_layouts.py --device cuda --sizes 2000 20000 --inits auto random
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdl import layout as lay  # noqa: E402
from tdl.embedding import EmbedConfig, embed  # noqa: E402
from tdl.metrics import arcs, prompt_purity, step_separation, swaps, trustworthiness_sampled  # noqa: E402
from tdl.synthetic import branching, branching_nodes  # noqa: E402


def run(S: int, I: int, dim: int, layout: str, init: str, seed: int, device: str, extra: dict | None = None,
        save: str | None = None) -> dict:
    X, lab = branching(S, I, dim, seed=seed)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    t0, c0 = time.perf_counter(), time.process_time()
    r = embed(X, EmbedConfig(layout=layout, init=init, seed=seed, device=device, log_every=0, **(extra or {})))
    sync()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    c = r.config
    if save:  # the pictures, for figures and later measures
        Path(save).mkdir(parents=True, exist_ok=True)
        np.savez_compressed(Path(save) / f"{layout}-{c.init}-{S}x{I}-seed{seed}.npz", Y=r.Y.cpu().numpy(),
                            Y_opt=r.Y_opt.cpu().numpy(), labels=lab.numpy())
    nodes = branching_nodes(S, I)
    tw = trustworthiness_sampled(r.intermediate, r.Y, queries=1000).mean().item()
    _, sep = step_separation(lay.stretch(r.Y_opt, c.layout, c.stretch, "shift").cpu(), c.layout, c.radius, c.stretch)
    late = slice(S // 2, S)
    sw = swaps(r.Y[late].cpu(), r.intermediate[late], lab, c.layout, c.stretch, c.radius)
    by_label = arcs(r.Y, r.intermediate, lab)
    by_group = arcs(r.Y, r.intermediate, nodes)
    purity = float(np.mean([prompt_purity(r.Y[s:s + 1], nodes[s]).item() for s in range(S // 2, S)]))
    return {"S": S, "I": I, "layout": layout, "init": c.init, "method": c.method, "seed": seed, "device": device,
            "trust": tw, "sep_min": min(sep), "late_swap_2d": sw["swap_2d"], "late_swap_features": sw["swap_features"],
            "one_arc_label_2d": by_label["one_arc_2d"], "one_arc_label_features": by_label["one_arc_features"],
            "one_arc_group_2d": by_group["one_arc_2d"], "one_arc_group_features": by_group["one_arc_features"],
            "group_purity": purity, "wall": wall, "cpu": cpu, "load": os.getloadavg()[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 200, 2000])
    ap.add_argument("--layouts", nargs="+", default=["radial", "rectilinear"])
    ap.add_argument("--inits", nargs="+", default=["auto"], help="EmbedConfig.init values to compare")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jsonl", help="also append every run as a JSON line here")
    ap.add_argument("--save", help="also save each run's display and optimisation coordinates (.npz) here")
    ap.add_argument("--config", default="{}", help='other EmbedConfig fields as JSON, e.g. \'{"align_weight": 0.1}\'')
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"branching, {args.steps} steps x I x {args.dim}-d, device {args.device}, {args.threads} thread(s), "
          f"load {os.getloadavg()[0]:.1f}; means over seeds 0..{args.seeds - 1}; config {args.config}")
    print("| I per step | layout | init | trust | sep (min step) | late swaps 2D / features | one arc, by label "
          "| one arc, by data group | group purity | wall s | CPU s |")
    print("| ---: | --- | --- | ---: | ---: | --- | --- | --- | ---: | ---: | ---: |", flush=True)
    for I in args.sizes:
        for layout in args.layouts:
            for init in args.inits:
                runs = []
                for seed in range(args.seeds):
                    runs.append(run(args.steps, I, args.dim, layout, init, seed, args.device, json.loads(args.config),
                                    args.save))
                    if args.jsonl:
                        with open(args.jsonl, "a") as f:
                            f.write(json.dumps(runs[-1]) + "\n")
                m = {k: float(np.mean([r[k] for r in runs])) for k in runs[0] if isinstance(runs[0][k], float)}
                inits = "/".join(sorted({r["init"] for r in runs}))
                print(f"| {I} | {layout} | {init} ({inits}, {runs[0]['method']}) | {m['trust']:.3f} "
                      f"| {m['sep_min']:.3f} "
                      f"| {m['late_swap_2d']:.3f} / {m['late_swap_features']:.3f} "
                      f"| {m['one_arc_label_2d']:.3f} / {m['one_arc_label_features']:.3f} "
                      f"| {m['one_arc_group_2d']:.3f} / {m['one_arc_group_features']:.3f} | {m['group_purity']:.3f} "
                      f"| {m['wall']:.1f} | {m['cpu']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
