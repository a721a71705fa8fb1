"""`render_frame`: one complete picture of a trajectory at a given progress (0 noise -> 1 data).

Shared by the window (every frame, both compare panes) and the exporter (GIF/MP4). Whatever
depends only on the trajectory and the viewport is cached in a `RenderCache`: the background with
the data, trace pixels, density contours per progress quantum, field arrows per time. Its parts:
`timeline.py` (positions and time between sampler steps), `traces.py` (particle and released
paths), `labels.py` (title, time label, key).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pygame

from . import density
from .draw import arrow_polylines, class_color_array, clean_polylines, draw_points, draw_polylines
from .field_view import Mesh, arrow_segments, field_vectors, grid_points, mesh_lines
from .labels import draw_legend, draw_text_fit, draw_time_label, time_label, time_labels
from .options import ViewOptions
from .theme import Theme, blend
from .timeline import as_numpy, locate, positions, time_at
from .traces import STOCHASTIC_TAIL, STOCHASTIC_TRACES, draw_highlight, draw_traces, is_stochastic
from .viewport import Viewport

# names this module defined before timeline.py, labels.py and traces.py took them stay importable from here
__all__ = ["RenderCache", "render_frame", "as_numpy", "locate", "positions", "time_at", "time_label", "time_labels",
           "draw_text_fit", "is_stochastic", "STOCHASTIC_TRACES", "STOCHASTIC_TAIL"]


def _data_arrays(data):
    """PointSet-like (with .points/.labels) or an (N, 2) array -> (points, labels)."""
    if data is None:
        return None, None
    if hasattr(data, "points"):
        return np.asarray(as_numpy(data.points), np.float32), as_numpy(getattr(data, "labels", None))
    return np.asarray(as_numpy(data), np.float32).reshape(-1, 2), None


def _fingerprint(a) -> tuple:
    if a is None:
        return (None,)
    a = np.ascontiguousarray(a)
    return (a.shape, hash(a.tobytes()))


class RenderCache:
    """Everything reusable between frames of one pane. Pass the same one for a pane's frames."""

    def __init__(self, max_items: int = 256):
        self.max_items = max_items
        self.clear()

    def clear(self) -> None:
        self._traj: Any = None
        self._tarr: tuple | None = None
        self._static_key: tuple | None = None
        self._static: pygame.Surface | None = None
        self._trace_key: tuple | None = None
        self._trace_px: tuple[np.ndarray, list] | None = None
        self._field_ref: Any = None
        self.contours: OrderedDict = OrderedDict()
        self.arrows: OrderedDict = OrderedDict()
        self.stats = {"contour_miss": 0, "arrow_miss": 0}

    def arrays(self, traj):
        """(xs (S+1,N,2), ts (S+1,), labels (N,) | None) as numpy, computed once per trajectory."""
        if traj is not self._traj:
            self._traj = traj
            xs = np.asarray(as_numpy(traj.xs), np.float32)
            ts = np.asarray(as_numpy(traj.ts), np.float64).reshape(-1)
            labels = as_numpy(getattr(traj, "labels", None))
            self._tarr = (xs, ts, labels)
            self._trace_key = None
            self.contours.clear()
            self.arrows.clear()
        return self._tarr

    def remember(self, table: OrderedDict, key, make):
        if key in table:
            table.move_to_end(key)
            return table[key]
        val = make()
        table[key] = val
        while len(table) > self.max_items:
            table.popitem(last=False)
        return val


_DEFAULT_CACHE = RenderCache()


def _static_layer(cache: RenderCache, vp: Viewport, theme: Theme, data, options: ViewOptions,
                  data_labels) -> pygame.Surface:
    pts, labels = _data_arrays(data)
    if data_labels is not None:
        labels = as_numpy(data_labels)
    key = (vp.key, theme.key, options.data, options.axes, _fingerprint(pts), _fingerprint(labels))
    if key == cache._static_key and cache._static is not None:
        return cache._static
    x, y, w, h = vp.rect
    layer = pygame.Surface((w, h))
    layer.fill(theme.background)
    local = Viewport((0, 0, w, h), vp.center, vp.half_extent)
    if options.axes:
        xmin, xmax, ymin, ymax = local.world_bounds()
        for gx in range(int(np.ceil(xmin)), int(np.floor(xmax)) + 1):
            p = local.to_pixels([(gx, 0.0)])[0]
            pygame.draw.line(layer, theme.grid, (float(p[0]), 0), (float(p[0]), h), 1)
        for gy in range(int(np.ceil(ymin)), int(np.floor(ymax)) + 1):
            p = local.to_pixels([(0.0, gy)])[0]
            pygame.draw.line(layer, theme.grid, (0, float(p[1])), (w, float(p[1])), 1)
    if options.data and pts is not None and len(pts):
        if labels is not None and len(labels) == len(pts):
            pal = np.array(theme.data_class_colors, dtype=np.uint8)
            cols: np.ndarray | tuple = pal[np.mod(np.asarray(labels).reshape(-1).astype(np.int64), len(pal))]
        else:
            cols = blend(theme.background, theme.data, theme.data_strength)
        draw_points(layer, local.to_pixels(pts), cols, max(theme.point_px, 1))
    cache._static_key, cache._static = key, layer
    return layer


