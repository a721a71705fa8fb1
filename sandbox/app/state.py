"""`AppState`: everything the window shows and every user action, with no display.

The window is a thin shell: it turns events into calls of these methods and draws what this
object holds. Tests and lessons drive it the same way. Heavy work runs in worker threads
(training in `trainer.py`, sampling and recording in `tasks.py`); `step(dt)` advances the
animation and collects their results.

The promise (identity.py): what a pane draws is the model its settings ask for now. Every
sampled picture carries the model object and settings that made it; results that arrive for a
model that is no longer current are dropped; a run that was stopped or came out clearly worse
than the model on screen is *offered* (`offer`), never swapped in silently. The larger actions are
functions of this class in files of their own: what the panes show in `pane_actions.py`, sampler
and training settings in `settings_actions.py`, presets and files in `data_actions.py`, sessions
and recording in `record_actions.py`, training and what becomes of a run in `training_actions.py`;
the small records it holds (`Pane`, `Message`, `ModelOffer`, `Score`, `Recording`) in `state_types.py`.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.errors import UserError
from sandbox.view import LAYERS, THEMES, ViewOptions

from . import data_actions, engine, pane_actions, record_actions, session, settings_actions, training_actions
from .drawing import Drawing
from .engine import Model
from .settings import Settings
from .state_types import Message, ModelOffer, Pane, Recording, Score
from .tasks import Tasks
from .trainer import Trainer
from .training import TrainStatus

MAX_PARTICLES = 10_000


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
        if autosave:
            found = session.load_autosave()
            if found is not None and len(found[0]) >= 1:
                self.restore_offer = found
        if model is not None:
            self.load_file(model)
        elif dataset:
            self.set_preset(dataset)
        else:
            self._show_models()

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
        """The training run the score chart plots: the running one, or the last one while pane A
        shows the model it produced (or offers it); otherwise nothing (its curves would belong to
        another model than the score beside them: another kind, or a run the user declined)."""
        st = self.training
        key = self.panes[0].settings.model_key()
        offered = self.offer is not None and self.offer.key == key
        if st.running or (st.key == key and self.run_model is not None
                          and (self.models.get(key) is self.run_model or offered)):
            return st
        return TrainStatus(device=st.device)

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
        self.settings = replace(self.settings, guidance=float(np.clip(w, 0.0, 10.0)))
        self._show_models()

    def set_class(self, k: int) -> None:
        """Class to sample (-1 = all)."""
        self.settings = replace(self.settings, cls=int(k))
        self._show_models()

    def set_particles(self, n: int) -> None:
        self.settings = replace(self.settings, particles=int(np.clip(n, 10, MAX_PARTICLES)))
        self._new_noise()
        self._show_models()

    def num_classes(self) -> int:
        for m in self.models.values():
            return engine.num_classes(m)
        return self.drawing.num_classes if self.drawing.num_classes > 1 else 0

    def hints(self) -> list[str]:
        """Plain warnings about choices known to train slowly or poorly (shown before Train)."""
        from .training_hints import hints

        return hints(self.panes[0].settings, self.settings.train)

    # ---- view ------------------------------------------------------------------------------
    def toggle(self, layer: str) -> None:
        if layer not in LAYERS:
            raise UserError(f"unknown view {layer!r}; views: {', '.join(LAYERS)}")
        self.options = self.options.toggled(layer)
        if layer in ("field", "mesh") and getattr(self.options, layer):
            self.resample()

    def set_theme(self, name: str) -> None:
        if name not in THEMES:
            raise UserError(f"unknown theme {name!r}; choose from {', '.join(THEMES)}")
        self.theme_name = name

    def cycle_theme(self) -> None:
        self.set_theme(THEMES[(THEMES.index(self.theme_name) + 1) % len(THEMES)])

    def set_presenter_scale(self, s: float) -> None:
        self.presenter_scale = float(np.clip(s, 0.75, 3.0))

    def set_compare(self, on: bool | None = None) -> None:
        self.compare = (not self.compare) if on is None else bool(on)
        if self.compare:
            self._show_models()

    def toggle_score(self) -> None:
        self.score_open = not self.score_open

    # ---- time ------------------------------------------------------------------------------
    def play(self, on: bool | None = None) -> None:
        self.playing = (not self.playing) if on is None else bool(on)
        if self.playing and self.progress >= 1.0:
            self.progress = 0.0

    def set_progress(self, p: float) -> None:
        self.progress = float(np.clip(p if np.isfinite(p) else 0.0, 0.0, 1.0))
        self._held = 0.0

    def step_frames(self, k: int) -> None:
        """Pause and move k sampler steps (keyboard arrows)."""
        self.playing = False
        S = max(self.panes[0].settings.steps, 1)
        self.set_progress(round(self.progress * S + k) / S)

    def set_speed(self, s: float) -> None:
        self.speed = float(np.clip(s, 0.05, 8.0))

    def toggle_loop(self) -> None:
        self.loop = not self.loop

    def step(self, dt: float) -> None:
        """Advance the animation by dt seconds and collect finished background work."""
        self._poll()
        if self.playing and np.isfinite(dt):
            dt = float(np.clip(dt, 0.0, 0.25))
            if self.progress >= 1.0:
                self._held += dt
                if self._held >= self.hold:
                    if self.loop:
                        self.progress, self._held = 0.0, 0.0
                    else:
                        self.playing = False
            else:
                self.progress = min(1.0, self.progress + dt * self.speed / self.duration)
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
        for done in self._tasks.poll():
            if done.bug:
                self.bug(done.bug)
            elif done.error:
                self.say(done.error, "error")
            elif done.tag.startswith("pane"):
                pane_actions.take_samples(self, int(done.tag[4:]), *done.value)
            elif done.tag.startswith("release"):
                pane_actions.take_released(self, done.value)
            elif done.tag == "judge":
                training_actions.on_judged(self, *done.value)
            elif done.tag == "record":
                self.say(f"saved {done.value}")
        for out in self.trainer.poll():
            training_actions.on_outcome(self, out)
        if self._live_pending and self.trainer.idle and not self.drawing.in_stroke:
            self._live_pending = False
            training_actions.train_live(self)

    def busy(self) -> bool:
        """Sampling or training still running (lessons wait for it)."""
        return self._tasks.busy() or not self.trainer.idle

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Block until sampling and training are finished, then collect them (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._tasks.wait(timeout)
            self.trainer.join(max(0.0, deadline - time.monotonic()))
            self._poll()
            if not self.busy() and not self._live_pending:
                return
        raise TimeoutError("background work did not finish")

    # ---- data (data_actions.py) ----------------------------------------------------------------
    def set_preset(self, name: str, n: int = 2000) -> None:
        data_actions.set_preset(self, name, n)

    def _data_changed(self) -> None:
        if self.models:
            self.models_stale = True
        if self.score is not None:
            self.score = None   # it compared the model with data that is gone
        if not self.training.running:
            self.released.clear()
        if self.train_as_draw and not self.drawing.in_stroke:
            self._live_pending = True

    def begin_stroke(self) -> None:
        """Mouse pressed on the canvas: everything until `end_stroke` is one undo step."""
        self.drawing.begin_stroke()

    def end_stroke(self) -> None:
        if self.drawing.end_stroke() and self.train_as_draw:
            self._live_pending = True

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
        on = (not self.train_as_draw) if on is None else bool(on)
        if on and not engine.can_warm_start():
            self.say("train as I draw needs warm-start training, which this engine lacks", "warn")
            on = False
        self.train_as_draw = on
        self.say("train as I draw: " + ("on (the model follows each stroke)" if on else "off"))

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

    # back-compatible names (tests and lessons read them)
    @property
    def record_size(self) -> tuple[int, int]:
        return self.recording.size

    @record_size.setter
    def record_size(self, v: tuple[int, int]) -> None:
        self.recording.size = (int(v[0]), int(v[1]))

    @property
    def record_fps(self) -> int:
        return self.recording.fps

    @record_fps.setter
    def record_fps(self, v: int) -> None:
        self.recording.fps = int(v)

    @property
    def record_seconds(self) -> float:
        return self.recording.seconds

    @record_seconds.setter
    def record_seconds(self, v: float) -> None:
        self.recording.seconds = float(v)

    def close(self) -> None:
        """On quit: stop workers and autosave an unsaved drawing."""
        self.trainer.stop()
        record_actions.maybe_autosave(self, force=True)
        self.trainer.join(2.0)
        self._tasks.shutdown()
