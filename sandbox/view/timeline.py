"""Where a trajectory is between its sampler steps: progress (0 = noise, 1 = data; step index / S,
as `Trajectory.at`) -> the step index and fraction, the interpolated positions and time."""
from __future__ import annotations

import numpy as np


def as_numpy(a) -> np.ndarray | None:
    """Tensor or array-like -> float32 numpy (None stays None)."""
    if a is None:
        return None
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def locate(ts: np.ndarray, progress: float) -> tuple[int, float]:
    """Step index i and fraction f in [0, 1] with the position at `progress` between steps i, i+1.

    Progress is the step index / S, as in `Trajectory.at` (0 = noise, 1 = data; clamped).
    """
    S = len(ts) - 1
    p = float(np.clip(progress, 0.0, 1.0)) if np.isfinite(progress) else 0.0
    if S <= 0:
        return 0, 0.0
    s = p * S
    i = min(int(np.floor(s)), S - 1)
    return i, float(s - i)


def positions(xs: np.ndarray, ts: np.ndarray, progress: float) -> np.ndarray:
    """Linear interpolation between sampler steps: (S+1, N, 2) -> (N, 2)."""
    i, f = locate(ts, progress)
    if len(xs) == 1:
        return xs[0]
    return xs[i] * (1.0 - f) + xs[i + 1] * f


def time_at(ts: np.ndarray, progress: float) -> float:
    i, f = locate(ts, progress)
    if len(ts) == 1:
        return float(ts[0])
    return float(ts[i] * (1.0 - f) + ts[i + 1] * f)
