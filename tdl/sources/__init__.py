"""Sources of trajectories: each is a function returning `tdl.trajectory.TrajectoryData`.

`SOURCES[name](**options)`; every option has a default, so `SOURCES["digits"]()` works offline.
- `sandbox2d(model_path | preset, instances, steps, sampler, seed, ...)`: a saved 2D sandbox model.
- `digits(prompts, instances_per_prompt, steps, guidance, seed, capture)`: the built-in digits model.
- `diffusers(model, prompts, instances_per_prompt, steps, guidance, seed, decode, device)`: any
  diffusers text-to-image pipeline from a local folder or the Hugging Face cache.
- `glide(prompts, instances_per_prompt, steps, guidance, seed, device)`: OpenAI's glide_text2im.
Heavy libraries are imported inside the functions, so importing this package is cheap.
"""
from __future__ import annotations

from typing import Callable

from tdl.sources.diffusers_source import diffusers_pipeline
from tdl.sources.digits import digits
from tdl.sources.glide import glide
from tdl.sources.sandbox2d import sandbox2d
from tdl.trajectory import TrajectoryData

SOURCES: dict[str, Callable[..., TrajectoryData]] = {
    "digits": digits,
    "sandbox2d": sandbox2d,
    "diffusers": diffusers_pipeline,
    "glide": glide,
}
DEFAULT_SOURCE = "digits"

__all__ = ["SOURCES", "DEFAULT_SOURCE", "digits", "sandbox2d", "diffusers_pipeline", "glide"]
