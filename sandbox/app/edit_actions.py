"""AppState's drawing actions: strokes, spray, erase, clear, undo and redo, the brush; and what any
change of the data does (`data_changed`): the models become stale, the score goes, and train as I
draw queues a run. Functions of the state (no mixin): every attribute they use is AppState's."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sandbox.errors import UserError

if TYPE_CHECKING:
    from .state import AppState


def data_changed(st: "AppState") -> None:
    if st.models:
        st.models_stale = True
    if st.score is not None:
        st.score = None   # it compared the model with data that is gone
    if not st.training.running:
        st.released.clear()
    if st.train_as_draw and not st.drawing.in_stroke:
        st._live_pending = True


def end_stroke(st: "AppState") -> None:
    if st.drawing.end_stroke() and st.train_as_draw:
        st._live_pending = True


def spray(st: "AppState", x: float, y: float, radius: float | None = None, density: int | None = None) -> int:
    n = st.drawing.spray((x, y), st.brush_radius if radius is None else radius,
                         st.brush_density if density is None else density, st.brush_class)
    if n:
        st._data_changed()
    return n


def erase(st: "AppState", x: float, y: float, radius: float | None = None) -> int:
    n = st.drawing.erase((x, y), st.brush_radius if radius is None else radius)
    if n:
        st._data_changed()
    return n


def clear(st: "AppState") -> None:
    st.drawing.clear()
    st.drawing.name = "drawing"
    st._data_changed()


def undo(st: "AppState") -> None:
    if st.drawing.undo():
        st._data_changed()


def redo(st: "AppState") -> None:
    if st.drawing.redo():
        st._data_changed()


def set_tool(st: "AppState", tool: str) -> None:
    if tool not in ("spray", "erase", "release"):
        raise UserError(f"unknown tool {tool!r}")
    st.tool = tool


def set_brush(st: "AppState", radius: float | None = None, density: int | None = None) -> None:
    if radius is not None and np.isfinite(radius):
        st.brush_radius = float(np.clip(radius, 0.01, 3.0))
    if density is not None:
        st.brush_density = int(np.clip(density, 1, 500))


def set_brush_class(st: "AppState", k: int) -> None:
    st.brush_class = int(np.clip(k, 0, 7))
