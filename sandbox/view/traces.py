"""The paths drawn on a frame: particle traces (a comet tail for stochastic samplers) and the
paths of released particles."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pygame

from .draw import draw_polylines
from .theme import Theme, blend
from .timeline import locate
from .viewport import Viewport

if TYPE_CHECKING:
    from .frame import RenderCache


STOCHASTIC_TRACES = 12   # a stochastic sampler's zig-zag paths: a few, or they become a hairball
STOCHASTIC_TAIL = 6      # ... each drawn over its last few steps only


def is_stochastic(sampler: str | None) -> bool:
    """Whether the sampler that made a trajectory adds fresh noise per step (sandbox.registry)."""
    if not sampler:
        return False
    from sandbox import registry

    info = registry.SAMPLERS.get(sampler) if sampler in registry.SAMPLERS else None
    return bool(getattr(info, "stochastic", False))


def draw_traces(surface, cache: RenderCache, vp: Viewport, xs, ts, progress, traces, theme,
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


def draw_highlight(surface, vp: Viewport, path, ts, progress, theme: Theme):
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
