"""AppState's training actions: Train, Stop, Reset, and collecting the worker's updates."""
from __future__ import annotations

import time
from dataclasses import replace

from sandbox.errors import UserError

from . import engine
from .training import TrainingJob, TrainStatus

PREVIEW_STEPS = 40


class TrainingActions:
    """Mixin for AppState (uses its drawing, settings, panes, models, messages)."""

    def train(self) -> bool:
        """Train a model for pane A's objective on the drawing (and pane B's in compare mode).

        Never raises for a user mistake: bad data or settings become a message.
        """
        if self.training.running:
            self.say("already training (Stop first)", "warn")
            return False
        try:
            ps = self.drawing.pointset()
            self.settings.train.checked()
        except UserError as e:
            self.say(f"cannot train: {e}", "error")
            return False
        todo = [self.panes[0].settings]
        b = self.panes[1].settings
        if self.compare and b.model_key() != todo[0].model_key():
            todo.append(b)
        self._train_queue = todo[1:]
        self._start_job(todo[0], ps)
        return True

    def _start_job(self, pane, ps) -> None:
        s = self.settings
        x_prev = self.x_T[: min(len(self.x_T), 1000)]
        prev_pane = replace(pane, steps=min(pane.steps, PREVIEW_STEPS))
        seed = self._noise_seed
        device = self.device
        tsettings = s.train

        def events():
            return engine.train_events(ps, pane, tsettings, device)

        def preview(model, step):
            return engine.sample(model, x_prev, prev_pane, s.guidance, s.cls, seed)

        self._train_ps = ps
        self._job = TrainingJob(events, preview, preview_every=self._preview_every()).start()
        self.training = TrainStatus(running=True, key=pane.model_key(), total=tsettings.train_steps,
                                    device=self.device, message=f"training {pane.title().split(' · ')[0]}")
        self._train_started = time.monotonic()
        self.say(f"training {len(ps)} points on {self.device}")

    def _preview_every(self) -> int:
        return max(25, min(250, self.settings.train.train_steps // 8))

    def stop(self) -> None:
        """Stop training after the current step; the partly trained model is kept."""
        self._train_queue = []
        if self._job is not None and self.training.running:
            self._job.stop()
            self.training.message = "stopping"

    def abandon_training(self) -> None:
        """Stop and forget a running job (the data it trains on is gone); its thread ends by
        itself after the current step and nothing it produces is used."""
        self._train_queue = []
        if self._job is not None:
            self._job.stop()
            self._job = None
        self.training = TrainStatus(device=self.device)

    def reset_model(self) -> None:
        """Forget the trained models (back to untrained: the data alone)."""
        self.abandon_training()
        self.models, self.models_stale = {}, False
        self._clear_panes()
        self.resample()
        self.say("model reset")

    def _poll_training(self) -> None:
        job = self._job
        if job is None:
            return
        st = self.training
        for u in job.drain():
            if u.kind == "step":
                st.step = u.step
                if u.loss is not None:
                    st.losses.append(u.loss)
                if u.score is not None:
                    st.scores.append((u.step, float(u.score)))
                if u.baseline is not None:
                    st.baseline = float(u.baseline)
            elif u.kind == "preview":
                if st.key == self.panes[0].settings.model_key():
                    p = self.panes[0]
                    p.sampled, p.field, p.mesh, p.note = u.payload, None, None, ""
                    p.version += 1
            elif u.kind == "done":
                self._job = None
                st.running = False
                if u.payload is not None:
                    self.models[st.key] = u.payload
                    self.models_stale = False
                    secs = time.monotonic() - self._train_started
                    st.message = f"trained {st.step} steps in {secs:.1f} s"
                    self.say(st.message)
                if self._train_queue:
                    self._start_job(self._train_queue.pop(0), self._train_ps)
                else:
                    self.resample()
            else:  # error / bug: a message, the window lives on
                self._job = None
                self._train_queue = []
                st.running = False
                st.message = str(u.payload)
                if u.kind == "bug":
                    self.bug(str(u.payload))
                else:
                    self.say(f"training stopped: {u.payload}", "error")
                self.resample()
