"""Quality of an evolutionary embedding, per step and overall.

- trustworthiness (Venna & Kaski): are the embedding's k nearest neighbours (within a step) also near
  in the intermediate space? Same number as `sklearn.manifold.trustworthiness`, every step at once.
- continuity: trustworthiness with the roles swapped (are the original neighbours kept?).
- instance alignment: mean |change| of an instance's angle (radial, radians) or cross-axis position
  (rectilinear, embedding units) between consecutive steps; `_norm` divides by the value expected for
  unrelated points (pi/2 for angles, the step's mean pairwise |dy|): 0 = aligned, about 1 = random.
- step separation: share of points that lie inside their own step's ring/band (display coordinates).
"""
from __future__ import annotations

import math

import torch

from tdl import layout as lay

K_DEFAULT = 7


def _step_batches(S: int, I: int, budget: int = 2 ** 25):
    b = max(1, budget // max(1, I * I))
    for s in range(0, S, b):
        yield slice(s, min(S, s + b))


def _trust(X: torch.Tensor, Ys: list[torch.Tensor], k: int) -> list[torch.Tensor]:
    """Per-step trustworthiness of each `Y (S, I, e)` in `Ys` w.r.t. `X (S, I, d)`; X's ranks computed once."""
    S, I, _ = X.shape
    if not 1 <= k < I / 2:
        raise ValueError(f"k must be in [1, I/2), got k={k} for I={I}")
    outs = [torch.empty(S, dtype=torch.float64) for _ in Ys]
    for sl in _step_batches(S, I):
        dx = torch.cdist(X[sl], X[sl], compute_mode="donot_use_mm_for_euclid_dist")
        dx.diagonal(dim1=1, dim2=2).fill_(math.inf)
        order = torch.argsort(dx, dim=-1, stable=True)  # (b, I, I)
        del dx
        ranks = torch.empty_like(order)
        ranks.scatter_(-1, order, torch.arange(1, I + 1, device=X.device).expand_as(order))
        del order  # ranks[i, j] = 1-based rank of j among i's neighbours in X
        for Y, out in zip(Ys, outs):
            dy = torch.cdist(Y[sl], Y[sl], compute_mode="donot_use_mm_for_euclid_dist")
            dy.diagonal(dim1=1, dim2=2).fill_(math.inf)
            nn = torch.topk(dy, k, dim=-1, largest=False).indices
            t = (ranks.gather(-1, nn) - k).clamp_min(0).sum(dim=(1, 2)).double()
            out[sl] = (1 - t * (2.0 / (I * k * (2.0 * I - 3.0 * k - 1.0)))).cpu()
    return outs


def trustworthiness(X: torch.Tensor, Y: torch.Tensor, k: int = K_DEFAULT) -> torch.Tensor:
    """Per-step trustworthiness of `Y (S, I, e)` w.r.t. `X (S, I, d)` -> `(S,)` float64.

    T = 1 - 2 / (I k (2I - 3k - 1)) * sum_i sum_{j in U_k(i)} (r(i, j) - k), r = rank in X,
    U_k(i) = the embedding's k nearest neighbours of i that are not among its k nearest in X."""
    X = torch.as_tensor(X, dtype=torch.float64)
    return _trust(X, [torch.as_tensor(Y, dtype=torch.float64, device=X.device)], k)[0]


def continuity(X: torch.Tensor, Y: torch.Tensor, k: int = K_DEFAULT) -> torch.Tensor:
    """Per-step continuity `(S,)`: trustworthiness with the two spaces swapped."""
    return trustworthiness(Y, X, k)


def instance_alignment(Y_display: torch.Tensor, layout: str) -> tuple[float, float]:
    """`Y (S, I, 2)` display coordinates -> (mean |change| between consecutive steps, normalised)."""
    Y = torch.as_tensor(Y_display, dtype=torch.float64)
    if Y.shape[0] < 2:
        return 0.0, 0.0
    across = lay.split(Y, layout)[1]
    d = across[1:] - across[:-1]
    if layout == "radial":
        d = torch.remainder(d + math.pi, 2 * math.pi) - math.pi
        raw = d.abs().mean().item()
        return raw, raw / (math.pi / 2)
    raw = d.abs().mean().item()
    ref = (across[:-1, :, None] - across[:-1, None, :]).abs().mean().item()  # unrelated pairs
    return raw, raw / ref if ref > 0 else 0.0


def step_separation(Y_display: torch.Tensor, layout: str, radius: float = lay.RADIUS,
                    stretch: float = lay.STRETCH) -> tuple[float, list[float]]:
    """Share of points inside their own ring/band: `(overall, per step)`."""
    Y = torch.as_tensor(Y_display, dtype=torch.float64)
    S = Y.shape[0]
    along = lay.display_along(Y, layout)
    e = lay.edges(S, layout, radius, stretch).to(along.device)
    inside = (along >= e[:-1, None]) & (along < e[1:, None])
    per = inside.double().mean(-1)
    return per.mean().item(), per.tolist()


def evaluate_display(intermediate: torch.Tensor, Y_display: torch.Tensor, Y_opt: torch.Tensor | None,
                     layout: str, radius: float = lay.RADIUS, stretch: float = lay.STRETCH,
                     k: int = K_DEFAULT) -> dict:
    """All metrics of display coordinates `(S, I, 2)` against `intermediate (S, I, d)`.

    Neighbourhoods are measured on what the figure shows (display coordinates); with `Y_opt` given,
    also on the unstretched optimisation coordinates (`*_opt`; radial stretching widens the rings)."""
    X = torch.as_tensor(intermediate, dtype=torch.float64)
    Yd = torch.as_tensor(Y_display, dtype=torch.float64, device=X.device)
    Ys = [Yd] if Y_opt is None else [Yd, torch.as_tensor(Y_opt, dtype=torch.float64, device=X.device)]
    k = min(k, max(1, (X.shape[1] - 1) // 2))
    tws = _trust(X, Ys, k)
    cos = [_trust(Y, [X], k)[0] for Y in Ys]
    al, al_norm = instance_alignment(Yd, layout)
    sep, sep_steps = step_separation(Yd, layout, radius, stretch)
    m = {"k": k, "trustworthiness": tws[0].mean().item(), "continuity": cos[0].mean().item(),
         "instance_alignment": al, "instance_alignment_norm": al_norm, "step_separation": sep,
         "trustworthiness_per_step": tws[0].tolist(), "continuity_per_step": cos[0].tolist(),
         "step_separation_per_step": sep_steps}
    if Y_opt is not None:
        m["trustworthiness_opt"] = tws[1].mean().item()
        m["continuity_opt"] = cos[1].mean().item()
    return m


def evaluate(intermediate: torch.Tensor, result, k: int = K_DEFAULT) -> dict:
    """Metrics of an `EmbeddingResult` against its intermediate space `(S, I, d)`; adds `runtime_s`."""
    cfg = result.config
    m = evaluate_display(intermediate, result.Y, result.Y_opt, cfg.layout, cfg.radius, cfg.stretch, k)
    m["runtime_s"] = result.runtime_s
    m["method"] = result.method
    return m
