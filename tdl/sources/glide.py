"""Source: OpenAI's GLIDE through the `glide_text2im` package (diffusers has no GLIDE pipeline)."""
from __future__ import annotations

from typing import Sequence

from tdl.trajectory import TrajectoryData


def glide(prompts: Sequence[str] = ("a corgi in a field",), instances_per_prompt: int = 4, steps: int = 50,
          guidance: float = 3.0, seed: int = 0, device: str = "cpu", capture: str = "x0",
          progress: bool = True) -> TrajectoryData:
    raise NotImplementedError
