"""Does a rectilinear tree keep the order of its band where the data keeps it (not a test: a measure)?

    python bench/tdl_twist.py TREE.npz [TREE.npz ...]

Neighbours kept per step (`neighbours_kept`, tdl/persistence.py) cannot see a band that turns over:
a mirrored order keeps every neighbourhood. So for steps s and s + g (g: a tenth of the steps) this
prints the picture's rank correlation of the across-band coordinate (-1: the band turned over) and the
data's: the best absolute rank correlation between the two steps of a 1D projection of each step's
first two principal coordinates (12 directions): how well some order of the data is kept. A picture
value far below the data's is the layout's twist, not the data's. Session 21, moons, Euler-Maruyama,
200 instances, 100 steps: t 0.64 -> 0.53 picture -0.83, data 0.88 (every other span: picture 0.64-1.00);
smiley, Heun: picture 0.86-1.00, data 1.00.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def ranks(v: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(v)).astype(np.float64)


def rho(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (no ties in continuous data)."""
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float(ra @ rb / np.sqrt((ra @ ra) * (rb @ rb)))


def plane(x: np.ndarray) -> np.ndarray:
    """`x (I, d)` -> its first two principal coordinates `(I, 2)` (2D data: itself, centred)."""
    x = x - x.mean(0)
    if x.shape[1] <= 2:
        return x
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def twist(Y: np.ndarray, X: np.ndarray) -> list[tuple[int, int, float, float]]:
    """`Y (S, I, 2)` rectilinear display, `X (S, I, d)` features -> (s, s + g, picture rho, data rho)."""
    S = len(Y)
    g = max(1, (S - 1) // 10)
    dirs = [np.array([np.cos(a), np.sin(a)]) for a in np.linspace(0, np.pi, 12, endpoint=False)]
    out = []
    for s in range(0, S - g, g):
        p, q = plane(X[s]), plane(X[s + g])
        data = max(abs(rho(p @ d, q @ d)) for d in dirs)
        out.append((s, s + g, rho(Y[s, :, 1], Y[s + g, :, 1]), data))
    return out


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tdl.commands import _find_trajectory
    from tdl.tree import TreeData
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trees", nargs="+", type=Path)
    args = ap.parse_args(argv)
    for path in args.trees:
        tree = TreeData.load(path)
        if tree.layout != "rectilinear":
            print(f"{path}: {tree.layout}; only rectilinear bands have an order to measure")
            continue
        traj = _find_trajectory(path, tree, None)
        times = np.asarray(tree.times)
        print(path)
        for s, e, pic, data in twist(np.asarray(tree.Y, np.float64), np.asarray(traj.features, np.float64)):
            flag = "  <- turned over" if pic < 0 < data - 0.5 else ""
            print(f"  t {times[s]:.2f} -> {times[e]:.2f}: picture {pic:+.2f}  data {data:.2f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
