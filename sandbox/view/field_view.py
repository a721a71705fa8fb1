"""The model's vector field as arrows, and a grid of noise deformed by the sampler (mesh).

Arrows show where samples move as progress goes from noise to data: `-velocity` for a flow
(dx/dt with t running 1 -> 0), the score for DDPM (it points towards the data). Both derive from
the denoiser `Field.x0` through `sandbox.paths`, so a trained model and the analytic oracle look
the same here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mesh:
    """A grid of starting points carried by the sampler: `traj.xs` is (S+1, rows*cols, 2)."""

    traj: object
    rows: int
    cols: int


def grid_points(bounds: tuple[float, float, float, float], rows: int, cols: int) -> np.ndarray:
    """Row-major lattice (rows*cols, 2) covering `bounds` (xmin, xmax, ymin, ymax)."""
    xmin, xmax, ymin, ymax = bounds
    xs = np.linspace(xmin, xmax, cols, dtype=np.float32)
    ys = np.linspace(ymin, ymax, rows, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def mesh_lines(points: np.ndarray, rows: int, cols: int) -> list[np.ndarray]:
    """Polylines of a deformed lattice: every row and every column of `points` (rows*cols, 2)."""
    g = np.asarray(points, dtype=np.float32).reshape(rows, cols, 2)
    return [g[r] for r in range(rows)] + [g[:, c] for c in range(cols)]


def field_vectors(field, t: float, points: np.ndarray, kind: str = "velocity",
                  labels=None) -> np.ndarray:
    """Direction of travel (M, 2) at world `points` (M, 2) and time `t` (numpy in, numpy out).

    kind: 'velocity' gives -dx/dt (towards data as progress increases), 'score' gives
    grad log p_t. `t` is clamped away from 0 where the score blows up.
    """
    import torch

    from sandbox import paths

    t = float(min(max(t, 0.02), 1.0))
    x = torch.as_tensor(np.asarray(points, dtype=np.float32))
    tt = torch.full((x.shape[0],), t, dtype=x.dtype)
    lab = None
    if labels is not None:
        lab = torch.as_tensor(np.broadcast_to(np.asarray(labels), (x.shape[0],)).copy()).long()
    with torch.no_grad():
        x0 = field.x0(x, tt, lab)
        if kind == "score":
            v = paths.score_from_x0(field.path, x, tt, x0)
        else:
            v = -paths.velocity_from_x0(field.path, x, tt, x0)
    out = v.detach().cpu().numpy().astype(np.float32)
    out[~np.isfinite(out)] = 0.0
    return out


def arrow_segments(points: np.ndarray, vectors: np.ndarray, spacing: float) -> np.ndarray:
    """End points (M, 2) of arrows scaled so the typical (90th percentile) one is 0.9 * spacing.

    Lengths are compressed (sqrt) so weak regions still show a direction next to strong ones.
    """
    v = np.asarray(vectors, dtype=np.float32)
    n = np.linalg.norm(v, axis=1, keepdims=True)
    ref = float(np.percentile(n, 90)) if len(n) else 0.0
    if ref <= 0 or not np.isfinite(ref):
        return np.asarray(points, dtype=np.float32).copy()
    rel = np.sqrt(np.clip(n / ref, 0.0, 1.5))
    u = v / np.maximum(n, 1e-12)
    return points + u * rel * 0.9 * spacing
