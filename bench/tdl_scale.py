"""Scale benchmark of the evolutionary embedding: wall time, peak memory and trustworthiness at
S steps x I instances x 512-d, exact and approximate, CPU or GPU.

Data: a branching family (8 groups that split over the steps, decaying noise), generated on the
device. Time is the whole `tdl.embedding.embed` (PCA, kNN affinities, optimisation), after a small
warm-up run (CUDA context, cuFFT plans). Trustworthiness (k = 7, display coordinates) is estimated on
a random subsample of `--eval-instances` instances at 5 evenly spaced steps (both spaces restricted to
the subsample), since the exact measure needs I x I ranks per step.

    python bench/tdl_scale.py --device cuda --sizes 50x2000 50x10000 50x20000
    python bench/tdl_scale.py --sizes 50x1000 --methods exact approx          # CPU
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdl.embedding import EmbedConfig, embed  # noqa: E402
from tdl.metrics import evaluate_display, late_purity, step_separation  # noqa: E402


def family(S: int, I: int, D: int, device, groups: int = 8, seed: int = 0):
    """Branching groups in D dims with decaying noise, made on `device`: `(S, I, D)`, labels `(I,)`."""
    g = torch.Generator(device=device).manual_seed(seed)
    labels = torch.arange(I, device=device) % groups
    levels = int(math.log2(groups))
    centre = torch.zeros(1, D, device=device)
    paths = torch.zeros(S, groups, D, device=device)
    for s in range(S):
        d = min(levels, (s * (levels + 1)) // S)
        while centre.shape[0] < 2 ** d:
            centre = centre.repeat_interleave(2, dim=0)
        centre = centre + 0.15 * torch.randn(centre.shape, generator=g, device=device)
        paths[s] = centre[(torch.arange(groups, device=device) * 2 ** d) // groups]
    offset = 0.3 * torch.randn(I, D, generator=g, device=device)
    level = 0.1 + 1.4 * torch.linspace(1, 0, S, device=device) ** 2
    X = torch.empty(S, I, D, device=device)
    for s in range(S):  # one step at a time: no (S, I, D) temporaries
        X[s] = paths[s, labels] + offset + level[s] * torch.randn(I, D, generator=g, device=device)
    return X, labels


def estimate(result, labels, n: int, seed: int = 0) -> dict:
    S, I = result.Y.shape[:2]
    g = torch.Generator().manual_seed(seed)
    pick = torch.randperm(I, generator=g)[: min(n, I)].to(result.Y.device)
    steps = torch.linspace(0, S - 1, min(5, S)).round().long().to(result.Y.device)
    sub = lambda t: t[steps][:, pick]  # noqa: E731
    cfg = result.config
    m = evaluate_display(sub(result.intermediate), sub(result.Y), sub(result.Y_opt), cfg.layout, cfg.radius,
                         cfg.stretch)
    sep, per = step_separation(result.Y.double(), cfg.layout, cfg.radius, cfg.stretch)
    from tdl.metrics import swaps
    sw = swaps(result.Y, result.intermediate, labels, cfg.layout, cfg.stretch)
    return {"swap_2d": sw["swap_2d"], "swap_f": sw["swap_features"], "trust": m["trustworthiness"],
            "trust_opt": m["trustworthiness_opt"], "sep": sep, "sep_min": min(per),
            "purity": late_purity(sub(result.Y), labels[pick].cpu())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["50x1000"], help="STEPSxINSTANCES")
    ap.add_argument("--methods", nargs="+", default=["auto"])
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--n-iter", type=int, default=None)
    ap.add_argument("--eval-instances", type=int, default=1000)
    ap.add_argument("--configs", nargs="+", default=["-"], help="EmbedConfig overrides per run: k=v,k=v ('-': none)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = args.device.startswith("cuda")
    if cuda:
        name = torch.cuda.get_device_name(0)
        embed(family(5, 300, args.dim, args.device)[0], EmbedConfig(device=args.device, n_iter=20, method="approx"))
        embed(family(5, 300, args.dim, args.device)[0], EmbedConfig(device=args.device, n_iter=20, method="exact"))
    else:
        name = f"CPU, {torch.get_num_threads()} threads, {os.cpu_count()} cores"
    print(f"device: {name}; torch {torch.__version__}; load {os.getloadavg()[0]:.1f}")
    print("| S x I | points | method | wall s | PCA s | P s | optimise s | peak GPU GiB | trust (est.; opt) "
          "| step sep (min) | late purity | swaps 2D / features |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)
    for size in args.sizes:
        S, I = (int(v) for v in size.lower().split("x"))
        X, labels = family(S, I, args.dim, args.device)
        for method, over in [(m, c) for m in args.methods for c in args.configs]:
            kv = dict(e.split("=") for e in over.split(",")) if over != "-" else {}
            kv = {k: (int(v) if k == "n_iter" else float(v) if v.replace(".", "", 1).isdigit() else v)
                  for k, v in kv.items()}
            cfg = EmbedConfig(device=args.device, method=method, log_every=0,
                              **({"n_iter": args.n_iter} if args.n_iter else {}), **kv)
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
            try:
                r = embed(X, cfg)
            except torch.OutOfMemoryError as e:  # report and go on with the next size
                print(f"| {S}x{I} {over} | {S * I} | {method} | out of memory: {str(e)[:80]} |", flush=True)
                continue
            peak = (torch.cuda.max_memory_allocated() - base) / 2 ** 30 if cuda else float("nan")
            e = estimate(r, labels, args.eval_instances)
            t = r.extra
            print(f"| {S}x{I} {over if over != '-' else ''} | {S * I:,} | {r.method} | {r.runtime_s:.1f} "
                  f"| {t['pca_s']:.1f} | {t['affinity_s']:.1f} "
                  f"| {t['optimise_s']:.1f} | {peak:.1f} | {e['trust']:.3f} ({e['trust_opt']:.3f}) "
                  f"| {e['sep']:.3f} ({e['sep_min']:.3f}) "
                  f"| {e['purity']:.3f} | {e['swap_2d']:.3f} / {e['swap_f']:.3f} |", flush=True)
            del r
        del X
        if cuda:
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
