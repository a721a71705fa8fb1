"""Benchmark of the evolutionary embedding: speed and per-step trustworthiness.

Synthetic trajectories with structure (`tdl.synthetic.branching`: a branching random walk of cluster
centres in 512-d plus decaying noise), embedded with `tdl.embedding.embed`, compared in the same run with
- our vectorised plain per-step t-SNE (same optimiser, displacement and alignment switched off), and
- scikit-learn's exact t-SNE (`TSNE(method="exact")`) per step, on a subset of steps (it takes seconds
  per step; `--sklearn-steps 0` for all).

    python bench/tdl_embed.py                                  # 50 x 200 on the CPU
    python bench/tdl_embed.py --device cuda                    # same on a GPU
    python bench/tdl_embed.py --device cuda --instances 2000 --sklearn-steps -1
    python bench/tdl_embed.py --update-docs                    # also write the table to docs/BENCHMARKS.md
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdl.embedding import EmbedConfig, embed  # noqa: E402
from tdl.metrics import evaluate, trustworthiness  # noqa: E402
from tdl.synthetic import branching  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


def machine(device: str) -> str:
    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(0)} (torch {torch.__version__})"
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads (torch {torch.__version__})"


def timed_embed(X, cfg: EmbedConfig):
    if cfg.device.startswith("cuda"):
        torch.cuda.synchronize()
    cpu0 = time.process_time()
    r = embed(X, cfg)
    return r, time.process_time() - cpu0


def sklearn_baseline(x: np.ndarray, steps: list[int], perplexity: float, seed: int, k: int):
    from sklearn.manifold import TSNE
    t0 = time.perf_counter()
    Ys = [TSNE(method="exact", perplexity=perplexity, init="random", random_state=seed).fit_transform(x[s])
          for s in steps]
    wall = time.perf_counter() - t0
    tw = trustworthiness(torch.tensor(x[steps]), torch.tensor(np.stack(Ys)), k)
    return tw.numpy(), wall


def row(name, wall, cpu, tw, tw_disp, extra=""):
    cpu_s = f"{cpu:7.1f}" if cpu is not None else "      -"
    disp = f"{tw_disp:.4f}" if tw_disp is not None else "     -"
    return f"| {name:<38} | {wall:7.2f} | {cpu_s} | {tw:.4f} | {disp} | {extra} |"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--clusters", type=int, default=8)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--method", default="auto", choices=["auto", "exact", "approx"])
    ap.add_argument("--layout", default="radial", choices=["radial", "rectilinear"])
    ap.add_argument("--n-iter", type=int, default=None, help="default: EmbedConfig's")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=7)
    ap.add_argument("--sklearn-steps", type=int, default=None,
                    help="run sklearn on every n-th step (0: all steps, -1: skip; default 5, skipped above "
                         "500 instances: exact t-SNE of 2000 points takes minutes per step)")
    ap.add_argument("--no-plain", action="store_true", help="skip our plain per-step t-SNE")
    ap.add_argument("--update-docs", action="store_true", help="write the table into docs/BENCHMARKS.md (TDL)")
    args = ap.parse_args(argv)
    if args.sklearn_steps is None:
        args.sklearn_steps = 5 if args.instances <= 500 else -1
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: --device cuda but no CUDA device is available", file=sys.stderr)
        return 2

    X, _ = branching(args.steps, args.instances, args.dim, args.clusters, seed=args.seed)
    base = {"layout": args.layout, "method": args.method, "device": args.device, "seed": args.seed}
    if args.n_iter:
        base["n_iter"] = args.n_iter
    cfg = EmbedConfig(**base)
    if args.device.startswith("cuda"):  # warm-up: CUDA context, cuFFT plans, kernels
        embed(X[:, : min(args.instances, 300)], EmbedConfig(**{**base, "n_iter": 20}))
    load0 = os.getloadavg()[0]
    lines = []
    r, cpu = timed_embed(X, cfg)
    m = evaluate(r.intermediate, r, args.k)
    t = r.extra
    lines.append(row(f"TDL {args.layout} ({r.method}, {r.config.n_iter} it)", r.runtime_s, cpu,
                     m["trustworthiness_opt"],
                     m["trustworthiness"], f"align {m['instance_alignment_norm']:.3f}, sep {m['step_separation']:.3f}, "
                     f"cont {m['continuity_opt']:.4f}; PCA {t['pca_s']:.2f} s, P {t['affinity_s']:.2f} s, "
                     f"optimise {t['optimise_s']:.2f} s"))
    x = r.intermediate
    if not args.no_plain:
        plain = EmbedConfig(**{**base, "disp_weight": 0.0, "align_weight": 0.0})
        rp, cpu_p = timed_embed(x, plain)
        tw_p = trustworthiness(x, rp.Y_opt, args.k)
        lines.append(row("plain per-step t-SNE (ours, all steps)", rp.runtime_s, cpu_p, tw_p.mean().item(), None,
                         "same optimiser, no displacement/alignment"))
    if args.sklearn_steps >= 0:
        stride = args.sklearn_steps or 1
        steps = list(range(0, args.steps, stride))
        tw_sk, wall_sk = sklearn_baseline(x.cpu().numpy(), steps, cfg.perplexity, args.seed, args.k)
        ours = trustworthiness(x[steps], r.Y_opt[steps], args.k).numpy()
        lines.append(row(f"sklearn exact t-SNE ({len(steps)} steps)", wall_sk, None, tw_sk.mean(), None,
                         f"ours on the same steps: {ours.mean():.4f}; sklearn x{args.steps / len(steps):.0f} "
                         f"= {wall_sk * args.steps / len(steps):.0f} s for all"))
    load1 = os.getloadavg()[0]
    header = (f"{args.steps} steps x {args.instances} instances x {args.dim}-d, {args.clusters} clusters, "
              f"device {args.device}: {machine(args.device)}; load average {load0:.1f} -> {load1:.1f}")
    table = ["| run | wall s | CPU s | trust (opt) | trust (display) | notes |",
             "| --- | ---: | ---: | ---: | ---: | --- |", *lines]
    print(header)
    print("\n".join(table))
    if args.update_docs:
        write_docs(header, table)
    return 0


def write_docs(header: str, table: list[str]) -> None:
    """Append this run under the "## TDL" section of docs/BENCHMARKS.md, leaving other sections alone."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = f"\n{time.strftime('%Y-%m-%d %H:%M')} — {header}\n\n" + "\n".join(table) + "\n"
    m = re.search(r"^## TDL\b.*?(?=^## |\Z)", text, flags=re.S | re.M)
    if m:
        text = text[: m.end()].rstrip("\n") + "\n" + block + "\n" + text[m.end():]
    else:
        text = text.rstrip("\n") + "\n\n## TDL\n" + block
    DOCS.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
