"""How much each step's neighbourhoods persist into the next step, and the alignment weight that follows.

The alignment loss pulls every instance towards its own angle (or height) at the next step. Where the
data's consecutive steps are unrelated (the noisiest denoising steps: fresh noise at each one) that pull
only drags a step into the arrangement of the steps after it and its own neighbourhoods suffer: radial,
50 x 200, display trustworthiness of the first tenth of the steps 0.56 with a principal-plane start
against 0.68 with no alignment (drift family; docs/BENCHMARKS.md). So the alignment between steps s and
s + 1 is weighted by the data's own continuity there (`EmbedConfig.align_scale`):

    p_s = share of an instance's k nearest neighbours at step s (within the step, in the intermediate
          space) that are still among its k nearest at step s + 1  (about k / I for unrelated steps)
    scale_s = min(1, SATURATION * p_s / max_s p_s)

Steps whose neighbourhoods persist at least a third as much as the most persistent pair keep the full
alignment; steps of fresh noise keep a small share of it. On the digits model's trajectories p is
0.88-0.99 at every step, so nothing changes there.
"""
from __future__ import annotations

import torch

from tdl.affinity import knn

PERSIST_K = 10  # neighbours compared between consecutive steps
SATURATION = 3.0  # full alignment from a third of the largest persistence (1: proportional to p, which
# lowered the switches family's late purity below the reference settings': -0.0004 vs +0.0036 at 3)
QUERIES = 1000  # instances per step the persistence is estimated from (all of them up to this many)


def neighbour_persistence(x: torch.Tensor, k: int = PERSIST_K, queries: int = QUERIES, seed: int = 0,
                          chunk: int = 64) -> torch.Tensor:
    """`x (S, I, d)` -> `(S,)` float64 on the CPU: entry s is the mean share of an instance's `k` nearest
    neighbours at step s (self excluded) that are among its `k` nearest at step s + 1; the last entry is
    0 (no next step). From `queries` random instances (the same at every step; all when `queries >= I`),
    each one's neighbours among all I: an unbiased estimate of the mean over every instance. Memory
    S * chunk * I distances at a time (256 MB at 50 x 20,000); CPU 6.5 s there, one thread."""
    S, I, _ = x.shape
    k = max(1, min(k, I - 1))
    q = torch.arange(I) if queries >= I else torch.randperm(I, generator=torch.Generator().manual_seed(seed))[:queries]
    _, idx = knn(x.float(), k, chunk, rows=q)  # (S, Q, k)
    out = torch.zeros(S, dtype=torch.float64)
    for s in range(S - 1):
        kept = (idx[s, :, :, None] == idx[s + 1, :, None, :]).any(-1)  # (Q, k)
        out[s] = kept.double().mean().item()
    return out


def alignment_scale(x: torch.Tensor, saturation: float = SATURATION) -> torch.Tensor:
    """`x (S, I, d)` -> `(S,)` float64 on the CPU: the multiplier of the alignment weight between step s
    and s + 1, `min(1, saturation * p_s / max p)` (`neighbour_persistence`); ones when no step persists."""
    p = neighbour_persistence(x)
    top = p.max().item()
    if top <= 0:
        return torch.ones_like(p)
    return (saturation * p / top).clamp(max=1.0)
