"""Map world (canonical) coordinates to pixels and back.

The world is the plane the models live in; y points up there and down on the screen. A viewport
shows the square `center ± half_extent` fitted into its rectangle (the shorter side spans
`2 * half_extent`, the longer one shows more), so circles stay round at any window shape.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Viewport:
    """A rectangle of the screen `(x, y, w, h)` in pixels showing the world around `center`."""

    rect: tuple[int, int, int, int]
    center: tuple[float, float] = (0.0, 0.0)
    half_extent: float = 2.5

    def __post_init__(self) -> None:
        x, y, w, h = (int(v) for v in self.rect)
        object.__setattr__(self, "rect", (x, y, max(w, 1), max(h, 1)))
        object.__setattr__(self, "center", (float(self.center[0]), float(self.center[1])))
        object.__setattr__(self, "half_extent", float(max(self.half_extent, 1e-6)))

    @property
    def scale(self) -> float:
        """Pixels per world unit."""
        return 0.5 * min(self.rect[2], self.rect[3]) / self.half_extent

    @property
    def key(self) -> tuple:
        """Hashable identity for caches of anything drawn in pixels."""
        return (self.rect, self.center, self.half_extent)

    def to_pixels(self, pts) -> np.ndarray:
        """World points (N, 2) -> pixel positions (N, 2) float32 (y flipped)."""
        p = np.asarray(pts, dtype=np.float32).reshape(-1, 2)
        x, y, w, h = self.rect
        s = self.scale
        out = np.empty_like(p)
        out[:, 0] = (x + 0.5 * w) + (p[:, 0] - self.center[0]) * s
        out[:, 1] = (y + 0.5 * h) - (p[:, 1] - self.center[1]) * s
        return out

    def to_world(self, px) -> np.ndarray:
        """Pixel positions (N, 2) -> world points (N, 2) float32."""
        q = np.asarray(px, dtype=np.float32).reshape(-1, 2)
        x, y, w, h = self.rect
        s = self.scale
        out = np.empty_like(q)
        out[:, 0] = (q[:, 0] - (x + 0.5 * w)) / s + self.center[0]
        out[:, 1] = -(q[:, 1] - (y + 0.5 * h)) / s + self.center[1]
        return out

    def world_bounds(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) of the world visible in the rectangle."""
        _, _, w, h = self.rect
        s = self.scale
        hx, hy = 0.5 * w / s, 0.5 * h / s
        cx, cy = self.center
        return cx - hx, cx + hx, cy - hy, cy + hy

    def contains(self, px: tuple[float, float]) -> bool:
        x, y, w, h = self.rect
        return x <= px[0] < x + w and y <= px[1] < y + h

    def with_rect(self, rect) -> "Viewport":
        return replace(self, rect=tuple(rect))

    def zoomed(self, factor: float, around_px: tuple[float, float] | None = None) -> "Viewport":
        """Zoom by `factor` (> 1 zooms in), keeping the world point under `around_px` fixed."""
        factor = float(np.clip(factor, 1e-3, 1e3))
        he = float(np.clip(self.half_extent / factor, 0.05, 500.0))
        if around_px is None:
            return replace(self, half_extent=he)
        anchor = self.to_world([around_px])[0]
        ratio = he / self.half_extent
        c = anchor + (np.asarray(self.center) - anchor) * ratio
        return replace(self, center=(float(c[0]), float(c[1])), half_extent=he)

    def panned(self, dx_px: float, dy_px: float) -> "Viewport":
        """Move the view by a drag of (dx, dy) pixels (content follows the mouse)."""
        s = self.scale
        cx, cy = self.center
        return replace(self, center=(cx - dx_px / s, cy + dy_px / s))

    @staticmethod
    def fit(rect, points, margin: float = 1.15, minimum: float = 0.5) -> "Viewport":
        """A viewport centred on `points` (N, 2) showing all of them (and the unit noise disc)."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        p = p[np.isfinite(p).all(axis=1)]
        if len(p) == 0:
            return Viewport(rect, (0.0, 0.0), 2.5)
        lo, hi = p.min(axis=0), p.max(axis=0)
        c = 0.5 * (lo + hi)
        he = max(float(np.max(hi - lo)) * 0.5 * margin, minimum)
        return Viewport(rect, (float(c[0]), float(c[1])), he)
