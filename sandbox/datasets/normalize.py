"""`Normalizer`: data coordinates <-> canonical coordinates (centred, RMS radius 1, aspect kept).

Works on numpy arrays and on torch tensors (same type, dtype and device out as in). Torch is not
imported here: a tensor can only reach us if the caller already imported it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from sandbox.errors import UserError


def _is_tensor(x) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


@dataclass
class Normalizer:
    """x_canonical = (x_data - center) / scale.

    center: (2,) float64; scale: float > 0 (one scalar for both axes, so shapes keep their aspect).
    """

    center: np.ndarray
    scale: float

    def __post_init__(self) -> None:
        self.center = np.asarray(self.center, dtype=np.float64).reshape(2)
        self.scale = float(self.scale)
        if not (np.all(np.isfinite(self.center)) and np.isfinite(self.scale) and self.scale > 0):
            raise UserError(f"invalid normalisation (center {self.center.tolist()}, scale {self.scale})")

    @classmethod
    def fit(cls, points: np.ndarray) -> Normalizer:
        """Centre = mean, scale = RMS distance to the mean; points (N, 2)."""
        p = np.asarray(points, dtype=np.float64)
        center = p.mean(axis=0)
        scale = float(np.sqrt(((p - center) ** 2).sum(axis=1).mean()))
        return cls(center, scale)

    @classmethod
    def identity(cls) -> Normalizer:
        return cls(np.zeros(2), 1.0)

    def _params(self, x):
        if _is_tensor(x):
            import torch

            dtype = x.dtype if x.is_floating_point() else torch.float32
            return torch.as_tensor(self.center, dtype=dtype, device=x.device), x.to(dtype)
        x = np.asarray(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        return self.center.astype(dtype), x.astype(dtype, copy=False)

    def forward(self, x):
        """Data -> canonical; x (..., 2) numpy array or torch tensor."""
        center, x = self._params(x)
        return (x - center) / self.scale

    def inverse(self, z):
        """Canonical -> data; z (..., 2) numpy array or torch tensor."""
        center, z = self._params(z)
        return z * self.scale + center

    def to_dict(self) -> dict:
        return {"center": [float(c) for c in self.center], "scale": self.scale}

    @classmethod
    def from_dict(cls, d: dict) -> Normalizer:
        try:
            return cls(np.asarray(d["center"], dtype=np.float64), float(d["scale"]))
        except (KeyError, TypeError, ValueError):
            raise UserError(f"invalid normalisation data: {str(d)[:80]}") from None
