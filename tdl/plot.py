"""The static TDL figure (PNG, SVG or PDF) through matplotlib's object API (no pyplot, no display).

Points are coloured by prompt, faint lines join each instance across steps, rings (radial) or bands
(rectilinear) are labelled with their step, and a few points carry a thumbnail of their image. For a
2D sandbox trajectory the true 2D paths are drawn beside the embedding, so a learner can compare the
picture with paths whose truth they can see. `step_guides` and `prompt_colors` are pure numpy and are
shared with the explorer window; matplotlib is imported only when a figure is made.
"""
from __future__ import annotations

import math
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sandbox.fileio import atomic_path
from sandbox.errors import UserError

FORMATS = (".png", ".svg", ".pdf")

# matplotlib's tab10, as 0-255 RGB, so the window and the figure use the same colours
_TAB10 = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
          (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def prompt_colors(n: int) -> list[tuple[int, int, int]]:
    """n distinct 0-255 RGB colours: tab10 first, then evenly spaced hues."""
    if n <= len(_TAB10):
        return _TAB10[:n]
    import colorsys
    return [tuple(int(255 * c) for c in colorsys.hsv_to_rgb(k / n, 0.75, 0.85)) for k in range(n)]


@dataclass(frozen=True)
class StepGuides:
    """Where each step sits: rings of `values (S,)` radius around `center` (radial), or bands at
    coordinate `values (S,)` along `axis` (rectilinear)."""
    kind: str  # "ring" | "band"
    values: np.ndarray  # (S,)
    center: np.ndarray  # (2,)
    axis: int = 0


def step_guides(Y: np.ndarray, layout: str, config: dict | None = None) -> StepGuides:
    """Ring radius (radial, centred on the origin) or band x (rectilinear) of each step of
    `Y (S, I, 2)`: the display centres of `tdl.layout`, with the radius and stretch in `config`."""
    from tdl import layout as lay
    config = config or {}
    kw = {k: float(config[k]) for k in ("radius", "stretch") if config.get(k) is not None}
    values = lay.centres(np.asarray(Y).shape[0], lay.check_layout(layout), radius=kw.get("radius", lay.RADIUS),
                         offset=kw.get("stretch", lay.STRETCH)).numpy()
    if layout == "radial":
        return StepGuides("ring", values, np.zeros(2))
    return StepGuides("band", values, np.asarray(Y, dtype=np.float64).reshape(-1, 2).mean(0), axis=0)


def label_steps(S: int, most: int = 8) -> list[int]:
    """At most `most` step indices to label, always the first and the last."""
    if S <= most:
        return list(range(S))
    picks = np.unique(np.round(np.linspace(0, S - 1, most)).astype(int))
    return [int(s) for s in picks]


def thumbnail_steps(S: int, per_branch: int) -> list[int]:
    """`per_branch` steps, evenly spaced from a quarter of the way to the final step (which is always
    included): where a branch's images change from noise-like to finished."""
    if per_branch <= 1 or S <= 1:
        return [S - 1]
    return sorted({int(round(v)) for v in np.linspace(S // 4, S - 1, per_branch)})


def choose_thumbnails(prompt_index: np.ndarray, S: int, n: int, steps: list[int] | None = None
                      ) -> list[tuple[int, int]]:
    """n (step, instance) pairs along branches: one instance per prompt, shown at several steps
    (`steps`, default `thumbnail_steps`: as many as n allows per prompt, always the final step), so the
    figure shows how each branch's image evolves; with fewer than one per prompt, the final step only."""
    prompt_index = np.asarray(prompt_index)
    per_prompt = [np.flatnonzero(prompt_index == p) for p in np.unique(prompt_index)]
    if n <= 0 or not per_prompt:
        return []
    if steps is None:
        steps = thumbnail_steps(S, max(1, n // len(per_prompt)))
    steps = sorted({int(s) for s in steps if 0 <= int(s) < S}, reverse=True)  # final step first
    out: list[tuple[int, int]] = []
    rank = 0
    while len(out) < n and any(rank < len(ix) for ix in per_prompt):
        for s in steps:
            for ix in per_prompt:
                if rank < len(ix) and len(out) < n:
                    out.append((s, int(ix[rank])))
        rank += 1
    return out


def summary_line(metrics: dict | None, runtime: float | None = None) -> str:
    """Key metrics in one line for the title (per-step arrays are averaged)."""
    if not metrics:
        return ""
    names = [("trustworthiness", "trust"), ("continuity", "cont"), ("step_separation", "step sep"),
             ("instance_alignment_norm", "align (0 = aligned, 1 = random)")]
    parts = []
    for key, short in names:
        val = _metric(metrics, key)
        if val is not None:
            parts.append(f"{short} {val:.3f}")
    rt = runtime if runtime is not None else _metric(metrics, "runtime_s")
    rt = rt if rt is not None else _metric(metrics, "runtime")
    if rt is not None:
        parts.append(f"{rt:.1f} s")
    return "  ·  ".join(parts)


def _metric(metrics: dict, key: str) -> float | None:
    for k in (key, f"mean_{key}", f"{key}_mean"):
        if k in metrics:
            try:
                val = np.asarray(metrics[k], dtype=np.float64)
            except (TypeError, ValueError):
                return None
            return float(np.nanmean(val)) if val.size else None
    return None


# --- drawing ----------------------------------------------------------------------------------
def _rgb(c) -> tuple[float, float, float]:
    return tuple(v / 255 for v in c)


def point_colors(prompt_index: np.ndarray, n_prompts: int, color_by=None):
    """Per-instance RGB `(I, 3)` in [0, 1] and a legend: `("prompt", None)` for prompt colours, or
    `("values", (cmap, vmin, vmax))` for a numeric per-instance attribute `color_by (I,)`."""
    if color_by is None:
        table = np.array([_rgb(c) for c in prompt_colors(n_prompts)])
        return table[np.asarray(prompt_index)], ("prompt", None)
    from matplotlib import colormaps
    v = np.asarray(color_by, dtype=np.float64)
    if v.shape != np.asarray(prompt_index).shape:
        raise UserError(f"colour values must be one per instance ({len(prompt_index)}), got {v.shape}")
    lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
    cmap = colormaps["viridis"]
    return cmap((v - lo) / (hi - lo or 1.0))[:, :3], ("values", (cmap, lo, hi))


def _draw_paths(ax, Y, colors: np.ndarray, lines: bool) -> None:
    """Points `Y (S, I, 2)` in per-instance `colors (I, 3)`, and a faint line per instance."""
    from matplotlib.collections import LineCollection
    S, I = Y.shape[:2]
    if lines and S > 1:
        segs = np.transpose(Y, (1, 0, 2))  # (I, S, 2): one polyline per instance
        # faint enough that thousands of instances read as branches, not as a solid fan
        alpha = float(np.clip(70.0 / I, 0.03, 0.35))
        ax.add_collection(LineCollection(segs, colors=colors, linewidths=0.6 if I <= 500 else 0.4, alpha=alpha,
                                         zorder=1))
    size = float(np.clip(3000.0 / (S * I), 1.5, 24.0))
    ax.scatter(Y[..., 0].reshape(-1), Y[..., 1].reshape(-1), s=size, c=np.tile(colors, (S, 1)), linewidths=0,
               zorder=2)


def label_angle(Y: np.ndarray, center=(0.0, 0.0)) -> float:
    """The direction (radians) of the widest empty wedge around `center` in the display points
    `Y (S, I, 2)`: ring labels put along it never sit on the data."""
    from tdl.tree import widest_gap
    d = np.asarray(Y, dtype=np.float64).reshape(-1, 2) - np.asarray(center)
    r = np.hypot(d[:, 0], d[:, 1])
    keep = r > 1e-9 * (r.max() or 1)
    if keep.sum() < 2:
        return math.pi / 2
    start, gap = widest_gap(np.arctan2(d[keep, 1], d[keep, 0]))
    return start + gap / 2


def _draw_guides(ax, Y, layout, times, config) -> list:
    """Rings/bands and their t labels; labels go along the widest empty wedge (radial) or above the
    data (rectilinear), never on the points. Returns the label artists."""
    from matplotlib.patches import Circle
    g = step_guides(Y, layout, config)
    S = Y.shape[0]
    texts = []
    kw = dict(fontsize=6, color="0.35", zorder=3)
    if g.kind == "ring":
        phi = label_angle(Y, g.center)
        u = np.array([math.cos(phi), math.sin(phi)])
        inner = (g.values[0] + g.values[1]) / 2 if S > 1 else g.values[0]
        rot = (math.degrees(phi) - 90 + 90) % 180 - 90  # across the ray (along the ring), upright
        rad = np.hypot(*(Y - g.center).transpose(2, 0, 1))  # (S, I)
        for s in label_steps(S):
            text = f"t={times[s]:.2f}" if times is not None else f"step {s}"
            r = g.values[s]
            ax.add_patch(Circle(tuple(g.center), r, fill=False, lw=0.5, ls="--", color="0.7", zorder=0))
            at = g.center + u * (r if s > 0 else inner)  # step 0 is a disk at the centre: label its edge
            texts.append(ax.text(at[0], at[1], text, ha="center", va="center", rotation=rot, rotation_mode="anchor",
                                 bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85), **kw))
            # clear_labels puts it just outside its ring's points and slides it along the ring
            half = float(np.percentile(np.abs(rad[s] - r), 98)) if s > 0 else float(rad[0].max())
            texts[-1].tdl_ring = (g.center, r if s > 0 else 0.0, phi, half)
    else:
        top = float(Y[..., 1].max() + 0.03 * (np.ptp(Y[..., 1]) or 1.0))
        for s in label_steps(S):
            text = f"t={times[s]:.2f}" if times is not None else f"step {s}"
            ax.axvline(g.values[s], lw=0.5, ls="--", color="0.8", zorder=0)
            texts.append(ax.text(g.values[s], top, text, ha="center", va="bottom", **kw))
    return texts


def clear_labels(ax, texts: list, points: np.ndarray, renderer, reach: float = 80.0, avoid: list = ()) -> list:
    """Put each radial step label just outside its ring's points, along the ring, and slide it along the
    ring (radial) or up (rectilinear) by up to `reach` px until it covers none of `points (N, 2)` (data
    coordinates), no `avoid` box (pixels: the commitment stars) and no other label; drop it where no
    such place is free. Returns the labels kept."""
    from matplotlib.transforms import Bbox
    px = ax.transData.transform(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    inv = ax.transData.inverted()
    scale = float(np.hypot(*(ax.transData.transform([(1.0, 0.0)]) - ax.transData.transform([(0.0, 0.0)]))[0]))
    kept = []
    for t in texts:
        ring = getattr(t, "tdl_ring", None)
        base = np.asarray(t.get_position(), dtype=np.float64)
        if ring is not None:  # just outside the ring's points: half a text line plus 2 px further out
            centre, r, phi, half = ring
            out = r + half + (t.get_fontsize() / 72 * ax.figure.dpi * 0.65 + 2.0) / scale
        shifts = [0.0] + [v for k in np.arange(2.0, reach, 2.0) for v in (k, -k)]
        # the noise disk's label may also step outwards (past a commitment star on the disk)
        outs = [0.0, 4.0, 8.0, 12.0, 16.0] if ring is not None and ring[1] == 0 else [0.0]
        for more, shift in ((m, v) for m in outs for v in shifts):
            if ring is not None:
                rr = out + more / scale
                a = phi + shift / max(rr * scale, 1e-9)  # `shift` px along the ring
                t.set_position(tuple(np.asarray(centre) + rr * np.array([math.cos(a), math.sin(a)])))
                t.set_rotation((math.degrees(a) - 90 + 90) % 180 - 90)
            else:
                t.set_position(tuple(inv.transform(ax.transData.transform(base[None]) + [[0.0, abs(shift)]])[0]))
            b = t.get_window_extent(renderer).padded(1.5)
            if not ((px[:, 0] > b.x0) & (px[:, 0] < b.x1) & (px[:, 1] > b.y0) & (px[:, 1] < b.y1)).any() and \
                    not any(b.padded(3.0).overlaps(o.get_window_extent(renderer)) for o in kept) and \
                    not any(b.overlaps(Bbox.from_extents(*o)) for o in avoid):
                kept.append(t)
                break
        else:
            t.remove()
    return kept


def _data_limits(ax, Y, texts, pad: float = 0.03) -> None:
    """Axes limits around the data and the labels only (rings beyond them are clipped), so the tree
    uses the whole panel."""
    pts = Y.reshape(-1, 2)
    lo, hi = pts.min(0), pts.max(0)
    for t in texts:
        x, y = t.get_position()
        lo, hi = np.minimum(lo, (x, y)), np.maximum(hi, (x, y))
    span = np.maximum(hi - lo, 1e-9)
    ax.set_xlim(lo[0] - pad * span[0], hi[0] + pad * span[0])
    ax.set_ylim(lo[1] - pad * span[1], hi[1] + (pad + (0.06 if texts and Y.shape[0] else 0)) * span[1])


def data_ink(ax, Y: np.ndarray, lines: bool = True, grow: int = 2) -> np.ndarray:
    """Where the tree is drawn, as a boolean pixel grid `(H, W)` of the figure (row 0 at the bottom):
    every point of `Y (S, I, 2)` and, with `lines`, the instance lines between steps (sampled every
    2 px), each grown by `grow` px. The axes limits and aspect must be final."""
    from scipy.ndimage import binary_dilation
    fig = ax.figure
    W, H = int(math.ceil(fig.bbox.width)), int(math.ceil(fig.bbox.height))
    px = ax.transData.transform(np.asarray(Y, dtype=np.float64).reshape(-1, 2)).reshape(Y.shape)
    pts = [px.reshape(-1, 2)]
    if lines and Y.shape[0] > 1:
        a, b = px[:-1].reshape(-1, 2), px[1:].reshape(-1, 2)
        n = int(np.clip(np.ceil(np.hypot(*(b - a).T).max() / 2), 1, 400))
        t = np.linspace(0, 1, n + 1)[:, None, None]
        pts.append((a[None] + t * (b - a)[None]).reshape(-1, 2))
    p = np.rint(np.concatenate(pts)).astype(np.int64)
    p = p[(p[:, 0] >= 0) & (p[:, 0] < W) & (p[:, 1] >= 0) & (p[:, 1] < H)]
    grid = np.zeros((H, W), bool)
    grid[p[:, 1], p[:, 0]] = True
    return binary_dilation(grid, iterations=grow) if grow > 0 else grid


def segment_ink(grid: np.ndarray, a, b, skip: float = 0.0, step: float = 1.5) -> np.ndarray:
    """Pixels of `grid` (`data_ink`) each straight line from `a (..., 2)` to `b (..., 2)` (pixels)
    crosses, sampled every `step` px, leaving out its first `skip` px (the point it starts at and that
    point's neighbours). Returns `(...)` ints (times `step`: about the length over the tree)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    shape = a.shape[:-1]
    a, b = a.reshape(-1, 2), b.reshape(-1, 2)
    L = np.hypot(*(b - a).T)
    out = np.zeros(len(a), np.int64)
    H, W = grid.shape
    n = int(np.ceil(L.max() / step)) + 1 if len(L) else 0
    dist = skip + step * np.arange(max(n, 0))  # (T,)
    for lo in range(0, len(a), 2048):
        sl = slice(lo, lo + 2048)
        t = dist[None] / np.maximum(L[sl, None], 1e-9)  # (m, T)
        q = np.rint(a[sl, None] + t[..., None] * (b[sl] - a[sl])[:, None]).astype(np.int64)
        ok = (t <= 1) & (q[..., 0] >= 0) & (q[..., 0] < W) & (q[..., 1] >= 0) & (q[..., 1] < H)
        hit = np.zeros(ok.shape, bool)
        hit[ok] = grid[q[..., 1][ok], q[..., 0][ok]]
        out[sl] = hit.sum(1)
    return (out * step).round().astype(np.int64).reshape(shape)


def hits_box(a, b, box) -> np.ndarray:
    """Whether segments `a`-`b` (`(..., 2)` pixels) pass through boxes `(..., 4)` = (x0, y0, x1, y1)
    (Liang-Barsky; broadcasts)."""
    a, b, box = (np.asarray(v, dtype=np.float64) for v in (a, b, box))
    d = b - a
    t0 = np.zeros(np.broadcast_shapes(a.shape[:-1], box.shape[:-1]))
    t1 = np.ones_like(t0)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-d[..., 0], a[..., 0] - box[..., 0]), (d[..., 0], box[..., 2] - a[..., 0]),
                     (-d[..., 1], a[..., 1] - box[..., 1]), (d[..., 1], box[..., 3] - a[..., 1])):
            r = q / p
            t0 = np.where(p < 0, np.maximum(t0, r), t0)
            t1 = np.where(p > 0, np.minimum(t1, r), t1)
            t0 = np.where((p == 0) & (q < 0), 2.0, t0)
    return t0 <= t1


def segments_cross(a, b, c, d) -> np.ndarray:
    """Whether segments a-b and c-d (`(..., 2)`, broadcasting) cross; touching ends do not count."""
    a, b, c, d = (np.asarray(v, dtype=np.float64) for v in (a, b, c, d))

    def orient(p, q, r):
        return (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])
    return (orient(a, b, c) * orient(a, b, d) < 0) & (orient(c, d, a) * orient(c, d, b) < 0)


def leader_end(anchor, centre, half: float) -> np.ndarray:
    """Where the line from `anchor` to a square box of half-side `half` around `centre` meets the box."""
    anchor, centre = np.asarray(anchor, dtype=np.float64), np.asarray(centre, dtype=np.float64)
    d = centre - anchor
    m = np.abs(d).max()
    return centre - d * (half / m) if m > half else anchor


INK_COST = 12.0  # a pixel of leader line over the tree costs as much as this many pixels of length
CROSS_COST = 400.0  # two leader lines crossing
BOX_COST = 1e6  # a leader line through another thumbnail: only where nothing else is left


def free_spots(ink: np.ndarray, half: float, blocked: list = (), pitch: float = 12.0, margin: float = 4.0
               ) -> np.ndarray:
    """Centres `(m, 2)` (pixels, on a grid of `pitch` px) of the square boxes of half-side `half` that hold
    none of the tree's `ink (H, W)` (`data_ink`; `margin` px round the box included), overlap no
    `blocked` box (x0, y0, x1, y1) and stay inside the figure."""
    H, W = ink.shape
    g = half + margin
    xs, ys = np.arange(g, W - g, pitch), np.arange(g, H - g, pitch)
    cand = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    c = np.pad(ink.astype(np.int32).cumsum(0).cumsum(1), ((1, 0), (1, 0)))  # integral image
    x0, x1 = np.floor(cand[:, 0] - g).astype(int), np.ceil(cand[:, 0] + g).astype(int)
    y0, y1 = np.floor(cand[:, 1] - g).astype(int), np.ceil(cand[:, 1] + g).astype(int)
    free = (c[y1, x1] - c[y0, x1] - c[y1, x0] + c[y0, x0]) == 0
    for b in blocked:
        free &= ~((cand[:, 0] + g > b[0]) & (cand[:, 0] - g < b[2]) & (cand[:, 1] + g > b[1]) & (cand[:, 1] - g < b[3]))
    return cand[free]


def leader_costs(anchors: np.ndarray, spots: np.ndarray, ink: np.ndarray, half: float, blocked: list = (),
                 reach: int = 1200, skip: float = 6.0):
    """For each point of `anchors (n, 2)`: its `reach` / 2 nearest `spots` and as many spread over the
    rest -> `centre (n, k, 2)`, where its line meets each box `end (n, k, 2)`, and the line's cost
    `(n, k)`: length + `INK_COST` x the tree pixels it crosses, infinite through a `blocked` box."""
    anchors = np.asarray(anchors, dtype=np.float64)
    order = np.argsort(np.hypot(*(spots[None] - anchors[:, None]).transpose(2, 0, 1)), axis=1)  # (n, m)
    if order.shape[1] > reach:
        rest = order[:, reach // 2:]
        order = np.concatenate((order[:, :reach // 2],
                                rest[:, np.linspace(0, rest.shape[1] - 1, reach - reach // 2).astype(int)]), 1)
    centre = spots[order]
    d = centre - anchors[:, None]
    m = np.abs(d).max(-1, keepdims=True)
    end = np.where(m > half, centre - d * (half / np.maximum(m, 1e-9)), anchors[:, None])
    cost = np.hypot(*(end - anchors[:, None]).transpose(2, 0, 1))
    cost = cost + INK_COST * segment_ink(ink, anchors[:, None], end, skip)
    for bx in blocked:
        cost[hits_box(anchors[:, None], end, bx)] = np.inf
    return centre, end, cost


def place_thumbnails(anchors: np.ndarray, ink: np.ndarray, half: float, blocked: list = (), pitch: float = 12.0,
                     margin: float = 4.0, reach: int = 1200, skip: float = 6.0) -> np.ndarray:
    """Centres `(n, 2)` (pixels) of square boxes of half-side `half` for the points `anchors (n, 2)`.

    Boxes go to `free_spots` (the empty space between branches or round the tree, never on the tree's
    `ink`, a `blocked` box or each other); each line costs its length plus `INK_COST` x the tree pixels
    it crosses (`leader_costs`), `CROSS_COST` for crossing another line and `BOX_COST` for passing
    through another box. Two placements are made, one greedy on a fine grid and one optimal
    assignment on a lattice of non-overlapping spots (`linear_sum_assignment`); crossing lines then swap
    boxes where that costs less, and the cheaper placement (`placement_cost`) is kept."""
    anchors = np.asarray(anchors, dtype=np.float64)
    if len(anchors) == 0:
        return np.zeros((0, 2))
    room = len(free_spots(ink, half, list(blocked), 2 * half + margin, margin))  # frames side by side
    if len(anchors) > room:
        raise UserError(f"{len(anchors)} thumbnails do not fit in this figure (about {room} do): "
                        "ask for fewer (--thumbnails)")
    tries = [_place_greedy(anchors, ink, half, list(blocked), pitch, margin, reach, skip),
             _place_lattice(anchors, ink, half, list(blocked), margin, skip)]
    tries = [_uncross(anchors, t, ink, half, skip) for t in tries if t is not None]
    if not tries:
        raise UserError("no room for thumbnails in this figure: ask for fewer (--thumbnails)")
    return min(tries, key=lambda t: placement_cost(anchors, t, ink, half, skip))


def placement_cost(anchors: np.ndarray, centres: np.ndarray, ink: np.ndarray, half: float, skip: float = 6.0
                   ) -> float:
    """What a placement costs: each line's length + `INK_COST` x the tree pixels it crosses, plus
    `CROSS_COST` per pair of crossing lines and `BOX_COST` per line through another box."""
    ends = np.array([leader_end(a, c, half) for a, c in zip(anchors, centres)])
    total = float(np.hypot(*(ends - anchors).T).sum() + INK_COST * segment_ink(ink, anchors, ends, skip).sum())
    boxes = np.concatenate((centres - half, centres + half), 1)
    for p in range(len(anchors)):
        through = hits_box(anchors[p], ends[p], boxes)
        through[p] = False
        total += BOX_COST * through.sum()
        total += CROSS_COST * segments_cross(anchors[p], ends[p], anchors[p + 1:], ends[p + 1:]).sum()
    return total


def _place_lattice(anchors: np.ndarray, ink: np.ndarray, half: float, blocked: list, margin: float, skip: float):
    """The optimal assignment of points to free spots on a lattice whose boxes cannot overlap (four
    offsets of half a box tried, the cheapest kept); lines through a used box are priced at `BOX_COST`
    and the assignment solved again (at most 40 times)."""
    from scipy.optimize import linear_sum_assignment
    n, lat, best = len(anchors), 2 * half + margin, None
    spots_all = free_spots(ink, half, blocked, lat / 2, margin)  # every lattice offset below is a subset
    for ox in (0.0, 0.5):
        for oy in (0.0, 0.5):
            on = np.isclose(np.mod((spots_all - (half + margin)) / lat - (ox, oy) + 1e-9, 1.0), 0, atol=1e-6).all(1)
            spots = spots_all[on]
            if len(spots) < n:
                continue
            centre = np.broadcast_to(spots, (n, *spots.shape))
            d = centre - anchors[:, None]
            m = np.abs(d).max(-1, keepdims=True)
            end = np.where(m > half, centre - d * (half / np.maximum(m, 1e-9)), anchors[:, None])
            cost = np.hypot(*(end - anchors[:, None]).transpose(2, 0, 1)) + INK_COST * segment_ink(
                ink, anchors[:, None], end, skip)
            for bx in blocked:
                cost[hits_box(anchors[:, None], end, bx)] = BOX_COST
            boxes = np.concatenate((spots - half, spots + half), 1)
            for _ in range(40):
                rows, cols = linear_sum_assignment(cost)
                bad = False
                for p, c in zip(rows, cols):
                    through = hits_box(anchors[p], end[p, c], boxes[cols])
                    through[cols == c] = False
                    if through.any():
                        cost[p, c] += BOX_COST
                        bad = True
                if not bad:
                    break
            total = cost[rows, cols].sum()
            if best is None or total < best[0]:
                out = np.zeros((n, 2))
                out[rows] = spots[cols]
                best = (total, out)
    return None if best is None else best[1]


def _place_greedy(anchors: np.ndarray, ink: np.ndarray, half: float, blocked: list, pitch: float, margin: float,
                  reach: int, skip: float) -> np.ndarray:
    """Free spots on a fine grid, taken one pair at a time, the cheapest first; after each, spots whose
    box would overlap the new box are dropped and lines that would cross the new line (`CROSS_COST`) or
    pass through a box (`BOX_COST`) cost more."""
    n = len(anchors)
    g = half + margin
    spots = free_spots(ink, half, blocked, pitch, margin)
    if len(spots) < n:
        return None
    centre, end, cost = leader_costs(anchors, spots, ink, half, blocked, reach, skip)
    ok = np.isfinite(cost)
    boxes = np.concatenate((centre - half, centre + half), -1)  # (n, k, 4)
    out = np.full((n, 2), np.nan)
    todo = set(range(n))
    while todo:
        rows = sorted(todo)
        cc = np.where(ok[rows], cost[rows], np.inf)
        if not np.isfinite(cc).any():
            return None
        r, j = np.unravel_index(int(np.argmin(cc)), cc.shape)
        p = rows[r]
        out[p] = centre[p, j]
        todo.discard(p)
        box = np.concatenate((centre[p, j] - g, centre[p, j] + g))
        a, e = anchors[p], end[p, j]
        for q in todo:
            ok[q] &= np.abs(centre[q] - centre[p, j]).max(-1) >= 2 * half + margin  # boxes may not overlap
            through = hits_box(anchors[q], end[q], box) | hits_box(a, e, boxes[q])  # a line through a box
            crossing = segments_cross(anchors[q], end[q], a, e)
            cost[q] += np.where(through, BOX_COST, 0.0) + np.where(crossing, CROSS_COST, 0.0)
    return out


def _uncross(anchors: np.ndarray, centres: np.ndarray, ink: np.ndarray, half: float, skip: float) -> np.ndarray:
    """Swap the boxes of two crossing leader lines where that costs no more than the crossing does
    (swapping the ends of two crossing segments always shortens them; the ink may grow)."""
    centres = centres.copy()
    n = len(anchors)

    def line(p: int, box: int) -> tuple[np.ndarray, float]:  # point p's line to the box now at `box`
        e = leader_end(anchors[p], centres[box], half)
        others = np.delete(np.concatenate((centres - half, centres + half), 1), box, 0)
        through = bool(hits_box(anchors[p], e, others).any()) if len(others) else False
        cost = np.hypot(*(e - anchors[p])) + INK_COST * float(segment_ink(ink, anchors[p], e, skip))
        return e, cost + BOX_COST * through

    for _ in range(3):
        changed = False
        ends = np.array([leader_end(a, c, half) for a, c in zip(anchors, centres)])
        for p in range(n):
            for q in np.flatnonzero(segments_cross(anchors[p], ends[p], anchors, ends)):
                if q <= p or not segments_cross(anchors[p], ends[p], anchors[q], ends[q]):
                    continue  # (an earlier swap may have moved them)
                (_, cp), (_, cq) = line(p, p), line(q, q)
                (ep2, cp2), (eq2, cq2) = line(p, q), line(q, p)
                if cp2 + cq2 <= cp + cq + CROSS_COST:
                    centres[[p, q]] = centres[[q, p]]
                    ends[p], ends[q] = ep2, eq2
                    changed = True
        if not changed:
            break
    return centres


def exposed_instances(picks: list[tuple[int, int]], prompt_index: np.ndarray, px: np.ndarray, spots: np.ndarray,
                      ink: np.ndarray, half: float, blocked: list = (), tries: int = 24) -> list[tuple[int, int]]:
    """`picks` with each prompt's instance replaced by the one (of `tries` spread over the prompt) whose
    points at the picked steps reach free `spots` most cheaply (`leader_costs`: the edge of its branch,
    not its middle). Only where a prompt has one instance in `picks`; `px (S, I, 2)`: pixels."""
    prompt_index = np.asarray(prompt_index)
    by_prompt: dict[int, list] = {}
    for s, i in picks:
        by_prompt.setdefault(int(prompt_index[i]), []).append((s, i))
    swap = {}
    for p, mine in by_prompt.items():
        if len({i for _, i in mine}) != 1 or len(spots) == 0:
            continue
        members = np.flatnonzero(prompt_index == p)
        members = members[np.unique(np.linspace(0, len(members) - 1, min(tries, len(members))).astype(int))]
        steps = [s for s, _ in mine]
        anchors = px[steps][:, members].reshape(-1, 2)  # (steps x members, 2)
        cost = leader_costs(anchors, spots, ink, half, blocked, reach=160)[2].min(1)
        swap[mine[0][1]] = int(members[int(np.argmin(cost.reshape(len(steps), -1).sum(0)))])
    return [(s, swap.get(i, i)) for s, i in picks]


def _draw_thumbnails(fig, ax, Y, images, picks, colors, blocked=(), lines: bool = True, size: float = 0.62,
                     prompt_index=None) -> list:
    """Each picked (step, instance) gets its image in a framed square of `size` inches, placed by
    `place_thumbnails` in empty space (between branches or round the tree, never on the data, the
    labels or each other) and joined to its point by a thin line that crosses as little of the tree as
    it can and no `blocked` box (pixels: labels, legend, title) or other thumbnail. With `prompt_index`,
    each prompt shows its most exposed instance (`exposed_instances`). Returns the AnnotationBbox artists."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage
    if not picks:
        return []
    half = (size / 2 + 0.02) * fig.dpi  # the frame's pad included
    ink = data_ink(ax, Y, lines)
    pitch = 0.08 * fig.dpi
    if prompt_index is not None:
        picks = exposed_instances(picks, prompt_index, ax.transData.transform(Y.reshape(-1, 2)).reshape(Y.shape),
                                  free_spots(ink, half, list(blocked), pitch), ink, half, list(blocked))
    pts = np.array([Y[s, i] for s, i in picks])
    anchors = ax.transData.transform(pts)  # (n, 2) pixels
    centres = place_thumbnails(anchors, ink, half, list(blocked), pitch=pitch)
    wh = np.array([fig.bbox.width, fig.bbox.height])
    out = []
    for r, c in enumerate(centres):
        s, i = picks[r]
        img = images[s, i]
        cmap = None
        if img.shape[-1] == 1:
            img, cmap = img[..., 0], "gray"
        oi = OffsetImage(img, zoom=72.0 * (size - 0.06) / max(img.shape[:2]), cmap=cmap, interpolation="nearest")
        ab = AnnotationBbox(oi, tuple(pts[r]), xybox=tuple(c / wh), xycoords="data", boxcoords="figure fraction",
                            pad=0.1, frameon=True, zorder=4, annotation_clip=False,
                            bboxprops=dict(ec=colors[i], lw=1.2))
        ab.set_in_layout(False)
        ab.tdl_pick = (s, i)
        ab.tdl_leader = (anchors[r], leader_end(anchors[r], c, half))  # pixels, for tests
        # the line runs under the points (and over the faint instance lines): where it must cross the
        # tree, the tree stays on top
        seg = ax.transData.inverted().transform(np.stack(ab.tdl_leader))
        ax.plot(seg[:, 0], seg[:, 1], lw=0.6, color="0.3", zorder=1.5, clip_on=False, solid_capstyle="butt")
        ax.add_artist(ab)
        out.append(ab)
    return out


def _branch_centres(Y: np.ndarray, members: np.ndarray, layout: str, center) -> np.ndarray:
    """Display position `(S, 2)` of a branch (instances `members`) at each step: the circular mean angle
    at the step's mean radius (radial) or the mean point (rectilinear)."""
    P = Y[:, members]
    if layout != "radial":
        return P.mean(1)
    d = P - np.asarray(center)
    ang = np.angle(np.exp(1j * np.arctan2(d[..., 1], d[..., 0])).mean(1))
    rad = np.hypot(d[..., 0], d[..., 1]).mean(1)
    return np.asarray(center) + np.stack((rad * np.cos(ang), rad * np.sin(ang)), -1)


def _draw_commitment(ax, Y, tree, prompts, pidx, center) -> list:
    """A star on each branch at its commitment step (tree.metrics["commitment_step"], by prompt)."""
    steps = (getattr(tree, "metrics", None) or {}).get("commitment_step") or {}
    marks = []
    for p, name in enumerate(prompts):
        s = steps.get(name)
        members = np.flatnonzero(pidx == p)
        if s is None or not members.size or not 0 <= int(s) < Y.shape[0]:
            continue
        c = _branch_centres(Y, members, tree.layout, center)[int(s)]
        marks.append(ax.scatter([c[0]], [c[1]], marker="*", s=140, c=[_rgb(prompt_colors(len(prompts))[p])],
                                edgecolors="k", linewidths=0.8, zorder=5))
    return marks


def make_figure(tree, traj=None, thumbnails: int = 6, lines: bool = True, thumbnail_steps: list[int] | None = None,
                color_by=None, color_label: str = ""):
    """A matplotlib Figure of `tree` (a TreeData); `traj` (its TrajectoryData) gives the images
    for thumbnails and, for the 2D sandbox, the true paths drawn beside the embedding.

    `thumbnail_steps`: the steps thumbnails show (default: spread from a quarter of the way to the end);
    `color_by (I,)`: colour the points by any per-instance number (`color_label` names it) instead of
    by prompt. Each branch's commitment step (in the tree's metrics) is marked with a star."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    Y = np.asarray(tree.Y, dtype=np.float64)
    prompts, pidx = list(tree.prompts), np.asarray(tree.prompt_index)
    times = np.asarray(tree.times) if tree.times is not None else None
    pos2d = getattr(traj, "positions2d", None) if traj is not None else None
    images = getattr(traj, "images", None) if traj is not None else None
    if images is not None and images.shape[:2] != Y.shape[:2]:
        images = None  # a trajectory that does not match the tree: draw no thumbnails
    side = pos2d is not None and pos2d.shape[:2] == Y.shape[:2]
    colors, legend = point_colors(pidx, len(prompts), color_by)

    radial = tree.layout == "radial"
    thumbs = images is not None and thumbnails > 0
    size = (10.0, 8.6) if radial else (12.5, 6.6)
    fig = Figure(figsize=(size[0] + 5.0, size[1]) if side else size)
    # manual layout: a margin around the tree for thumbnails, the legend on the right
    m = 0.8 if thumbs else 0.15
    W, H = fig.get_size_inches()
    legend_w, title_h = 2.3, 0.75
    left0 = (5.0 + 0.3) / W if side else 0.0
    left = fig.add_axes((0.3 / W, 0.6 / H, 4.6 / W, 1 - 1.5 / H)) if side else None
    ax = fig.add_axes((left0 + m / W, m / H, 1 - left0 - (2 * m + legend_w) / W, 1 - (2 * m + title_h) / H))
    axes = [ax]
    if side:
        axes = [left, ax]
        _draw_paths(left, np.asarray(pos2d, dtype=np.float64), colors, lines)
        ends = np.asarray(pos2d[-1], dtype=np.float64)
        left.scatter(ends[:, 0], ends[:, 1], s=10, facecolors="none", edgecolors="k", lw=0.4, zorder=3)
        left.set_title("true 2D paths (circled: final samples)", fontsize=10)
        left.set_aspect("equal", adjustable="datalim")
        ax.set_title(f"evolutionary embedding ({tree.layout})", fontsize=10)
    texts = _draw_guides(ax, Y, tree.layout, times, getattr(tree, "config", None))
    _draw_paths(ax, Y, colors, lines)
    center = step_guides(Y, tree.layout, getattr(tree, "config", None)).center
    marks = _draw_commitment(ax, Y, tree, prompts, pidx, center)
    _data_limits(ax, Y, texts)
    for a in axes:
        a.set_xticks([])
        a.set_yticks([])
        for spine in a.spines.values():
            spine.set_visible(False)
    if radial:  # rings must look round: the limits grow along one axis to fill the panel
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_autoscale_on(True)  # the same growth; without it matplotlib logs "Ignoring fixed x limits..."
        ax.apply_aspect()
        ax.set_autoscale_on(False)
    if legend[0] == "prompt":
        handles = [Line2D([], [], marker="o", ls="", markersize=6, color=_rgb(c), label=name)
                   for c, name in zip(prompt_colors(len(prompts)), prompts)]
        if marks:
            handles.append(Line2D([], [], marker="*", ls="", markersize=10, color="0.6", markeredgecolor="k",
                                  label="commitment step"))
        fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(1.0, 1 - title_h / H), fontsize=8,
                   frameon=False, ncol=1 if len(prompts) <= 24 else 2)
    else:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize
        cmap, lo, hi = legend[1]
        cax = fig.add_axes((1 - (legend_w - 0.4) / W, 0.25, 0.18 / W, 0.5))
        fig.colorbar(ScalarMappable(Normalize(lo, hi), cmap), cax=cax, label=color_label or "value")
    source = getattr(traj, "source", None) or (getattr(tree, "config", None) or {}).get("trajectory_source", "")
    title = "Tree of Diffusion Life" + (f": {source}" if source and source != "unknown" else "") + f" ({tree.layout})"
    line = summary_line(getattr(tree, "metrics", None))
    fig.suptitle(title + (f"\n{line}" if line else ""), fontsize=11, y=1 - 0.12 / H, va="top")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    r = FigureCanvasAgg(fig).get_renderer()
    rad = math.sqrt(140.0) / 2 / 72 * fig.dpi  # the stars' radius in pixels (marker size 140 pt^2)
    stars = [(*(c - rad), *(c + rad)) for m in marks for c in ax.transData.transform(m.get_offsets())]
    texts = clear_labels(ax, texts, Y, r, avoid=stars)
    if thumbs:
        picks = choose_thumbnails(pidx, Y.shape[0], thumbnails, thumbnail_steps)
        rows = np.flatnonzero(traj.image_rows()) if hasattr(traj, "image_rows") else np.arange(Y.shape[0])
        if len(rows) and len(rows) < Y.shape[0]:  # only some steps decoded: the nearest decoded step
            picks = list(dict.fromkeys((int(rows[np.argmin(np.abs(rows - s))]), i) for s, i in picks))
        blocked = [t.get_window_extent(r).extents for t in texts + list(fig.legends) + [fig._suptitle]]
        blocked += [a.get_window_extent(r).extents for a in fig.axes if a is not ax]  # colour bar, 2D panel
        size = 0.62
        if not radial:  # the final step is one column: as many frames as it has picks fit beside it
            last = sum(s == max(p[0] for p in picks) for s, _ in picks)
            size = float(np.clip(0.95 * (H - title_h - 0.3) / max(last, 1) - 0.08, 0.4, 0.62))
        _draw_thumbnails(fig, ax, Y, images, picks, colors, blocked, lines, size=size, prompt_index=pidx)
    return fig


def check_figure_path(out: str | os.PathLike) -> Path:
    """`out` as a Path; UserError unless it ends in .png, .svg or .pdf."""
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise UserError(f"cannot write '{out.name}': the figure must end in .png, .svg or .pdf")
    return out


def save_figure(fig, out: str | os.PathLike, dpi: int = 150) -> Path:
    """Write `fig` to `out` (.png, .svg or .pdf) atomically: a temporary file, then a rename."""
    out = check_figure_path(out)
    if dpi <= 0:
        raise UserError(f"--dpi must be positive, got {dpi}")
    suffix = out.suffix.lower()
    with atomic_path(out, make_parents=True) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format=suffix[1:], dpi=dpi)
    return out


def plot_tree(tree, out: str | os.PathLike, traj=None, thumbnails: int = 6, lines: bool = True,
              dpi: int = 150, thumbnail_steps: list[int] | None = None, color_by=None, color_label: str = "") -> Path:
    """Draw `tree` (with `traj` for images and true 2D paths) and save it to `out`."""
    if thumbnails < 0:
        raise UserError(f"--thumbnails must be 0 or more, got {thumbnails}")
    if dpi <= 0:
        raise UserError(f"--dpi must be positive, got {dpi}")
    check_figure_path(out)
    fig = make_figure(tree, traj, thumbnails=thumbnails, lines=lines, thumbnail_steps=thumbnail_steps,
                      color_by=color_by, color_label=color_label)
    return save_figure(fig, out, dpi=dpi)


class _CallableModule(types.ModuleType):
    """`tdl.plot(tree, traj, out=None)`, the public API (tdl/api.py), is this module called: a
    package attribute named like a submodule is replaced by the module on import."""

    def __call__(self, *args, **kwargs):
        from tdl.api import plot as api_plot

        return api_plot(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
