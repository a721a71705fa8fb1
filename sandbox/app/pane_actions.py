"""AppState's pane actions: what the panes show. Which model each pane draws (`show_models`: the one
place that drops pictures, released paths and scores of any other model), the samplers re-run in the
worker (`resample`, `sampler_job`), the results that arrive (`take_samples`, kept only if still of the
current model) and particles released by a click. Functions of the state (no mixin): every attribute
they use is AppState's."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sandbox.view import ViewOptions

from . import engine, settings_actions
from .engine import Model, Sampled
from .identity import no_model_note
from .settings import PaneSettings
from .state_types import Score
from .training_actions import SCORE_SAMPLES

if TYPE_CHECKING:
    from .state import AppState

MESH_SIDE = 21          # mesh: 21 x 21 points of noise carried by the sampler
MESH_EXTENT = 2.5       # ... over [-2.5, 2.5]^2 in the model's frame


def clear_panes(st: "AppState") -> None:
    """Nothing drawn in either pane (a new data set or file; `resample` fills them again)."""
    for p in st.panes:
        p.sampled = p.mesh = p.field = None
        p.note = ""
        p.version += 1


def show_models(st: "AppState") -> None:
    """After anything that may change which model a pane asks for: drop every picture (and
    released path, and score) that is not of the current model, then resample."""
    for i, p in enumerate(st.panes):
        model = st.models.get(p.settings.model_key())
        s = p.sampled
        if s is None:
            continue
        if s.source.preview_run:
            keep = (st.training.running and st.training.run == s.source.preview_run
                    and st.training.key == p.settings.model_key())
        else:
            keep = model is not None and s.source.shows(model)
        if not keep:
            p.sampled = p.mesh = p.field = None
            p.version += 1
    current = st.models.get(st.panes[0].settings.model_key())
    if st.released and st.released_model is not current:
        st.released.clear()
    if st.score is not None and st.score.model is not current:
        st.score = None
    st.resample()


def resample(st: "AppState") -> None:
    """Re-run the samplers for display (in the worker); both panes use the same noise."""
    s = st.settings
    for i in range(2):
        pane = st.panes[i]
        model = st.models.get(pane.settings.model_key())
        if model is None:
            previewing = (st.training.running and st.training.key == pane.settings.model_key()
                          and pane.sampled is not None)
            if not previewing:
                pane.sampled = pane.mesh = pane.field = None
                pane.version += 1
                pane.note = (f"training {pane.settings.title().split(' · ')[0]}..."
                             if st.training.key == pane.settings.model_key() and st.training.running
                             else no_model_note(pane.settings))
            continue
        if i == 1 and not st.compare:
            continue
        if pane.sampled is None:
            pane.note = "sampling..."
        st._tasks.submit(f"pane{i}", sampler_job(model, st.x_T, pane.settings, s.guidance,
                                                 s.cls, st._noise_seed, st.options,
                                                 st.drawing.points if i == 0 else None))


def use_model(st: "AppState", model: Model) -> None:
    """Show `model` (trained, loaded, or an engine.ExactModel) in the panes asking for its kind."""
    key = engine.model_key(model)
    st.models[key] = model
    st.stale_keys.discard(key)
    st._drop_offer(key)
    if st.panes[0].settings.model_key() != key and not st.compare:
        adopt_settings_of(st, key)
    st._show_models()


def adopt_settings_of(st: "AppState", key: tuple) -> None:
    """Point pane A at a model we have (e.g. the shipped one is DDPM)."""
    pane = st.settings.pane
    if pane.model_key() == key:
        return
    if key[0] == "flow":
        pane = replace(pane, objective="flow")
    else:
        pane = replace(pane, objective="ddpm", prediction=key[1], schedule=key[2])
    settings_actions.set_pane_settings(st, 0, pane.checked(), resample=False)


def replace_models(st: "AppState", models: dict[tuple, Model]) -> None:
    """A new data set or file: these models, no others, no pending offer, no training."""
    tr = st.training
    if tr.running and not tr.warm:   # said, or the class sees a run vanish with its data
        st.say(f"training stopped at step {tr.step} of {tr.total}: its data was replaced", "warn")
    st.trainer.abandon()
    st.models = dict(models)
    st.models_stale = False
    st.offer = None
    st.released.clear()
    st.score = None
    clear_panes(st)


def release_particle_at(st: "AppState", x: float, y: float) -> bool:
    """Drop a particle into the noise at (x, y) (data coordinates) and follow its path."""
    model = st.models.get(st.panes[0].settings.model_key())
    if model is None:
        st.say("train a model first, then click to release particles", "warn")
        return False
    z = np.asarray(model.normalizer.forward(np.array([[x, y]], np.float64)), np.float32)
    s = st.settings
    seed = st._noise_seed * 1000 + len(st.released)
    pane = st.panes[0].settings
    st._tasks.submit(f"release{len(st.released)}-{time.monotonic()}",
                     lambda: engine.sample(model, z, pane, s.guidance, s.cls, seed))
    if not st.playing or st.progress > 0.9:
        st.progress, st.playing, st._held = 0.0, True, 0.0
    return True


def take_released(st: "AppState", sampled: Sampled) -> None:
    """A released particle's path arrived: kept only if it is of the model pane A shows now."""
    current = st.models.get(st.panes[0].settings.model_key())
    if current is not None and sampled.source.shows(current):
        if st.released_model is not current:
            st.released.clear()
        st.released_model = current
        st.released.append(sampled.traj.xs[:, 0].numpy())
        del st.released[:-12]


def take_samples(st: "AppState", i: int, sampled: Sampled, mesh: Any, fld: Any, score: Score | None) -> None:
    """A sampler result arrived: use it only if it is of the model pane i asks for now."""
    pane = st.panes[i]
    model = st.models.get(pane.settings.model_key())
    if model is None or not sampled.source.shows(model):
        return  # made for a model that is gone (reset, switched, replaced): never drawn
    pane.sampled, pane.mesh, pane.field, pane.note = sampled, mesh, fld, ""
    pane.version += 1
    if i == 0:
        st.score = score    # None (a class chosen, too few points) clears the last samples' score


def sampler_job(model: Model, x_T: np.ndarray, pane: PaneSettings, guidance: float, cls: int,
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
