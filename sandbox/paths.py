"""Gaussian probability paths `x_t = alpha(t) x0 + sigma(t) eps`, t = 1 noise, t = 0 data.

A path is four functions of t (and their derivatives); everything a sampler or an objective needs
(noise, velocity, score) follows from a denoiser prediction `x0_hat = E[x0 | x_t]` through the
helpers at the bottom, which are affine in `x0_hat` for fixed (x, t).

t may be a python float, a 0-d tensor or an (N,) tensor; results have t's shape, float32, on t's
device. x is (N, D) for any D.
"""
from __future__ import annotations

import math
from typing import Protocol, Union, runtime_checkable

import numpy as np
import torch

from sandbox.schedules import DDPMSchedule

TimeLike = Union[float, torch.Tensor]


@runtime_checkable
class Path(Protocol):
    def alpha(self, t: TimeLike) -> torch.Tensor: ...
    def sigma(self, t: TimeLike) -> torch.Tensor: ...
    def d_alpha(self, t: TimeLike) -> torch.Tensor: ...
    def d_sigma(self, t: TimeLike) -> torch.Tensor: ...


def as_time(t: TimeLike, device: torch.device | str | None = None) -> torch.Tensor:
    """t as a float32 tensor (keeps its shape; python floats become 0-d tensors). A float64 tensor
    stays float64: the Karras-grid samplers carry t that way, because near t = 1 of a cosine
    schedule log alpha_bar changes ~7000x faster than t and float32 t misplaces the noise level."""
    if isinstance(t, torch.Tensor):
        dtype = torch.float64 if t.dtype == torch.float64 else torch.float32
        return t.to(device=device if device is not None else t.device, dtype=dtype)
    return torch.tensor(float(t), dtype=torch.float32, device=device)


def _work_dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64  # mps has no float64


class FlowPath:
    """The straight (rectified-flow / flow-matching) path: alpha = 1 - t, sigma = t."""

    def alpha(self, t: TimeLike) -> torch.Tensor:
        return 1.0 - as_time(t)

    def sigma(self, t: TimeLike) -> torch.Tensor:
        return as_time(t).clone()

    def d_alpha(self, t: TimeLike) -> torch.Tensor:
        return torch.full_like(as_time(t), -1.0)

    def d_sigma(self, t: TimeLike) -> torch.Tensor:
        return torch.ones_like(as_time(t))

    def __repr__(self) -> str:
        return "FlowPath()"


