"""Quality of an evolutionary embedding, per step and overall.

- trustworthiness (Venna & Kaski): are the embedding's k nearest neighbours (within a step) also near
  in the intermediate space? Same number as `sklearn.manifold.trustworthiness`, every step at once.
- continuity: trustworthiness with the roles swapped (are the original neighbours kept?).
- instance alignment: mean |change| of an instance's angle (radial, radians) or cross-axis position
  (rectilinear, embedding units) between consecutive steps; `_norm` divides by the value expected for
  unrelated points (pi/2 for angles, the step's mean pairwise |dy|): 0 = aligned, about 1 = random.
- step separation: share of points that lie inside their own step's ring/band (with the optimisation
  coordinates: moved out by `stretch * step`, the reference's display; else the display coordinates).
- swaps and arcs (layouts that scale): do whole groups jump across the axis between steps more often
  than in the data, and does each group stay in one arc/band piece (`swaps`, `arcs`)?
"""
from __future__ import annotations

import math

import numpy as np
import torch

from tdl import layout as lay

K_DEFAULT = 7
# Trustworthiness and continuity in a tree's metrics: exact up to this many instances per step, beyond it
# the unbiased estimate from QUERIES random points per step (`trustworthiness_sampled`; its standard error
# is about 0.001 there). The exact ranks cost I x I per step: 3 x 21 steps at 20,000 per step took most
# of a 132 s `tdl run` on an H200 (the embedding itself 22 s); at 2000 on 2 CPU cores 39 of 124 s.
EXACT_METRICS_MAX = 2500
QUERIES = 1000


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


