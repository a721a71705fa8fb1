"""The placements `tdl.plot_placement.place_thumbnails` weighs against each other: boxes of half-side
`half` for points `anchors (n, 2)` (pixels) of branches `groups (n,)`, on the tree's `ink`
(`tdl.plot_ink.data_ink`), clear of the `blocked` boxes. Each returns centres `(n, 2)`, or None where
it finds no room: greedy on a fine grid, an optimal assignment on a lattice, a column beside the
points, and rows and columns round the tree."""
from __future__ import annotations

import numpy as np

from tdl.plot_ink import (BOX_COST, CROSS_COST, free, free_spots, hits_box, integral, leader_costs, leader_end,
                          leader_ends,
                          segment_cost, segments_cross, through_boxes)


def place_column(anchors: np.ndarray, ink: np.ndarray, half: float, blocked: list, margin: float, pitch: float,
                 side: int) -> np.ndarray | None:
    """Boxes stacked in one column beside the points (`side` +1: right of the rightmost, -1: left of the
    leftmost), in the points' vertical order so that no two lines cross, each as near its point's height
    as the stack allows (least squares: an isotonic fit), the column as near the points as free space
    allows. The rectilinear tree's last step is such a column of points, and with more thumbnails than
    the points' height holds the other placements sent some across the bands."""
    from sklearn.isotonic import isotonic_regression
    H, W = ink.shape
    n, g, lat = len(anchors), half + margin, 2 * half + margin
    order = np.argsort(anchors[:, 1], kind="stable")
    ys = isotonic_regression(anchors[order, 1] - lat * np.arange(n)) + lat * np.arange(n)
    ys += max(0.0, g - ys[0]) - max(0.0, ys[-1] - (H - g))  # shifted into the figure
    if ys[0] < g - 1e-6 or ys[-1] > H - g + 1e-6:
        return None
    x = anchors[:, 0].max() + g + margin if side > 0 else anchors[:, 0].min() - g - margin
    c = integral(ink)
    while g <= x <= W - g:
        out = np.zeros((n, 2))
        out[order] = np.stack((np.full(n, x), ys), 1)
        if free(c, out, g, blocked).all() and through_boxes(anchors, out, half) == 0:
            return out
        x += side * pitch  # further out: the lines get less steep and stop passing through the next box
    return None


SIDES = np.array([(0.0, 1.0), (0.0, -1.0), (-1.0, 0.0), (1.0, 0.0)])  # above, below, left, right of the tree


def _straight_out(anchors: np.ndarray, c: np.ndarray, g: float, blocked: list, pitch: float) -> np.ndarray:
    """`(n, 4, 2)`: for each point and side (`SIDES`), the nearest centre straight out from it of a free box
    of half-side `g` (`c`: the ink's `integral`); NaN where the figure ends first."""
    H, W = c.shape[0] - 1, c.shape[1] - 1
    steps = g + pitch / 2 * np.arange(int(max(H, W) / (pitch / 2)) + 1)  # (T,)
    out = np.full((len(anchors), len(SIDES), 2), np.nan)
    for k, d in enumerate(SIDES):
        cand = anchors[:, None] + steps[None, :, None] * d  # (n, T, 2)
        ok = free(c, cand.reshape(-1, 2), g, blocked).reshape(cand.shape[:2])
        first = ok.argmax(1)
        hit = ok[np.arange(len(anchors)), first]
        out[hit, k] = cand[np.flatnonzero(hit), first[hit]]
    return out


