"""The window's input: every pygame event becomes an AppState action. Keys go to the focused
control or to the shortcuts (`keys.py`); clicks go to what is drawn over the canvas (the offer
banner, the score panel's header, the restore banner), then the panel and the time bar, then the
canvas's tools (spray / erase / release, right click releases a particle, middle drag pans, the
wheel zooms). Functions of the App (no mixin): every attribute they use is App's."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pygame

from . import keys
from .window_focus import focus_key

if TYPE_CHECKING:
    from .window import App


def dispatch(app: "App", ev: pygame.event.Event) -> None:
    t = ev.type
    if t == pygame.QUIT:
        app.quit()
        return
    if t in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        pos = getattr(ev, "pos", None)
        if isinstance(pos, (tuple, list)) and len(pos) == 2:
            app.mouse = (int(pos[0]), int(pos[1]))
        else:
            return
    if app.dialog is not None and app._dialog_event(ev):
        return
    if t == pygame.KEYDOWN:
        app.on_key(ev)
    elif t in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP):
        app.on_mouse(ev)
    elif t == pygame.MOUSEWHEEL:
        wheel = pygame.event.Event(t, x=getattr(ev, "x", 0), y=getattr(ev, "y", 0), pos=app.mouse)
        app.on_mouse(wheel)
    elif t == pygame.DROPFILE:
        app.state.load_file(str(getattr(ev, "file", "")))
    elif t == pygame.VIDEORESIZE:
        app.resize(getattr(ev, "size", None) or (getattr(ev, "w", 0), getattr(ev, "h", 0)))
    elif t == getattr(pygame, "WINDOWRESIZED", -1) or t == getattr(pygame, "WINDOWSIZECHANGED", -1):
        app.resize((getattr(ev, "x", 0), getattr(ev, "y", 0)))


def on_key(app: "App", ev) -> None:
    k, mod = int(getattr(ev, "key", 0) or 0), int(getattr(ev, "mod", 0) or 0)
    if focus_key(app, k, mod):
        return
    sc = keys.find(k, mod)
    if sc is not None:
        sc.action(app)


def on_mouse(app: "App", ev) -> None:
    pos = ev.pos
    if ev.type == pygame.MOUSEBUTTONDOWN and canvas_click(app, pos):
        return
    if app._banner is not None and ev.type == pygame.MOUSEBUTTONDOWN:
        restore, dismiss = app._banner
        if restore.collidepoint(pos):
            app.state.restore_autosave()
            return
        if dismiss.collidepoint(pos):
            app.state.dismiss_autosave()
            return
    if ev.type == pygame.MOUSEBUTTONDOWN:
        app.focus_index = None      # the mouse takes over from the keyboard
    if app.drag is None and (app.panel.handle(ev) or app.timebar.handle(ev)):
        return
    if ev.type == pygame.MOUSEBUTTONUP:
        if app.drag == "tool":
            app.state.end_stroke()   # press to release: one undo step
        app.drag = None
        return
    i = app.pane_at(pos)
    if ev.type == pygame.MOUSEWHEEL:
        if i is not None and app.view is not None:
            vp = app.viewport(i).zoomed(1.15 if ev.y > 0 else 1 / 1.15, pos)
            app.view = (vp.center, vp.half_extent)
        return
    if ev.type == pygame.MOUSEMOTION:
        if app.drag == "pan":
            rel = getattr(ev, "rel", (0, 0))
            vp = app.viewport(0).panned(float(rel[0]), float(rel[1]))
            app.view = (vp.center, vp.half_extent)
        elif app.drag == "tool" and i is not None:
            apply_tool(app, i, pos, stroke=True)
        return
    if ev.type == pygame.MOUSEBUTTONDOWN and i is not None:
        button = getattr(ev, "button", 1)
        if button == 1:
            app.drag = "tool" if app.state.tool != "release" else None
            if app.drag == "tool":
                app.state.begin_stroke()
            apply_tool(app, i, pos, stroke=False)
        elif button == 3:
            x, y = app.viewport(i).to_world([pos])[0]
            app.state.release_particle_at(float(x), float(y))
        elif button == 2:
            app.drag = "pan"


def apply_tool(app: "App", i: int, pos, stroke: bool) -> None:
    x, y = (float(v) for v in app.viewport(i).to_world([pos])[0])
    st = app.state
    if st.tool == "spray":
        # a moving stroke sprays less per event so a fast drag does not pile up points
        st.spray(x, y, density=max(1, st.brush_density // (3 if stroke else 1)))
    elif st.tool == "erase":
        st.erase(x, y)
    elif not stroke:
        st.release_particle_at(x, y)


def canvas_click(app: "App", pos) -> bool:
    """Clicks on things drawn over the canvas: the offer banner, the score panel's header."""
    st = app.state
    buttons = app._offer_buttons
    if buttons is not None:
        if buttons[0].collidepoint(pos):
            st.accept_offer()
            return True
        if buttons[1].collidepoint(pos):
            st.decline_offer()
            return True
    head = app._score_head
    if head is not None and head.collidepoint(pos):
        st.toggle_score()
        return True
    return False
