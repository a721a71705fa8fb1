"""Density of a particle cloud on a grid, and its highest-density-region contour lines.

A 2D histogram (one `bincount`) smoothed by a separable Gaussian is a kernel density estimate
at grid resolution: cheap enough to redo every step for 10,000 particles. Contour levels are
highest-density regions: the line for 0.5 encloses the densest region holding half the particles,
so levels mean the same thing at every time and for every data set.
"""
from __future__ import annotations

import numpy as np

MASS_LEVELS = (0.25, 0.5, 0.75, 0.9)


def gaussian_kernel(sigma_cells: float) -> np.ndarray:
    """Normalised 1D Gaussian (2r+1,) with r = ceil(3 sigma)."""
    r = max(1, int(np.ceil(3.0 * sigma_cells)))
    x = np.arange(-r, r + 1, dtype=np.float32)
    k = np.exp(-0.5 * (x / max(sigma_cells, 1e-3)) ** 2)
    return k / k.sum()


def _blur_axis(a: np.ndarray, k: np.ndarray, axis: int) -> np.ndarray:
    """Zero-padded 1D convolution along `axis`: a sum of shifted copies (kernels are short)."""
    r = len(k) // 2
    pad = [(0, 0), (0, 0)]
    pad[axis] = (r, r)
    p = np.pad(a, pad)
    n = a.shape[axis]
    out = np.zeros_like(a)
    for i, w in enumerate(k):
        out += w * (p[i:i + n, :] if axis == 0 else p[:, i:i + n])
    return out


def density_grid(points, bounds: tuple[float, float, float, float], shape: tuple[int, int],
                 sigma_cells: float = 1.5) -> np.ndarray:
    """Smoothed histogram of `points` (N, 2) over `bounds` (xmin, xmax, ymin, ymax).

    Returns (ny, nx) float32 counts per cell (row 0 at ymin); points outside are dropped.
    """
    ny, nx = shape
    xmin, xmax, ymin, ymax = bounds
    p = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    ix = np.floor((p[:, 0] - xmin) * (nx / (xmax - xmin))).astype(np.int64)
    iy = np.floor((p[:, 1] - ymin) * (ny / (ymax - ymin))).astype(np.int64)
    ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    h = np.bincount(iy[ok] * nx + ix[ok], minlength=nx * ny).astype(np.float32).reshape(ny, nx)
    k = gaussian_kernel(sigma_cells)
    return _blur_axis(_blur_axis(h, k, 0), k, 1)


def mass_thresholds(grid: np.ndarray, masses=MASS_LEVELS) -> list[float]:
    """Density values t_m such that cells with density >= t_m hold a fraction m of the mass."""
    v = np.sort(grid.ravel())[::-1]
    total = float(v.sum())
    if total <= 0:
        return []
    c = np.cumsum(v) / total
    out = []
    for m in masses:
        i = int(np.searchsorted(c, m))
        out.append(float(v[min(i, len(v) - 1)]))
    return out


def contour_lines(grid: np.ndarray, bounds, levels) -> list[list[np.ndarray]]:
    """Lines of `grid` at each level, in world coordinates: one list of (K, 2) arrays per level."""
    from contourpy import contour_generator

    ny, nx = grid.shape
    xmin, xmax, ymin, ymax = bounds
    # cell centres
    xs = xmin + (np.arange(nx) + 0.5) * (xmax - xmin) / nx
    ys = ymin + (np.arange(ny) + 0.5) * (ymax - ymin) / ny
    gen = contour_generator(x=xs, y=ys, z=grid, line_type="Separate")
    out: list[list[np.ndarray]] = []
    for lev in levels:
        lines: list = list(gen.lines(lev)) if lev > 0 else []
        out.append([ln for ln in lines if len(ln) >= 2])
    return out