def _lay_side(anchors: np.ndarray, d: np.ndarray, c: np.ndarray, g: float, lat: float, pitch: float, blocked: list,
              shift: float = 0.0) -> np.ndarray | None:
    """Centres `(m, 2)` of boxes on the side `d` (one of `SIDES`) of the tree for `anchors (m, 2)`: in their
    order along that side (ties: the outermost first), each as near its point as the stack allows (an
    isotonic fit), moved `shift` px along, and each straight out from its place until it is clear of the
    ink (`c`: its `integral`) and the `blocked` boxes. None where they leave the figure."""
    from sklearn.isotonic import isotonic_regression
    H, W = c.shape[0] - 1, c.shape[1] - 1
    a = 0 if d[0] == 0 else 1  # the coordinate along the side: x for rows, y for columns
    o = 1 - a
    size, reach = (W, H) if a == 0 else (H, W)
    order = np.lexsort((-d[o] * anchors[:, o], anchors[:, a]))
    m = len(order)
    along = isotonic_regression(anchors[order, a] - lat * np.arange(m)) + lat * np.arange(m) + shift
    along += max(0.0, g - along[0]) - max(0.0, along[-1] - (size - g))
    if along[0] < g - 1e-6 or along[-1] > size - g + 1e-6:
        return None
    out = np.zeros((m, 2))
    for j, v in zip(order, along):
        p = np.empty(2)
        p[a], p[o] = v, anchors[j, o] + d[o] * g
        while g <= p[o] <= reach - g and not free(c, p[None], g, blocked)[0]:
            p[o] += d[o] * pitch / 2
        if not g <= p[o] <= reach - g:
            return None
        out[j] = p
    return out


