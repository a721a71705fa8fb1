"""`AppState`: everything the window shows and every user action, with no display.

The window is a thin shell: it turns events into calls of these methods and draws what this
object holds. Tests and lessons drive it the same way. Heavy work runs in worker threads
(training in `training.py`, sampling and recording in `tasks.py`); `step(dt)` advances the
animation and collects their results.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sandbox.errors import UserError
from sandbox.view import LAYERS, THEMES, ViewOptions

from . import engine, session
from .data_actions import DataActions
from .drawing import Drawing
from .record_actions import RecordActions
from .settings import SAMPLERS_FOR, PaneSettings, Settings, TrainSettings
from .tasks import Tasks
from .training import TrainingJob, TrainStatus
from .training_actions import TrainingActions

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
    sampled: engine.Sampled | None = None
    mesh: object | None = None
    field: object | None = None
    note: str = ""          # e.g. "no DDPM model yet: press Train"
    version: int = 0        # bumps when the trajectory changes (caches)


class AppState(DataActions, TrainingActions, RecordActions):
    """Data actions come from `data_actions.py`, training from `training_actions.py`, sessions
    and recording from `record_actions.py` (mixins, to keep each file readable)."""

    def __init__(self, dataset: str | None = "smiley", model=None, settings: Settings | None = None,
                 autosave: bool = True, load_shipped: bool = True, auto_train: bool = True,
                 out_dir: str | Path | None = None, seed: int = 0):
        self.settings = (settings or Settings())
        self.drawing = Drawing()
        self.models: dict[tuple, object] = {}
        self.models_stale = False
        self.options = ViewOptions()
        self.theme_name, self.presenter_scale = "dark", 1.0
        self.progress, self.playing, self.loop, self.speed = 0.0, True, True, 1.0
        self.duration, self.hold, self._held = 4.0, 0.8, 0.0
        self.compare = False
        self.tool, self.brush_radius, self.brush_density, self.brush_class = "spray", 0.15, 30, 0
        self.released: list[np.ndarray] = []
        self.messages: list[Message] = []
        self.errors = 0                 # unexpected exceptions (bugs) seen; the fuzz test wants 0
        self.training = TrainStatus()
        self.help_visible = False
        self.fullscreen = False
        self.out_dir = Path(out_dir) if out_dir is not None else Path.cwd()
        self.autosave_enabled = autosave
        self.auto_train = auto_train
        self.load_shipped = load_shipped
        self.restore_offer = None       # autosaved drawing found at start
        self._job: TrainingJob | None = None
        self._train_queue: list[PaneSettings] = []
        self._tasks = Tasks()
        self._seed = seed
        self._noise_seed = seed
        self._saved_version = 0
        self._autosaved_at = 0.0
        self._autosaved_version = 0
        self.panes = [Pane(self.settings.pane), Pane(self.settings.other)]
        self.device = "cpu"
        try:
            self.device = str(engine.resolve_device(self.settings.device))
        except (ImportError, UserError):
            pass
        self.training.device = self.device
        self._new_noise()
        if autosave:
            found = session.load_autosave()
            if found is not None and len(found[0]) >= 1:
                self.restore_offer = found
        if model is not None:
            self.load_file(model)
        elif dataset:
            self.set_preset(dataset)

    # ---- messages --------------------------------------------------------------------------
    def say(self, text: str, level: str = "info") -> None:
        self.messages.append(Message(" ".join(str(text).split()), level, time.monotonic()))
        del self.messages[:-50]

    def bug(self, text: str) -> None:
        self.errors += 1
        self.say(text, "error")

    def recent_messages(self, seconds: float = 6.0) -> list[Message]:
        now = time.monotonic()
        return [m for m in self.messages if now - m.at < seconds][-4:]

    # ---- settings --------------------------------------------------------------------------
    def _set_pane(self, i: int, pane: PaneSettings, resample: bool = True) -> None:
        pane = pane.checked()
        if i == 0:
            self.settings = replace(self.settings, pane=pane)
        else:
            self.settings = replace(self.settings, other=pane)
        self.panes[i].settings = pane
        if resample:
            self.resample()

    def set_pane(self, i: int = 0, **changes) -> None:
        """Change pane i's objective / prediction / schedule / sampler / steps."""
        cur = self.panes[i].settings
        unknown = set(changes) - set(PaneSettings.__dataclass_fields__)
        if unknown:
            raise UserError(f"unknown setting {sorted(unknown)[0]!r}")
        self._set_pane(i, replace(cur, **changes))

    def cycle_sampler(self, i: int = 0, step: int = 1) -> None:
        cur = self.panes[i].settings
        names = SAMPLERS_FOR[cur.objective]
        k = (names.index(cur.sampler) + step) % len(names) if cur.sampler in names else 0
        self.set_pane(i, sampler=names[k])

    def set_train(self, **changes) -> None:
        unknown = set(changes) - set(TrainSettings.__dataclass_fields__)
        if unknown:
            raise UserError(f"unknown training setting {sorted(unknown)[0]!r}")
        t = replace(self.settings.train, **changes).checked()
        self.settings = replace(self.settings, train=t)

    def set_guidance(self, w: float) -> None:
        self.settings = replace(self.settings, guidance=float(np.clip(w, 0.0, 10.0)))
        self.resample()

    def set_class(self, k: int) -> None:
        """Class to sample (-1 = all)."""
        self.settings = replace(self.settings, cls=int(k))
        self.resample()

    def set_particles(self, n: int) -> None:
        self.settings = replace(self.settings, particles=int(np.clip(n, 10, MAX_PARTICLES)))
        self._new_noise()
        self.resample()

    def num_classes(self) -> int:
        for m in self.models.values():
            return engine.num_classes(m)
        return self.drawing.num_classes if self.drawing.num_classes > 1 else 0

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
            self.resample()

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
        self._maybe_autosave()

    # ---- sampling --------------------------------------------------------------------------
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
            p.version += 1

    def resample(self) -> None:
        """Re-run the samplers for display (in the worker); both panes use the same noise."""
        n_panes = 2 if self.compare else 1
        s = self.settings
        for i in range(n_panes):
            pane = self.panes[i]
            model = self.models.get(pane.settings.model_key())
            if model is None:
                what = pane.settings.title().split(" \u00b7 ")[0]
                pane.note = f"no {what} model yet: press Train"
                pane.sampled = pane.mesh = pane.field = None
                pane.version += 1
                continue
            pane.note = ""
            self._tasks.submit(f"pane{i}", _sampler_job(model, self.x_T, pane.settings, s.guidance,
                                                        s.cls, self._noise_seed, self.options))

    def use_model(self, model) -> None:
        """Show `model` (trained, loaded, or an engine.ExactModel) in the panes asking for its kind."""
        key = engine.model_key(model)
        self.models[key] = model
        self.models_stale = False
        if self.panes[0].settings.model_key() != key and not self.compare:
            self._adopt_settings_of(key)
        self.resample()

    def release_particle_at(self, x: float, y: float) -> bool:
        """Drop a particle into the noise at (x, y) (data coordinates) and follow its path."""
        model = self.models.get(self.panes[0].settings.model_key())
        if model is None:
            self.say("train a model first, then click to release particles", "warn")
            return False
        z = np.asarray(model.normalizer.forward(np.array([[x, y]], np.float64)), np.float32)
        s = self.settings
        seed = self._noise_seed * 1000 + len(self.released)
        self._tasks.submit(f"release{len(self.released)}-{time.monotonic()}",
                           lambda: engine.sample(model, z, self.panes[0].settings, s.guidance, s.cls, seed))
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
                i = int(done.tag[4:])
                self.panes[i].sampled, self.panes[i].mesh, self.panes[i].field = done.value
                self.panes[i].version += 1
            elif done.tag.startswith("release"):
                self.released.append(done.value.traj.xs[:, 0].numpy())
                del self.released[:-12]
            elif done.tag == "record":
                self.say(f"saved {done.value}")
        self._poll_training()

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Block until sampling and training are finished, then collect them (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._tasks.wait(timeout)
            if self._job is not None:
                self._job.join(max(0.0, deadline - time.monotonic()))
            self._poll()
            if not self._tasks.busy() and not self.training.running and self._job is None:
                return
        raise TimeoutError("background work did not finish")



def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _sampler_job(model, x_T, pane: PaneSettings, guidance, cls, seed, options):
    """Work for the sampler thread: the animation, and the mesh and field if shown."""
    def job():
        sampled = engine.sample(model, x_T, pane, guidance, cls, seed)
        mesh = field = None
        if options.mesh:
            from sandbox.view import Mesh
            from sandbox.view.field_view import grid_points

            e = MESH_EXTENT
            g = grid_points((-e, e, -e, e), MESH_SIDE, MESH_SIDE)
            m = engine.sample(model, g, pane, guidance, cls, seed, deterministic=True)
            mesh = Mesh(m.traj, MESH_SIDE, MESH_SIDE)
        field = engine.DataField(model, guidance, cls)
        return sampled, mesh, field
    return job
