"""What the figure's tree covers and what a thumbnail's leader line over it costs: the pixels each
branch is drawn on (`data_ink`), the free square spots round and between the branches (`free_spots`),
the price of a line (`segment_cost`, `leader_costs`) and of a whole placement (`placement_cost`), and
the segment geometry they share. Pure numpy and scipy over pixel coordinates; only `data_ink` reads
the axes. `tdl.plot_placement` chooses where the thumbnails go with these."""
from __future__ import annotations

import math

import numpy as np

INK_COST = 12.0  # a pixel of leader line over another branch (or a point of unknown branch): this many px of length
OWN_COST = 3.0  # a pixel over its own branch: the line still points at the right branch
BRANCH_COST = 150.0  # each other branch a line crosses: it seems to point at that one too
CROSS_COST = 400.0  # two leader lines crossing
BOX_COST = 1e6  # a leader line through another thumbnail: only where nothing else is left
SEVERAL = -1  # an ink pixel shared by several branches
LEADER = -2  # a leader line placed earlier (`add_lines`): crossing it costs `CROSS_COST`


def data_ink(ax, Y: np.ndarray, lines: bool = True, grow: int = 2, groups: np.ndarray | None = None) -> np.ndarray:
    """Where the tree is drawn, as a pixel grid `(H, W)` of the figure (row 0 at the bottom): every point
    of `Y (S, I, 2)` and, with `lines`, the instance lines between steps (sampled every 2 px), each grown
    by `grow` px. Boolean; with `groups (I,)` (each instance's branch, 0..P-1) int16 instead: 0 empty,
    p + 1 where only branch p is drawn, `SEVERAL` where more than one is. The axes limits must be final."""
    from scipy.ndimage import binary_dilation
    fig = ax.figure
    W, H = int(math.ceil(fig.bbox.width)), int(math.ceil(fig.bbox.height))
    px = ax.transData.transform(np.asarray(Y, dtype=np.float64).reshape(-1, 2)).reshape(Y.shape)

    def raster(P: np.ndarray) -> np.ndarray:  # (S, k, 2) pixels -> (H, W) bool
        pts = [P.reshape(-1, 2)]
        if lines and P.shape[0] > 1 and P.shape[1]:
            a, b = P[:-1].reshape(-1, 2), P[1:].reshape(-1, 2)
            n = int(np.clip(np.ceil(np.hypot(*(b - a).T).max() / 2), 1, 400))
            t = np.linspace(0, 1, n + 1)[:, None, None]
            pts.append((a[None] + t * (b - a)[None]).reshape(-1, 2))
        p = np.rint(np.concatenate(pts)).astype(np.int64)
        p = p[(p[:, 0] >= 0) & (p[:, 0] < W) & (p[:, 1] >= 0) & (p[:, 1] < H)]
        grid = np.zeros((H, W), bool)
        grid[p[:, 1], p[:, 0]] = True
        return binary_dilation(grid, iterations=grow) if grow > 0 else grid

    if groups is None:
        return raster(px)
    groups = np.asarray(groups)
    owner, count = np.zeros((H, W), np.int16), np.zeros((H, W), np.int16)
    for g in np.unique(groups):
        mine = raster(px[:, groups == g])
        owner[mine] = int(g) + 1
        count += mine
    owner[count > 1] = SEVERAL
    return owner


def add_lines(grid: np.ndarray, a, b, grow: int = 1) -> np.ndarray:
    """A copy of `grid` (`data_ink`) with the segments `a`-`b` (`(n, 2)` pixels) drawn in as `LEADER`
    (True in a boolean grid), `grow` px wide each side: leader lines placed before the next ones."""
    from scipy.ndimage import binary_dilation
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 2), np.asarray(b, dtype=np.float64).reshape(-1, 2)
    H, W = grid.shape
    line = np.zeros((H, W), bool)
    for p, q in zip(a, b):
        t = np.linspace(0, 1, int(np.hypot(*(q - p))) + 2)[:, None]
        s = np.rint(p + t * (q - p)).astype(np.int64)
        s = s[(s[:, 0] >= 0) & (s[:, 0] < W) & (s[:, 1] >= 0) & (s[:, 1] < H)]
        line[s[:, 1], s[:, 0]] = True
    if grow > 0:
        line = binary_dilation(line, iterations=grow)
    out = grid.copy()
    out[line] = True if grid.dtype == bool else LEADER
    return out


