"""Fidelity of embedding variants against the reference's settings, paired by seed, many cores at once.

Each task is one (data, variant, seed): `embed` on one thread, scored as `bench/tdl_fidelity.py` does
(display trustworthiness, final-step trustworthiness, late purity; k = 7 on the figure's coordinates).
The table gives, per variant and data set, the mean over seeds of (variant - reference) for each
measure, with its standard error, the same seeds on both sides. A variant "holds" a cell when the mean
margin is >= 0. Rows of every run go to `--out` (JSON lines) so a long sweep can be summarised again.

    python bench/tdl_sweep.py --digits traj.npz --layout rectilinear --seeds 10 --procs 16 \\
        --variant it1000=n_iter:1000 --variant p20=perplexity:20
    python bench/tdl_sweep.py --digits traj.npz --families --seeds 96 --variant ref+it1000=n_iter:1000
    python bench/tdl_sweep.py --digits draws/digits_s*.npz --families --seeds 24 --procs 16
    python bench/tdl_sweep.py --summarise rows.jsonl

Several `--digits` files (draws of the digits source: `tdl sample --seed K --out digits_sK.npz`) pool
into one "digits" column, pairs matched by (draw, seed); `--data-seeds N` draws each family N times
(data seeds 1..N); `--per-draw` counts the draws where each measure holds.

A variant named "ref+..." starts from the reference's settings instead of the defaults.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

KEYS = ("trust", "final", "purity")


def parse_variant(text: str) -> tuple[str, dict]:
    """"name=key:value,key:value" -> (name, overrides); values are numbers where they parse."""
    name, _, rest = text.partition("=")
    over = {}
    for part in filter(None, rest.split(",")):
        k, _, v = part.partition(":")
        for cast in (int, float):
            try:
                v = cast(v)
                break
            except ValueError:
                pass
        over[k] = v
    return name, over


def load(name: str, digits: str | None, steps: int, instances: int, dim: int, data_seed: int | None = None):
    import torch
    if name == "digits":
        from tdl.trajectory import TrajectoryData
        t = TrajectoryData.load(digits)
        return torch.as_tensor(t.features), np.asarray(t.prompt_index)
    from tdl.synthetic import FAMILIES
    X, lab = FAMILIES[name](steps, instances, dim, **({} if data_seed is None else {"seed": data_seed}))
    return X, lab.numpy()


def config_for(task: dict):
    """The task's EmbedConfig: the defaults with its overrides, or the reference's settings with them for
    "reference" and "ref+NAME" variants (which of the reference's settings carries its margin)."""
    from tdl.embedding import EmbedConfig
    from_ref = task["variant"] == "reference" or task["variant"].startswith("ref+")
    base = EmbedConfig.reference if from_ref else EmbedConfig
    return base(layout=task["layout"], seed=task["seed"], **task["over"])


def run_one(task: dict) -> dict:
    import torch
    torch.set_num_threads(1)
    from tdl.embedding import embed
    from tdl_fidelity import scores
    X, lab = load(task["data"], task["digits"], task["steps"], task["instances"], task["dim"], task.get("data_seed"))
    cfg = config_for(task)
    t0, c0 = time.perf_counter(), time.process_time()
    r = embed(X, cfg)
    out = {k: task[k] for k in ("data", "variant", "seed", "layout", "over")}
    if task["data"] == "digits":
        out["draw"] = Path(task["digits"]).name
    elif task.get("data_seed") is not None:
        out["draw"] = f"seed {task['data_seed']}"
    out.update(scores(r, r.Y, lab), wall=time.perf_counter() - t0, cpu=time.process_time() - c0)
    return out


def summarise(rows: list[dict]) -> str:
    # a "seed" is (draw, seed) where the data come in several draws: pairs stay within a draw
    by = {(r["layout"], r["data"], r["variant"], (_draw(r), r["seed"])): r for r in rows}
    layouts = sorted({r["layout"] for r in rows})
    data = sorted({r["data"] for r in rows}, key=lambda d: (d != "digits", d))
    variants = list(dict.fromkeys(r["variant"] for r in rows if r["variant"] != "reference"))
    lines = ["| layout | variant | " + " | ".join(data) + " | cells held | smallest mean margin | CPU s / run |",
             "| --- | --- | " + " | ".join("---" for _ in data) + " | ---: | ---: | ---: |"]
    for layout in layouts:
        for v in variants:
            cells, held, worst, cpu = [], 0, np.inf, []
            for d in data:
                seeds = sorted(s for (lo, dd, vv, s) in by if (lo, dd, vv) == (layout, d, v)
                               and (layout, d, "reference", s) in by)
                if not seeds:
                    cells.append("-")
                    continue
                parts = []
                for k in KEYS:
                    m = np.array([by[(layout, d, v, s)][k] - by[(layout, d, "reference", s)][k] for s in seeds])
                    se = m.std(ddof=1) / np.sqrt(len(m)) if len(m) > 1 else float("nan")
                    held += m.mean() >= 0
                    worst = min(worst, m.mean())
                    parts.append(f"{m.mean():+.4f}±{se:.4f}")
                cpu += [by[(layout, d, v, s)]["cpu"] for s in seeds]
                cells.append(" / ".join(parts) + f" (n={len(seeds)})")
            total = 3 * sum(c != "-" for c in cells)
            if not total:  # this variant was not run with this layout
                continue
            lines.append(f"| {layout} | {v} | " + " | ".join(cells)
                         + f" | {held}/{total} | {worst:+.4f} | {np.mean(cpu) if cpu else float('nan'):.2f} |")
    return "\n".join(lines)


def _draw(row: dict) -> str:
    return row.get("draw") or row.get("file") or ""


def per_draw(rows: list[dict]) -> str:
    """Per data set, draw and variant: mean margins display / final / purity over its seeds, and how many
    draws hold each measure."""
    by = {(r["layout"], r["data"], r["variant"], _draw(r), r["seed"]): r for r in rows if _draw(r)}
    out = ["| layout | data | variant | draws | display >= 0 | final >= 0 | purity >= 0 | worst draw's margins |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for lo, d, v in sorted({k[:3] for k in by if k[2] != "reference"}):
        per = []
        for f in sorted({k[3] for k in by if k[:3] == (lo, d, v)}):
            seeds = [k[4] for k in by if k[:4] == (lo, d, v, f) and (lo, d, "reference", f, k[4]) in by]
            if seeds:
                per.append([np.mean([by[(lo, d, v, f, s)][k] - by[(lo, d, "reference", f, s)][k] for s in seeds])
                            for k in KEYS])
        if not per:
            continue
        m = np.array(per)
        worst = m[m.min(1).argmin()]
        out.append(f"| {lo} | {d} | {v} | {len(m)} | " + " | ".join(str(int((m[:, i] >= 0).sum())) for i in range(3))
                   + " | " + " / ".join(f"{x:+.4f}" for x in worst) + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--digits", nargs="+", help="digits traj.npz files (tdl sample); several: draws pooled "
                    "into one column (pairs within a draw); without it the digits are skipped")
    ap.add_argument("--data-seeds", type=int, default=0, help="families: this many draws (data seeds 1..N) "
                    "instead of the one (seed 0) each family is built with")
    ap.add_argument("--per-draw", action="store_true", help="also how many draws of each data set hold")
    ap.add_argument("--families", nargs="*", default=["branching", "drift", "many_prompts", "switches"])
    ap.add_argument("--layout", nargs="+", default=["rectilinear"])
    ap.add_argument("--variant", action="append", default=[], help="name=key:value,key:value (EmbedConfig)")
    ap.add_argument("--no-defaults", action="store_true", help="leave out the defaults variant")
    ap.add_argument("--no-reference", action="store_true", help="leave out the reference (rows of it from an "
                    "earlier run, summarised together with --summarise)")
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--procs", type=int, default=os.cpu_count())
    ap.add_argument("--out", default="tdl_sweep.jsonl")
    ap.add_argument("--summarise", nargs="*", help="only summarise these JSON-lines files")
    args = ap.parse_args(argv)
    if args.summarise is not None:
        rows = [json.loads(line) for f in args.summarise for line in open(f) if line.strip()]
        print(summarise(rows))
        if args.per_draw:
            print(per_draw(rows))
        return 0
    variants = ([] if args.no_defaults else [("defaults", {})]) + [parse_variant(v) for v in args.variant]
    if not args.no_reference:
        variants.append(("reference", {}))
    draws = range(1, args.data_seeds + 1) if args.data_seeds else [None]
    data = ([("digits", f, None) for f in args.digits or []]
            + [(d, None, k) for d in args.families for k in draws])
    tasks = [{"data": d, "variant": name, "over": over, "seed": s, "layout": lo, "digits": f, "data_seed": k,
              "steps": args.steps, "instances": args.instances, "dim": args.dim}
             for lo in args.layout for name, over in variants for d, f, k in data
             for s in range(args.first_seed, args.first_seed + args.seeds)]
    tasks.sort(key=lambda t: t["variant"] != "reference")  # the longest first
    t0 = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(args.procs) as pool, open(args.out, "a") as f:
        for i, r in enumerate(pool.map(run_one, tasks, chunksize=1)):
            rows.append(r)
            f.write(json.dumps(r) + "\n")
            f.flush()
    print(f"{len(tasks)} runs in {time.perf_counter() - t0:.0f} s on {args.procs} processes; "
          f"load {os.getloadavg()[0]:.1f}")
    print(summarise(rows))
    if args.per_draw:
        print(per_draw(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
