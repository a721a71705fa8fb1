"""Keyboard shortcuts: one table drives both the key handling and the help overlay (H)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pygame

from sandbox.datasets import preset_names


@dataclass(frozen=True)
class Shortcut:
    label: str                     # as shown in the help overlay
    what: str
    keys: tuple[int, ...]
    action: Callable               # action(app)
    ctrl: bool = False
    shift: bool | None = None      # None: either


def _steps(app, factor: float) -> None:
    s = app.state.panes[0].settings.steps
    new = max(1, int(round(s * factor)) if factor > 1 else int(s * factor))
    app.state.set_pane(0, steps=new if new != s else s + (1 if factor > 1 else -1))


def _guidance(app, delta: float) -> None:
    """G / Shift+G, as the slider does: where guidance is off (the slider greyed), say why rather
    than move the greyed value with nothing else changing (G on the smiley's shipped model)."""
    from .panel import guidance_off

    off = guidance_off(app.state)
    if off:
        app.state.say("guidance is off: " + off.removeprefix("Off: ") if off.startswith("Off: ")
                      else "guidance " + off[0].lower() + off[1:])
    else:
        app.state.set_guidance(app.state.settings.guidance + delta)


# presenter scale steps for the keyboard: fixed values, so stepping down always lands on 1.00x
# (multiplying by 1.25 and dividing again drifted to 0.99999x)
PRESENTER_STEPS = (0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0)


def presenter_step(current: float, k: int) -> float:
    """The next presenter scale up (k = 1) or down (k = -1) from `current`."""
    if k > 0:
        return next((s for s in PRESENTER_STEPS if s > current + 1e-6), PRESENTER_STEPS[-1])
    return next((s for s in reversed(PRESENTER_STEPS) if s < current - 1e-6), PRESENTER_STEPS[0])


def _preset(app, k: int) -> None:
    names = list(preset_names())
    cur = app.state.drawing.name
    i = names.index(cur) if cur in names else -1
    app.state.set_preset(names[(i + k) % len(names)])


def _objective(app) -> None:
    st = app.state
    st.set_pane(0, objective="ddpm" if st.panes[0].settings.objective == "flow" else "flow")


S = Shortcut
SHORTCUTS: list[Shortcut] = [
    S("Space", "play / pause", (pygame.K_SPACE,), lambda a: a.state.play()),
    S("Left Right", "previous / next sampler step", (pygame.K_LEFT,), lambda a: a.state.step_frames(-1)),
    S("", "", (pygame.K_RIGHT,), lambda a: a.state.step_frames(1)),
    S("Home End", "jump to noise / to data", (pygame.K_HOME,), lambda a: a.state.set_progress(0.0)),
    S("", "", (pygame.K_END,), lambda a: a.state.set_progress(1.0)),
    S("L", "loop on / off", (pygame.K_l,), lambda a: a.state.toggle_loop()),
    S("+ -", "faster / slower", (pygame.K_EQUALS, pygame.K_PLUS, pygame.K_KP_PLUS),
      lambda a: a.state.set_speed(a.state.speed * 1.5)),
    S("", "", (pygame.K_MINUS, pygame.K_KP_MINUS), lambda a: a.state.set_speed(a.state.speed / 1.5)),
    S("T", "train on the drawing", (pygame.K_t,), lambda a: a.state.train()),
    S("Esc", "stop training / close", (pygame.K_ESCAPE,), lambda a: a.escape()),
    S("1-6", "particles, trajectories, contours, field, mesh, data",
      (pygame.K_1,), lambda a: a.state.toggle("particles")),
    S("", "", (pygame.K_2,), lambda a: a.state.toggle("trajectories")),
    S("", "", (pygame.K_3,), lambda a: a.state.toggle("contours")),
    S("", "", (pygame.K_4,), lambda a: a.state.toggle("field")),
    S("", "", (pygame.K_5,), lambda a: a.state.toggle("mesh")),
    S("", "", (pygame.K_6,), lambda a: a.state.toggle("data")),
    S("B E R", "spray / erase / release a particle", (pygame.K_b,), lambda a: a.state.set_tool("spray")),
    S("", "", (pygame.K_e,), lambda a: a.state.set_tool("erase")),
    S("", "", (pygame.K_r,), lambda a: a.state.set_tool("release")),
    S("[ ]", "smaller / larger brush", (pygame.K_LEFTBRACKET,),
      lambda a: a.state.set_brush(radius=a.state.brush_radius / 1.25)),
    S("", "", (pygame.K_RIGHTBRACKET,), lambda a: a.state.set_brush(radius=a.state.brush_radius * 1.25)),
    S("K", "next class colour for drawing", (pygame.K_k,),
      lambda a: a.state.set_brush_class((a.state.brush_class + 1) % 8)),
    S("Ctrl+Z / Ctrl+Y", "undo / redo", (pygame.K_z,), lambda a: a.state.undo(), ctrl=True, shift=False),
    S("", "", (pygame.K_y,), lambda a: a.state.redo(), ctrl=True),
    S("", "", (pygame.K_z,), lambda a: a.state.redo(), ctrl=True, shift=True),
    S("Delete", "clear the drawing", (pygame.K_DELETE,), lambda a: a.state.clear()),
    S("PgUp PgDn", "previous / next preset", (pygame.K_PAGEUP,), lambda a: _preset(a, -1)),
    S("", "", (pygame.K_PAGEDOWN,), lambda a: _preset(a, 1)),
    S("D", "DDPM / flow matching", (pygame.K_d,), _objective),
    S("S", "next sampler", (pygame.K_s,), lambda a: a.state.cycle_sampler(0, 1)),
    S("Up Down", "more / fewer sampling steps", (pygame.K_UP,), lambda a: _steps(a, 1.25)),
    S("", "", (pygame.K_DOWN,), lambda a: _steps(a, 0.8)),
    S("N", "new noise", (pygame.K_n,), lambda a: a.state.new_noise()),
    S("F", "fit the view to the data and samples", (pygame.K_f,), lambda a: a.fit_view(samples=True)),
    S("X", "forget released particles", (pygame.K_x,), lambda a: a.state.clear_released()),
    S("C", "compare two panes", (pygame.K_c,), lambda a: a.state.set_compare()),
    S("G / Shift+G", "more / less guidance", (pygame.K_g,), lambda a: _guidance(a, 0.5), shift=False),
    S("", "", (pygame.K_g,), lambda a: _guidance(a, -0.5), shift=True),
    S("Ctrl+O", "open points / picture / model / session", (pygame.K_o,), lambda a: a.open_dialog(), ctrl=True),
    S("Ctrl+S", "save session (Shift: drawing as CSV)", (pygame.K_s,), lambda a: a.state.save_session(),
      ctrl=True, shift=False),
    S("", "", (pygame.K_s,), lambda a: a.state.save_drawing(), ctrl=True, shift=True),
    S("P / F12", "screenshot (PNG)", (pygame.K_p, pygame.K_F12), lambda a: a.screenshot()),
    S("Ctrl+G / Ctrl+M", "record GIF / MP4", (pygame.K_g,), lambda a: a.state.record("gif"), ctrl=True),
    S("", "", (pygame.K_m,), lambda a: a.state.record("mp4"), ctrl=True),
    S("Ctrl+E", "share as web page (one HTML file)", (pygame.K_e,), lambda a: a.state.record("html"), ctrl=True),
    S("F11", "fullscreen", (pygame.K_F11,), lambda a: a.toggle_fullscreen()),
    S("V", "theme: dark / light / high contrast", (pygame.K_v,), lambda a: a.state.cycle_theme()),
    S("Ctrl + / Ctrl -", "presenter scale", (pygame.K_EQUALS, pygame.K_PLUS, pygame.K_KP_PLUS),
      lambda a: a.state.set_presenter_scale(presenter_step(a.state.presenter_scale, 1)), ctrl=True),
    S("", "", (pygame.K_MINUS, pygame.K_KP_MINUS),
      lambda a: a.state.set_presenter_scale(presenter_step(a.state.presenter_scale, -1)), ctrl=True),
    S("H / F1", "this help", (pygame.K_h, pygame.K_F1), lambda a: a.toggle_help()),
    S("Ctrl+Q", "quit", (pygame.K_q,), lambda a: a.quit(), ctrl=True),
]

MOUSE_HELP = [
    ("left drag", "spray / erase with the current tool (release tool: drop a particle)"),
    ("right click", "release a particle there and follow its path"),
    ("wheel / middle drag", "zoom / pan the view"),
    ("wheel on the panel", "scroll the panel (values change only by click or drag)"),
    ("rest the pointer", "a control explains itself in a tooltip"),
    ("Tab / Shift+Tab", "focus the next control: arrows step it, Enter presses it, Esc leaves"),
    ("drop a file", "load points (CSV, NPY, picture), a model or a session"),
]


def find(key: int, mod: int) -> Shortcut | None:
    ctrl = bool(mod & (pygame.KMOD_CTRL | pygame.KMOD_META))
    shift = bool(mod & pygame.KMOD_SHIFT)
    for s in SHORTCUTS:
        if key in s.keys and s.ctrl == ctrl and (s.shift is None or s.shift == shift):
            return s
    return None


def help_rows() -> list[tuple[str, str]]:
    return [(s.label, s.what) for s in SHORTCUTS if s.label] + MOUSE_HELP
