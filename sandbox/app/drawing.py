"""The user's drawing: points and class labels with undo/redo, a spray brush and an eraser.

Pure numpy, no display. Every edit replaces the arrays (never mutates them in place), so the undo
stack holds plain references and a snapshot costs nothing. A stroke (mouse press to release) is one
undo step however many dabs it sprays: `begin_stroke()` / `end_stroke()` bracket it.
"""
from __future__ import annotations

import numpy as np

MAX_POINTS = 50_000
MAX_UNDO = 200     # strokes (a whole press-to-release drag is one)


class Drawing:
    """points: (N, 2) float32 world coordinates; labels: (N,) int64 class per point."""

    def __init__(self, points=None, labels=None, class_names=None, name: str = "drawing"):
        self.points = np.zeros((0, 2), np.float32)
        self.labels = np.zeros((0,), np.int64)
        self.class_names: list[str] = list(class_names or [])
        self.name = name
        self._undo: list[tuple] = []
        self._redo: list[tuple] = []
        self._stroke = False      # inside a stroke: its first edit pushed the one undo step
        self._stroke_pushed = False
        self.version = 0  # bumps on every change (autosave, caches)
        self.epoch = 0    # bumps when the whole drawing is replaced (the window refits its view)
        if points is not None:
            self._set(points, labels)

    # -- editing -------------------------------------------------------------------------------
    def _snapshot(self) -> tuple:
        return (self.points, self.labels, list(self.class_names), self.name)

    def begin_stroke(self) -> None:
        """Mouse pressed: the edits until `end_stroke` undo as one step."""
        self._stroke, self._stroke_pushed = True, False

    def end_stroke(self) -> bool:
        """Mouse released; True if the stroke changed the drawing."""
        changed = self._stroke and self._stroke_pushed
        self._stroke = self._stroke_pushed = False
        return changed

    @property
    def in_stroke(self) -> bool:
        return self._stroke

    def _push(self) -> None:
        if self._stroke:
            if self._stroke_pushed:
                return
            self._stroke_pushed = True
        self._undo.append(self._snapshot())
        del self._undo[:-MAX_UNDO]
        self._redo.clear()

    def _set(self, points, labels=None) -> None:
        p = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        keep = np.isfinite(p).all(axis=1)
        p = p[keep][:MAX_POINTS]
        if labels is None:
            lab = np.zeros(len(p), np.int64)
        else:
            lab = np.asarray(labels).reshape(-1).astype(np.int64)[keep][:MAX_POINTS]
        self.points, self.labels = p, np.maximum(lab, 0)
        self.version += 1

    def replace(self, points, labels=None, class_names=None, name: str | None = None) -> None:
        """Replace everything (a preset or a loaded file), undoably."""
        self._push()
        self._set(points, labels)
        self.epoch += 1
        if class_names is not None:
            self.class_names = list(class_names)
        if name is not None:
            self.name = name

    def spray(self, center, radius: float, count: int, label: int = 0,
              rng: np.random.Generator | None = None) -> int:
        """Add `count` points uniformly in the disc (center, radius); returns how many were added."""
        count = int(min(max(count, 0), MAX_POINTS - len(self.points)))
        c = np.asarray(center, dtype=np.float64).reshape(2)
        if count == 0 or not np.isfinite(c).all() or not np.isfinite(radius):
            return 0
        rng = rng or np.random.default_rng()
        r = abs(float(radius)) * np.sqrt(rng.random(count))
        a = rng.random(count) * 2 * np.pi
        new = c + np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
        self._push()
        self._set(np.concatenate([self.points, new.astype(np.float32)]),
                  np.concatenate([self.labels, np.full(count, max(int(label), 0), np.int64)]))
        self._ensure_class(int(label))
        return count

    def erase(self, center, radius: float) -> int:
        """Remove the points within `radius` of `center`; returns how many were removed."""
        c = np.asarray(center, dtype=np.float32).reshape(2)
        if len(self.points) == 0 or not np.isfinite(c).all():
            return 0
        d2 = ((self.points - c) ** 2).sum(axis=1)
        keep = d2 > float(radius) ** 2
        removed = int((~keep).sum())
        if removed:
            self._push()
            self._set(self.points[keep], self.labels[keep])
        return removed

    def clear(self) -> None:
        if len(self.points):
            self._push()
            self._set(np.zeros((0, 2)), None)

    def _ensure_class(self, label: int) -> None:
        while len(self.class_names) <= label:
            self.class_names.append(str(len(self.class_names)))

    # -- undo ----------------------------------------------------------------------------------
    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        self.end_stroke()
        return self._restore(self._undo, self._redo)

    def redo(self) -> bool:
        self.end_stroke()
        return self._restore(self._redo, self._undo)

    def _restore(self, source: list, target: list) -> bool:
        """Pop a snapshot from `source`, saving the current drawing on `target` (undo/redo)."""
        if not source:
            return False
        target.append(self._snapshot())
        self.points, self.labels, names, self.name = source.pop()
        self.class_names = list(names)
        self.version += 1
        return True

    # -- views ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.points)

    @property
    def num_classes(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0

    def pointset(self):
        """The drawing as a `sandbox.datasets.PointSet` (labels only if more than one class).

        Raises UserError (from PointSet) for drawings that cannot be trained on.
        """
        from sandbox.datasets import PointSet

        multi = self.num_classes > 1
        names = list(self.class_names)
        while len(names) < self.num_classes:
            names.append(str(len(names)))
        return PointSet(self.points.copy(), self.labels.copy() if multi else None,
                        names[: self.num_classes] if multi else [], self.name)
