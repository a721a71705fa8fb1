"""Per-gradient time of the exact t-SNE gradient on the CPU: the fused numba kernel (`tdl/fused.py`)
against the tensor code (`losses.tsne_exact` with `work={"fused": False}`), on real affinities of the
branching family and a layout after 100 iterations; CPU milliseconds per call, one thread by default.

    python bench/tdl_kernels.py --sizes 50x200 50x1000
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdl import fused  # noqa: E402
from tdl.embedding import EmbedConfig, affinities, iterate, prepare  # noqa: E402
from tdl.losses import tsne_exact  # noqa: E402
from tdl.synthetic import branching  # noqa: E402


def per_call(fn, n: int) -> float:
    fn()
    c0 = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - c0) / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["50x200", "50x1000"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--calls", type=int, default=10)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not fused.available():
        print("numba is not installed: no fused kernels to compare")
        return 1
    print(f"CPU, {args.threads} thread(s), {os.cpu_count()} cores; torch {torch.__version__}; "
          f"load {os.getloadavg()[0]:.1f}")
    print("| S x I | fused ms | tensor code ms | ratio | max |difference| / max |gradient| |")
    print("| --- | ---: | ---: | ---: | ---: |", flush=True)
    for size in args.sizes:
        S, I = (int(v) for v in size.lower().split("x"))
        cfg = EmbedConfig(method="exact", log_every=0)
        x = prepare(branching(S, I, 512)[0], cfg)
        P = affinities(x, cfg)
        gen = iterate(x, cfg, P=P)
        for _ in range(100):
            Y = next(gen).Y
        work = {"fused": False}
        a = per_call(lambda Y=Y, P=P: tsne_exact(Y, P, 1.0, with_loss=False), args.calls)
        b = per_call(lambda Y=Y, P=P, work=work: tsne_exact(Y, P, 1.0, with_loss=False, work=work), args.calls)
        g1 = tsne_exact(Y, P, 1.0, with_loss=False)[1]
        g2 = tsne_exact(Y, P, 1.0, with_loss=False, work=work)[1]
        err = ((g1 - g2).abs().max() / g2.abs().max()).item()
        print(f"| {S}x{I} | {1e3 * a:.2f} | {1e3 * b:.2f} | {b / a:.1f}x | {err:.1e} |", flush=True)
    print(f"load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
