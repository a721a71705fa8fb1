"""`AppState`: everything the window shows and every user action, with no display.

The window is a thin shell: it turns events into calls of these methods and draws what this
object holds. Tests and lessons drive it the same way. Heavy work runs in worker threads
(training in `trainer.py`, sampling and recording in `tasks.py`); `step(dt)` advances the
animation and collects their results.

The promise (identity.py): what a pane draws is the model its settings ask for now. Every
sampled picture carries the model object and settings that made it; results that arrive for a
model that is no longer current are dropped; a run that was stopped or came out clearly worse
than the model on screen is *offered* (`offer`), never swapped in silently. The actions are
functions of this class in files of their own: what the panes show in `pane_actions.py`, sampler
and training settings in `settings_actions.py`, layers, theme and the animation clock in
`view_actions.py`, presets and files in `data_actions.py`, the drawing's edits in `edit_actions.py`,
sessions and recording in `record_actions.py`, training and what becomes of a run in
`training_actions.py`, the worker threads' results in `results.py`; the small records it holds
(`Pane`, `Message`, `ModelOffer`, `Score`, `Recording`) in `state_types.py`.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.errors import UserError
from sandbox.view import THEMES, ViewOptions

from . import (data_actions, edit_actions, engine, pane_actions, record_actions, results, session, settings_actions,
               training_actions, view_actions)
from .drawing import Drawing
from .engine import Model
from .settings import Settings
from .state_types import Message, ModelOffer, Pane, Recording, Score
from .tasks import Tasks
from .trainer import Trainer
from .training import TrainStatus

class AppState:
    def __init__(self, dataset: str | None = "smiley", model: Any = None,
                 settings: Settings | None = None, autosave: bool = True,
                 load_shipped: bool = True, auto_train: bool = True,
                 out_dir: str | Path | None = None, seed: int = 0):
        self.settings: Settings = settings or Settings()
        self.drawing = Drawing()
        self.models: dict[tuple, Model] = {}
        self.stale_keys: set[tuple] = set()       # models trained on a drawing that has changed since
        self.run_model: Model = None              # what the last finished run produced (the chart's)
        self.options = ViewOptions()
        self.theme_name, self.presenter_scale = "dark", 1.0
        self.progress, self.playing, self.loop, self.speed = 0.0, True, True, 1.0
        self.duration, self.hold, self._held = 4.0, 0.8, 0.0
        self.compare = False
        self.tool, self.brush_radius, self.brush_density, self.brush_class = "spray", 0.15, 30, 0
        self.released: list[np.ndarray] = []     # paths (S+1, 2) of released particles
        self.released_model: Model = None        # ... all from this model
        self.messages: list[Message] = []
        self.errors = 0                 # unexpected exceptions (bugs) seen; the fuzz test wants 0
        self.help_visible = False
        self.fullscreen = False
        self.out_dir = Path(out_dir) if out_dir is not None else Path.cwd()
        self.autosave_enabled = autosave
        self.auto_train = auto_train
        self.load_shipped = load_shipped
        self.restore_offer: tuple | None = None   # autosaved drawing found at start
        self.offer: ModelOffer | None = None      # a finished run waiting for the user's choice
        self.score: Score | None = None
        self.score_open = True                    # the score panel expanded
        self.train_as_draw = False                # warm-start training after each stroke
        self.recording = Recording()
        self._tasks = Tasks()
        self._seed = seed
        self._noise_seed = seed
        self._saved_version = 0
        self._autosaved_at = 0.0
        self._autosaved_version = 0
        self._live_pending = False
        self._train_ps: Any = None                # the PointSet the running job trains on
        self._train_version = -1                  # drawing.version it was taken at
        self.panes = [Pane(self.settings.pane), Pane(self.settings.other)]
        self.device = "cpu"
        try:
            self.device = str(engine.resolve_device(self.settings.device))
        except (ImportError, UserError):
            pass
        self.trainer = Trainer(self.device)
        self.x_T = np.zeros((0, 2), np.float32)
        self._new_noise()
        data_actions.start(self, dataset, model, autosave)

    @property
    def training(self) -> TrainStatus:
        return self.trainer.status

    @property
    def models_stale(self) -> bool:
        """Whether a model on screen was trained on data that has changed since (T retrains it).
        Kept per model: training one model does not make another, older one current."""
        shown = self.panes[: 2 if self.compare else 1]
        return any(p.settings.model_key() in self.stale_keys for p in shown)

    @models_stale.setter
    def models_stale(self, stale: bool) -> None:
        """True: every model we hold is stale (the data changed); False: none is."""
        self.stale_keys = set(self.models) if stale else set()

    def chart_status(self) -> TrainStatus:
        """The training run the score chart plots (training_actions.chart_status)."""
        return training_actions.chart_status(self)

    @property
    def noise_id(self) -> tuple[int, int]:
        """Which initial noise the panes sample from: (seed, particles)."""
        return (self._noise_seed, len(self.x_T))

    # ---- messages --------------------------------------------------------------------------
    def say(self, text: str, level: str = "info") -> None:
        text = " ".join(str(text).split())
        now = time.monotonic()
        # the same line again refreshes the toast instead of stacking a copy
        self.messages = [m for m in self.messages if m.text != text]
        self.messages.append(Message(text, level, now))
        del self.messages[:-50]

    def bug(self, text: str) -> None:
        self.errors += 1
        self.say(text, "error")

    def recent_messages(self, seconds: float = 6.0) -> list[Message]:
        now = time.monotonic()
        return [m for m in self.messages if now - m.at < seconds][-3:]

    # ---- settings (settings_actions.py) -------------------------------------------------------
    def set_pane(self, i: int = 0, **changes: Any) -> None:
        """Change pane i's objective / prediction / schedule / sampler / steps.

        Choosing DDPM without naming the prediction and schedule lands on a DDPM model that
        exists (the shipped ones are ε + linear) rather than on an empty pane."""
        settings_actions.set_pane(self, i, **changes)

    def cycle_sampler(self, i: int = 0, step: int = 1) -> None:
        settings_actions.cycle_sampler(self, i, step)

    def set_train(self, **changes: Any) -> None:
        settings_actions.set_train(self, **changes)

    def set_guidance(self, w: float) -> None:
        settings_actions.set_guidance(self, w)

    def set_class(self, k: int) -> None:
        """Class to sample (-1 = all)."""
        settings_actions.set_class(self, k)

    def set_particles(self, n: int) -> None:
        settings_actions.set_particles(self, n)

    def num_classes(self) -> int:
        for m in self.models.values():
            return engine.num_classes(m)
        return self.drawing.num_classes if self.drawing.num_classes > 1 else 0

    def hints(self) -> list[str]:
        """Plain warnings about choices known to train slowly or poorly (shown before Train)."""
        from .training_hints import hints

        return hints(self.panes[0].settings, self.settings.train)

    # ---- view and time (view_actions.py) ------------------------------------------------------
    def toggle(self, layer: str) -> None:
        view_actions.toggle(self, layer)

    def set_theme(self, name: str) -> None:
        view_actions.set_theme(self, name)

    def cycle_theme(self) -> None:
        self.set_theme(THEMES[(THEMES.index(self.theme_name) + 1) % len(THEMES)])

    def set_presenter_scale(self, s: float) -> None:
        self.presenter_scale = float(np.clip(s, 0.75, 3.0))

    def set_compare(self, on: bool | None = None) -> None:
        view_actions.set_compare(self, on)

    def toggle_score(self) -> None:
        self.score_open = not self.score_open

    def play(self, on: bool | None = None) -> None:
        view_actions.play(self, on)

    def set_progress(self, p: float) -> None:
        view_actions.set_progress(self, p)

    def step_frames(self, k: int) -> None:
        """Pause and move k sampler steps (keyboard arrows)."""
        view_actions.step_frames(self, k)

    def set_speed(self, s: float) -> None:
        self.speed = float(np.clip(s, 0.05, 8.0))

    def toggle_loop(self) -> None:
        self.loop = not self.loop

    def step(self, dt: float) -> None:
        """Advance the animation by dt seconds and collect finished background work."""
        self._poll()
        view_actions.advance(self, dt)
        record_actions.maybe_autosave(self)

    # ---- what the panes show (pane_actions.py) ------------------------------------------------
    def _new_noise(self) -> None:
        g = np.random.default_rng(self._noise_seed)
        self.x_T = g.standard_normal((self.settings.particles, 2)).astype(np.float32)

    def new_noise(self) -> None:
        """Fresh initial noise (both panes share it)."""
        self._noise_seed += 1
        self._new_noise()
        self.resample()

    def _show_models(self) -> None:
        """After anything that may change which model a pane asks for: drop every picture (and
        released path, and score) that is not of the current model, then resample."""
        pane_actions.show_models(self)

    def resample(self) -> None:
        """Re-run the samplers for display (in the worker); both panes use the same noise."""
        pane_actions.resample(self)

    def use_model(self, model: Model) -> None:
        """Show `model` (trained, loaded, or an engine.ExactModel) in the panes asking for its kind."""
        pane_actions.use_model(self, model)

    def release_particle_at(self, x: float, y: float) -> bool:
        """Drop a particle into the noise at (x, y) (data coordinates) and follow its path."""
        return pane_actions.release_particle_at(self, x, y)

    def clear_released(self) -> None:
        self.released.clear()

    def _poll(self) -> None:
        """Collect finished background work: samples, released paths, judged and finished runs."""
        results.poll(self)

    @property
    def judging(self) -> bool:
        """A finished run is being scored against the shown model (the status line says so)."""
        return self._tasks.busy("judge")

    def busy(self) -> bool:
        """Sampling or training still running (lessons wait for it)."""
        return self._tasks.busy() or not self.trainer.idle

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Block until sampling and training are finished, then collect them (tests)."""
        results.wait_idle(self, timeout)

    # ---- data (data_actions.py: presets and files; edit_actions.py: the drawing) ---------------------
    def set_preset(self, name: str, n: int = 2000) -> None:
        data_actions.set_preset(self, name, n)

    def _data_changed(self) -> None:
        edit_actions.data_changed(self)

    def begin_stroke(self) -> None:
        """Mouse pressed on the canvas: everything until `end_stroke` is one undo step."""
        self.drawing.begin_stroke()

    def end_stroke(self) -> None:
        edit_actions.end_stroke(self)

    def spray(self, x: float, y: float, radius: float | None = None, density: int | None = None) -> int:
        return edit_actions.spray(self, x, y, radius, density)

    def erase(self, x: float, y: float, radius: float | None = None) -> int:
        return edit_actions.erase(self, x, y, radius)

    def clear(self) -> None:
        edit_actions.clear(self)

    def undo(self) -> None:
        edit_actions.undo(self)

    def redo(self) -> None:
        edit_actions.redo(self)

    def set_tool(self, tool: str) -> None:
        edit_actions.set_tool(self, tool)

    def set_brush(self, radius: float | None = None, density: int | None = None) -> None:
        edit_actions.set_brush(self, radius, density)

    def set_brush_class(self, k: int) -> None:
        edit_actions.set_brush_class(self, k)

    def load_file(self, path: Any) -> None:
        """A CSV / NPY / picture (points), a model file or a session file."""
        data_actions.load_file(self, path)

    def save_drawing(self, path: Any = None) -> Path:
        return data_actions.save_drawing(self, path)

    # ---- training (training_actions.py) ------------------------------------------------------
    def train(self) -> bool:
        """Train a model for pane A's objective on the drawing (and pane B's in compare mode).

        Never raises for a user mistake: bad data or settings become a message.
        """
        return training_actions.train(self)

    def set_train_as_draw(self, on: bool | None = None) -> None:
        """Train as I draw: after each stroke, continue training the shown model on the new data."""
        training_actions.set_train_as_draw(self, on)

    def stop(self) -> None:
        """Stop training after the current step; the partly trained model is offered if a model
        is already shown for those settings, else shown (and said to be partly trained)."""
        self.trainer.stop()

    def abandon_training(self) -> None:
        """Stop and forget a running job; nothing it produces is used."""
        self.trainer.abandon()
        self._show_models()

    def reset_model(self) -> None:
        """Forget the trained models (back to untrained: the data alone)."""
        pane_actions.replace_models(self, {})
        self._show_models()
        self.say("models reset: press Train")

    def decline_offer(self) -> None:
        if self.offer is not None:
            self.offer = None
            self.say("kept the previous model")

    def _drop_offer(self, key: tuple) -> None:
        if self.offer is not None and self.offer.key == key:
            self.offer = None

    def accept_offer(self) -> None:
        """Use the offered (stopped or worse) model instead of the one shown."""
        training_actions.accept_offer(self)

    # ---- files, sessions, recording (record_actions.py) ---------------------------------------
    def session_meta(self) -> dict:
        return record_actions.session_meta(self)

    def save_session(self, path: Any = None) -> Path:
        return record_actions.save_session(self, path)

    def load_session(self, path: Any) -> None:
        record_actions.load_session(self, path)

    def restore_autosave(self) -> None:
        record_actions.restore_autosave(self)

    def dismiss_autosave(self) -> None:
        self.restore_offer = None
        session.retire_autosave()

    def record(self, kind: str = "gif", path: Any = None, size: Any = None, fps: int | None = None,
               seconds: float | None = None) -> Path | None:
        return record_actions.record(self, kind, path, size, fps, seconds)

    def save_canvas(self, path: Any = None, size: Any = None) -> Path | None:
        """The canvas alone (pane A at this moment) as a PNG of the export size."""
        return record_actions.save_canvas(self, path, size)

    def set_record_size(self, size: tuple[int, int]) -> None:
        self.recording.set_size(size)

    def cycle_record_size(self) -> None:
        self.recording.cycle_size()

    def close(self) -> None:
        """On quit: stop workers and autosave an unsaved drawing."""
        self.trainer.stop()
        record_actions.maybe_autosave(self, force=True)
        self.trainer.join(2.0)
        self._tasks.shutdown()
