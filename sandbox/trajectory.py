"""`Trajectory`: the positions of N particles at every sampler step, from noise to data.

The one type the window, the exporter, the lessons, the metrics and `tdl` share.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch


@dataclass
class Trajectory:
    """xs: (S+1, N, D) float32, index 0 = noise (t = ts[0], 1 for every default set-up), index S = data.
    ts: (S+1,) float32, descending to 0. nfe: network evaluations per particle for the whole run.
    labels: (N,) int64 or None. sampler: the sampler's name (e.g. "ddim").
    coords: "canonical" (the model's normalised space, what samplers produce) or "data" (the
    user's units, what `DiffusionModel.sample` returns unless asked otherwise).
    """

    xs: torch.Tensor
    ts: torch.Tensor
    nfe: int
    labels: torch.Tensor | None = None
    sampler: str = ""
    coords: str = "canonical"

    def __post_init__(self) -> None:
        if self.coords not in ("canonical", "data"):
            raise ValueError(f"coords must be 'canonical' or 'data', got {self.coords!r}")
        if self.xs.ndim != 3:
            raise ValueError(f"xs must be (S+1, N, D), got shape {tuple(self.xs.shape)}")
        if self.ts.shape != (self.xs.shape[0],):
            raise ValueError(f"ts must be ({self.xs.shape[0]},), got shape {tuple(self.ts.shape)}")
        if self.labels is not None and self.labels.shape != (self.xs.shape[1],):
            raise ValueError(f"labels must be ({self.xs.shape[1]},), got shape {tuple(self.labels.shape)}")

    def __repr__(self) -> str:
        # one line, not every coordinate (print(traj) in a notebook printed 60 lines of tensors)
        n, d = self.xs.shape[1], self.xs.shape[2]
        labels = "" if self.labels is None else ", labelled"
        return (f"Trajectory({self.steps} steps of {n} particles in {d}D, sampler {self.sampler or '?'!r}, "
                f"nfe {self.nfe}, {self.coords} coordinates{labels}; .xs {tuple(self.xs.shape)}, .final)")

    @property
    def steps(self) -> int:
        """S, the number of sampler steps (len(xs) - 1)."""
        return self.xs.shape[0] - 1

    @property
    def final(self) -> torch.Tensor:
        """(N, D) the samples."""
        return self.xs[-1]

    def _locate(self, progress: float) -> tuple[int, int, float]:
        u = min(max(float(progress), 0.0), 1.0) * self.steps
        i = min(int(np.floor(u)), max(self.steps - 1, 0))
        return i, min(i + 1, self.steps), u - i

    def at(self, progress: float) -> torch.Tensor:
        """(N, D) positions at progress in [0, 1] (= step index / S), linearly between steps.

        Used for smooth animation; progress 0 is the noise, 1 the samples (clamped outside).
        """
        i, j, w = self._locate(progress)
        return self.xs[i] + w * (self.xs[j] - self.xs[i])

    def time_at(self, progress: float) -> float:
        """The time t at `progress`, interpolated like `at`."""
        i, j, w = self._locate(progress)
        return float(self.ts[i] + w * (self.ts[j] - self.ts[i]))

    def to(self, device: torch.device | str) -> "Trajectory":
        labels = None if self.labels is None else self.labels.to(device)
        return replace(self, xs=self.xs.to(device), ts=self.ts.to(device), labels=labels)

    def numpy(self) -> dict[str, Any]:
        """{"xs": (S+1,N,D) float32, "ts": (S+1,) float32, "labels": (N,) int64 or None, "nfe", "sampler"}."""
        return {
            "xs": self.xs.detach().cpu().numpy(),
            "ts": self.ts.detach().cpu().numpy(),
            "labels": None if self.labels is None else self.labels.detach().cpu().numpy(),
            "nfe": self.nfe,
            "sampler": self.sampler,
            "coords": self.coords,
        }

    def _repr_html_(self) -> str | None:
        """An inline player in notebooks (HTML + JS, no kernel round trip; sandbox/web); None (the
        plain repr) for trajectories that are not 2D."""
        if self.xs.shape[-1] != 2:
            return None
        from sandbox.web import trajectory_player

        return trajectory_player(self).fragment()
