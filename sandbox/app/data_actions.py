"""AppState's data actions: a preset with its shipped models; open a points file, picture, model or
session; save the drawing. Functions of the state (no mixin): every attribute they use is AppState's."""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sandbox.errors import UserError

from . import engine, names, pane_actions, session

if TYPE_CHECKING:
    from .state import AppState


def start(st: "AppState", dataset: str | None, model: Any, autosave: bool) -> None:
    """What a new state opens on: an autosaved drawing is offered back; then the file `model`
    (a model, points or a session), else the preset `dataset`, else no data."""
    if autosave:
        found = session.load_autosave()
        if found is not None and len(found[0]) >= 1:
            st.restore_offer = found
    if model is not None:
        st.load_file(model)
    elif dataset:
        st.set_preset(dataset)
    else:
        st._show_models()


def set_preset(st: "AppState", name: str, n: int = 2000) -> None:
    """Start over on the preset `name` (n points) with its shipped models, or train one."""
    from sandbox.datasets import canonical_name, make_preset

    name = canonical_name(name)
    ps = make_preset(name, n=n, seed=st._seed)
    st.drawing.replace(ps.points, ps.labels, ps.class_names, ps.name)
    st._saved_version = st.drawing.version
    shipped = engine.shipped_models(name) if st.load_shipped else []
    pane_actions.replace_models(st, {engine.model_key(m): m for m in shipped})
    title = names.display("preset", name)
    if st.models:
        if st.panes[0].settings.model_key() not in st.models:
            pane_actions.adopt_settings_of(st, next(iter(st.models)))
        kinds = " and ".join("flow matching" if k[0] == "flow" else "DDPM" for k in st.models)
        st.say(f"{title}: pretrained {kinds} model loaded")
        st._show_models()
    else:
        st._show_models()
        if st.auto_train:
            st.say(f"{title}: no pretrained model, training one now")
            st.train()


def load_file(st: "AppState", path: Any) -> None:
    """A CSV / NPY / picture (points), a model file or a session file."""
    text = str(path)
    short = text if len(text) <= 80 else text[:38] + "..." + text[-38:]
    if not text.strip() or "\x00" in text:
        raise UserError(f"cannot open {short!r}: not a file name")
    try:
        _load_file(st, Path(text))
    except OSError as e:  # a name too long, a device, a vanished file: the file's problem
        raise UserError(f"cannot open {short}: {e.strerror or type(e).__name__}") from None


def _load_file(st: "AppState", p: Path) -> None:
    if p.suffix.lower() == ".safetensors":
        if not p.is_file():
            raise UserError(f"{p.name}: no such file")
        if _is_session(p):
            st.load_session(p)
        else:
            _load_model_file(st, p)
        return
    from sandbox.datasets import load_points

    ps = load_points(p, n=2000, seed=st._seed)
    st.drawing.replace(ps.points, ps.labels, ps.class_names, ps.name)
    pane_actions.replace_models(st, {})
    st._show_models()
    classes = f", {ps.num_classes} classes" if ps.labels is not None else ""
    st.say(f"loaded {p.name}: {len(ps)} points{classes} - press Train")


def _load_model_file(st: "AppState", p: Path) -> None:
    m = engine.load_model(p)
    key = engine.model_key(m)
    # a model brings its own data: models trained on anything else no longer apply
    _show_model_data(st, m)
    pane_actions.replace_models(st, {key: m})
    pane_actions.adopt_settings_of(st, key)
    st.say(f"loaded model {p.name}")
    st._show_models()


def _show_model_data(st: "AppState", model: Any) -> None:
    """Behind a loaded model: its preset's data, else the training-data sample stored in the
    model file, else the drawing as it is."""
    from sandbox.datasets import PRESETS, make_preset

    summary = getattr(model, "data_summary", None) or {}
    name = summary.get("name")
    if name in PRESETS:
        ps = make_preset(str(name), n=2000, seed=st._seed)
        st.drawing.replace(ps.points, ps.labels, ps.class_names, ps.name)
    else:
        sample = model.data_sample() if hasattr(model, "data_sample") else np.zeros((0, 2))
        if len(sample) < 2:
            return
        labels = summary.get("sample_labels")
        st.drawing.replace(sample, None if labels is None else np.asarray(labels),
                           summary.get("class_names") or None, str(name or "model data"))
    st._saved_version = st.drawing.version


def save_drawing(st: "AppState", path: Any = None) -> Path:
    from sandbox.datasets import save_points

    ps = st.drawing.pointset()
    path = Path(path) if path else st.out_dir / f"drawing-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    out = save_points(ps, path)
    st._saved_version = st.drawing.version
    session.retire_autosave()
    st.say(f"saved drawing to {Path(out).resolve()}")
    return Path(out)


def _is_session(p: Path) -> bool:
    try:
        from safetensors import safe_open

        with safe_open(str(p), framework="numpy") as f:
            return "session" in (f.metadata() or {})
    except Exception:  # noqa: BLE001 - not readable as safetensors: let the model loader say why
        return False
