"""`AppState`: everything the window shows and every user action, with no display.

The window is a thin shell: it turns events into calls of these methods and draws what this
object holds. Tests and lessons drive it the same way. Heavy work runs in worker threads
(training in `trainer.py`, sampling and recording in `tasks.py`); `step(dt)` advances the
animation and collects their results.

The promise (identity.py): what a pane draws is the model its settings ask for now. Every
sampled picture carries the model object and settings that made it; results that arrive for a
model that is no longer current are dropped; a run that was stopped or came out clearly worse
than the model on screen is *offered* (`offer`), never swapped in silently. Files, sessions and
recording live in `data_actions.py` and `record_actions.py`, training and what becomes of a run in
`training_actions.py`, as functions of this class.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.errors import UserError
from sandbox.view import LAYERS, THEMES, ViewOptions

from . import data_actions, engine, names, record_actions, session, training_actions
from .drawing import Drawing
from .engine import Model, Sampled
from .identity import no_model_note
from .settings import SAMPLERS_FOR, PaneSettings, Settings, TrainSettings
from .tasks import Tasks
from .trainer import Outcome, Trainer
from .training_actions import SCORE_SAMPLES
from .training import TrainStatus

MESH_SIDE = 21          # mesh: 21 x 21 points of noise carried by the sampler
MESH_EXTENT = 2.5       # ... over [-2.5, 2.5]^2 in the model's frame
MAX_PARTICLES = 10_000


@dataclass
class Message:
    text: str
    level: str = "info"   # info | warn | error
    at: float = 0.0


@dataclass
class Pane:
    """One animation: its settings, its sampled trajectory, mesh and field (data coordinates)."""

    settings: PaneSettings
    sampled: Sampled | None = None
    mesh: Any = None
    field: Any = None
    note: str = ""          # why nothing is drawn, e.g. "no model for these settings — Train"
    version: int = 0        # bumps when the trajectory changes (caches)


@dataclass
class ModelOffer:
    """A finished run that did not replace the model on screen: the user decides."""

    key: tuple
    model: Model
    text: str               # the question, e.g. "Training stopped at step 300 of 2000: use it?"


@dataclass
class Score:
    """The shown model's samples against the drawing (metrics.split_half), for the score panel."""

    model: Model
    ratio: float
    value: float
    baseline: float
    grade: str              # good | ok | poor


@dataclass
class Recording:
    """Export choices (window exports)."""

    size: tuple[int, int] = (1280, 720)
    fps: int = 30
    seconds: float = 4.0
    SIZES: tuple[tuple[int, int], ...] = field(
        default=((960, 540), (1280, 720), (1920, 1080)), repr=False)


