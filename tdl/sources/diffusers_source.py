"""Source: any diffusers text-to-image pipeline, from a local folder or the Hugging Face cache."""
from __future__ import annotations

from typing import Sequence

from tdl.trajectory import TrajectoryData

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def diffusers_pipeline(model: str = DEFAULT_MODEL, prompts: Sequence[str] = ("a photo of a cat",),
                       instances_per_prompt: int = 4, steps: int = 25, guidance: float = 7.5, seed: int = 0,
                       decode: bool | str = False, device: str = "cpu", capture: str = "x0",
                       height: int | None = None, width: int | None = None, dtype: str = "float32",
                       progress: bool = True) -> TrajectoryData:
    raise NotImplementedError
