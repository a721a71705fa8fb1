"""What the figure's thumbnail leader lines cross, and how long they are (not a test: a measure).

    python bench/tdl_thumbs.py TREE.npz [TREE.npz ...] --thumbnails 4 10 20 30 [--png DIR]

For each tree (its trajectory is the one beside it, `traj.npz`, or the one the tree names) and each
thumbnail count, at the figure's own 100 dpi: *branches x*: (line, other prompt) pairs where a line
passes over that prompt's points or instance lines; *points x*: other prompts' points within 2 px of a
line (6 px round the point it joins left out); *own*: its own prompt's points so crossed; *length*: the
lines' total length in px; *lines x*: pairs of lines that cross; *finals off*: final-step frames not
right of every final-step point (rectilinear: the column beside the last step); and the seconds
drawing the figure took.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def near(px: np.ndarray, a, b, tol: float = 2.0, skip: float = 6.0) -> int:
    """How many points `px (N, 2)` lie within `tol` px of the segment a-b, beyond `skip` px of `a`."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    t = np.clip((px - a) @ d / max(float(d @ d), 1e-9), 0, 1)
    dist = np.hypot(*(a + t[:, None] * d - px).T)
    return int(((dist < tol) & (np.hypot(*(px - a).T) > skip)).sum())


def measure(tree, traj, n: int, png: Path | None = None) -> dict:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.offsetbox import AnnotationBbox

    from tdl.plot import make_figure, save_figure
    from tdl.plot_placement import data_ink, segment_ink, segments_cross

    t0 = time.perf_counter()
    fig = make_figure(tree, traj, thumbnails=n)
    took = time.perf_counter() - t0
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[-1]
    Y = np.asarray(tree.Y, dtype=np.float64)
    pidx = np.asarray(tree.prompt_index)
    px = ax.transData.transform(Y.reshape(-1, 2)).reshape(Y.shape)
    inks = {p: data_ink(ax, Y[:, pidx == p], grow=1) for p in np.unique(pidx)}
    thumbs = [a for a in ax.artists if isinstance(a, AnnotationBbox)]
    final = Y.shape[0] - 1
    right = px[final, :, 0].max()
    out = dict(branches=0, points=0, own=0, length=0.0, lines=0, finals_off=0, seconds=took, n=len(thumbs))
    leaders = []
    for ab in thumbs:
        s, i = ab.tdl_pick
        a, e = ab.tdl_leader
        p = pidx[i]
        leaders.append((a, e))
        out["length"] += float(np.hypot(*(e - a)))
        for q, ink in inks.items():
            if q != p and segment_ink(ink, a, e, skip=6.0) > 0:
                out["branches"] += 1
        out["points"] += near(px[:, pidx != p].reshape(-1, 2), a, e)
        out["own"] += near(px[:, pidx == p].reshape(-1, 2), a, e)
        if s == final and tree.layout != "radial":
            centre_x = ab.xybox[0] * fig.bbox.width
            out["finals_off"] += int(centre_x < right)
    out["lines"] = sum(bool(segments_cross(*leaders[k], *leaders[j]))
                       for k in range(len(leaders)) for j in range(k + 1, len(leaders)))
    if png is not None:
        save_figure(fig, png, dpi=100)
    return out


def main() -> None:
    from tdl.trajectory import TrajectoryData
    from tdl.tree import TreeData

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+")
    parser.add_argument("--thumbnails", type=int, nargs="+", default=[4, 10, 20, 30])
    parser.add_argument("--png", type=Path, default=None, help="folder for the figures (100 dpi)")
    args = parser.parse_args()
    print("| tree | thumbnails | branches x | points x | own | length px | lines x | finals off | s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in args.trees:
        tree = TreeData.load(path)
        beside = Path(path).with_name("traj.npz")
        traj = TrajectoryData.load(beside if beside.exists() else tree.source)
        for n in args.thumbnails:
            name = f"{Path(path).parent.name}-{n}"
            png = args.png / f"{name}.png" if args.png else None
            try:
                m = measure(tree, traj, n, png)
            except ValueError as err:  # UserError: too many for this figure
                print(f"| {name} | {n} | {err} |")
                continue
            print(f"| {Path(path).parent.name} | {m['n']} | {m['branches']} | {m['points']} | {m['own']} | "
                  f"{m['length']:.0f} | {m['lines']} | {m['finals_off']} | {m['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
