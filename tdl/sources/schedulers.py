"""Scheduler switch for diffusers pipelines: short names -> diffusers scheduler classes.

`set_scheduler(pipe, name)` rebuilds the pipeline's scheduler as another class from the same config
(same betas / training schedule), which is what diffusers documents for swapping schedulers. Any
diffusers class name ending in "Scheduler" works too ("EulerDiscreteScheduler").

How each kind maps to trajectory rows: most schedulers call the network once per step at a new time,
so S = steps + 1 (the final sample last). Some call it more often, and tdl keeps one call per step,
the one whose input is the state the scheduler has actually reached (`StepRecorder.kept`):
- Heun, KDPM2 and KDPM2-ancestral (second order, 2 steps - 1 calls) also evaluate a corrector on a
  predicted state (Heun at the next step's time, KDPM2 at an interpolated time); those calls are
  dropped (`scheduler.state_in_first_order` is False during them).
- PNDM (PLMS, SD 1.5's default, steps + 1 calls) evaluates its first step twice at tau_1: on the
  Euler guess, then on the finished first step; of calls at one time the last is kept
  (`collapse_repeats`).
"""
from __future__ import annotations

from sandbox.errors import UserError

SCHEDULERS = {
    "ddim": "DDIMScheduler",
    "ddpm": "DDPMScheduler",
    "pndm": "PNDMScheduler",
    "plms": "PNDMScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "heun": "HeunDiscreteScheduler",
    "lms": "LMSDiscreteScheduler",
    "dpm++": "DPMSolverMultistepScheduler",
    "dpmpp_2m": "DPMSolverMultistepScheduler",
    "dpm_single": "DPMSolverSinglestepScheduler",
    "kdpm2": "KDPM2DiscreteScheduler",
    "unipc": "UniPCMultistepScheduler",
    "deis": "DEISMultistepScheduler",
    "lcm": "LCMScheduler",
}


def scheduler_class(name: str):
    """The diffusers class for a short name or a class name; UserError listing the choices."""
    import diffusers

    cls_name = SCHEDULERS.get(name.lower(), name)
    cls = getattr(diffusers, cls_name, None) if cls_name.endswith("Scheduler") else None
    if cls is None:
        raise UserError(f"unknown scheduler {name!r}; choose one of {', '.join(SCHEDULERS)} "
                        f"or a diffusers scheduler class name")
    return cls


def set_scheduler(pipe, name: str | None) -> None:
    """Replace `pipe.scheduler` by scheduler `name` built from the current one's config."""
    if not name:
        return
    cls = scheduler_class(name)
    pipe.scheduler = cls.from_config(pipe.scheduler.config)


def collapse_repeats(timesteps: list[float]) -> list[int]:
    """Indices of the records kept: the last of each run of equal timesteps (see module doc)."""
    keep = []
    for k, tau in enumerate(timesteps):
        if keep and timesteps[keep[-1]] == tau:
            keep[-1] = k
        else:
            keep.append(k)
    return keep
