"""Plain warnings about training choices known to go slowly or badly, said before a run starts.

Each hint is one sentence a student can act on. The thresholds come from runs of the sandbox's
own training (docs/BENCHMARKS.md: the defaults reach quality in a few seconds on two cores).
"""
from __future__ import annotations

from .settings import PaneSettings, TrainSettings, _TRAIN

LOW_LR, HIGH_LR = _TRAIN.lr / 30, _TRAIN.lr * 4   # around the measured default rate
SLOW_FACTOR = 8.0        # settings this many times the default work get a time warning
DEFAULT_SECONDS = 3.0    # what the default run costs on two CPU cores (about)


def work(t: TrainSettings) -> float:
    """Relative cost of a run (steps x batch x network size), 1 for the defaults."""
    def size(w: int, d: int) -> float:
        return w * w * max(d, 1) + 8 * w
    base = _TRAIN.steps * _TRAIN.batch_size * size(_TRAIN.width, _TRAIN.depth)
    return t.train_steps * t.batch_size * size(t.width, t.depth) / base


def hints(pane: PaneSettings, t: TrainSettings) -> list[str]:
    out = []
    if pane.objective == "ddpm" and pane.prediction == "x0" and t.train_steps < 2 * _TRAIN.steps:
        out.append(f"x0 prediction learns slowly: at {t.train_steps} training steps expect blurry "
                   "samples (\u03b5 or v learn faster)")
    if t.lr < LOW_LR:
        out.append(f"learning rate {t.lr:.0e} is very low: the model will barely move in "
                   f"{t.train_steps} steps")
    elif t.lr > HIGH_LR:
        out.append(f"learning rate {t.lr:.0e} is very high: training may blow up (diverge)")
    w = work(t)
    if w >= SLOW_FACTOR:
        secs = w * DEFAULT_SECONDS
        when = f"{secs / 60:.0f} min" if secs >= 90 else f"{secs:.0f} s"
        out.append(f"these settings are about {w:.0f}\u00d7 the default work: roughly {when} on a "
                   "laptop CPU (Stop keeps what is learned)")
    return out