def _samples(grid: np.ndarray, a, b, skip: float, step: float):
    """Chunks `(slice, values (m, T))` of `grid` sampled every `step` px along each segment from `a` to
    `b` (`(N, 2)`), leaving out its first `skip` px; 0 beyond the segment or the figure."""
    L = np.hypot(*(b - a).T)
    H, W = grid.shape
    n = int(np.ceil(L.max() / step)) + 1 if len(L) else 0
    dist = skip + step * np.arange(max(n, 0))  # (T,)
    for lo in range(0, len(a), 2048):
        sl = slice(lo, lo + 2048)
        t = dist[None] / np.maximum(L[sl, None], 1e-9)  # (m, T)
        q = np.rint(a[sl, None] + t[..., None] * (b[sl] - a[sl])[:, None]).astype(np.int64)
        ok = (t <= 1) & (q[..., 0] >= 0) & (q[..., 0] < W) & (q[..., 1] >= 0) & (q[..., 1] < H)
        vals = np.zeros(ok.shape, np.int64)
        vals[ok] = grid[q[..., 1][ok], q[..., 0][ok]]
        yield sl, vals


def segment_ink(grid: np.ndarray, a, b, skip: float = 0.0, step: float = 1.5) -> np.ndarray:
    """Pixels of `grid` (`data_ink`) each straight line from `a (..., 2)` to `b (..., 2)` (pixels)
    crosses, sampled every `step` px, leaving out its first `skip` px (the point it starts at and that
    point's neighbours). Returns `(...)` ints (times `step`: about the length over the tree)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    shape = a.shape[:-1]
    a, b = a.reshape(-1, 2), b.reshape(-1, 2)
    out = np.zeros(len(a), np.int64)
    for sl, vals in _samples(grid, a, b, skip, step):
        out[sl] = (vals != 0).sum(1)
    return (out * step).round().astype(np.int64).reshape(shape)


def segment_cost(grid: np.ndarray, a, b, groups=None, skip: float = 0.0, step: float = 1.5) -> np.ndarray:
    """What the tree adds to the cost of each line from `a (..., 2)` to `b (..., 2)`: `INK_COST` per px
    over other branches, `OWN_COST` per px over the line's own (`groups (...)`: its branch, 0..P-1, on
    a `data_ink` grid made with groups), `BRANCH_COST` for each other branch it crosses and `CROSS_COST`
    for each earlier leader line (`add_lines`). Without groups (or on a boolean grid) every branch is
    another's. Returns `(...)` floats."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    shape = a.shape[:-1]
    a, b = a.reshape(-1, 2), b.reshape(-1, 2)
    if not len(a):
        return np.zeros(shape)
    g = np.zeros(len(a), np.int64) if groups is None else np.broadcast_to(np.asarray(groups) + 1, shape).reshape(-1)
    out = np.zeros(len(a))
    for sl, vals in _samples(grid, a, b, skip, step):
        own = (vals == g[sl, None]) & (vals != 0)
        leader = vals == LEADER
        other = (vals != 0) & ~own & ~leader
        crossed = np.zeros((len(vals), int(max(vals.max(initial=0), 0)) + 1), bool)  # column 0: SEVERAL
        r, c = np.nonzero(other)
        crossed[r, np.maximum(vals[r, c], 0)] = True
        lines = leader[:, :1].sum(1) + (leader[:, 1:] & ~leader[:, :-1]).sum(1)  # each line crossed
        out[sl] = (step * (INK_COST * other.sum(1) + OWN_COST * own.sum(1)) + BRANCH_COST * crossed.sum(1)
                   + CROSS_COST * lines)
    return out.reshape(shape)


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


def leader_ends(anchors: np.ndarray, centres: np.ndarray, half: float) -> np.ndarray:
    """`leader_end` of each pair: `(..., 2)`, broadcasting."""
    anchors, centres = np.broadcast_arrays(np.asarray(anchors, dtype=np.float64), np.asarray(centres, dtype=np.float64))
    d = centres - anchors
    m = np.abs(d).max(-1, keepdims=True)
    return np.where(m > half, centres - d * (half / np.maximum(m, 1e-9)), anchors)


def free_spots(ink: np.ndarray, half: float, blocked: list = (), pitch: float = 12.0, margin: float = 4.0
               ) -> np.ndarray:
    """Centres `(m, 2)` (pixels, on a grid of `pitch` px) of the square boxes of half-side `half` that hold
    none of the tree's `ink (H, W)` (`data_ink`; `margin` px round the box included), overlap no
    `blocked` box (x0, y0, x1, y1) and stay inside the figure."""
    H, W = ink.shape
    g = half + margin
    xs, ys = np.arange(g, W - g, pitch), np.arange(g, H - g, pitch)
    cand = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    return cand[free(integral(ink), cand, g, blocked)]


