"""Training in a worker thread so the window never freezes.

The worker pulls `sandbox.train.train(...)` (a generator) step by step and hands updates to the
main thread through a queue: loss per step, the quality score when there is one, a preview
trajectory every few hundred steps, and finally the model or a one-line message. Stopping sets a
flag the worker checks between steps. Torch releases the GIL inside its ops, so with torch capped
to fewer threads than cores the UI thread keeps its share of the CPU.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from sandbox.errors import UserError


@dataclass
class Update:
    kind: str                 # "step" | "preview" | "done" | "error" | "bug"
    step: int = 0
    loss: float | None = None
    score: float | None = None
    baseline: float | None = None
    payload: Any = None       # preview trajectory, final model, or message
    reason: str | None = None  # "done": why training ended early (the engine's event.stopped)


@dataclass
class TrainStatus:
    """What the window shows about training (only the main thread touches it)."""

    running: bool = False
    key: tuple | None = None          # which model is being trained (PaneSettings.model_key)
    run: int = 0                      # the run's number (previews carry it)
    warm: bool = False                # warm start from the current model (train as I draw)
    eta_s: float | None = None        # seconds left, for runs long enough to need saying
    step: int = 0
    total: int = 0
    losses: list[float] = field(default_factory=list)
    scores: list[tuple[int, float]] = field(default_factory=list)
    baseline: float | None = None     # data-vs-data score at the same sample size
    device: str = "cpu"
    message: str = ""


class TrainingJob:
    """One training run in a daemon thread.

    make_events() -> iterator of events with .step, .loss, .score (or None), .model;
    preview(model, step) -> anything (called in the worker every `preview_every` steps).
    """

    def __init__(self, make_events: Callable[[], Iterator[Any]],
                 preview: Callable[[Any, int], Any] | None = None, preview_every: int = 250,
                 budget_s: float | None = None):
        self._make = make_events
        self._preview = preview
        self._every = max(int(preview_every), 1)
        self._budget = budget_s   # end (as finished) after this many seconds: live runs
        self._stop = threading.Event()
        self.queue: "queue.Queue[Update]" = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="training", daemon=True)

    def start(self) -> "TrainingJob":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        if self.thread.is_alive():
            self.thread.join(timeout)

    def drain(self) -> list[Update]:
        out = []
        while True:
            try:
                out.append(self.queue.get_nowait())
            except queue.Empty:
                return out

    def _run(self) -> None:
        model, last_preview, step, reason = None, 0, 0, None
        t0 = time.monotonic()
        try:
            for ev in self._make():
                model, step = getattr(ev, "model", model), int(getattr(ev, "step", step + 1))
                reason = getattr(ev, "stopped", None) or reason
                loss = getattr(ev, "loss", None)
                self.queue.put(Update("step", step, None if loss is None else float(loss),
                                      getattr(ev, "score", None), getattr(ev, "baseline", None)))
                if self._stop.is_set():
                    break
                if self._budget is not None and time.monotonic() - t0 > self._budget:
                    break
                if self._preview is not None and model is not None and step - last_preview >= self._every:
                    last_preview = step
                    self.queue.put(Update("preview", step, payload=self._preview(model, step)))
            self.queue.put(Update("done", step, payload=model, reason=reason))
        except UserError as e:  # divergence, bad data: a message, not a crash
            self.queue.put(Update("error", step, payload=str(e)))
        except Exception as e:  # a bug: say so, and let the window count it
            traceback.print_exc(file=sys.stderr)
            self.queue.put(Update("bug", step, payload=f"training failed: {type(e).__name__}: {e}"))
