"""The small typed records `AppState` holds: a toast `Message`, a `Pane` (one animation and what it
shows), a `ModelOffer` (a finished run the user decides on), the `Score` of the shown model and the
`Recording` choices of window exports. Plain dataclasses, no display."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import UserError

from .engine import Model, Sampled
from .settings import PaneSettings


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

    def set_size(self, size: tuple[int, int]) -> None:
        from sandbox.export import parse_size

        w, h = parse_size(size)
        if not (160 <= w <= 1920 and 120 <= h <= 1080):
            raise UserError(f"export size {w}x{h}: choose up to 1920x1080")
        self.size = (w, h)

    def cycle_size(self) -> None:
        sizes = list(self.SIZES)
        i = sizes.index(self.size) if self.size in sizes else -1
        self.size = sizes[(i + 1) % len(sizes)]
