"""Source: a saved 2D sandbox model; features are the 2D positions themselves."""
from __future__ import annotations

from tdl.trajectory import TrajectoryData


def sandbox2d(model_path: str | None = None, preset: str | None = None, instances: int = 200, steps: int = 50,
              sampler: str = "ddim", seed: int = 0, guidance: float = 0.0, device: str = "cpu",
              progress: bool = True) -> TrajectoryData:
    raise NotImplementedError
