"""`PointSet`: the one type for 2D training data (presets, drawings, files).

Validation happens in the constructor, so every PointSet that exists is usable: at least two
finite points, coordinates within +-1e6, not all at the same place, labels matching the points.
Anything else is a user mistake and raises `UserError` with one line.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sandbox.errors import UserError

MAX_ABS_COORD = 1e6  # beyond this float32 training loses precision and it is surely a unit mistake
MIN_REL_SPREAD = 1e-6  # RMS radius relative to max(1, |coordinates|); below it: "all points identical"


@dataclass
class PointSet:
    """2D points with optional class labels.

    points: (N, 2) float32, data coordinates.
    labels: (N,) int64 in [0, len(class_names)) or None.
    class_names: one name per class (filled with "0", "1", ... when labels come without names).
    name: shown in the window and stored in model files (e.g. "moons", "letter.png").
    """

    points: np.ndarray
    labels: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)
    name: str = "points"

    def __post_init__(self) -> None:
        # validate in float64: a huge value must read "absurd", not "infinite" after a float32 cast
        self.points = np.asarray(self.points, dtype=np.float64)
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.dtype.kind == "f":
                if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
                    raise UserError(f"{self.name}: labels must be whole numbers")
            elif labels.dtype.kind not in "iub":
                raise UserError(f"{self.name}: labels must be whole numbers, got {labels.dtype}")
            self.labels = labels.astype(np.int64)
        self.class_names = [str(c) for c in self.class_names]
        self.validate()
        self.points = self.points.astype(np.float32)

    def validate(self) -> None:
        """Raise `UserError` (one line) unless the points can be trained on."""
        p = self.points
        if p.size == 0:
            raise UserError(f"{self.name}: no points (need at least 2)")
        if p.ndim != 2 or p.shape[1] != 2:
            raise UserError(f"{self.name}: points must have 2 columns (x, y), got shape {p.shape}")
        n = len(p)
        if n < 2:
            raise UserError(f"{self.name}: need at least 2 points, got {n}")
        bad = ~np.isfinite(p).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            raise UserError(f"{self.name}: {int(bad.sum())} point(s) are NaN or infinite "
                            f"(first: point {i} = {p[i].tolist()})")
        biggest = float(np.abs(p).max())
        if biggest > MAX_ABS_COORD:
            raise UserError(f"{self.name}: coordinates up to {biggest:.3g} are absurd; "
                            f"rescale the data to within +-{MAX_ABS_COORD:.0e}")
        centred = p.astype(np.float64) - p.astype(np.float64).mean(axis=0)
        spread = float(np.sqrt((centred ** 2).sum(axis=1).mean()))
        if spread <= MIN_REL_SPREAD * max(1.0, biggest):
            raise UserError(f"{self.name}: all {n} points are at the same place "
                            f"(spread {spread:.2g}); the data needs some extent")
        if self.labels is not None:
            self._validate_labels()

    def _validate_labels(self) -> None:
        labels = self.labels
        assert labels is not None
        if labels.shape != (len(self.points),):
            raise UserError(f"{self.name}: {len(labels)} labels for {len(self.points)} points")
        if labels.min() < 0:
            raise UserError(f"{self.name}: labels must be >= 0, got {int(labels.min())}")
        k = int(labels.max()) + 1
        if not self.class_names:
            self.class_names = [str(i) for i in range(k)]
        elif len(self.class_names) < k:
            raise UserError(f"{self.name}: label {k - 1} but only {len(self.class_names)} class names")

    def __len__(self) -> int:
        return len(self.points)

    @property
    def num_classes(self) -> int:
        """Number of classes (0 when unlabelled)."""
        return len(self.class_names) if self.labels is not None else 0

    def without_labels(self) -> PointSet:
        """The same points with labels dropped (for unconditional training)."""
        return PointSet(self.points, None, [], self.name)

    def subset(self, idx: np.ndarray) -> PointSet:
        """Points (and labels) at `idx` (indices or boolean mask); class names kept."""
        labels = None if self.labels is None else self.labels[idx]
        return PointSet(self.points[idx], labels, list(self.class_names), self.name)

    def summary(self) -> dict:
        """Small JSON-able description (stored in model files)."""
        p = self.points.astype(np.float64)
        return {
            "name": self.name,
            "n": len(p),
            "class_names": list(self.class_names) if self.labels is not None else [],
            "mean": p.mean(axis=0).tolist(),
            "min": p.min(axis=0).tolist(),
            "max": p.max(axis=0).tolist(),
        }


def as_pointset(data, labels=None, name: str = "points") -> PointSet:
    """A PointSet as is; an (N, 2) array-like (numpy, torch tensor, nested lists) as a new PointSet."""
    if isinstance(data, PointSet):
        return data
    if hasattr(data, "detach"):  # a torch tensor, on any device
        data = data.detach().cpu().numpy()
    if hasattr(labels, "detach"):
        labels = labels.detach().cpu().numpy()
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError(f"cannot read points from a {type(data).__name__}; "
                        f"give an (N, 2) array or a PointSet") from None
    return PointSet(arr, None if labels is None else np.asarray(labels), [], name)
