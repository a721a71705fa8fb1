"""AppState's view actions: which layers the canvas shows, its theme, compare mode; and the animation
clock: play and pause, the time slider, stepping by sampler steps, and `advance(st, dt)`, which moves the
picture on (holding it at the data end, then looping or stopping). Functions of the state (no mixin):
every attribute they use is AppState's."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sandbox.errors import UserError
from sandbox.view import LAYERS, THEMES

if TYPE_CHECKING:
    from .state import AppState


def toggle(st: "AppState", layer: str) -> None:
    if layer not in LAYERS:
        raise UserError(f"unknown view {layer!r}; views: {', '.join(LAYERS)}")
    st.options = st.options.toggled(layer)
    if layer in ("field", "mesh") and getattr(st.options, layer):
        st.resample()


def set_theme(st: "AppState", name: str) -> None:
    if name not in THEMES:
        raise UserError(f"unknown theme {name!r}; choose from {', '.join(THEMES)}")
    st.theme_name = name


def set_compare(st: "AppState", on: bool | None = None) -> None:
    st.compare = (not st.compare) if on is None else bool(on)
    if st.compare:
        st._show_models()


def play(st: "AppState", on: bool | None = None) -> None:
    st.playing = (not st.playing) if on is None else bool(on)
    if st.playing and st.progress >= 1.0:
        st.progress = 0.0


def set_progress(st: "AppState", p: float) -> None:
    st.progress = float(np.clip(p if np.isfinite(p) else 0.0, 0.0, 1.0))
    st._held = 0.0


def step_frames(st: "AppState", k: int) -> None:
    """Pause and move k sampler steps (keyboard arrows)."""
    st.playing = False
    S = max(st.panes[0].settings.steps, 1)
    st.set_progress(round(st.progress * S + k) / S)


def advance(st: "AppState", dt: float) -> None:
    """Move the animation on by dt seconds (clamped to 0.25 s: a stalled frame does not jump)."""
    if st.playing and np.isfinite(dt):
        dt = float(np.clip(dt, 0.0, 0.25))
        if st.progress >= 1.0:
            st._held += dt
            if st._held >= st.hold:
                if st.loop:
                    st.progress, st._held = 0.0, 0.0
                else:
                    st.playing = False
        else:
            st.progress = min(1.0, st.progress + dt * st.speed / st.duration)
