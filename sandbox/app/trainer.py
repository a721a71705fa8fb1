"""`Trainer`: the window's training runs (Train, Stop, a queue of runs, previews) as one component.

It owns the worker (`training.TrainingJob`) and the `TrainStatus` the window draws, and turns the
worker's updates into `Outcome`s that `AppState` acts on. It never touches the models or panes:
deciding whether a finished run replaces the model on screen is the state's job (state.py), so
a stopped or diverged run can never slip onto the canvas by itself.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from . import engine
from .settings import PaneSettings, TrainSettings
from .training import TrainingJob, TrainStatus

PREVIEW_STEPS = 40
ETA_AFTER = 3.0        # seconds: runs expected to take longer than this show an ETA


@dataclass
class Outcome:
    """What a training run produced. kind: "preview" | "finished" | "failed"."""

    kind: str
    run: int
    key: tuple
    payload: Any = None           # Sampled (preview) | model (finished) | message (failed)
    step: int = 0
    total: int = 0
    stopped: bool = False         # finished because the user pressed Stop
    bug: bool = False             # failed because of a bug, not the data or the settings
    seconds: float = 0.0
    reason: str | None = None     # why the engine ended early ("the score stopped improving")


@dataclass
class _Plan:
    pane: PaneSettings
    pointset: Any
    train: TrainSettings
    init: Any = None              # warm start from this model (train as I draw)
    previews: bool = True
    budget_s: float | None = None  # seconds of training, then the result (train as I draw)


class Trainer:
    def __init__(self, device: str = "cpu"):
        self.device = device
        self.status = TrainStatus(device=device)
        self._job: TrainingJob | None = None
        self._queue: list[_Plan] = []
        self._runs = 0
        self._started = 0.0
        self._stop_pressed = False

    # ---- starting and stopping ------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.status.running

    @property
    def idle(self) -> bool:
        return self._job is None

    def queued_keys(self) -> list[tuple]:
        """The models waiting to train after this run (compare mode trains pane B's next)."""
        return [p.pane.model_key() for p in self._queue]

    def start(self, panes: list[PaneSettings], pointset, train: TrainSettings,
              preview: Callable[[Any, PaneSettings, int], Any], init: Any = None,
              previews: bool = True, budget_s: float | None = None) -> int:
        """Train one model per distinct model key in `panes`, one after the other; returns the
        first run's number. `preview(model, pane, run)` samples a preview in the worker."""
        plans = [_Plan(p, pointset, train, init, previews, budget_s) for p in panes]
        self._queue = plans[1:]
        self._preview_fn = preview
        return self._start(plans[0])

    def _start(self, plan: _Plan) -> int:
        self._runs += 1
        run = self._runs
        prev_pane = replace(plan.pane, steps=min(plan.pane.steps, PREVIEW_STEPS))
        device, preview_fn = self.device, self._preview_fn

        def events():
            return engine.train_events(plan.pointset, plan.pane, plan.train, device, init=plan.init,
                                       live=plan.budget_s is not None)

        def preview(model, step):
            return preview_fn(model, prev_pane, run)

        every = max(25, min(250, plan.train.train_steps // 8))
        # a short live run (train as I draw) shows its result, not previews of it
        self._job = TrainingJob(events, preview if plan.previews else None, preview_every=every,
                                budget_s=plan.budget_s).start()
        self._plan = plan
        self._stop_pressed = False
        self._started = time.monotonic()
        self.status = TrainStatus(running=True, key=plan.pane.model_key(), run=run,
                                  total=plan.train.train_steps, device=self.device,
                                  message=f"training {plan.pane.title().split(' · ')[0]}",
                                  warm=plan.init is not None)
        return run

    def stop(self) -> None:
        """Stop after the current step (the run then finishes with stopped=True)."""
        self._queue = []
        if self._job is not None and self.status.running:
            self._job.stop()
            self._stop_pressed = True
            self.status.message = "stopping"

    def abandon(self) -> None:
        """Stop and forget the running job: nothing it produces is used any more."""
        self._queue = []
        if self._job is not None:
            self._job.stop()
            self._job = None
        self.status = TrainStatus(device=self.device)

    def join(self, timeout: float) -> None:
        if self._job is not None:
            self._job.join(timeout)

    # ---- collecting -----------------------------------------------------------------------
    def poll(self) -> list[Outcome]:
        job = self._job
        if job is None:
            return []
        st = self.status
        out: list[Outcome] = []
        for u in job.drain():
            if job is not self._job:  # abandoned or replaced while draining
                break
            if u.kind == "step":
                st.step = u.step
                if u.loss is not None:
                    st.losses.append(u.loss)
                if u.score is not None:
                    st.scores.append((u.step, float(u.score)))
                if u.baseline is not None:
                    st.baseline = float(u.baseline)
                self._update_eta()
            elif u.kind == "preview":
                out.append(Outcome("preview", st.run, st.key or (), u.payload, u.step, st.total))
            elif u.kind == "done":
                secs = time.monotonic() - self._started
                st.running = False
                st.eta_s = None
                stopped = self._stop_pressed and u.step < st.total
                out.append(Outcome("finished", st.run, st.key or (), u.payload, u.step, st.total,
                                   stopped=stopped, seconds=secs, reason=u.reason))
                self._job = None
                if self._queue:
                    self._start(self._queue.pop(0))
            else:  # error / bug
                st.running = False
                st.eta_s = None
                st.message = str(u.payload)
                out.append(Outcome("failed", st.run, st.key or (), str(u.payload), u.step, st.total,
                                   bug=u.kind == "bug"))
                self._job = None
                self._queue = []
        return out

    def _update_eta(self) -> None:
        st = self.status
        elapsed = time.monotonic() - self._started
        if st.step < 5 or elapsed < 0.5:
            return
        left = (st.total - st.step) * elapsed / st.step
        st.eta_s = left if elapsed + left > ETA_AFTER else None


def eta_text(seconds: float | None) -> str:
    """'about 40 s left' / 'about 3 min left' / '' (nothing worth saying)."""
    if seconds is None or not np.isfinite(seconds):
        return ""
    if seconds < 90:
        return f"about {max(1, int(round(seconds)))} s left"
    if seconds < 5400:
        return f"about {int(round(seconds / 60))} min left"
    return f"about {seconds / 3600:.1f} h left"
