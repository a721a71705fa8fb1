"""Keyboard focus: Tab / Shift+Tab walk the enabled controls (the panel top to bottom, then the time
bar), the focused one takes Enter, Space and the arrows, Esc or a click gives the keys back to the
shortcuts; the panel scrolls to the focused control and a ring shows it. Functions of the App (no
mixin): every attribute they use is App's."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pygame

from sandbox.view import Theme

if TYPE_CHECKING:
    from .widgets import Widget
    from .window import App


def focus_order(app: "App") -> list:
    """The controls Tab walks through (enabled ones): the panel top to bottom, then the time bar."""
    return [w for w in list(app.panel.leaves()) + app.timebar.widgets if w.focusable and w.enabled()]


def focused(app: "App") -> "Widget | None":
    order = app.focus_order()
    return order[app.focus_index] if app.focus_index is not None and app.focus_index < len(order) else None


def focus_key(app: "App", k: int, mod: int) -> bool:
    """Tab / Shift+Tab move the focus; a focused control takes Enter, Space and the arrows;
    Esc (or a click) gives the keys back to the shortcuts. True if the key was used here."""
    if k == pygame.K_TAB and not mod & (pygame.KMOD_CTRL | pygame.KMOD_ALT):
        n = len(app.focus_order())
        if n:
            step = -1 if mod & pygame.KMOD_SHIFT else 1
            start = (-1 if step > 0 else 0) if app.focus_index is None else app.focus_index
            app.focus_index = (start + step) % n
            scroll_to_focus(app)
        return True
    w = app.focused
    if w is None or mod & (pygame.KMOD_CTRL | pygame.KMOD_META):
        return False
    if k == pygame.K_ESCAPE:
        app.focus_index = None
        return True
    return bool(w.key(k))


def scroll_to_focus(app: "App") -> None:
    w = app.focused
    p = app.panel
    if w is None or w not in list(p.leaves()):
        return
    if w.rect.top < p.rect.top:
        p.scroll_by(w.rect.top - p.rect.top - 8)
    elif w.rect.bottom > p.rect.bottom:
        p.scroll_by(w.rect.bottom - p.rect.bottom + 8)


def draw_focus(app: "App", theme: Theme) -> None:
    w = app.focused
    if w is None:
        return
    prev = app.screen.get_clip()
    if w in list(app.panel.leaves()):
        app.screen.set_clip(app.panel.rect)
    pygame.draw.rect(app.screen, theme.highlight, w.rect.inflate(4, 4), width=max(2, theme.line_px + 1),
                     border_radius=5)
    app.screen.set_clip(prev)
