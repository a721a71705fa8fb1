"""Start the rings/bands from free per-step t-SNE layouts (`EmbedConfig.free_iters`).

With many instances per step the reference's start (every point on its ring at a random angle) leaves
neighbours far apart along a crowded ring, and the ring keeps them from passing each other: at
50 x 20,000 the optimised layout keeps 0.75 of the steps' neighbourhoods (trustworthiness, k = 7)
where plain t-SNE from the same start keeps 0.88 (docs/BENCHMARKS.md). So the first `free_iters`
iterations are plain per-step t-SNE (no displacement, no alignment; early exaggeration as usual),
whose points move in two dimensions and gather; then each step's layout is
1. turned (rotation or reflection about its centre, `procrustes_chain`) to match the next step's, from
   the last step back, so that an instance starts near its angle at the next step (the alignment
   loss then has little to undo), and
2. put on its ring/band (`to_rings`): a point keeps its angle about the step's centre, and its distance
   from the centre becomes a position across the ring by rank (inside -> inner edge, outside -> outer).
The ring iterations that follow (displacement and alignment on) start from that.
"""
from __future__ import annotations

import math

import torch


def procrustes_chain(Y: torch.Tensor) -> torch.Tensor:
    """`Y (S, I, 2)` -> the same layouts, each step centred and turned by the orthogonal 2 x 2 matrix
    (rotation or reflection) that best maps it onto the (already turned) next step; the last step is
    only centred. Least squares over the instances (orthogonal Procrustes: U V^T of the SVD of A^T B)."""
    Y = Y - Y.mean(dim=1, keepdim=True)
    out = Y.clone()
    Yd = Y.double()
    for s in range(Y.shape[0] - 2, -1, -1):
        m = Yd[s].T @ out[s + 1].double()  # (2, 2)
        u, _, vh = torch.linalg.svd(m)
        out[s] = (Yd[s] @ (u @ vh)).to(Y.dtype)
    return out


def to_rings(Y: torch.Tensor, targets: torch.Tensor, half_width: float, layout: str,
             radius: float) -> torch.Tensor:
    """Free layouts `Y (S, I, 2)` (centred) -> optimisation coordinates on the rings/bands `(S, I, 2)`.

    Angle phi about the centre is kept; the rank of the distance from the centre, F in (0, 1), sets the
    position across: radial steps with target r > 0 go to `r + half_width (2F - 1)`, a step with target 0
    to a disk of radius `half_width` (`half_width sqrt(F)`, uniform); rectilinear: `along = half_width
    (2F - 1)` and `across = radius (phi - pi)` (the ring cut open)."""
    S, I, _ = Y.shape
    r = Y.norm(dim=-1)
    phi = torch.remainder(torch.atan2(Y[..., 1], Y[..., 0]), 2 * math.pi)
    rank = torch.empty_like(r)
    order = r.argsort(dim=1)
    rank.scatter_(1, order, torch.arange(I, device=Y.device, dtype=Y.dtype).expand(S, I))
    F = (rank + 0.5) / I
    if layout == "radial":
        t = targets[:, None].to(Y.dtype)
        along = torch.where(t > 0, t + half_width * (2 * F - 1), half_width * F.sqrt())
        return torch.stack((along * torch.cos(phi), along * torch.sin(phi)), dim=-1)
    return torch.stack((half_width * (2 * F - 1), radius * (phi - math.pi)), dim=-1)
