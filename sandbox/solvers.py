"""Numerical integration for the samplers: single ODE steps and the Karras change of variables.

The steps are pure functions of a derivative f(x, t) = dx/dt; the samplers wrap the field into
such an f, and tests/test_solvers.py drives them on closed-form ODEs to show their order.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from sandbox.paths import DDPMPath

Deriv = Callable[[torch.Tensor, float], torch.Tensor]


def euler_step(f: Deriv, x: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
    """First order: x + h f(x, t), h = t_next - t (negative when integrating towards data)."""
    return x + (t_next - t) * f(x, t)


def midpoint_step(f: Deriv, x: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
    """Second order, 2 evaluations: slope at the Euler half-step (explicit midpoint / RK2)."""
    h = t_next - t
    x_mid = x + 0.5 * h * f(x, t)
    return x + h * f(x_mid, t + 0.5 * h)


def heun_step(f: Deriv, x: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
    """Second order, 2 evaluations: average of the slopes at both ends (trapezoid predictor-corrector)."""
    h = t_next - t
    d = f(x, t)
    d_next = f(x + h * d, t_next)
    return x + 0.5 * h * (d + d_next)


ODE_STEPS: dict[str, Callable[[Deriv, torch.Tensor, float, float], torch.Tensor]] = {
    "euler": euler_step, "midpoint": midpoint_step, "heun": heun_step,
}


# --- the DDPM path in Karras variables --------------------------------------------------------------
class KarrasGrid:
    """The DDPM path in Karras variables: y = x / alpha, s = sigma / alpha, where dy/ds = eps_hat.

    Grid levels (the DDPM timesteps, then s = 0) use the schedule's exact alphas_cumprod;
    in-between levels (midpoint) take alpha = 1 / sqrt(1 + s^2), sigma = s alpha exactly and t from
    `DDPMPath.t_of_sigma_ratio`, all in float64, and the denoiser gets t as a float64 tensor: near
    t = 1 on the cosine schedule d log alpha_bar / dt ~ -7000, so a t rounded to float32 puts the
    denoiser at another noise level than the step assumes (midpoint left the ODE at its first step:
    0.39 RMS at 10 steps, tests/test_samplers_ode.py).
    y is kept in float64 (float32 on mps): at t = 1, y = x / alpha can be 2e4 x (cosine), and
    y - s eps_hat = x0_hat is only exact when eps_hat is formed at that precision too.
    """

    def __init__(self, path: DDPMPath, ts: list[float], abs_: list[float], device: torch.device):
        self.path = path
        self.dtype = torch.float32 if device.type == "mps" else torch.float64
        self.s = [math.sqrt(1.0 / ab - 1.0) for ab in abs_]  # descending, last 0
        self.level = {s: (t, math.sqrt(ab), math.sqrt(1.0 - ab)) for s, t, ab in zip(self.s, ts, abs_)}

    def at(self, s: float) -> tuple[float, float, float]:
        """(t, alpha, sigma) at Karras level s."""
        if s in self.level:
            return self.level[s]
        a = 1.0 / math.sqrt(1.0 + s * s)
        return self.path.t_of_sigma_ratio(s), a, s * a

    def eps_fn(self, den: Callable[[torch.Tensor, float], torch.Tensor]) -> Deriv:
        """dy/ds = eps_hat as a function of (y, s), from a denoiser den(x, t) -> x0_hat."""
        def f(y: torch.Tensor, s: float) -> torch.Tensor:
            t, a, sig = self.at(s)
            x = a * y
            tt = torch.tensor(t, dtype=self.dtype)  # float64 except on mps (see the class doc)
            return (x - a * den(x.float(), tt).to(y.dtype)) / sig
        return f

    def to_y(self, x: torch.Tensor, s: float) -> torch.Tensor:
        return x.to(self.dtype) / self.at(s)[1]

    def to_x(self, y: torch.Tensor, s: float) -> torch.Tensor:
        return (self.at(s)[1] * y).float()
