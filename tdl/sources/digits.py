"""Source: the built-in class-conditional digits model (8x8, trained by tdl/digits/train.py)."""
from __future__ import annotations

from typing import Sequence

from tdl.trajectory import TrajectoryData


def digits(prompts: Sequence[int | str] | None = None, instances_per_prompt: int = 20, steps: int = 20,
           guidance: float = 2.0, seed: int = 0, capture: str = "x0", sampler: str = "ddim",
           device: str = "cpu", weights: str | None = None, progress: bool = True) -> TrajectoryData:
    raise NotImplementedError
