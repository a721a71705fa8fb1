"""AppState's file actions: sessions, autosave, recording GIF/MP4 and canvas PNGs.

Functions of the state (no mixin): every attribute they use is AppState's. Exports render in
the worker with `sandbox.export` at the chosen size (up to 1920x1080), keep class colours, and
say the full path of what they wrote.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.errors import UserError
from sandbox.fileio import check_writable

from . import pane_actions, session
from .settings import Settings

if TYPE_CHECKING:
    from .state import AppState

AUTOSAVE_EVERY = 1.0   # seconds between autosaves while drawing


def session_meta(st: "AppState") -> dict:
    return {
        "settings": st.settings.to_dict(),
        "source": st.drawing.name,
        "class_names": list(st.drawing.class_names),
        "view": {k: bool(getattr(st.options, k)) for k in st.options.__dataclass_fields__},
        "theme": st.theme_name, "presenter_scale": st.presenter_scale,
        "compare": st.compare, "progress": st.progress, "speed": st.speed,
        "loop": st.loop, "noise_seed": st._noise_seed,
    }


def save_session(st: "AppState", path: Any = None) -> Path:
    """Drawing + settings + view + trained models in one .safetensors file."""
    path = Path(path) if path else st.out_dir / f"session-{_stamp()}.safetensors"
    from sandbox.bundle import DiffusionModel

    # analytic (exact) models are rebuilt from the data, not stored
    models = {"/".join(k): m for k, m in st.models.items() if isinstance(m, DiffusionModel)}
    out = session.save(path, st.drawing.points, st.drawing.labels, session_meta(st), models)
    st._saved_version = st.drawing.version
    session.retire_autosave()
    st.say(f"saved session to {Path(out).resolve()}")
    return out


def load_session(st: "AppState", path: Any) -> None:
    from sandbox.view import ViewOptions

    pts, lab, meta, models = session.load(path)
    st.settings = Settings.from_dict(meta.get("settings", {}))
    st.panes[0].settings, st.panes[1].settings = st.settings.pane, st.settings.other
    st.drawing.replace(pts, lab, meta.get("class_names") or None, str(meta.get("source", "session")))
    st._saved_version = st.drawing.version
    view = {k: v for k, v in (meta.get("view") or {}).items() if k in ViewOptions.__dataclass_fields__}
    st.options = ViewOptions(**{k: bool(v) for k, v in view.items()})
    if meta.get("theme") in ("dark", "light", "high-contrast"):
        st.theme_name = meta["theme"]
    st.set_presenter_scale(float(meta.get("presenter_scale", 1.0)))
    st.compare = bool(meta.get("compare", False))
    st.set_speed(float(meta.get("speed", 1.0)))
    st.loop = bool(meta.get("loop", True))
    st._noise_seed = int(meta.get("noise_seed", 0))
    st._new_noise()
    pane_actions.replace_models(st, {tuple(k.split("/")): m for k, m in models.items()})
    st.set_progress(float(meta.get("progress", 0.0)))
    st.say(f"loaded session {Path(path).name}" + (f" with {len(models)} model(s)" if models else ""))
    st._show_models()


# -- autosave ------------------------------------------------------------------------------
def maybe_autosave(st: "AppState", force: bool = False) -> None:
    if not st.autosave_enabled or st.drawing.version == st._autosaved_version:
        return
    now = time.monotonic()
    if not force and now - st._autosaved_at < AUTOSAVE_EVERY:
        return
    st._autosaved_at = now
    st._autosaved_version = st.drawing.version
    if st.drawing.version != st._saved_version and len(st.drawing):
        session.autosave(st.drawing.points, st.drawing.labels,
                         {"settings": st.settings.to_dict(), "source": st.drawing.name,
                          "class_names": list(st.drawing.class_names)})


def restore_autosave(st: "AppState") -> None:
    found, st.restore_offer = st.restore_offer, None
    if found is None:
        return
    pts, lab, meta = found
    st.drawing.replace(pts, lab, meta.get("class_names") or None, str(meta.get("source", "drawing")))
    st.trainer.abandon()
    st.models_stale = bool(st.models)
    st._data_changed()
    st._show_models()
    session.retire_autosave()
    st.say(f"restored your drawing ({len(pts)} points) - press Train")


# -- exports -------------------------------------------------------------------------------
def _export_inputs(st: "AppState"):
    """What pane A shows now, for an export: trajectory, data with its classes, view, theme."""
    from sandbox.datasets import PointSet
    from sandbox.view import Theme

    sampled = st.panes[0].sampled
    d = st.drawing
    multi = d.num_classes > 1 or bool(d.class_names)
    data = PointSet(d.points.copy(), d.labels.copy() if multi and len(d.labels) else None,
                    list(d.class_names) if multi else [], d.name) if len(d.points) else None
    return sampled, data, st.options, Theme.named(st.theme_name), st.panes[0].settings.title()


def _beside(st: "AppState", traj, label):
    """In compare mode, pane B beside pane A as the window shows them (a recording of a sampler
    comparison held pane A alone): ([traj A, traj B], [title A, title B]); otherwise as given."""
    b = st.panes[1].sampled if st.compare and len(st.panes) > 1 else None
    if traj is None or b is None or b.source.preview_run:
        return traj, label
    return [traj, b.traj], [label, st.panes[1].settings.title()]


def record(st: "AppState", kind: str = "gif", path: Any = None, size: Any = None,
           fps: int | None = None, seconds: float | None = None) -> Path | None:
    """Write the current animation (pane A, and pane B beside it in compare mode) to GIF/MP4
    (sandbox.export) or, kind "html", to one self-contained web page to share (sandbox.web), in the
    worker."""
    if kind not in ("gif", "mp4", "html"):
        raise UserError(f"record as gif, mp4 or html, not {kind!r}")
    sampled, data, options, theme, label = _export_inputs(st)
    if sampled is None or sampled.source.preview_run:
        st.say("nothing to record yet: train or load a model", "warn")
        return None
    from sandbox.export import export_animation, parse_size

    out = (Path(path) if path else st.out_dir / f"sandbox-{_stamp()}.{kind}").resolve()
    check_writable(out)   # a read-only folder says so now, not after the frames are drawn
    size = parse_size(size or st.recording.size)
    fps = fps or st.recording.fps
    seconds = seconds or st.recording.seconds
    traj, label = _beside(st, sampled.traj, label)

    def job():
        if kind == "html":  # share as web page: the notebook player, in one offline file
            from sandbox.web import trajectory_player
            from sandbox.web.page import PlayerRow

            panes, titles = (traj, label) if isinstance(traj, list) else ([traj], [label])
            players = [trajectory_player(t, data=None if data is None else data.points, contours=options.contours,
                                         traces=100 if options.trajectories else 0, title=lab, theme=theme.name)
                       for t, lab in zip(panes, titles)]
            return (players[0] if len(players) == 1 else PlayerRow(players, " | ".join(titles))).save(out)
        return export_animation(traj, out, size=size, fps=fps, seconds=seconds, data=data,
                                options=options, theme=theme, label=label, traces=100,
                                progress_bar=False)

    st._tasks.submit("record", job)
    st.say(f"recording {size[0]}x{size[1]} to {out} ...")
    return out


def save_canvas(st: "AppState", path: Any = None, size: Any = None) -> Path | None:
    """Pane A as it is now (same progress, layers, class colours; pane B beside it in compare mode),
    no panel, as a PNG."""
    sampled, data, options, theme, label = _export_inputs(st)
    from sandbox.export import export_frame, parse_size
    from sandbox.view import render_frame  # noqa: F401 - fail early without pygame

    out = (Path(path) if path else st.out_dir / f"canvas-{_stamp()}.png").resolve()
    check_writable(out)
    size = parse_size(size or st.recording.size)
    traj, label = _beside(st, None if sampled is None else sampled.traj, label)
    if traj is None and data is None:
        st.say("nothing to save yet: draw, pick a preset or train", "warn")
        return None
    progress = st.progress

    def job():
        return export_frame(traj, out, progress=progress, size=size, data=data, options=options,
                            theme=theme, label=label, traces=100)

    st._tasks.submit("record", job)
    return out


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")
