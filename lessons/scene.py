"""What a lesson step shows, drawn into any rectangle: the window's canvas (one or two panes, with
the field, mesh, released particles and the learner's marks) or the step's own `scene`.

The lesson window draws a step's own scene over its canvas; the headless renderer (`lessons.render`)
draws `draw_step` into offscreen frames. Both read only the AppState the step set up.
"""
from __future__ import annotations

import numpy as np
import pygame

from sandbox.view import RenderCache, Theme, Viewport, render_frame
from sandbox.view.theme import blend


def pane_viewports(state, rect, margin: float = 1.1) -> list[Viewport]:
    """One viewport per shown pane inside `rect` (side by side in compare mode), fitted to the data
    and the samples like the exporter's."""
    from sandbox.export import fit_viewport

    rect = pygame.Rect(rect)
    n = 2 if state.compare else 1
    gap = 2 if n == 2 else 0
    w = (rect.w - gap) // n
    out = []
    for i in range(n):
        s = state.panes[i].sampled
        traj = s.traj if s is not None else None
        data = state.drawing.points if len(state.drawing) else None
        vp = fit_viewport((w, rect.h), traj, data, margin)
        out.append(Viewport((rect.x + i * (w + gap), rect.y, w, rect.h), vp.center, vp.half_extent))
    return out


def draw_canvas(state, surface: pygame.Surface, rect, theme: Theme, progress: float,
                caches: list[RenderCache] | None = None, viewports: list[Viewport] | None = None,
                marks=(), traces: int = 150) -> list[Viewport]:
    """The sandbox canvas of `state` at `progress` into `rect`; returns the viewports used."""
    from sandbox.app import engine

    vps = viewports or pane_viewports(state, rect)
    caches = caches or [RenderCache() for _ in vps]
    d = state.drawing
    multi = d.num_classes > 1
    surface.fill(theme.panel_border, pygame.Rect(rect))
    for i, vp in enumerate(vps):
        pane = state.panes[i]
        traj = pane.sampled.traj if pane.sampled is not None else None
        fld = pane.field if state.options.field else None
        render_frame(surface, vp, traj, progress, data=d.points if len(d) else None,
                     data_labels=d.labels if multi else None, options=state.options, theme=theme,
                     label=pane.settings.title(), traces=traces, field=fld,
                     field_kind=engine.field_kind(pane.settings), field_labels=getattr(fld, "label", None),
                     mesh=pane.mesh, highlights=state.released if i == 0 else (), cache=caches[i])
    if vps:
        draw_marks(surface, vps[0], marks, theme)
    return vps


def draw_marks(surface: pygame.Surface, vp: Viewport, marks, theme: Theme) -> None:
    """A cross with a ring at each world point of `marks` (the learner's guesses)."""
    if not marks:
        return
    r = max(6, int(9 * theme.scale))
    lw = max(2, theme.line_px + 1)
    col = theme.highlight
    for (px, py) in vp.to_pixels(np.asarray(marks, np.float32)).tolist():
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        pygame.draw.line(surface, col, (px - r, py - r), (px + r, py + r), lw)
        pygame.draw.line(surface, col, (px - r, py + r), (px + r, py - r), lw)
        pygame.draw.circle(surface, blend(theme.background, col, 0.6), (px, py), int(r * 1.5), max(1, lw - 1))


def draw_step(step, state, surface: pygame.Surface, rect, theme: Theme, progress: float,
              caches: list[RenderCache] | None = None, viewports=None) -> None:
    """What `step` shows at `progress`: its own scene, else the canvas with its marks."""
    if step.scene is not None:
        step.scene(state, surface, pygame.Rect(rect), theme, progress)
        return
    marks = step.marks(state) if step.marks is not None else ()
    draw_canvas(state, surface, rect, theme, progress, caches=caches, viewports=viewports, marks=marks)
