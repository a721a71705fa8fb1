"""AppState's training actions: train on the drawing, train as I draw, and what happens to a run's
outcome (shown, judged against the model on screen, offered, adopted). Functions of the state (no
mixin): every attribute they use is AppState's."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from sandbox.errors import UserError

from . import engine
from .engine import Model, Sampled
from .settings import PaneSettings
from .state_types import ModelOffer
from .trainer import Outcome
from .training import TrainStatus

if TYPE_CHECKING:
    from .state import AppState

SCORE_SAMPLES = 2000    # samples the score panel (and the judge of a finished run) compares with the drawing
WORSE = 1.25            # a finished run scoring this many times worse than the shown model is offered
LIVE_TRAIN_STEPS = 400  # train as I draw: at most this many warm-start steps after a stroke,
LIVE_BUDGET_S = 0.2     # ... or this many seconds, then the canvas shows the result
LIVE_BATCH = 256        # ... at a batch small enough for many steps in the budget


def train(st: "AppState") -> bool:
    """Train a model for pane A's objective on the drawing (and pane B's in compare mode).

    Never raises for a user mistake: bad data or settings become a message.
    """
    if st.training.running:
        st.say("already training (Stop first)", "warn")
        return False
    try:
        ps = st.drawing.pointset()
        st.settings.train.checked()
    except UserError as e:
        st.say(f"cannot train: {e}", "error")
        return False
    todo = [st.panes[0].settings]
    b = st.panes[1].settings
    if st.compare and b.model_key() != todo[0].model_key():
        todo.append(b)
    st.offer = None
    for h in st.hints():
        st.say(h, "warn")
    st.trainer.start(todo, ps, st.settings.train, _preview_fn(st))
    st._train_ps, st._train_version = ps, st.drawing.version
    _show_training_note(st)
    st.say(f"training on {len(ps)} points ({st.device})")
    return True


def _preview_fn(st: "AppState"):
    x_prev = st.x_T[: min(len(st.x_T), 1000)].copy()
    s, seed = st.settings, st._noise_seed

    def preview(model: Model, pane: PaneSettings, run: int) -> Sampled:
        return engine.sample(model, x_prev, pane, s.guidance, s.cls, seed, preview_run=run)
    return preview


def _show_training_note(st: "AppState") -> None:
    for p in st.panes:
        if p.sampled is None and p.settings.model_key() == st.training.key:
            p.note = f"training {p.settings.title().split(' · ')[0]}..."


def train_live(st: "AppState") -> None:
    """One short warm-started run on the drawing as it is now (train as I draw)."""
    if st.training.running:
        return
    try:
        ps = st.drawing.pointset()
    except UserError:
        return
    pane = st.panes[0].settings
    init = st.models.get(pane.model_key())
    if init is None or not hasattr(init, "net"):   # nothing trained to follow the drawing yet
        st.say("train as I draw follows a trained model: press Train first", "warn")
        return
    t = replace(st.settings.train, train_steps=LIVE_TRAIN_STEPS, eval_every=0,
                batch_size=min(LIVE_BATCH, st.settings.train.batch_size))
    st.trainer.start([pane], ps, t, _preview_fn(st), init=init, previews=False,
                       budget_s=LIVE_BUDGET_S)
    st._train_ps, st._train_version = ps, st.drawing.version


def on_outcome(st: "AppState", out: Outcome) -> None:
    if out.kind == "preview":
        p = st.panes[0]
        if p.settings.model_key() == out.key and st.training.running and st.training.run == out.run:
            p.sampled, p.field, p.mesh, p.note = out.payload, None, None, ""
            p.version += 1
        return
    if out.kind == "failed":
        prev = st.models.get(out.key)
        if out.bug:
            st.bug(str(out.payload))
        else:
            keep = " - kept the previous model" if prev is not None else ""
            st.say(f"training stopped: {out.payload}{keep}", "error")
        st._show_models()
        return
    model = out.payload
    if model is None:
        st._show_models()
        return
    st.run_model = model   # the score chart plots this run while its model is shown or offered
    prev = st.models.get(out.key)
    if prev is None or st.training.warm:
        _adopt(st, out.key, model, out)
    elif out.stopped:  # stopped by hand with a model on screen: the user chooses
        _offer(st, out, model, f"Training stopped at step {out.step} of {out.total}")
    else:
        # a model is already shown for these settings: judge both on today's data first
        ps = st._train_ps
        x = st.x_T[:SCORE_SAMPLES].copy()
        pane = next((p.settings for p in st.panes if p.settings.model_key() == out.key),
                    PaneSettings(*((out.key[0],) + tuple(out.key[1:]))).checked())

        def judge():
            r_new = _ratio(model, x, pane, ps.points)
            r_old = _ratio(prev, x, pane, ps.points)
            return out, model, prev, r_new, r_old
        # the preview goes (its run is over) and the pane says why it waits: sampling the old model
        # again first delayed the verdict and flashed the old samples (2-3 s at 1280x800 on 2 cores)
        for p in st.panes:
            if p.sampled is not None and p.sampled.source.preview_run:
                p.sampled = p.mesh = p.field = None
                p.note = "checking the new model against the one shown..."
                p.version += 1
        st._tasks.submit("judge", judge)
        st.say(_checking(out))


def _checking(out: Outcome) -> str:
    return f"trained {out.step} steps in {out.seconds:.1f} s: checking it against the model shown..."


def on_judged(st: "AppState", out: Outcome, model: Model, prev: Model, r_new: float, r_old: float) -> None:
    st.messages = [m for m in st.messages if m.text != _checking(out)]   # the verdict follows
    if st.models.get(out.key) is not prev:
        return  # the shown model changed meanwhile (reset, new data): the verdict is moot
    worse = not (r_new <= max(WORSE * r_old, 1.2))
    if worse:
        _offer(st, out, model, f"The new model scores {r_new:.2f}\u00d7 against "
                                f"{r_old:.2f}\u00d7 for the one shown")
    else:
        _adopt(st, out.key, model, out)


def _offer(st: "AppState", out: Outcome, model: Model, why: str) -> None:
    st.offer = ModelOffer(out.key, model, f"{why}. Use the new model?")
    st.say(f"{why}: still showing the previous model", "warn")
    st._show_models()


def _adopt(st: "AppState", key: tuple, model: Model, out: Outcome) -> None:
    st.models[key] = model
    _mark_stale(st, key)
    if out.stopped:
        st.say(f"stopped at step {out.step} of {out.total}: the model is partly trained", "warn")
    elif not st.training.warm:
        why = f" ({out.reason})" if out.reason and out.step < out.total else ""
        st.say(f"trained {out.step} steps in {out.seconds:.1f} s{why}")
    st._show_models()


def _mark_stale(st: "AppState", key: tuple) -> None:
    """A run's model is current unless the drawing changed while it trained; other models keep
    their own state (a DDPM model from an earlier preset stays stale after a flow run)."""
    if st.drawing.version != st._train_version:   # drawn on meanwhile
        st.stale_keys.add(key)
    else:
        st.stale_keys.discard(key)


def accept_offer(st: "AppState") -> None:
    """Use the offered (stopped or worse) model instead of the one shown."""
    o, st.offer = st.offer, None
    if o is not None:
        st.models[o.key] = o.model
        _mark_stale(st, o.key)
        st.say("using the new model")
        st._show_models()


def _ratio(model: Model, x_T: np.ndarray, pane: PaneSettings, points: np.ndarray) -> float:
    """The score panel's number for `model`'s samples against `points` (metrics.split_half)."""
    import torch

    from sandbox import metrics

    s = engine.sample(model, x_T, pane)
    return metrics.split_half(s.traj.xs[-1], torch.as_tensor(points)).ratio


def chart_status(st: "AppState") -> TrainStatus:
    """The training run the score chart plots: the running one, or the last one while pane A
    shows the model it produced (or offers it); otherwise nothing (its curves would belong to
    another model than the score beside them: another kind, or a run the user declined)."""
    status = st.training
    key = st.panes[0].settings.model_key()
    offered = st.offer is not None and st.offer.key == key
    if status.running or (status.key == key and st.run_model is not None
                          and (st.models.get(key) is st.run_model or offered)):
        return status
    return TrainStatus(device=status.device)


def set_train_as_draw(st: "AppState", on: bool | None = None) -> None:
    """Train as I draw: after each stroke, continue training the shown model on the new data."""
    on = (not st.train_as_draw) if on is None else bool(on)
    if on and not engine.can_warm_start():
        st.say("train as I draw needs warm-start training, which this engine lacks", "warn")
        on = False
    st.train_as_draw = on
    st.say("train as I draw: " + ("on (the model follows each stroke)" if on else "off"))
