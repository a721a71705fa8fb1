"""AppState's data actions: presets, the spray brush and eraser, undo/redo, files in and out."""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from sandbox.errors import UserError

from . import engine, session
from .names import display


class DataActions:
    """Mixin for AppState (uses its drawing, models, panes and messages)."""

    # ---- data ------------------------------------------------------------------------------
    def set_preset(self, name: str, n: int = 2000) -> None:
        from sandbox.datasets import canonical_name, make_preset

        name = canonical_name(name)
        ps = make_preset(name, n=n, seed=self._seed)
        self.drawing.replace(ps.points, ps.labels, ps.class_names, ps.name)
        self._saved_version = self.drawing.version
        self.abandon_training()
        self.models, self.models_stale = {}, False
        self.released.clear()
        if self.load_shipped:
            for m in self._shipped(name):
                self.models[engine.model_key(m)] = m
        if self.models:
            if self.panes[0].settings.model_key() not in self.models:
                self._adopt_settings_of(next(iter(self.models)))
            kinds = " and ".join(k[0] if k[0] == "flow" else "DDPM" for k in self.models)
            self.say(f"{display('preset', name)}: pretrained {kinds} model loaded")
            self.resample()
        else:
            self._clear_panes()
            if self.auto_train:
                self.say(f"{display('preset', name)}: no shipped model found, training one now")
                self.train()

    def _shipped(self, name: str) -> list:
        return engine.shipped_models(name)

    def _adopt_settings_of(self, key: tuple) -> None:
        """Point pane A at a model we have (e.g. the shipped one is DDPM)."""
        pane = self.settings.pane
        if pane.model_key() == key:
            return
        if key[0] == "flow":
            pane = replace(pane, objective="flow")
        else:
            pane = replace(pane, objective="ddpm", prediction=key[1], schedule=key[2])
        self._set_pane(0, pane.checked(), resample=False)

    def _data_changed(self) -> None:
        if self.models:
            self.models_stale = True
        if self.training.running:
            return
        self.released.clear()

    def spray(self, x: float, y: float, radius: float | None = None, density: int | None = None) -> int:
        n = self.drawing.spray((x, y), self.brush_radius if radius is None else radius,
                               self.brush_density if density is None else density, self.brush_class)
        if n:
            self._data_changed()
        return n

    def erase(self, x: float, y: float, radius: float | None = None) -> int:
        n = self.drawing.erase((x, y), self.brush_radius if radius is None else radius)
        if n:
            self._data_changed()
        return n

    def clear(self) -> None:
        self.drawing.clear()
        self.drawing.name = "drawing"
        self._data_changed()

    def undo(self) -> None:
        if self.drawing.undo():
            self._data_changed()

    def redo(self) -> None:
        if self.drawing.redo():
            self._data_changed()

    def set_tool(self, tool: str) -> None:
        if tool not in ("spray", "erase", "release"):
            raise UserError(f"unknown tool {tool!r}")
        self.tool = tool

    def set_brush(self, radius: float | None = None, density: int | None = None) -> None:
        if radius is not None and np.isfinite(radius):
            self.brush_radius = float(np.clip(radius, 0.01, 3.0))
        if density is not None:
            self.brush_density = int(np.clip(density, 1, 500))

    def set_brush_class(self, k: int) -> None:
        self.brush_class = int(np.clip(k, 0, 7))

    def load_file(self, path) -> None:
        """A CSV / NPY / picture (points), a model file or a session file."""
        text = str(path)
        short = text if len(text) <= 80 else text[:38] + "..." + text[-38:]
        if not text.strip() or "\x00" in text:
            raise UserError(f"cannot open {short!r}: not a file name")
        try:
            self._load_file(Path(text))
        except OSError as e:  # a name too long, a device, a vanished file: the file's problem
            raise UserError(f"cannot open {short}: {e.strerror or type(e).__name__}") from None

    def _load_file(self, p: Path) -> None:
        if p.suffix.lower() == ".safetensors":
            if not p.is_file():
                raise UserError(f"{p.name}: no such file")
            if _is_session(p):
                self.load_session(p)
            else:
                self._load_model_file(p)
            return
        from sandbox.datasets import load_points

        ps = load_points(p, n=2000, seed=self._seed)
        self.abandon_training()
        self.drawing.replace(ps.points, ps.labels, ps.class_names, ps.name)
        self.models, self.models_stale = {}, False
        self._clear_panes()
        classes = f", {ps.num_classes} classes" if ps.labels is not None else ""
        self.say(f"loaded {p.name}: {len(ps)} points{classes} - press T to train")

    def _load_model_file(self, p: Path) -> None:
        m = engine.load_model(p)
        key = engine.model_key(m)
        self.models[key] = m
        self.models_stale = False
        self._adopt_settings_of(key)
        self._show_model_data(m)
        self.say(f"loaded model {p.name}")
        self.resample()

    def _show_model_data(self, model) -> None:
        """Behind a loaded model: its preset's data, else the training-data sample stored in the
        model file, else the drawing as it is."""
        from sandbox.datasets import PRESETS, make_preset

        summary = getattr(model, "data_summary", None) or {}
        name = summary.get("name")
        if name in PRESETS:
            ps = make_preset(name, n=2000, seed=self._seed)
            self.drawing.replace(ps.points, ps.labels, ps.class_names, ps.name)
        else:
            sample = model.data_sample() if hasattr(model, "data_sample") else np.zeros((0, 2))
            if len(sample) < 2:
                return
            labels = summary.get("sample_labels")
            self.drawing.replace(sample, None if labels is None else np.asarray(labels),
                                 summary.get("class_names") or None, str(name or "model data"))
        self._saved_version = self.drawing.version

    def save_drawing(self, path=None) -> Path:
        from sandbox.datasets import save_points

        ps = self.drawing.pointset()
        path = Path(path) if path else self.out_dir / f"drawing-{time.strftime('%Y%m%d-%H%M%S')}.csv"
        out = save_points(ps, path)
        self._saved_version = self.drawing.version
        session.retire_autosave()
        self.say(f"saved drawing to {out}")
        return Path(out)


def _is_session(p: Path) -> bool:
    try:
        from safetensors import safe_open

        with safe_open(str(p), framework="numpy") as f:
            return "session" in (f.metadata() or {})
    except Exception:  # noqa: BLE001 - not readable as safetensors: let the model loader say why
        return False