class AppState:
    def __init__(self, dataset: str | None = "smiley", model: Any = None,
                 settings: Settings | None = None, autosave: bool = True,
                 load_shipped: bool = True, auto_train: bool = True,
                 out_dir: str | Path | None = None, seed: int = 0):
        self.settings: Settings = settings or Settings()
        self.drawing = Drawing()
        self.models: dict[tuple, Model] = {}
        self.models_stale = False
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

    # ---- settings --------------------------------------------------------------------------
    def _set_pane(self, i: int, pane: PaneSettings, resample: bool = True) -> None:
        pane = pane.checked()
        if i == 0:
            self.settings = replace(self.settings, pane=pane)
        else:
            self.settings = replace(self.settings, other=pane)
        self.panes[i].settings = pane
        if resample:
            self._show_models()

    def set_pane(self, i: int = 0, **changes: Any) -> None:
        """Change pane i's objective / prediction / schedule / sampler / steps.

        Choosing DDPM without naming the prediction and schedule lands on a DDPM model that
        exists (the shipped ones are ε + linear) rather than on an empty pane."""
        cur = self.panes[i].settings
        unknown = set(changes) - set(PaneSettings.__dataclass_fields__)
        if unknown:
            raise UserError(f"unknown setting {sorted(unknown)[0]!r}")
        new = replace(cur, **changes).checked()
        if (new.objective == "ddpm" and cur.objective != "ddpm" and "prediction" not in changes
                and "schedule" not in changes and new.model_key() not in self.models):
            have = [k for k in self.models if k[0] == "ddpm"]
            if have:
                new = replace(new, prediction=have[0][1], schedule=have[0][2])
        before = self.hints()
        self._set_pane(i, new)
        if i == 0:
            self._say_new_hints(before)

    def cycle_sampler(self, i: int = 0, step: int = 1) -> None:
        cur = self.panes[i].settings
        names = SAMPLERS_FOR[cur.objective]
        k = (names.index(cur.sampler) + step) % len(names) if cur.sampler in names else 0
        self.set_pane(i, sampler=names[k])

    def set_train(self, **changes: Any) -> None:
        unknown = set(changes) - set(TrainSettings.__dataclass_fields__)
        if unknown:
            raise UserError(f"unknown training setting {sorted(unknown)[0]!r}")
        t = replace(self.settings.train, **changes).checked()
        before = self.hints()
        self.settings = replace(self.settings, train=t)
        self._say_new_hints(before)

    def _say_new_hints(self, before: list[str]) -> None:
        """A choice known to train slowly or poorly is said when it is made, not only at Train."""
        for h in self.hints():
            if h not in before:
                self.say(h, "warn")

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

    # ---- what the panes show -----------------------------------------------------------------
    def _new_noise(self) -> None:
        g = np.random.default_rng(self._noise_seed)
        self.x_T = g.standard_normal((self.settings.particles, 2)).astype(np.float32)

    def new_noise(self) -> None:
        """Fresh initial noise (both panes share it)."""
        self._noise_seed += 1
        self._new_noise()
        self.resample()

    def _clear_panes(self) -> None:
        for p in self.panes:
            p.sampled = p.mesh = p.field = None
            p.note = ""
            p.version += 1

    def _show_models(self) -> None:
        """After anything that may change which model a pane asks for: drop every picture (and
        released path, and score) that is not of the current model, then resample."""
        for i, p in enumerate(self.panes):
            model = self.models.get(p.settings.model_key())
            s = p.sampled
            if s is None:
                continue
            if s.source.preview_run:
                keep = (self.training.running and self.training.run == s.source.preview_run
                        and self.training.key == p.settings.model_key())
            else:
                keep = model is not None and s.source.shows(model)
            if not keep:
                p.sampled = p.mesh = p.field = None
                p.version += 1
        current = self.models.get(self.panes[0].settings.model_key())
        if self.released and self.released_model is not current:
            self.released.clear()
        if self.score is not None and self.score.model is not current:
            self.score = None
        self.resample()

    def resample(self) -> None:
        """Re-run the samplers for display (in the worker); both panes use the same noise."""
        s = self.settings
        for i in range(2):
            pane = self.panes[i]
            model = self.models.get(pane.settings.model_key())
            if model is None:
                previewing = (self.training.running and self.training.key == pane.settings.model_key()
                              and pane.sampled is not None)
                if not previewing:
                    pane.sampled = pane.mesh = pane.field = None
                    pane.version += 1
                    pane.note = (f"training {pane.settings.title().split(' · ')[0]}..."
                                 if self.training.key == pane.settings.model_key() and self.training.running
                                 else no_model_note(pane.settings))
                continue
            if i == 1 and not self.compare:
                continue
            if pane.sampled is None:
                pane.note = "sampling..."
            self._tasks.submit(f"pane{i}", _sampler_job(model, self.x_T, pane.settings, s.guidance,
                                                        s.cls, self._noise_seed, self.options,
                                                        self.drawing.points if i == 0 else None))

    def use_model(self, model: Model) -> None:
        """Show `model` (trained, loaded, or an engine.ExactModel) in the panes asking for its kind."""
        key = engine.model_key(model)
        self.models[key] = model
        self.models_stale = False
        self._drop_offer(key)
        if self.panes[0].settings.model_key() != key and not self.compare:
            self._adopt_settings_of(key)
        self._show_models()

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

    def _replace_models(self, models: dict[tuple, Model]) -> None:
        """A new data set or file: these models, no others, no pending offer, no training."""
        self.trainer.abandon()
        self.models = dict(models)
        self.models_stale = False
        self.offer = None
        self.released.clear()
        self.score = None
        self._clear_panes()

    def release_particle_at(self, x: float, y: float) -> bool:
        """Drop a particle into the noise at (x, y) (data coordinates) and follow its path."""
        model = self.models.get(self.panes[0].settings.model_key())
        if model is None:
            self.say("train a model first, then click to release particles", "warn")
            return False
        z = np.asarray(model.normalizer.forward(np.array([[x, y]], np.float64)), np.float32)
        s = self.settings
        seed = self._noise_seed * 1000 + len(self.released)
        pane = self.panes[0].settings
        self._tasks.submit(f"release{len(self.released)}-{time.monotonic()}",
                           lambda: engine.sample(model, z, pane, s.guidance, s.cls, seed))
        if not self.playing or self.progress > 0.9:
            self.progress, self.playing, self._held = 0.0, True, 0.0
        return True

    def clear_released(self) -> None:
        self.released.clear()

    def _poll(self) -> None:
        for done in self._tasks.poll():
            if done.bug:
                self.bug(done.bug)
            elif done.error:
                self.say(done.error, "error")
            elif done.tag.startswith("pane"):
                self._take_samples(int(done.tag[4:]), *done.value)
            elif done.tag.startswith("release"):
                sampled: Sampled = done.value
                current = self.models.get(self.panes[0].settings.model_key())
                if current is not None and sampled.source.shows(current):
                    if self.released_model is not current:
                        self.released.clear()
                    self.released_model = current
                    self.released.append(sampled.traj.xs[:, 0].numpy())
                    del self.released[:-12]
            elif done.tag == "judge":
                self._judged(*done.value)
            elif done.tag == "record":
                self.say(f"saved {done.value}")
        for out in self.trainer.poll():
            self._training_outcome(out)
        if self._live_pending and self.trainer.idle and not self.drawing.in_stroke:
            self._live_pending = False
            self._train_live()

    def _take_samples(self, i: int, sampled: Sampled, mesh: Any, fld: Any, score: Score | None) -> None:
        """A sampler result arrived: use it only if it is of the model pane i asks for now."""
        pane = self.panes[i]
        model = self.models.get(pane.settings.model_key())
        if model is None or not sampled.source.shows(model):
            return  # made for a model that is gone (reset, switched, replaced): never drawn
        pane.sampled, pane.mesh, pane.field, pane.note = sampled, mesh, fld, ""
        pane.version += 1
        if i == 0 and score is not None:
            self.score = score

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

    # ---- data --------------------------------------------------------------------------------
    def set_preset(self, name: str, n: int = 2000) -> None:
        from sandbox.datasets import canonical_name, make_preset

        name = canonical_name(name)
        ps = make_preset(name, n=n, seed=self._seed)
        self.drawing.replace(ps.points, ps.labels, ps.class_names, ps.name)
        self._saved_version = self.drawing.version
        shipped = engine.shipped_models(name) if self.load_shipped else []
        self._replace_models({engine.model_key(m): m for m in shipped})
        title = names.display("preset", name)
        if self.models:
            if self.panes[0].settings.model_key() not in self.models:
                self._adopt_settings_of(next(iter(self.models)))
            kinds = " and ".join("flow matching" if k[0] == "flow" else "DDPM" for k in self.models)
            self.say(f"{title}: pretrained {kinds} model loaded")
            self._show_models()
        else:
            self._show_models()
            if self.auto_train:
                self.say(f"{title}: no pretrained model, training one now")
                self.train()

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
        self._replace_models({})
        self._show_models()
        self.say("models reset: press Train")

    def decline_offer(self) -> None:
        if self.offer is not None:
            self.offer = None
            self.say("kept the previous model")

    def _drop_offer(self, key: tuple) -> None:
        if self.offer is not None and self.offer.key == key:
            self.offer = None

    def _training_outcome(self, out: Outcome) -> None:
        training_actions.on_outcome(self, out)

    def _judged(self, out: Outcome, model: Model, prev: Model, r_new: float, r_old: float) -> None:
        training_actions.on_judged(self, out, model, prev, r_new, r_old)

    def _train_live(self) -> None:
        training_actions.train_live(self)

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
        from sandbox.export import parse_size

        w, h = parse_size(size)
        if not (160 <= w <= 1920 and 120 <= h <= 1080):
            raise UserError(f"export size {w}x{h}: choose up to 1920x1080")
        self.recording.size = (w, h)

    def cycle_record_size(self) -> None:
        sizes = list(self.recording.SIZES)
        i = sizes.index(self.recording.size) if self.recording.size in sizes else -1
        self.recording.size = sizes[(i + 1) % len(sizes)]

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


def _sampler_job(model: Model, x_T: np.ndarray, pane: PaneSettings, guidance: float, cls: int,
                 seed: int, options: ViewOptions, data: np.ndarray | None):
    """Work for the sampler thread: the animation, the mesh and field if shown, and the score
    of the samples against `data` (pane A only)."""
    def job():
        sampled = engine.sample(model, x_T, pane, guidance, cls, seed)
        mesh = None
        if options.mesh:
            from sandbox.view import Mesh
            from sandbox.view.field_view import grid_points

            e = MESH_EXTENT
            g = grid_points((-e, e, -e, e), MESH_SIDE, MESH_SIDE)
            m = engine.sample(model, g, pane, guidance, cls, seed, deterministic=True)
            mesh = Mesh(m.traj, MESH_SIDE, MESH_SIDE)
        fld = engine.DataField(model, guidance, cls)
        score = None
        if data is not None and len(data) >= 20 and (cls is None or cls < 0):
            import torch

            from sandbox import metrics

            c = metrics.split_half(sampled.traj.xs[-1][:SCORE_SAMPLES], torch.as_tensor(data))
            score = Score(model, c.ratio, c.value, c.baseline, metrics.grade(c.ratio))
        return sampled, mesh, fld, score
    return job