class DDPMPath:
    """The variance-preserving path of a discrete DDPM schedule, made continuous.

    Index i sits at t_i = (i + 1) / T; log(alphas_cumprod) is linear in t between grid points
    with log ab(0) = 0, so alpha(t_i)^2 = alphas_cumprod[i] exactly and alpha(0) = 1.
    alpha = sqrt(ab), sigma = sqrt(1 - ab). The derivatives are those of the interpolant
    (right-hand derivative at grid points).
    """

    def __init__(self, schedule: DDPMSchedule):
        self.schedule = schedule
        self.T = schedule.T
        # knots of L(t) = log ab(t) at t = k / T, k = 0..T: (T + 1,) float64
        self._log_ab = torch.cat([torch.zeros(1, dtype=torch.float64), torch.log(schedule.alphas_cumprod)])
        self._cache: dict[tuple[str, torch.dtype], torch.Tensor] = {}

    def _knots(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        key = (str(device), dtype)
        if key not in self._cache:
            self._cache[key] = self._log_ab.to(device=device, dtype=dtype)
        return self._cache[key]

    def _log_ab_and_slope(self, t: TimeLike) -> tuple[torch.Tensor, torch.Tensor]:
        """L(t) = log ab(t) and dL/dt, in the working dtype (float64 except on mps)."""
        t = as_time(t)
        dt = _work_dtype(t.device)
        knots = self._knots(t.device, dt)
        u = t.to(dt).clamp(0.0, 1.0) * self.T
        k = u.floor().clamp(0, self.T - 1).long()
        slope = knots[k + 1] - knots[k]  # per unit of u
        return knots[k] + (u - k) * slope, slope * self.T

    def alpha(self, t: TimeLike) -> torch.Tensor:
        L, _ = self._log_ab_and_slope(t)
        return torch.exp(0.5 * L).float()

    def sigma(self, t: TimeLike) -> torch.Tensor:
        L, _ = self._log_ab_and_slope(t)
        return torch.sqrt(-torch.expm1(L)).float()

    def d_alpha(self, t: TimeLike) -> torch.Tensor:
        L, dL = self._log_ab_and_slope(t)
        return (0.5 * torch.exp(0.5 * L) * dL).float()

    def d_sigma(self, t: TimeLike) -> torch.Tensor:
        """Infinite at t = 0 (sigma ~ sqrt(t)); samplers never evaluate it there."""
        L, dL = self._log_ab_and_slope(t)
        return (-0.5 * torch.exp(L) * dL / torch.sqrt(-torch.expm1(L))).float()

    def index_to_t(self, i: torch.Tensor | int) -> torch.Tensor:
        """Grid index i (0..T-1) -> t = (i + 1) / T, float32."""
        i = torch.as_tensor(i)
        return ((i.to(torch.float64) + 1) / self.T).float()

    def t_to_index(self, t: TimeLike) -> torch.Tensor:
        """Nearest grid index to t (int64, clamped to 0..T-1): round(t T) - 1."""
        t = as_time(t).to(torch.float64)
        return (torch.round(t * self.T) - 1).clamp(0, self.T - 1).long()

    def sigma_ratio(self, t: TimeLike) -> torch.Tensor:
        """sigma / alpha = sqrt(1/ab - 1), the Karras noise level (0 at t = 0)."""
        L, _ = self._log_ab_and_slope(t)
        return torch.sqrt(torch.expm1(-L)).float()

    def t_from_sigma_ratio(self, s: TimeLike) -> torch.Tensor:
        """Inverse of `sigma_ratio`: the t with sigma(t)/alpha(t) = s (clamped to [0, 1])."""
        s = as_time(s)
        dt = _work_dtype(s.device)
        neg = -self._knots(s.device, dt)  # increasing: 0 = -L(0) < -L(1/T) < ...
        target = torch.log1p(s.to(dt) ** 2)  # -L
        k = (torch.searchsorted(neg, target.reshape(-1), right=True) - 1).clamp(0, self.T - 1).reshape(target.shape)
        frac = ((target - neg[k]) / (neg[k + 1] - neg[k])).clamp(0.0, 1.0)
        return ((k + frac) / self.T).float()

    def t_of_sigma_ratio(self, s: float) -> float:
        """`t_from_sigma_ratio` for one level, in float64 throughout (python float in and out)."""
        neg = -self._log_ab.numpy()  # increasing, float64
        target = math.log1p(s * s)
        k = min(max(int(np.searchsorted(neg, target, side="right")) - 1, 0), self.T - 1)
        frac = min(max((target - neg[k]) / (neg[k + 1] - neg[k]), 0.0), 1.0)
        return (k + frac) / self.T

    def __repr__(self) -> str:
        return f"DDPMPath({self.schedule.name}, T={self.T})"


# --- prediction conversions -------------------------------------------------------------------
def _coef(c: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Broadcast a per-particle coefficient (0-d or (N,)) against x (N, D...)."""
    c = c.to(device=x.device, dtype=x.dtype)
    return c.reshape(-1, *([1] * (x.ndim - 1))) if c.ndim == 1 else c


def eps_from_x0(path: Path, x: torch.Tensor, t: TimeLike, x0: torch.Tensor) -> torch.Tensor:
    """eps_hat = (x - alpha x0_hat) / sigma. Undefined at sigma = 0 (t = 0)."""
    t = as_time(t, x.device)
    return (x - _coef(path.alpha(t), x) * x0) / _coef(path.sigma(t), x)


def velocity_from_x0(path: Path, x: torch.Tensor, t: TimeLike, x0: torch.Tensor) -> torch.Tensor:
    """dx/dt of the probability-flow ODE: d_alpha x0_hat + d_sigma eps_hat."""
    t = as_time(t, x.device)
    eps = eps_from_x0(path, x, t, x0)
    return _coef(path.d_alpha(t), x) * x0 + _coef(path.d_sigma(t), x) * eps


def score_from_x0(path: Path, x: torch.Tensor, t: TimeLike, x0: torch.Tensor) -> torch.Tensor:
    """grad_x log p_t(x) = (alpha x0_hat - x) / sigma^2 = -eps_hat / sigma (Tweedie)."""
    t = as_time(t, x.device)
    return -eps_from_x0(path, x, t, x0) / _coef(path.sigma(t), x)


def x0_from_eps(path: Path, x: torch.Tensor, t: TimeLike, eps: torch.Tensor) -> torch.Tensor:
    """x0_hat = (x - sigma eps_hat) / alpha. Undefined at alpha = 0 (flow path at t = 1)."""
    t = as_time(t, x.device)
    return (x - _coef(path.sigma(t), x) * eps) / _coef(path.alpha(t), x)


def x0_from_velocity(path: Path, x: torch.Tensor, t: TimeLike, v: torch.Tensor) -> torch.Tensor:
    """Invert `velocity_from_x0`: v = (d_alpha - d_sigma alpha / sigma) x0 + (d_sigma / sigma) x.

    For the flow path: x0 = x - t v. Undefined where alpha d_sigma - sigma d_alpha = 0.
    """
    t = as_time(t, x.device)
    a, s, da, ds = (_coef(f(t), x) for f in (path.alpha, path.sigma, path.d_alpha, path.d_sigma))
    return (s * v - ds * x) / (da * s - ds * a)
