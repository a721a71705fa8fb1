"""Where the figure's thumbnails go: the pixels the tree is drawn on (`data_ink`), the free square
spots around and between its branches (`free_spots`), and an assignment of picked points to spots
whose leader lines are short, cross little of the tree and each other and pass through no other box
(`place_thumbnails`). Pure numpy and scipy over pixel coordinates; only `data_ink` reads the axes."""
from __future__ import annotations

import math

import numpy as np

from sandbox.errors import UserError


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
    return cand[_free(_integral(ink), cand, g, blocked)]


def _integral(ink: np.ndarray) -> np.ndarray:
    """The integral image of `ink (H, W)`, `(H + 1, W + 1)`: ink in any box from four look-ups."""
    return np.pad(ink.astype(np.int32).cumsum(0).cumsum(1), ((1, 0), (1, 0)))


def _free(c: np.ndarray, cand: np.ndarray, g: float, blocked) -> np.ndarray:
    """Whether boxes of half-side `g` round `cand (m, 2)` (inside the figure) hold no ink (`c`: its
    `_integral`) and overlap no `blocked` box."""
    x0, x1 = np.floor(cand[:, 0] - g).astype(int), np.ceil(cand[:, 0] + g).astype(int)
    y0, y1 = np.floor(cand[:, 1] - g).astype(int), np.ceil(cand[:, 1] + g).astype(int)
    free = (c[y1, x1] - c[y0, x1] - c[y1, x0] + c[y0, x0]) == 0
    for b in blocked:
        free &= ~((cand[:, 0] + g > b[0]) & (cand[:, 0] - g < b[2]) & (cand[:, 1] + g > b[1]) & (cand[:, 1] - g < b[3]))
    return free


def _place_column(anchors: np.ndarray, ink: np.ndarray, half: float, blocked: list, margin: float, pitch: float,
                  side: int) -> np.ndarray | None:
    """Boxes stacked in one column beside the points (`side` +1: right of the rightmost, -1: left of the
    leftmost), in the points' vertical order so that no two lines cross, each as near its point's height
    as the stack allows (least squares: an isotonic fit), the column as near the points as free space
    allows. The rectilinear tree's last step is such a column of points, and with more thumbnails than
    the points' height holds the other placements sent some across the bands. None where none fits."""
    from sklearn.isotonic import isotonic_regression
    H, W = ink.shape
    n, g, lat = len(anchors), half + margin, 2 * half + margin
    order = np.argsort(anchors[:, 1], kind="stable")
    ys = isotonic_regression(anchors[order, 1] - lat * np.arange(n)) + lat * np.arange(n)
    ys += max(0.0, g - ys[0]) - max(0.0, ys[-1] - (H - g))  # shifted into the figure
    if ys[0] < g - 1e-6 or ys[-1] > H - g + 1e-6:
        return None
    x = anchors[:, 0].max() + g + margin if side > 0 else anchors[:, 0].min() - g - margin
    c = _integral(ink)
    while g <= x <= W - g:
        out = np.zeros((n, 2))
        out[order] = np.stack((np.full(n, x), ys), 1)
        if _free(c, out, g, blocked).all() and _through_boxes(anchors, out, half) == 0:
            return out
        x += side * pitch  # further out: the lines get less steep and stop passing through the next box
    return None


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
    through another box. Four placements are made: one greedy on a fine grid, one optimal assignment on
    a lattice of non-overlapping spots (`linear_sum_assignment`) and a column on either side
    (`_place_column`); crossing lines then swap boxes where that costs less, and the cheapest placement
    (`placement_cost`) is kept."""
    anchors = np.asarray(anchors, dtype=np.float64)
    if len(anchors) == 0:
        return np.zeros((0, 2))
    room = len(free_spots(ink, half, list(blocked), 2 * half + margin, margin))  # frames side by side
    if len(anchors) > room:
        raise UserError(f"{len(anchors)} thumbnails do not fit in this figure (about {room} do): "
                        "ask for fewer (--thumbnails)")
    tries = [_place_greedy(anchors, ink, half, list(blocked), pitch, margin, reach, skip),
             _place_lattice(anchors, ink, half, list(blocked), margin, skip)]
    tries += [_place_column(anchors, ink, half, list(blocked), margin, pitch, side) for side in (1, -1)]
    tries = [_uncross(anchors, t, ink, half, skip) for t in tries if t is not None]
    if not tries:
        raise UserError("no room for thumbnails in this figure: ask for fewer (--thumbnails)")
    return min(tries, key=lambda t: placement_cost(anchors, t, ink, half, skip))


def _through_boxes(anchors: np.ndarray, centres: np.ndarray, half: float) -> int:
    """How many (line, other box) pairs there are where a point's line to its box passes through
    another point's box."""
    ends = np.array([leader_end(a, c, half) for a, c in zip(anchors, centres)])
    boxes = np.concatenate((centres - half, centres + half), 1)
    hits = hits_box(anchors[:, None], ends[:, None], boxes[None])  # (n, n)
    np.fill_diagonal(hits, False)
    return int(hits.sum())


def placement_cost(anchors: np.ndarray, centres: np.ndarray, ink: np.ndarray, half: float, skip: float = 6.0
                   ) -> float:
    """What a placement costs: each line's length + `INK_COST` x the tree pixels it crosses, plus
    `CROSS_COST` per pair of crossing lines and `BOX_COST` per line through another box."""
    ends = np.array([leader_end(a, c, half) for a, c in zip(anchors, centres)])
    total = float(np.hypot(*(ends - anchors).T).sum() + INK_COST * segment_ink(ink, anchors, ends, skip).sum())
    total += BOX_COST * _through_boxes(anchors, centres, half)
    for p in range(len(anchors)):
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
