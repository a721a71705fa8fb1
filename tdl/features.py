"""Feature extractors: images (B, H, W, C) -> features (B, D) float32.

`EXTRACTORS[name](model=None, device="cpu", batch_size=64) -> Extractor`; `extract(traj, name, which)`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from tdl.trajectory import TrajectoryData

EXTRACTORS: dict[str, Callable[..., Callable[[np.ndarray], np.ndarray]]] = {}


def extract(traj: TrajectoryData, name: str = "pixels", which: str = "x0", device: str = "cpu",
            model: str | None = None, batch_size: int = 64, progress: bool = True) -> TrajectoryData:
    raise NotImplementedError