def place_sides(anchors: np.ndarray, ink: np.ndarray, half: float, blocked: list, margin: float, pitch: float,
                groups=None, skip: float = 6.0) -> np.ndarray | None:
    """Boxes round the tree, in rows above and below it and columns left and right of it: each point goes
    to the side its straight line out of the tree costs least (`segment_cost`; as many as a side holds,
    the points that would lose most by moving placed first); each side keeps its points' order along it
    (an isotonic fit, frames side by side) and each box sits just clear of the tree straight out from
    its place, so the lines are short and cross each other nowhere. A rectilinear tree's intermediate
    steps, whose points share one x per step: lines fan out from the step to a row or run along their
    own band to the left column instead of across the others."""
    H, W = ink.shape
    n, g, lat = len(anchors), half + margin, 2 * half + margin
    c = integral(ink)
    reach = _straight_out(anchors, c, g, blocked, pitch)  # (n, 4, 2)
    ends = leader_ends(anchors[:, None], np.nan_to_num(reach), half)
    cost = np.hypot(*(ends - anchors[:, None]).transpose(2, 0, 1)) + segment_cost(
        ink, anchors[:, None], ends, None if groups is None else np.asarray(groups)[:, None], skip)
    cost[np.isnan(reach[..., 0])] = np.inf
    room = np.array([(W - 2 * g) // lat + 1] * 2 + [(H - 2 * g) // lat + 1] * 2)
    side = np.full(n, -1)
    srt = np.sort(cost, 1)
    for j in np.argsort(-(srt[:, 1] - srt[:, 0])):  # the point that would lose most by moving goes first
        for k in np.argsort(cost[j]):
            if np.isfinite(cost[j, k]) and (side == k).sum() < room[k]:
                side[j] = k
                break
        if side[j] < 0:
            return None
    out = np.zeros((n, 2))
    boxes = np.asarray(blocked, dtype=np.float64).reshape(-1, 4)
    for k, d in enumerate(SIDES):
        idx = np.flatnonzero(side == k)
        if not len(idx):
            continue
        best = None
        for shift in pitch / 2 * np.array([0, 1, -1, 2, -2, 3, -3, 4, -4, 6, -6]):  # lines round the labels
            at = _lay_side(anchors[idx], d, c, g, lat, pitch, blocked, shift)
            if at is None:
                continue
            ends = leader_ends(anchors[idx], at, half)
            hits = int(hits_box(anchors[idx, None], ends[:, None], boxes[None]).sum()) if len(boxes) else 0
            if best is None or hits < best[0]:
                best = (hits, at)
            if hits == 0:
                break
        if best is None:
            return None
        out[idx] = best[1]
    moves = pitch / 2 * np.array([(u, v) for v in range(5) for u in (0, 1, -1, 2, -2, 3, -3, 4, -4)])
    for j in range(n):  # a line through a label: its box moves along its side or further out, where there is room
        d = SIDES[side[j]]
        turn = np.array([[abs(d[1]), abs(d[0])], [d[0], d[1]]])  # (along, out) -> (x, y)
        for p in out[j] + moves @ turn:
            if len(boxes) and hits_box(anchors[j], leader_end(anchors[j], p, half), boxes).any():
                continue
            if free(c, p[None], g, blocked)[0] and (np.abs(np.delete(out, j, 0) - p).max(-1) >= lat - 1e-6).all():
                out[j] = p
                break
    for k, d in enumerate(SIDES):  # staggered boxes a line passes through: that side in one straight line
        idx = side == k
        if not idx.any() or not through_boxes(anchors, out, half):
            continue
        o = 1 if d[0] == 0 else 0
        out[idx, o] = out[idx, o].max() if d[o] > 0 else out[idx, o].min()
        while not free(c, out[idx], g, blocked).all():
            out[idx, o] += d[o] * pitch / 2
            if not g <= out[idx, o][0] <= (H if o else W) - g:
                return None
    for _ in range(2 * n):  # a near point's shallow line under its neighbour's box: the two boxes swap
        ends = leader_ends(anchors, out, half)
        hits = hits_box(anchors[:, None], ends[:, None], np.concatenate((out - half, out + half), 1)[None])
        hits &= (side[:, None] == side[None]) & ~np.eye(n, dtype=bool)
        if not hits.any():
            break
        j, k = np.argwhere(hits)[0]
        out[[j, k]] = out[[k, j]]
    if through_boxes(anchors, out, half):
        return None
    gap = np.abs(out[:, None] - out[None]).max(-1) + np.eye(n) * lat  # boxes of two sides meet at a corner
    return out if (gap >= lat - 1e-6).all() else None


def place_lattice(anchors: np.ndarray, ink: np.ndarray, half: float, blocked: list, margin: float, skip: float,
                  groups=None):
    """The optimal assignment of points to free spots on a lattice whose boxes cannot overlap (four
    offsets of half a box tried, the cheapest kept); lines through a used box are priced at `BOX_COST`
    and the assignment solved again (at most 40 times)."""
    from scipy.optimize import linear_sum_assignment
    n, lat, best = len(anchors), 2 * half + margin, None
    spots_all = free_spots(ink, half, blocked, lat / 2, margin)  # every lattice offset below is a subset
    gcol = None if groups is None else np.asarray(groups)[:, None]
    for ox in (0.0, 0.5):
        for oy in (0.0, 0.5):
            on = np.isclose(np.mod((spots_all - (half + margin)) / lat - (ox, oy) + 1e-9, 1.0), 0, atol=1e-6).all(1)
            spots = spots_all[on]
            if len(spots) < n:
                continue
            end = leader_ends(anchors[:, None], np.broadcast_to(spots, (n, *spots.shape)), half)
            cost = np.hypot(*(end - anchors[:, None]).transpose(2, 0, 1)) + segment_cost(
                ink, anchors[:, None], end, gcol, skip)
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


def place_greedy(anchors: np.ndarray, ink: np.ndarray, half: float, blocked: list, pitch: float, margin: float,
                 reach: int, skip: float, groups=None) -> np.ndarray | None:
    """Free spots on a fine grid, taken one pair at a time, the cheapest first; after each, spots whose
    box would overlap the new box are dropped and lines that would cross the new line (`CROSS_COST`) or
    pass through a box (`BOX_COST`) cost more."""
    n = len(anchors)
    g = half + margin
    spots = free_spots(ink, half, blocked, pitch, margin)
    if len(spots) < n:
        return None
    centre, end, cost = leader_costs(anchors, spots, ink, half, blocked, reach, skip, groups)
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