def integral(ink: np.ndarray) -> np.ndarray:
    """The integral image of `ink (H, W)` (any non-zero pixel), `(H + 1, W + 1)`: ink in any box from
    four look-ups."""
    return np.pad((ink != 0).astype(np.int32).cumsum(0).cumsum(1), ((1, 0), (1, 0)))


def free(c: np.ndarray, cand: np.ndarray, g: float, blocked) -> np.ndarray:
    """Whether boxes of half-side `g` round `cand (m, 2)` (inside the figure) hold no ink (`c`: its
    `integral`) and overlap no `blocked` box."""
    x0, x1 = np.floor(cand[:, 0] - g).astype(int), np.ceil(cand[:, 0] + g).astype(int)
    y0, y1 = np.floor(cand[:, 1] - g).astype(int), np.ceil(cand[:, 1] + g).astype(int)
    inside = (x0 >= 0) & (y0 >= 0) & (x1 < c.shape[1]) & (y1 < c.shape[0])
    x0, x1 = np.clip(x0, 0, c.shape[1] - 1), np.clip(x1, 0, c.shape[1] - 1)
    y0, y1 = np.clip(y0, 0, c.shape[0] - 1), np.clip(y1, 0, c.shape[0] - 1)
    out = inside & ((c[y1, x1] - c[y0, x1] - c[y1, x0] + c[y0, x0]) == 0)
    for b in blocked:
        out &= ~((cand[:, 0] + g > b[0]) & (cand[:, 0] - g < b[2]) & (cand[:, 1] + g > b[1]) & (cand[:, 1] - g < b[3]))
    return out


def leader_costs(anchors: np.ndarray, spots: np.ndarray, ink: np.ndarray, half: float, blocked: list = (),
                 reach: int = 1200, skip: float = 6.0, groups=None):
    """For each point of `anchors (n, 2)` (of branches `groups (n,)`): its `reach` / 2 nearest `spots`
    and as many spread over the rest -> `centre (n, k, 2)`, where its line meets each box `end (n, k, 2)`,
    and the line's cost `(n, k)`: length + `segment_cost`, infinite through a `blocked` box."""
    anchors = np.asarray(anchors, dtype=np.float64)
    order = np.argsort(np.hypot(*(spots[None] - anchors[:, None]).transpose(2, 0, 1)), axis=1)  # (n, m)
    if order.shape[1] > reach:
        rest = order[:, reach // 2:]
        order = np.concatenate((order[:, :reach // 2],
                                rest[:, np.linspace(0, rest.shape[1] - 1, reach - reach // 2).astype(int)]), 1)
    centre = spots[order]
    end = leader_ends(anchors[:, None], centre, half)
    cost = np.hypot(*(end - anchors[:, None]).transpose(2, 0, 1))
    cost = cost + segment_cost(ink, anchors[:, None], end, None if groups is None else np.asarray(groups)[:, None],
                               skip)
    for bx in blocked:
        cost[hits_box(anchors[:, None], end, bx)] = np.inf
    return centre, end, cost


def through_boxes(anchors: np.ndarray, centres: np.ndarray, half: float) -> int:
    """How many (line, other box) pairs there are where a point's line to its box passes through
    another point's box."""
    ends = leader_ends(anchors, centres, half)
    boxes = np.concatenate((centres - half, centres + half), 1)
    hits = hits_box(anchors[:, None], ends[:, None], boxes[None])  # (n, n)
    np.fill_diagonal(hits, False)
    return int(hits.sum())


def placement_cost(anchors: np.ndarray, centres: np.ndarray, ink: np.ndarray, half: float, skip: float = 6.0,
                   groups=None, blocked: list = ()) -> float:
    """What a placement costs: each line's length + `segment_cost`, plus `CROSS_COST` per pair of
    crossing lines and `BOX_COST` per line through another box or a `blocked` one."""
    ends = leader_ends(anchors, centres, half)
    total = float(np.hypot(*(ends - anchors).T).sum() + segment_cost(ink, anchors, ends, groups, skip).sum())
    total += BOX_COST * through_boxes(anchors, centres, half)
    if len(blocked):
        total += BOX_COST * int(hits_box(anchors[:, None], ends[:, None], np.asarray(blocked, float)[None]).sum())
    for p in range(len(anchors)):
        total += CROSS_COST * segments_cross(anchors[p], ends[p], anchors[p + 1:], ends[p + 1:]).sum()
    return total