def _contours_px(cache: RenderCache, vp: Viewport, xs, ts, progress: float, theme: Theme):
    S = len(ts) - 1
    q = max(S, 60)
    qk = int(round(progress * q))
    key = ("c", qk, vp.key, theme.scale)

    def make():
        cache.stats["contour_miss"] += 1
        pts = positions(xs, ts, qk / q)
        t = time_at(ts, qk / q)
        if qk == 0 and abs(t - float(ts[0])) < 1e-9 and _starts_at_noise(ts):
            return _gaussian_contours(vp, pts)
        bounds = vp.world_bounds()
        _, _, w, h = vp.rect
        cell = 8.0 * max(theme.scale, 1.0) ** 0.5
        nx, ny = int(np.clip(w / cell, 24, 200)), int(np.clip(h / cell, 24, 200))
        # wider kernels for fewer particles (Scott's rule: bandwidth ~ n^(-1/6))
        sigma = float(np.clip(2.2 * (2000.0 / max(len(pts), 1)) ** (1 / 6), 1.2, 3.5))
        # towards the noise end the cloud is a smooth blob: widen the kernel to Scott's bandwidth
        # of the cloud itself (weighted by t), so finite-sample wiggles do not read as structure
        finite = pts[np.isfinite(pts).all(axis=1)]
        if len(finite) > 2 and t > 0:
            scott = float(np.sqrt(finite.var(axis=0).mean())) * len(finite) ** (-1 / 6)
            cells = scott * nx / max(bounds[1] - bounds[0], 1e-9)
            sigma = max(sigma, min(float(t) * cells, 12.0))
        grid = density.density_grid(pts, bounds, (ny, nx), sigma_cells=sigma)
        levels = density.mass_thresholds(grid)
        lines = density.contour_lines(grid, bounds, levels) if levels else []
        return [clean_polylines([vp.to_pixels(ln) for ln in lev]) for lev in lines]

    return cache.remember(cache.contours, key, make)


def _starts_at_noise(ts) -> bool:
    """Samplers run from t = 1 (or T) at index 0: the first positions are the Gaussian noise."""
    return float(ts[0]) >= float(ts[-1])


def _gaussian_contours(vp: Viewport, pts: np.ndarray) -> list:
    """Highest-density circles of the isotropic Gaussian the noise is, fitted to the particles:
    the region holding mass m of N(mu, s^2 I) is the disc of radius s * sqrt(-2 ln(1 - m))."""
    p = pts[np.isfinite(pts).all(axis=1)]
    if len(p) < 3:
        return []
    mu = p.mean(axis=0)
    s = float(np.sqrt(((p - mu) ** 2).sum(axis=1).mean() / 2.0))
    a = np.linspace(0.0, 2.0 * np.pi, 97)
    ring = np.stack([np.cos(a), np.sin(a)], axis=1)
    out = []
    for m in density.MASS_LEVELS:
        r = s * np.sqrt(-2.0 * np.log(1.0 - m))
        out.append(clean_polylines([vp.to_pixels(mu + r * ring)]))
    return out


def _arrows_px(cache: RenderCache, vp: Viewport, field, t: float, theme: Theme, kind: str,
               labels):
    tq = round(float(t), 3)
    key = ("a", tq, vp.key, theme.scale, id(field), kind, None if labels is None else int(labels))

    def make():
        cache.stats["arrow_miss"] += 1
        _, _, w, h = vp.rect
        spacing = 34.0 * theme.scale
        cols, rows = max(int(w / spacing), 2), max(int(h / spacing), 2)
        xmin, xmax, ymin, ymax = vp.world_bounds()
        mx, my = 0.5 * (xmax - xmin) / cols, 0.5 * (ymax - ymin) / rows
        pts = grid_points((xmin + mx, xmax - mx, ymin + my, ymax - my), rows, cols)
        # a field living in another frame (a model's canonical coordinates) maps points there;
        # the normaliser is one scalar scale, so directions carry over unchanged
        to_model = getattr(field, "to_canonical", None)
        vec = field_vectors(field, tq, to_model(pts) if to_model else pts, kind, labels)
        end_world = arrow_segments(pts, vec, spacing / vp.scale)
        return arrow_polylines(vp.to_pixels(pts), vp.to_pixels(end_world), head=4.0 * theme.scale)

    # keep the field object alive while its id is in a key
    cache._field_ref = field
    return cache.remember(cache.arrows, key, make)


