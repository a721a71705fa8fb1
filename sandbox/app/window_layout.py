"""Where the window's parts go: the panel on the left, the canvas (one pane, or two side by side
when comparing), the time bar along the bottom, the view of the data in the panes, the toasts'
area, and resizes (applied once per frame). Functions of the App (no mixin): every attribute they
use is App's."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pygame

from sandbox.view import Theme, Viewport

if TYPE_CHECKING:
    from .window import App

MIN_SIZE, MAX_SIZE = (480, 360), (7680, 4320)


def layout(app: "App", theme: Theme) -> None:
    W, H = app.screen.get_size()
    bar_w = max(W - app.right_column(theme), 1)
    # the panel never takes more than 45% of what the lesson column leaves: the canvas is the point
    pw = int(min(max(300 * theme.scale, 220), bar_w * 0.45))
    th = min(app.timebar.height_for(bar_w, theme), H // 2)
    cw = max(W - pw - app.right_column(theme), 1)
    app.panel.layout(pygame.Rect(0, 0, pw, max(H - th, 1)), theme)
    app.canvas = pygame.Rect(pw, 0, cw, max(H - th, 1))
    app.timebar.layout(pygame.Rect(0, H - th, bar_w, th), theme)
    if app.state.compare:
        half = app.canvas.w // 2
        app.pane_rects = [pygame.Rect(app.canvas.x, 0, half - 1, app.canvas.h),
                          pygame.Rect(app.canvas.x + half + 1, 0, app.canvas.w - half - 1, app.canvas.h)]
    else:
        app.pane_rects = [app.canvas.copy()]
    if app.view is None or app._epoch != app.state.drawing.epoch:
        app._epoch = app.state.drawing.epoch
        app.fit_view()


def fit_view(app: "App", samples: bool = False) -> None:
    """Centre the view on the drawing (and, with samples=True, the current samples)."""
    pts = app.state.drawing.points
    sampled = app.state.panes[0].sampled
    if samples and sampled is not None:
        xs = sampled.traj.xs
        pts = np.concatenate([pts, xs[-1].numpy(), xs[0].numpy()]) if len(pts) else xs[-1].numpy()
    if not len(pts):
        app.view = ((0.0, 0.0), 2.5)
        return
    vp = Viewport.fit((0, 0, 100, 100), pts, margin=1.3, minimum=0.5)
    # the noise starts as N(mean, rms^2 I) in data coordinates: keep most of it in view
    rms = float(np.sqrt(((pts - pts.mean(0)) ** 2).sum(1).mean()))
    app.view = (vp.center, max(vp.half_extent, 2.0 * rms))


def viewport(app: "App", i: int) -> Viewport:
    c, h = app.view or ((0.0, 0.0), 2.5)
    r = app.pane_rects[min(i, len(app.pane_rects) - 1)]
    return Viewport((r.x, r.y, r.w, r.h), c, h)


def pane_at(app: "App", pos) -> int | None:
    for i, r in enumerate(app.pane_rects):
        if r.collidepoint(pos):
            return i
    return None


def toast_area(app: "App", theme: Theme) -> pygame.Rect:
    """Where toasts stack: under the pane headers, above the time label and legend (which
    render_frame draws 8 px x scale above the canvas's bottom, the legend on a line of its own
    above the time label in a narrow pane: at 3x on 1280x800 a toast covered it)."""
    top = int(theme.font_px * 2.2)
    c = app.canvas
    bottom = c.bottom - int(8 * theme.scale) - int(theme.font(1.0).get_linesize() * 1.2)
    for r in app.pane_labels.values():
        if r is not None and r.colliderect(c):
            bottom = min(bottom, r.top - 2)
    return pygame.Rect(c.x, c.y + top, c.w, max(1, bottom - c.y - top))


def resize(app: "App", size) -> None:
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        return
    if app.state.fullscreen or w <= 0 or h <= 0:
        return
    w = min(max(w, MIN_SIZE[0]), MAX_SIZE[0])
    h = min(max(h, MIN_SIZE[1]), MAX_SIZE[1])
    app._pending_size = (w, h)


def apply_resize(app: "App") -> None:
    if app._pending_size is None:
        return
    size, app._pending_size = app._pending_size, None
    if app.state.fullscreen:
        return
    if size != app.screen.get_size():
        app.screen = pygame.display.set_mode(size, pygame.RESIZABLE)
    app.windowed_size = size
    if app.dialog is not None:
        app.dialog.resize(size)
