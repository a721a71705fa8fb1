"""Where the evolutionary embedding starts: the initial optimisation coordinates `(S, I, 2)`.

`initial_positions` reads `EmbedConfig.init` (resolved): the reference's random start on the rings/bands,
"aligned" (one angle per instance), "pca_angle" (the principal plane's angles on the reference's rings)
and "pca" (the compact principal-plane start). `principal_start` gives each step's principal plane,
turned onto the next step's. `tdl/free_start.py` holds the other start, rings made from free layouts.
"""
from __future__ import annotations

import math

import torch

from tdl import layout as lay


def initial_positions(S: int, I: int, config, device, dtype=torch.float32,
                      x: torch.Tensor | None = None) -> torch.Tensor:
    """Initial optimisation coordinates `(S, I, 2)`.

    "random" (reference): `along ~ U[max(0, r_s - spread), r_s + spread]`, angle ~ U[0, 2 pi)
    (rectilinear: cross axis ~ U[-pi R, pi R)); "aligned": the same but one angle per instance for all
    steps; "pca_angle": the same radii, each point's angle about its step's centre in `principal_start`
    (rectilinear: the ring cut open); "pca": `principal_start` (each step's first two principal
    coordinates, turned to agree with the next step's), scaled per step to standard deviation 1e-4, as
    scikit-learn's PCA init."""
    if config.init == "pca":
        if x is None:
            raise ValueError("init='pca' needs the intermediate points")
        y = principal_start(x)
        y = y / y[..., :1].std(dim=1, keepdim=True).clamp_min(1e-12) * 1e-4
        if config.layout == "rectilinear":  # the first principal axis across the band, not along the
            y = y.flip(-1)  # squeezed step axis (10 x 1000 branching: min step separation 0.91 vs 0.59)
        return y.to(device=device, dtype=dtype)
    g = torch.Generator().manual_seed(config.seed)
    target = lay.targets(S, config.layout, config.radius, dtype=torch.float64)
    lo = target - config.init_spread
    if config.layout == "radial":
        lo = lo.clamp_min(0)
    u = torch.rand(S, I, generator=g, dtype=torch.float64)
    along = lo[:, None] + u * (target + config.init_spread - lo)[:, None]
    v = torch.rand(1 if config.init == "aligned" else S, I, generator=g, dtype=torch.float64).expand(S, I)
    theta = 2 * math.pi * v
    if config.init == "pca_angle":  # the data's large-scale arrangement, the reference's ring geometry
        if x is None:
            raise ValueError("init='pca_angle' needs the intermediate points")
        y = principal_start(x).cpu()
        theta = torch.remainder(torch.atan2(y[..., 1], y[..., 0]), 2 * math.pi)
    across = theta if config.layout == "radial" else config.radius * (theta - math.pi)
    return lay.join(along, across, config.layout).to(device=device, dtype=dtype)


def principal_start(x: torch.Tensor) -> torch.Tensor:
    """Intermediate points `(S, I, d)` -> `(S, I, 2)` float64: each step's first two principal coordinates,
    then, from the last step back, each step rotated or reflected (orthogonal Procrustes) onto the next
    one (its instances are the same): a group starts in one direction at every step, siblings side by side
    (a principal plane keeps the data's large-scale layout, which random starts lose at thousands of
    instances per step). Per-step principal axes alone have arbitrary signs and order."""
    xc = x.to(torch.float64)
    xc = xc - xc.mean(dim=1, keepdim=True)
    U, sv, _ = torch.linalg.svd(xc, full_matrices=False)  # (S, I, k), k = min(I, d)
    y = U[..., :2] * sv[:, None, :2]
    if y.shape[-1] < 2:
        y = torch.cat((y, torch.zeros_like(y)), -1)
    from tdl.free_start import procrustes_chain  # argmin_R |y_s R - y_s+1|, R orthogonal, last step back
    return procrustes_chain(y)
