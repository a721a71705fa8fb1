"""Where the figure's thumbnails go: an assignment of picked points to free square spots around and
between the tree's branches whose leader lines are short, cross little of the tree (above all no other
branch) and each other, and pass through no other box (`place_thumbnails`). The candidate placements
are in `tdl.plot_candidates`, the tree's pixels and the prices of lines in `tdl.plot_ink` (whose names
this module re-exports, as it held them before)."""
from __future__ import annotations

import numpy as np

from sandbox.errors import UserError
from tdl.plot_candidates import place_column, place_greedy, place_lattice, place_sides
from tdl.plot_ink import (BOX_COST, BRANCH_COST, CROSS_COST, INK_COST, OWN_COST, add_lines, data_ink, free_spots,
                          hits_box, leader_costs, leader_end, leader_ends, placement_cost, segment_cost, segment_ink,
                          segments_cross)

ORDER_SLACK = 1.25  # how much more an ordered placement (rows and columns) may cost than a free one

__all__ = ["BOX_COST", "BRANCH_COST", "CROSS_COST", "INK_COST", "OWN_COST", "data_ink", "free_spots", "hits_box",
           "leader_costs", "leader_end", "place_thumbnails", "placement_cost", "segment_cost", "segment_ink",
           "segments_cross"]


def place_thumbnails(anchors: np.ndarray, ink: np.ndarray, half: float, blocked: list = (), pitch: float = 12.0,
                     margin: float = 4.0, reach: int = 1200, skip: float = 6.0, groups=None, stages=None,
                     first_column: bool = False) -> np.ndarray:
    """Centres `(n, 2)` (pixels) of square boxes of half-side `half` for the points `anchors (n, 2)`.

    Boxes go to free spots (the empty space between branches or round the tree, never on the tree's
    `ink`, a `blocked` box or each other); each line costs its length plus `segment_cost` (the tree it
    crosses: its own branch `groups (n,)` little, another branch much more), `CROSS_COST` for crossing
    another line and `BOX_COST` for passing through another box. Five placements are made: greedy on
    a fine grid, an optimal assignment on a lattice of non-overlapping spots, a column on either side
    and rows above and below the tree (`tdl.plot_candidates`); crossing lines then swap boxes where
    that costs less, and the cheapest placement (`placement_cost`) is kept.

    `stages (n,)`: points of the lowest stage are placed first (the rectilinear tree's final step: its
    column), then each next stage round the boxes and lines already placed; with `first_column` the
    first stage goes to the column right of its points wherever that column fits."""
    anchors = np.asarray(anchors, dtype=np.float64)
    if len(anchors) == 0:
        return np.zeros((0, 2))
    room = len(free_spots(ink, half, list(blocked), 2 * half + margin, margin))  # frames side by side
    if len(anchors) > room:
        raise UserError(f"{len(anchors)} thumbnails do not fit in this figure (about {room} do): "
                        "ask for fewer (--thumbnails)")
    groups = None if groups is None else np.asarray(groups)
    if not first_column and (stages is None or len(np.unique(stages)) < 2):
        return _place(anchors, ink, half, list(blocked), pitch, margin, reach, skip, groups)
    stages = np.zeros(len(anchors), int) if stages is None else np.asarray(stages)
    out = np.zeros((len(anchors), 2))
    blocked = list(blocked)
    for k, st in enumerate(np.unique(stages)):
        idx = np.flatnonzero(stages == st)
        column = place_column(anchors[idx], ink, half, blocked, margin, pitch, 1) if first_column and k == 0 else None
        if column is not None and placement_cost(anchors[idx], column, ink, half, skip, None, blocked) >= BOX_COST:
            column = None  # a line through a label
        out[idx] = column if column is not None else _place(anchors[idx], ink, half, blocked, pitch, margin, reach,
                                                            skip, None if groups is None else groups[idx])
        blocked += [(*(c - half), *(c + half)) for c in out[idx]]
        if column is not None:  # the column's side of the figure holds only its frames: no line reaches past
            blocked.append((column[:, 0].min() - half, 0.0, float(ink.shape[1]), float(ink.shape[0])))
        ink = add_lines(ink, anchors[idx], leader_ends(anchors[idx], out[idx], half))
    return out


def _place(anchors, ink, half, blocked, pitch, margin, reach, skip, groups) -> np.ndarray:
    """The cheapest of the candidate placements (`place_thumbnails`)."""
    free_ = [place_greedy(anchors, ink, half, blocked, pitch, margin, reach, skip, groups),
             place_lattice(anchors, ink, half, blocked, margin, skip, groups)]
    ordered = [place_sides(anchors, ink, half, blocked, margin, pitch, groups, skip)]
    ordered += [place_column(anchors, ink, half, blocked, margin, pitch, side) for side in (1, -1)]
    tries = [(k >= len(free_), _uncross(anchors, t, ink, half, skip, groups))
             for k, t in enumerate(free_ + ordered) if t is not None]
    if not tries:
        raise UserError("no room for thumbnails in this figure: ask for fewer (--thumbnails)")
    costs = [placement_cost(anchors, t, ink, half, skip, groups, blocked) for _, t in tries]
    # frames in rows and columns in their points' order read at a glance: kept unless they cost much more
    keep = [(c / ORDER_SLACK if o else c, k) for k, ((o, _), c) in enumerate(zip(tries, costs))]
    return tries[min(keep)[1]][1]


def _uncross(anchors: np.ndarray, centres: np.ndarray, ink: np.ndarray, half: float, skip: float, groups=None
             ) -> np.ndarray:
    """Swap the boxes of two crossing leader lines where that costs no more than the crossing does
    (swapping the ends of two crossing segments always shortens them; the ink may grow)."""
    centres = centres.copy()
    n = len(anchors)

    def line(p: int, box: int) -> tuple[np.ndarray, float]:  # point p's line to the box now at `box`
        e = leader_end(anchors[p], centres[box], half)
        others = np.delete(np.concatenate((centres - half, centres + half), 1), box, 0)
        through = bool(hits_box(anchors[p], e, others).any()) if len(others) else False
        cost = np.hypot(*(e - anchors[p])) + float(segment_cost(ink, anchors[p], e, None if groups is None
                                                                else groups[p], skip))
        return e, cost + BOX_COST * through

    for _ in range(3):
        changed = False
        ends = leader_ends(anchors, centres, half)
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

