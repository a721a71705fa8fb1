"""Tooltips: what is under the pointer explains itself (a panel or time bar control, the jargon of
a pane header, the score panel), shown after the pointer rests `App.TIP_DELAY` seconds on it.
Functions of the App (no mixin): every attribute they use is App's."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pygame

from sandbox.view import Theme

from . import names, overlays
from .names import JARGON

if TYPE_CHECKING:
    from .window import App


class Region:
    """A part of the canvas with a tooltip (it has a rect, as a widget does)."""

    def __init__(self, rect: pygame.Rect, tip: str):
        self.rect, self.tip = rect, tip


def tip_target(app: "App", pos) -> tuple[Any, str] | None:
    """(widget, tooltip text) under `pos`, if any (panel or time bar)."""
    if app.dialog is not None or app.state.help_visible or app.drag is not None:
        return None
    found = app.panel.tip_at(pos) or app.timebar.tip_at(pos)
    if found:
        return found
    # the jargon on the canvas explains itself too: pane headers (NFE, straightness), the chart
    theme = app.theme()
    for i, (label, width, _) in app.pane_headers.items():
        pad = int(8 * theme.scale)
        r = pygame.Rect(app.pane_rects[i].x + pad, app.pane_rects[i].y + pad, width,
                        theme.font(1.0).get_linesize())
        if r.collidepoint(pos):
            words = " ".join(JARGON[k] for k in ("NFE", "straightness") if k in label)
            text = words or names.tip("objective", app.state.panes[i].settings.objective)
            return Region(r, text), text
    if app.chart_rect is not None and app.chart_rect.collidepoint(pos):
        text = ("Score: how close the samples on screen are to the data (good / ok / poor); "
                "click the header to fold it. " + JARGON["ratio"])
        return Region(app.chart_rect, text), text
    return None


def draw_tooltip(app: "App", theme: Theme, dt: float) -> None:
    app.tooltip_rect = None
    found = app.tip_target(app.mouse) if pygame.mouse.get_focused() or app._tip_forced else None
    if not found or not found[1]:
        app._tip = None
        return
    widget, text = found
    where = tuple(widget.rect)     # canvas regions are made afresh each frame: compare places
    if app._tip is None or app._tip[0] != where or app._tip[1] != text:
        app._tip = (where, text, 0.0)
    else:
        app._tip = (where, text, app._tip[2] + dt)
    if app._tip[2] >= app.TIP_DELAY or app._tip_forced:
        app.tooltip_rect = overlays.tooltip(app.screen, text, app.mouse, widget.rect, theme)