def trustworthiness_sampled(X: torch.Tensor, Y: torch.Tensor, queries: int = 1000, k: int = K_DEFAULT,
                            seed: int = 0, chunk: int = 256) -> torch.Tensor:
    """Unbiased estimate of `trustworthiness(X, Y)` per step `(S,)` from `queries` random points per step.

    Each query point keeps its neighbourhoods among *all* I points (ranks in X counted over every point),
    so the estimate is the exact measure's mean over a random subset of the points, scaled to I; it is
    exact when `queries >= I`. (Restricting both spaces to a subsample instead measures a coarser
    neighbourhood, about k I / n neighbours wide, and reads lower for t-SNE-like layouts.) Memory
    O(chunk * I) per step; for the 1M-point benchmarks, where the exact measure needs I x I ranks."""
    X = torch.as_tensor(X)
    Y = torch.as_tensor(Y, device=X.device)
    S, I, _ = X.shape
    if not 1 <= k < I / 2:
        raise ValueError(f"k must be in [1, I/2), got k={k} for I={I}")
    g = torch.Generator().manual_seed(seed)
    out = torch.empty(S, dtype=torch.float64)
    for s in range(S):
        q = torch.arange(I) if queries >= I else torch.randperm(I, generator=g)[:queries]
        q = q.to(X.device)
        pen = 0.0
        for c in range(0, q.numel(), chunk):
            qc = q[c:c + chunk]
            r = torch.arange(qc.numel(), device=X.device)
            dy = torch.cdist(Y[s, qc].double(), Y[s].double())  # (c, I)
            dy[r, qc] = math.inf
            nn = torch.topk(dy, k, dim=-1, largest=False).indices  # (c, k)
            dx = torch.cdist(X[s, qc].double(), X[s].double(), compute_mode="donot_use_mm_for_euclid_dist")
            dx[r, qc] = math.inf
            # rank of j among i's neighbours in X = 1 + #points strictly closer (ties: continuous data)
            rank = (dx[:, None, :] < dx.gather(1, nn)[:, :, None]).sum(-1) + 1  # (c, k)
            pen += (rank - k).clamp_min(0).sum().item()
        pen *= I / q.numel()
        out[s] = 1 - pen * (2.0 / (I * k * (2.0 * I - 3.0 * k - 1.0)))
    return out


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
    also on the unstretched optimisation coordinates (`*_opt`; radial stretching widens the rings).
    Above EXACT_METRICS_MAX instances per step trustworthiness and continuity are estimated from
    QUERIES points per step (`metric_queries` says how many were used)."""
    X = torch.as_tensor(intermediate, dtype=torch.float64)
    Yd = torch.as_tensor(Y_display, dtype=torch.float64, device=X.device)
    Ys = [Yd] if Y_opt is None else [Yd, torch.as_tensor(Y_opt, dtype=torch.float64, device=X.device)]
    k = min(k, max(1, (X.shape[1] - 1) // 2))
    if X.shape[1] > EXACT_METRICS_MAX:  # I x I ranks per step: the unbiased estimate from QUERIES points
        tws = [trustworthiness_sampled(X, Y, QUERIES, k) for Y in Ys]
        cos = [trustworthiness_sampled(Y, X, QUERIES, k) for Y in Ys]
    else:
        tws = _trust(X, Ys, k)
        cos = [_trust(Y, [X], k)[0] for Y in Ys]
    al, al_norm = instance_alignment(Yd, layout)
    # rings held? measured on the optimised radii moved out as the reference shows them ("shift"): the
    # conformal display squeezes every ring into its band by construction, so it would always say 1
    Ysep = Yd if Y_opt is None else lay.stretch(Ys[1], layout, stretch, "shift")
    sep, sep_steps = step_separation(Ysep, layout, radius, stretch)
    m = {"k": k, "metric_queries": QUERIES if X.shape[1] > EXACT_METRICS_MAX else X.shape[1],
         "trustworthiness": tws[0].mean().item(), "continuity": cos[0].mean().item(),
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


def prompt_purity(Y: torch.Tensor, labels, k: int = K_DEFAULT) -> torch.Tensor:
    """Per step, the share of each point's k nearest 2D neighbours (within the step) that have its
    label (prompt): `Y (S, I, 2)`, `labels (I,)` -> `(S,)` float64. 1 = every group on its own."""
    from tdl.affinity import knn
    Y = torch.as_tensor(Y, dtype=torch.float64)
    lab = torch.as_tensor(np.asarray(labels), dtype=torch.int64, device=Y.device)
    k = max(1, min(k, Y.shape[1] - 1))
    _, idx = knn(Y, k)
    return (lab[idx] == lab[None, :, None]).double().mean(dim=(1, 2)).cpu()


def late_purity(Y: torch.Tensor, labels, k: int = K_DEFAULT) -> float:
    """Mean `prompt_purity` over the later half of the steps (where groups should have formed)."""
    p = prompt_purity(Y, labels, k)
    return p[p.shape[0] // 2:].mean().item()


def _group_moves_2d(Y: torch.Tensor, labels: np.ndarray, layout: str, radius: float) -> np.ndarray:
    """How far each group's centre moves across the axis between consecutive steps, `(S - 1, G)`, in the
    cross-axis units of the optimisation (where a ring's circumference is the band's initial height,
    2 pi R): the change of its circular mean angle times the ring radius `radius` (radial), or of its
    mean height (rectilinear). Not the display radius: stretched rings are up to 87x longer, so a
    wobble of a degree would count as a jump there."""
    along, across = lay.split(torch.as_tensor(Y, dtype=torch.float64), layout)
    across = across.numpy()
    G = int(labels.max()) + 1
    out = np.zeros((Y.shape[0] - 1, G))
    for g in range(G):
        m = labels == g
        if not m.any():
            continue
        if layout == "radial":
            ang = np.angle(np.exp(1j * across[:, m]).mean(1))  # (S,) circular mean
            d = np.angle(np.exp(1j * np.diff(ang)))  # wrapped to (-pi, pi]
            out[:, g] = np.abs(d) * radius
        else:
            out[:, g] = np.abs(np.diff(across[:, m].mean(1)))
    return out


def swaps(Y_display, features, labels, layout: str, band: float, radius: float = lay.RADIUS) -> dict:
    """Jumps of whole groups between consecutive steps, in the picture and in the data.

    2D: the share of instances whose group's centre moves across the axis by more than `band` (the
    ring/band spacing, `stretch`) from one step to the next (`_group_moves_2d`: radial moves are arcs at
    the optimisation radius `radius`). Features: the share of instances whose group's centre moves by
    more than half the median distance between the step's group centres (a move that large changes
    which groups are neighbours). A layout shows no swaps the data lacks when `swap_2d <= swap_features`
    (plus sampling noise). Averaged over consecutive step pairs."""
    _, labels = np.unique(np.asarray(torch.as_tensor(labels).cpu()), return_inverse=True)
    S = Y_display.shape[0]
    if S < 2:
        return {"swap_2d": 0.0, "swap_features": 0.0}
    share = np.bincount(labels) / len(labels)
    moved2 = _group_moves_2d(torch.as_tensor(Y_display).detach().cpu(), labels, layout, radius) > band  # (S-1, G)
    X = torch.as_tensor(features)
    G = share.shape[0]
    lab = torch.as_tensor(labels, device=X.device)
    cf = torch.stack([X[:, lab == g].double().mean(1) for g in range(G)], 1)  # (S, G, D)
    step_move = (cf[1:] - cf[:-1]).norm(dim=-1).cpu().numpy()  # (S-1, G)
    d = torch.cdist(cf, cf).cpu().numpy()
    iu = np.triu_indices(G, 1)
    scale = np.median(d[:, iu[0], iu[1]], axis=1) / 2 if G > 1 else np.full(S, np.inf)  # (S,)
    movedf = step_move > scale[:-1, None]
    return {"swap_2d": float((moved2 * share).sum(1).mean()), "swap_features": float((movedf * share).sum(1).mean())}


def group_pieces(Y, labels, k: int = 10, min_share: float = 0.1) -> np.ndarray:
    """How many pieces each group makes at each step: connected components of the graph joining every
    point to those of its `k` nearest neighbours (within the step) that share its group, counting only
    components with at least `min_share` of the group (a few strays are not a second arc).
    `Y (S, I, e)` (2D display, or the features: the same count in the data), `labels (I,)`, or `(S, I)`
    where the groups change with the step (e.g. the data's clusters at each step,
    `tdl.synthetic.branching_nodes`) -> `(S, G)`, 0 for a label absent at a step.
    One piece per group = one arc (ring) or one stretch of band."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from tdl.affinity import knn
    Y = torch.as_tensor(Y, dtype=torch.float32)
    S, I = Y.shape[:2]
    raw = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    _, lab = np.unique(raw, return_inverse=True)
    lab = np.broadcast_to(lab.reshape(raw.shape), (S, I))
    G = int(lab.max()) + 1
    _, idx = knn(Y, max(1, min(k, I - 1)))
    idx = idx.cpu().numpy()
    out = np.zeros((S, G), dtype=np.int64)
    rows = np.repeat(np.arange(I), idx.shape[2])
    for s in range(S):
        cols = idx[s].reshape(-1)
        same = lab[s][rows] == lab[s][cols]
        graph = coo_matrix((np.ones(same.sum()), (rows[same], cols[same])), shape=(I, I))
        _, comp = connected_components(graph, directed=True, connection="weak")
        for g in range(G):
            if not (lab[s] == g).any():
                continue
            members = comp[lab[s] == g]
            sizes = np.bincount(members)
            sizes = sizes[sizes > 0]
            out[s, g] = max(1, int((sizes >= max(1.0, min_share * sizes.sum())).sum()))
    return out


def arcs(Y_display, features, labels, k: int = 10, min_share: float = 0.1) -> dict:
    """One arc per group, in the later half of the steps (where groups have formed): `one_arc_2d`, the
    share of instances whose group is one piece in the picture (`group_pieces`), against `one_arc_features`,
    the same in the features; `pieces_2d` / `pieces_features`: mean pieces per instance's group.
    `labels (I,)` (prompts), or `(S, I)`: the groups the data has at each step (`group_pieces`)."""
    S, I = Y_display.shape[:2]
    raw = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    _, lab = np.unique(raw, return_inverse=True)
    lab = np.broadcast_to(lab.reshape(raw.shape), (S, I))[S // 2:]
    G = int(lab.max()) + 1
    share = np.stack([np.bincount(row, minlength=G) for row in lab]) / I  # (S', G)
    out = {}
    for name, Z in (("2d", Y_display), ("features", features)):
        p = group_pieces(torch.as_tensor(Z)[S // 2:], lab, k, min_share)  # (S', G)
        out[f"one_arc_{name}"] = float(((p == 1) * share).sum(1).mean())
        out[f"pieces_{name}"] = float((p * share).sum(1).mean())
    return out
