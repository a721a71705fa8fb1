"""Scale benchmark of the evolutionary embedding: wall time, peak memory and trustworthiness at
S steps x I instances x 512-d, exact and approximate, CPU or GPU.

Data: a branching family (8 groups that split over the steps, decaying noise), generated on the
device. Time is the whole `tdl.embedding.embed` (PCA, kNN affinities, optimisation), after a small
warm-up run (CUDA context, cuFFT plans). Trustworthiness (k = 7, display coordinates) is estimated on
a random subsample of `--eval-instances` instances at 5 evenly spaced steps (both spaces restricted to
the subsample), since the exact measure needs I x I ranks per step.

    python bench/tdl_scale.py --device cuda --sizes 50x2000 50x10000 50x20000
    python bench/tdl_scale.py --sizes 50x1000 --methods exact approx          # CPU
    python bench/tdl_scale.py --sizes 50x2000 50x5000 --methods exact approx --time-iters 5   # crossover
    python bench/tdl_scale.py --device cuda --family digits --sizes 50x20000 --tsne-baseline 1000

Trustworthiness is reported three ways: the all-points estimate at the 5 steps
(`tdl.metrics.trustworthiness_sampled`: `--queries` random points per step, each with its
neighbourhoods among all I points: the exact measure's expected value; with the optimisation
coordinates in brackets and per step below the row), the same over every step (`--all-queries` a step:
item 1's "display trustworthiness", the mean over all steps) and the older subsample estimate (both
spaces restricted to `--eval-instances` points, a coarser neighbourhood that reads lower).
A config with `disp_weight=0,align_weight=0` (free per-step t-SNE) also prints what rings made from
its layouts keep (`ring_bound`: the best a ring layout of these neighbourhoods shows, with and without
the display). Families: `--family` branching (default), digits, drift, switches, many_prompts.

    python bench/tdl_scale.py --device cuda --sizes 50x20000 --configs - free_iters=150 disp_weight=0,align_weight=0
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdl.embedding import EmbedConfig, embed  # noqa: E402
from tdl.metrics import evaluate_display, late_purity, step_separation, trustworthiness_sampled  # noqa: E402


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


def digits_family(S: int, I: int, device):
    """Trajectories of the built-in digits model (the reference's kind of data: a diffusion model's x0
    predictions), 10 prompts x I / 10 seeds, S - 1 DDIM steps: `(S, I, 64)`, labels `(I,)`."""
    from tdl.sources.digits import digits
    t = digits(instances_per_prompt=I // 10, steps=S - 1, device=device, progress=False)
    return torch.as_tensor(t.features, device=device), torch.as_tensor(t.prompt_index, device=device)


def synthetic_family(name: str, S: int, I: int, D: int, device):
    """One of `tdl.synthetic.FAMILIES` at S x I x D (made on the CPU), moved to `device`."""
    from tdl import synthetic
    kw = {"prompts": max(2, I // 5)} if name == "many_prompts" else {}
    X, labels = synthetic.FAMILIES[name](steps=S, instances=I, dim=D, **kw)
    return X.to(device), labels.to(device)


def eval_steps(S: int, device) -> torch.Tensor:
    return torch.linspace(0, S - 1, min(5, S)).round().long().to(device)


def estimate(result, labels, n: int, seed: int = 0, queries: int = 1000, all_queries: int = 0) -> dict:
    S, I = result.Y.shape[:2]
    g = torch.Generator().manual_seed(seed)
    pick = torch.randperm(I, generator=g)[: min(n, I)].to(result.Y.device)
    steps = eval_steps(S, result.Y.device)
    sub = lambda t: t[steps][:, pick]  # noqa: E731
    cfg = result.config
    # the measure itself, estimated from `queries` points with their neighbourhoods among all I points
    full = trustworthiness_sampled(result.intermediate[steps], result.Y[steps], queries)
    full_opt = trustworthiness_sampled(result.intermediate[steps], result.Y_opt[steps], queries)
    every = trustworthiness_sampled(result.intermediate, result.Y, all_queries, seed=seed + 1) if all_queries else None
    m = evaluate_display(sub(result.intermediate), sub(result.Y), sub(result.Y_opt), cfg.layout, cfg.radius,
                         cfg.stretch)
    sep, per = step_separation(result.Y.double(), cfg.layout, cfg.radius, cfg.stretch)
    from tdl.metrics import swaps
    sw = swaps(result.Y, result.intermediate, labels, cfg.layout, cfg.stretch)
    return {"swap_2d": sw["swap_2d"], "swap_f": sw["swap_features"], "trust": m["trustworthiness"],
            "trust_q": full.mean().item(), "trust_q_opt": full_opt.mean().item(), "trust_q_steps": full.tolist(),
            "trust_q_opt_steps": full_opt.tolist(),
            "trust_all_steps": float("nan") if every is None else every.mean().item(),
            "trust_opt": m["trustworthiness_opt"], "sep": sep, "sep_min": min(per),
            "purity": late_purity(sub(result.Y), labels[pick].cpu())}


def ring_bound(result, queries: int) -> str:
    """Free per-step layouts (a run without displacement and alignment) put on rings by
    `tdl.free_start` (angle kept, distance by rank across a ring of half-width h) and shown with the
    default conformal display: the trustworthiness a ring layout of these neighbourhoods keeps on screen."""
    from tdl import layout as lay
    from tdl.free_start import procrustes_chain, to_rings
    c = result.config
    S = result.Y_opt.shape[0]
    steps = eval_steps(S, result.Y.device)
    Yc = procrustes_chain(result.Y_opt)
    out = []
    for h in (3.0, 10.0):
        Yr = to_rings(Yc, lay.targets(S, c.layout, c.radius, device=Yc.device), h, c.layout, c.radius)
        for name, Y in (("opt", Yr), ("display", lay.stretch(Yr, c.layout, c.stretch, c.display, c.radius))):
            t = trustworthiness_sampled(result.intermediate[steps], Y[steps], queries)
            out.append(f"h {h:g} {name} {t.mean().item():.3f} ({', '.join(f'{v:.3f}' for v in t.tolist())})")
    return "free layouts on rings: " + "; ".join(out)


def parse_config(over: str) -> dict:
    kv = dict(e.split("=") for e in over.split(",")) if over != "-" else {}
    ints = ("n_iter", "free_iters", "exaggeration_iters")
    return {k: (int(v) if k in ints else float(v) if v.replace(".", "", 1).isdigit() else v) for k, v in kv.items()}


def per_iteration(X, cfg: EmbedConfig, iters: int, warm: int, sync) -> tuple[float, float]:
    """Seconds per iteration (wall, CPU) of `iterate` after `warm` iterations (the layout has spread)."""
    from tdl.embedding import affinities, iterate, prepare
    x = prepare(X, cfg)
    P = affinities(x, cfg)
    gen = iterate(x, cfg, P=P)
    for _ in range(warm):
        next(gen)
    sync()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iters):
        next(gen)
    sync()
    return (time.perf_counter() - t0) / iters, (time.process_time() - c0) / iters


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["50x1000"], help="STEPSxINSTANCES")
    ap.add_argument("--methods", nargs="+", default=["auto"])
    ap.add_argument("--family", choices=("branching", "digits", "drift", "switches", "many_prompts"),
                    default="branching",
                    help="branching: synthetic, --dim features, made on the device; digits: the built-in digits "
                         "model's x0 (64-d); drift / switches / many_prompts: tdl.synthetic's families (--dim; "
                         "many_prompts keeps its 5 instances per prompt: I / 5 prompts)")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--n-iter", type=int, default=None)
    ap.add_argument("--eval-instances", type=int, default=1000, help="subsample of the older estimate")
    ap.add_argument("--queries", type=int, default=1000, help="query points of the all-points trust estimate")
    ap.add_argument("--all-queries", type=int, default=300,
                    help="also the mean over every step (item 1's display trustworthiness), this many queries a step")
    ap.add_argument("--configs", nargs="+", default=["-"], help="EmbedConfig overrides per run: k=v,k=v ('-': none)")
    ap.add_argument("--tsne-baseline", type=int, default=0, metavar="N_ITER",
                    help="also run plain exact per-step t-SNE (no rings, no alignment) for N_ITER iterations on "
                         "the 5 evaluated steps: what this data allows")
    ap.add_argument("--time-iters", type=int, default=0, metavar="N",
                    help="instead of whole runs: seconds per iteration of each method, over N iterations after 50")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = args.device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    make = {"digits": lambda S, I: digits_family(S, I, args.device),
            "branching": lambda S, I: family(S, I, args.dim, args.device)}.get(
        args.family, lambda S, I: synthetic_family(args.family, S, I, args.dim, args.device))
    if cuda:
        name = torch.cuda.get_device_name(0)
        embed(family(5, 300, args.dim, args.device)[0], EmbedConfig(device=args.device, n_iter=20, method="approx"))
        embed(family(5, 300, args.dim, args.device)[0], EmbedConfig(device=args.device, n_iter=20, method="exact"))
    else:
        from tdl import fused
        name = (f"CPU, {torch.get_num_threads()} threads, {os.cpu_count()} cores, "
                f"fused kernels {'on' if fused.available() else 'off (no numba)'}")
    print(f"device: {name}; torch {torch.__version__}; family {args.family}; load {os.getloadavg()[0]:.1f}")
    if args.time_iters:
        print("| S x I | method | config | wall ms / iteration | CPU ms / iteration |")
        print("| --- | --- | --- | ---: | ---: |", flush=True)
        for size in args.sizes:
            S, I = (int(v) for v in size.lower().split("x"))
            X, _ = make(S, I)
            for method, over in [(m, c) for m in args.methods for c in args.configs]:
                cfg = EmbedConfig(device=args.device, method=method, log_every=0, **parse_config(over))
                w, c = per_iteration(X, cfg, args.time_iters, 50, sync)
                print(f"| {S}x{I} | {cfg.resolved_method(I, S)} | {over} | {1e3 * w:.1f} | {1e3 * c:.1f} |", flush=True)
        print(f"load {os.getloadavg()[0]:.1f}")
        return 0
    print("| S x I | points | method | wall s | CPU s | PCA s | P s | optimise s | peak GPU GiB "
          "| trust, all-points est. (opt) | every step | trust, subsample est. (opt) | step sep (min) | late purity "
          "| swaps 2D / features |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
          flush=True)
    for size in args.sizes:
        S, I = (int(v) for v in size.lower().split("x"))
        X, labels = make(S, I)
        runs = [(m, c, X) for m in args.methods for c in args.configs]
        if args.tsne_baseline:
            runs.append(("exact", f"plain t-SNE,disp_weight=0,align_weight=0,n_iter={args.tsne_baseline}",
                         X[eval_steps(S, X.device)]))
        for method, over, data in runs:
            plain = over.startswith("plain t-SNE")
            kw = {**({"n_iter": args.n_iter} if args.n_iter else {}),
                  **parse_config(over.split(",", 1)[1] if plain else over)}
            cfg = EmbedConfig(device=args.device, method=method, log_every=0, **kw)
            if cuda:
                sync()
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
            c0 = time.process_time()
            try:
                r = embed(data, cfg)
            except torch.OutOfMemoryError as e:  # report and go on with the next size
                print(f"| {S}x{I} {over} | {S * I} | {method} | out of memory: {str(e)[:80]} |", flush=True)
                continue
            cpu = time.process_time() - c0
            peak = (torch.cuda.max_memory_allocated() - base) / 2 ** 30 if cuda else float("nan")
            t = r.extra
            if plain:  # already the 5 evaluated steps; no rings to measure
                full = trustworthiness_sampled(r.intermediate, r.Y_opt, args.queries)
                print(f"| {S}x{I}, plain exact t-SNE on the 5 evaluated steps, {r.config.n_iter} it "
                      f"| {5 * I:,} | exact "
                      f"| {r.runtime_s:.1f} | {cpu:.1f} | {t['pca_s']:.1f} | {t['affinity_s']:.1f} | "
                      f"{t['optimise_s']:.1f} | {peak:.1f} | ({full.mean().item():.3f}; per step "
                      f"{', '.join(f'{v:.3f}' for v in full.tolist())}) | - | - | - | - | - |", flush=True)
                continue
            e = estimate(r, labels, args.eval_instances, queries=args.queries, all_queries=args.all_queries)
            print(f"| {S}x{I} {over if over != '-' else ''} | {S * I:,} | {r.method} | {r.runtime_s:.1f} | {cpu:.1f} "
                  f"| {t['pca_s']:.1f} | {t['affinity_s']:.1f} | {t['optimise_s']:.1f} | {peak:.1f} "
                  f"| {e['trust_q']:.3f} ({e['trust_q_opt']:.3f}) | {e['trust_all_steps']:.3f} "
                  f"| {e['trust']:.3f} ({e['trust_opt']:.3f}) "
                  f"| {e['sep']:.3f} ({e['sep_min']:.3f}) "
                  f"| {e['purity']:.3f} | {e['swap_2d']:.3f} / {e['swap_f']:.3f} |", flush=True)
            if cfg.disp_weight == 0 and cfg.align_weight == 0:  # free layouts: what rings + display allow
                print("  " + ring_bound(r, args.queries), flush=True)
            print(f"  per evaluated step (all-points est.): {', '.join(f'{v:.3f}' for v in e['trust_q_steps'])}"
                  f" (opt {', '.join(f'{v:.3f}' for v in e['trust_q_opt_steps'])})", flush=True)
            del r
        del X
        if cuda:
            torch.cuda.empty_cache()
    print(f"load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
