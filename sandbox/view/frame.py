"""`render_frame`: one complete picture of a trajectory at a given progress (0 noise -> 1 data).

Shared by the window (every frame, both compare panes) and the exporter (GIF/MP4). Whatever
depends only on the trajectory and the viewport is cached in a `RenderCache`: the background with
the data, trace pixels, density contours per progress quantum, field arrows per time.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pygame

from . import density
from .draw import (arrow_polylines, class_color_array, clean_polylines, draw_points, draw_polylines,
                   draw_text)
from .field_view import Mesh, arrow_segments, field_vectors, grid_points, mesh_lines
from .options import ViewOptions
from .theme import Theme, blend
from .viewport import Viewport


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
            c = np.asarray(class_color_array(labels, theme, theme.data), dtype=np.float32)
            bg = np.array(theme.background, dtype=np.float32)
            cols: np.ndarray | tuple = (bg + (c - bg) * theme.data_strength).round().astype(np.uint8)
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
                 highlights=(), cache: RenderCache | None = None) -> None:
    """Draw the whole frame into `vp.rect` of `surface`.

    traj: a Trajectory (xs (S+1,N,2), ts (S+1,), labels) or None (data only); progress in [0, 1]
    (0 = noise, 1 = data); data: (M, 2) points or a PointSet drawn faintly behind; field: a Field
    for the arrows layer; mesh: a Mesh (grid carried by the sampler); highlights: world paths
    (S+1, 2) of released particles on the same time grid as traj; label: a title (top left).
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
                _draw_traces(surface, cache, vp, xs, ts, progress,
                             min(traces, STOCHASTIC_TRACES) if stoch else traces, theme, stoch)
        for path in highlights or ():
            _draw_highlight(surface, vp, np.asarray(as_numpy(path), dtype=np.float32), ts, progress, theme)
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
            time_rect = _draw_time_label(surface, ts, progress, (x + pad, y + h - pad), w - 2 * pad, theme)
        if options.legend:
            dpts, dlab = _data_arrays(data)
            has_data = options.data and dpts is not None and len(dpts) > 0
            if has_data or xs is not None:
                _draw_legend(surface, vp, theme, data_labels if data_labels is not None else dlab,
                             labels, xs is not None and options.particles and xs.shape[1] > 0,
                             has_data, avoid=time_rect)
    finally:
        surface.set_clip(prev_clip)