def render_frame(surface: pygame.Surface, vp: Viewport, traj, progress: float, *, data=None,
                 options: ViewOptions = ViewOptions(), theme: Theme = Theme(),
                 label: str | None = None, traces: int = 200, data_labels=None, field=None,
                 field_kind: str = "velocity", field_labels=None, mesh: Mesh | None = None,
                 highlights=(), cache: RenderCache | None = None) -> pygame.Rect | None:
    """Draw the whole frame into `vp.rect` of `surface`.

    traj: a Trajectory (xs (S+1,N,2), ts (S+1,), labels) or None (data only); progress in [0, 1]
    (0 = noise, 1 = data); data: (M, 2) points or a PointSet drawn faintly behind; field: a Field
    for the arrows layer; mesh: a Mesh (grid carried by the sampler); highlights: world paths
    (S+1, 2) of released particles on the same time grid as traj; label: a title (top left).
    Returns the area the time label and the key took at the bottom (None: neither drawn), which
    the window's toasts keep clear of.
    """
    cache = _DEFAULT_CACHE if cache is None else cache
    if cache._traj is not traj and traj is not None:
        cache.arrays(traj)
    x, y, w, h = vp.rect
    surface.blit(_static_layer(cache, vp, theme, data, options, data_labels), (x, y))
    prev_clip = surface.get_clip()
    surface.set_clip(pygame.Rect(vp.rect))
    try:
        lw = theme.line_px
        t_now = 1.0 - float(np.clip(progress, 0.0, 1.0))
        xs = ts = labels = None
        if traj is not None:
            xs, ts, labels = cache.arrays(traj)
            t_now = time_at(ts, progress)
        if options.mesh and mesh is not None:
            mtraj: Any = mesh.traj
            mxs = np.asarray(as_numpy(mtraj.xs), dtype=np.float32)
            mts = np.asarray(as_numpy(mtraj.ts), dtype=np.float64).reshape(-1)
            lines = mesh_lines(vp.to_pixels(positions(mxs, mts, progress)), mesh.rows, mesh.cols)
            draw_polylines(surface, lines, blend(theme.background, theme.mesh, 0.7), lw)
        if options.field and field is not None:
            # the field at the nearest sampler step: at most S+1 evaluations per trajectory
            t_field = t_now if ts is None else float(ts[int(round(np.clip(progress, 0, 1) * (len(ts) - 1)))])
            arrows = _arrows_px(cache, vp, field, t_field, theme, field_kind, field_labels)
            draw_polylines(surface, arrows, blend(theme.background, theme.field, 0.8), lw, clean=True)
        if xs is not None and xs.shape[1] > 0:
            if options.trajectories and traces > 0:
                stoch = is_stochastic(getattr(traj, "sampler", None))
                draw_traces(surface, cache, vp, xs, ts, progress,
                             min(traces, STOCHASTIC_TRACES) if stoch else traces, theme, stoch)
        for path in highlights or ():
            draw_highlight(surface, vp, np.asarray(as_numpy(path), dtype=np.float32), ts, progress, theme)
        if xs is not None and ts is not None and options.particles and xs.shape[1] > 0:
            cols = class_color_array(labels, theme, theme.particle)
            draw_points(surface, vp.to_pixels(positions(xs, ts, progress)), cols, theme.point_px,
                        clip=vp.rect)
        if xs is not None and options.contours and xs.shape[1] > 0:
            # over the particles: the distribution summary stays readable in a dense cloud
            levels = _contours_px(cache, vp, xs, ts, progress, theme)
            n = len(theme.contour)
            for k, lev in enumerate(levels):
                col = theme.contour[min(n - 1, (len(levels) - 1 - k) * n // max(len(levels), 1))]
                draw_polylines(surface, lev, col, lw, clean=True)
        pad = int(8 * theme.scale)
        if label:
            draw_text_fit(surface, label, (x + pad, y + pad), w - 2 * pad, theme, bold=True,
                          backdrop=True)
        time_rect = None
        if options.label:
            time_rect = draw_time_label(surface, ts, progress, (x + pad, y + h - pad), w - 2 * pad, theme)
        if options.legend:
            dpts, dlab = _data_arrays(data)
            has_data = options.data and dpts is not None and len(dpts) > 0
            if has_data or xs is not None:
                key = draw_legend(surface, vp, theme, data_labels if data_labels is not None else dlab,
                                  labels, xs is not None and options.particles and xs.shape[1] > 0,
                                  has_data, avoid=time_rect)
                if key is not None:
                    time_rect = key if time_rect is None else time_rect.union(key)
        return time_rect
    finally:
        surface.set_clip(prev_clip)
