"""Discrete DDPM noise schedules: betas, cumulative alphas and inference timesteps.

The formulas are diffusers' (`DDPMScheduler(beta_schedule="linear" | "squaredcos_cap_v2")` and
`set_timesteps` with `timestep_spacing="linspace" | "leading" | "trailing"`), computed in float64;
tests/test_schedules.py checks them against diffusers. Continuous time lives in `paths.DDPMPath`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
import numpy as np
import torch

from sandbox.errors import UserError
from sandbox.registry import SCHEDULES  # noqa: F401  (re-exported)

SPACINGS = ("trailing", "leading", "linspace", "power")
POWER_RHO = 1.5  # spacing "power": tau_k ~ T (1 - k/n)^1.5, finer steps near the data


@dataclass(frozen=True, eq=False)
class DDPMSchedule:
    """A T-step forward chain `q(x_i | x_{i-1}) = N(sqrt(1 - beta_i) x_{i-1}, beta_i I)`.

    betas: (T,) float64, each in (0, 1). Index i = 0 is the first (least noisy) step.
    """

    betas: torch.Tensor
    name: str = "custom"

    def __post_init__(self) -> None:
        b = torch.as_tensor(self.betas, dtype=torch.float64).detach().cpu()
        if b.ndim != 1 or len(b) < 1:
            raise UserError("a schedule needs a 1-D tensor of at least one beta")
        if not bool(((b > 0) & (b < 1)).all()):
            raise UserError("every beta of a schedule must lie strictly between 0 and 1")
        object.__setattr__(self, "betas", b)

    @property
    def T(self) -> int:
        return len(self.betas)

    @property
    def alphas_cumprod(self) -> torch.Tensor:
        """(T,) float64: prod_{j<=i} (1 - beta_j), the signal fraction `alpha^2` at index i."""
        return torch.cumprod(1.0 - self.betas, dim=0)

    def same_as(self, other: "DDPMSchedule") -> bool:
        return self.T == other.T and bool(torch.allclose(self.betas, other.betas, rtol=1e-6, atol=0))

    def timesteps(self, num_steps: int, spacing: str = "trailing", steps_offset: int = 0) -> torch.Tensor:
        """(num_steps,) int64 indices, descending, as diffusers' `set_timesteps(num_steps)`.

        "trailing" starts at T-1 (pure noise) and is the default; "leading" (with `steps_offset`)
        and "linspace" are the older spacings (leading never visits T-1, see Lin et al. 2023).
        "power" (ours, not diffusers'): tau_k = round(T (1 - k/n)^POWER_RHO) - 1, kept strictly
        descending and >= 0, so the steps crowd toward the data as the time grid of Karras et al.
        does; it starts at T-1 like trailing.
        Deviation: diffusers' trailing formula `arange(T, 0, -T/n)` sometimes yields n+1 entries
        (a stray -1, e.g. T=1000, n=61); we compute the same n values without the stray one.
        """
        T = self.T
        if isinstance(num_steps, bool) or not isinstance(num_steps, int) or not 1 <= num_steps <= T:
            raise UserError(f"steps must be an integer from 1 to {T} for this {T}-step schedule, got {num_steps}")
        if spacing == "linspace":
            # numpy's linspace, as diffusers: torch's rounds differently at some .5 boundaries
            ts = torch.from_numpy(np.linspace(0, T - 1, num_steps).round()[::-1].copy())
        elif spacing == "leading":
            ratio = T // num_steps
            ts = (torch.arange(num_steps, dtype=torch.float64) * ratio).flip(0) + steps_offset
            if ts[0] > T - 1:
                raise UserError(f"steps_offset={steps_offset} pushes the first timestep past {T - 1}")
        elif spacing == "trailing":
            stride = T / num_steps
            ts = torch.round(T - torch.arange(num_steps, dtype=torch.float64) * stride) - 1
        elif spacing == "power":
            taus: list[int] = []
            for k in range(num_steps):  # the ideal index, then room for the steps still to come
                tau = round(T * (1.0 - k / num_steps) ** POWER_RHO) - 1
                tau = min(tau, taus[-1] - 1) if taus else tau
                taus.append(max(tau, num_steps - 1 - k))
            ts = torch.tensor(taus, dtype=torch.float64)
        else:
            raise UserError(f"unknown timestep spacing {spacing!r}; choose one of {', '.join(SPACINGS)}")
        return ts.to(torch.int64)


def linear(T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> DDPMSchedule:
    """Ho et al. 2020: betas evenly spaced from beta_start to beta_end (diffusers "linear")."""
    _check_T(T)
    if T == 1:
        betas = torch.tensor([beta_start], dtype=torch.float64)
    else:
        betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    return DDPMSchedule(betas, name="linear")


def cosine(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> DDPMSchedule:
    """Nichol & Dhariwal 2021: alpha_bar(u) = cos^2((u + s)/(1 + s) * pi/2), betas capped at max_beta.

    Same as diffusers' "squaredcos_cap_v2" (which fixes s = 0.008).
    """
    _check_T(T)

    def alpha_bar(u: float) -> float:
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    betas = [min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), max_beta) for i in range(T)]
    return DDPMSchedule(torch.tensor(betas, dtype=torch.float64), name="cosine")


def get_schedule(name: str, T: int = 1000) -> DDPMSchedule:
    """Schedule by name (registered in sandbox.registry.SCHEDULES) with T steps; UserError on an
    unknown name."""
    return SCHEDULES[name](T)


def _check_T(T: int) -> None:
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise UserError(f"the number of diffusion steps T must be a positive integer, got {T}")