def _draw_legend(surface, vp: Viewport, theme: Theme, data_labels, sample_labels,
                 samples: bool, data: bool, avoid: pygame.Rect | None = None) -> None:
    """A small key at the bottom right: which dots are data and which are samples (above the
    time label `avoid` when the pane is too narrow for both on one line)."""
    x, y, w, h = vp.rect
    font = theme.font(0.8)
    r = max(2, theme.point_px + 1)
    gap = int(6 * theme.scale)
    items = []
    if data:
        if data_labels is not None and len(data_labels):
            c = class_color_array(np.asarray(data_labels)[:1], theme, theme.data)[0]
            col = blend(theme.background, (int(c[0]), int(c[1]), int(c[2])), theme.data_strength)
        else:
            col = blend(theme.background, theme.data, theme.data_strength)
        items.append(("data", col))
    if samples:
        if sample_labels is not None and len(sample_labels):
            c = class_color_array(np.asarray(sample_labels)[:1], theme, theme.particle)[0]
            items.append(("samples", (int(c[0]), int(c[1]), int(c[2]))))
        else:
            items.append(("samples", theme.particle))
    if not items:
        return
    widths = [font.size(t)[0] + 2 * r + gap for t, _ in items]
    total = sum(widths) + gap * (len(items) + 1)
    lh = font.get_linesize()
    box = pygame.Rect(x + w - total - gap, y + h - lh - 2 * gap, total, lh + gap)
    if avoid is not None and box.colliderect(avoid.inflate(gap, 0)):
        box.bottom = avoid.top - 2
    if box.x < x or box.y < y:
        return
    pygame.draw.rect(surface, theme.background, box)
    cx = box.x + gap
    for (text, col), wd in zip(items, widths):
        pygame.draw.circle(surface, col, (cx + r, box.centery), r + (1 if text == "samples" else 0))
        img = font.render(text, True, theme.text_dim)
        surface.blit(img, img.get_rect(midleft=(cx + 2 * r + gap // 2, box.centery)))
        cx += wd + gap


def draw_text_fit(surface, text: str, pos, width: int, theme: Theme, bold: bool = False,
                  backdrop: bool = False, mult: float = 1.0, color=None) -> pygame.Rect:
    """draw_text that never runs past `width` pixels: a smaller size first, then an ellipsis
    (compare panes' headers must not run into each other)."""
    m = mult
    while m > 0.72 * mult and theme.font(m, bold).size(text)[0] > width:
        m -= 0.07
    font = theme.font(m, bold)
    if font.size(text)[0] > width:
        while len(text) > 1 and font.size(text + "\u2026")[0] > width:
            text = text[:-1]
        text = text.rstrip() + "\u2026"
    return draw_text(surface, text, pos, theme, bold=bold, backdrop=backdrop, mult=m, color=color)


def time_label(ts, progress: float) -> str:
    """'t = 0.42  ·  step 12/50' for the sampler times `ts` (S+1,) at `progress`."""
    return time_labels(ts, progress)[0]


def time_labels(ts, progress: float) -> list[str]:
    """The time label's wordings, longest first: 't = 0.42  ·  step 12/50', 't = 0.42  12/50', 't = 0.42'."""
    if ts is None:
        return [f"t = {1.0 - progress:.2f}"]
    S = len(ts) - 1
    i, f = locate(ts, progress)
    step = min(S, i + int(round(f)))
    t = f"t = {time_at(ts, progress):.2f}"
    return [f"{t}  \u00b7  step {step}/{S}", f"{t}  {step}/{S}", t]


def _draw_time_label(surface, ts, progress: float, bottomleft, width: int, theme: Theme) -> pygame.Rect:
    """The longest wording of the time label that fits `width` (a narrow compare pane at presenter
    scale must not cut 'step 6/50' at its edge), shrunk or ellipsised only where none fits."""
    texts = time_labels(ts, progress)
    font = theme.font()
    text = next((t for t in texts if font.size(t)[0] <= width), None)
    if text is not None:
        return draw_text(surface, text, bottomleft, theme, anchor="bottomleft", backdrop=True)
    return draw_text_fit(surface, texts[-1], (bottomleft[0], bottomleft[1] - font.get_height()),
                         max(width, 1), theme, backdrop=True)


STOCHASTIC_TRACES = 12   # a stochastic sampler's zig-zag paths: a few, or they become a hairball
STOCHASTIC_TAIL = 6      # ... each drawn over its last few steps only


def is_stochastic(sampler: str | None) -> bool:
    """Whether the sampler that made a trajectory adds fresh noise per step (sandbox.registry)."""
    if not sampler:
        return False
    from sandbox import registry

    info = registry.SAMPLERS.get(sampler) if sampler in registry.SAMPLERS else None
    return bool(getattr(info, "stochastic", False))


def _draw_traces(surface, cache: RenderCache, vp: Viewport, xs, ts, progress, traces, theme,
                 stochastic: bool = False):
    S1, N, _ = xs.shape
    if S1 == 1:
        return
    key = (id(xs), vp.key, traces)
    if cache._trace_key != key:
        idx = np.unique(np.linspace(0, N - 1, min(traces, N)).round().astype(np.int64))
        px = vp.to_pixels(xs[:, idx].reshape(-1, 2)).reshape(S1, len(idx), 2).transpose(1, 0, 2)
        ok = np.isfinite(px).all(axis=(1, 2))
        px = np.clip(px[ok], -1e5, 1e5)
        # python lists once: per frame only a slice and the moving end point are new
        cache._trace_px = (px, px.tolist())
        cache._trace_key = key
    assert cache._trace_px is not None
    px, lists = cache._trace_px
    i, f = locate(ts, progress)
    cur = (px[:, i] * (1 - f) + px[:, i + 1] * f).tolist()
    # stochastic paths: fewer (see STOCHASTIC_TRACES), brighter and 1 px so each jump is visible
    col = blend(theme.background, theme.trace, min(1.0, theme.trace_strength + 0.25) if stochastic
                else theme.trace_strength)
    lw = 1 if stochastic else theme.line_px
    if stochastic:
        # a comet tail of the last few steps: each random kick stays visible as a zig-zag and the
        # long early jumps through the whole canvas (pure noise) are not drawn on top of the data
        first = max(0, i + 1 - STOCHASTIC_TAIL)
        head = max(1, theme.point_px + 1)
        for full, end in zip(lists, cur):
            pygame.draw.lines(surface, col, False, full[first: i + 1] + [end], lw)
            pygame.draw.circle(surface, theme.trace, end, head)
        return
    for full, end in zip(lists, cur):
        pygame.draw.lines(surface, col, False, full[: i + 1] + [end], lw)


def _draw_highlight(surface, vp: Viewport, path, ts, progress, theme: Theme):
    """A released particle: its future path faint, its past bright, start ring, current disc."""
    px = vp.to_pixels(path)
    if ts is None or len(ts) != len(px):
        ts = np.linspace(1.0, 0.0, len(px))
    i, f = locate(ts, progress)
    cur = px[i] * (1 - f) + px[min(i + 1, len(px) - 1)] * f
    lw = theme.line_px
    draw_polylines(surface, [px], blend(theme.background, theme.highlight, 0.35), lw)
    draw_polylines(surface, [np.concatenate([px[: i + 1], cur[None]])], theme.highlight, lw + 1)
    r = max(3, int(4 * theme.scale))
    if np.isfinite(px[0]).all():
        pygame.draw.circle(surface, theme.highlight, px[0].tolist(), r, max(1, lw))
    if np.isfinite(cur).all():
        pygame.draw.circle(surface, theme.highlight, cur.tolist(), r)
