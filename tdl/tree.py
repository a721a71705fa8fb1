"""`TreeData`: a finished embedding, as saved by `tdl embed` and read by `tdl plot` / `tdl explore`.

- `Y (S, I, 2) float32`: display coordinates (already stretched: radial radius / rectilinear x grows
  with the step; see `tdl.layout`). Step 0 is the noisiest.
- `layout`: "radial" or "rectilinear"; `times (S,)` (t = 1 noise -> 0 data); `prompts (P,)`,
  `prompt_index (I,)`; `metrics` and `config` dicts (JSON); `source`: the trajectory file's name.

Saved as one `.npz` holding plain arrays and a JSON header in a 0-d unicode array, so `load` runs with
`allow_pickle=False`; written to a temporary file and renamed (atomic).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sandbox.errors import UserError
from tdl.layout import check_layout
from tdl.npzfile import load_npz, npz_path, save_npz

FORMAT = "tdl-tree"
VERSION = 1
WEDGE = math.radians(30)  # the empty wedge a filled radial tree keeps for its ring labels


def widest_gap(angles: np.ndarray) -> tuple[float, float]:
    """(start, width) in radians of the widest empty arc between the sorted `angles` (any shape)."""
    a = np.sort(np.mod(np.asarray(angles, dtype=np.float64).ravel(), 2 * math.pi))
    if a.size < 2:
        return 0.0, 2 * math.pi
    gaps = np.diff(np.concatenate((a, a[:1] + 2 * math.pi)))
    k = int(np.argmax(gaps))
    return float(a[k]), float(gaps[k])


def fill_disc(Y: np.ndarray, wedge: float = WEDGE, max_gain: float = 4.0, top: float = math.pi / 2) -> np.ndarray:
    """Radial display coordinates `Y (S, I, 2)` (centred on the origin) spread around the whole circle.

    A t-SNE layout wrapped onto a ring covers only part of it (the digits: 170 degrees of 360), so the
    tree filled half the disc. Every empty arc among the rings' points (steps >= 1) wider than `wedge`
    shrinks to `wedge` (t-SNE's distances between groups carry no meaning; within groups they do), and
    all the rest stretches by one factor k (at most `max_gain`: with 20 instances per step 4x kept the
    display trustworthiness, 0.979 -> 0.978, 8x lost it, 0.955) to fill the circle: a monotone map of
    the angle alone, so each ring keeps its radius and the order of its points, and distances within
    a group scale by k everywhere alike. The widest gap is turned to angle `top` (the ring labels go
    there). A tree with no gap wider than `wedge` is only rotated."""
    Y = np.asarray(Y, dtype=np.float64)
    ring = Y[1:] if Y.shape[0] > 1 else Y
    r_all = np.hypot(Y[..., 0], Y[..., 1])
    r = np.hypot(ring[..., 0], ring[..., 1])
    if r.size < 2 or not np.isfinite(r_all).all() or r.max() <= 0:
        return Y.copy()
    a = np.sort(np.mod(np.arctan2(ring[..., 1], ring[..., 0])[r > 1e-9 * r.max()], 2 * math.pi))
    if a.size < 2:
        return Y.copy()
    gaps = np.diff(np.concatenate((a, a[:1] + 2 * math.pi)))  # gap j runs from a[j] to a[j + 1]
    big = gaps > wedge
    small = gaps[~big].sum()
    k = 1.0 if not big.any() else min((2 * math.pi - wedge * big.sum()) / max(small, 1e-12), max_gain)
    new = np.where(big, (2 * math.pi - k * small) / max(big.sum(), 1), k * gaps)  # sums to 2 pi
    x = np.concatenate(([0.0], np.cumsum(gaps)))  # knots from a[0], old and new
    y = np.concatenate(([0.0], np.cumsum(new)))
    v = np.interp(np.mod(np.arctan2(Y[..., 1], Y[..., 0]) - a[0], 2 * math.pi), x, y)
    j = int(np.argmax(gaps))
    phi = v + (top - (y[j] + new[j] / 2))  # the widest gap's middle at `top`
    return np.stack((r_all * np.cos(phi), r_all * np.sin(phi)), -1)


@dataclass
class TreeData:
    Y: np.ndarray  # (S, I, 2) float32 display coordinates
    layout: str
    times: np.ndarray  # (S,) float64
    prompts: list[str]
    prompt_index: np.ndarray  # (I,) int64
    metrics: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        self.Y = np.ascontiguousarray(self.Y, dtype=np.float32)
        self.times = np.asarray(self.times, dtype=np.float64)
        self.prompts = [str(p) for p in self.prompts]
        self.prompt_index = np.asarray(self.prompt_index, dtype=np.int64)
        check_layout(self.layout)
        if self.Y.ndim != 3 or self.Y.shape[2] != 2:
            raise UserError(f"tree coordinates must be (steps, instances, 2), got {self.Y.shape}")
        S, I, _ = self.Y.shape
        if self.times.shape != (S,):
            raise UserError(f"tree times must have shape ({S},), got {self.times.shape}")
        if self.prompt_index.shape != (I,):
            raise UserError(f"tree prompt_index must have shape ({I},), got {self.prompt_index.shape}")
        if I and (self.prompt_index.min() < 0 or self.prompt_index.max() >= len(self.prompts)):
            raise UserError("tree prompt_index points outside the prompt list")

    @property
    def num_steps(self) -> int:
        return self.Y.shape[0]

    @property
    def num_instances(self) -> int:
        return self.Y.shape[1]

    def __repr__(self) -> str:
        source = f", from {self.source!r}" if self.source else ""  # the trajectory file it was made from
        return (f"TreeData({self.layout} tree of {self.num_steps} steps x {self.num_instances} instances, "
                f"{len(self.prompts)} prompt(s){source}; .Y {self.Y.shape})")

    def _repr_html_(self) -> str:
        """The interactive tree view in notebooks (tdl/webview.py); `tdl.plot(tree, traj)` adds thumbnails."""
        from tdl.webview import TreeView

        return TreeView(self)._repr_html_()

    def save(self, path: str | os.PathLike) -> Path:
        """Write `path` (`.npz` added if missing) atomically; returns the path written."""
        header = {"format": FORMAT, "version": VERSION, "layout": self.layout, "prompts": self.prompts,
                  "metrics": self.metrics, "config": self.config, "source": self.source}
        arrays = {"Y": self.Y, "times": self.times, "prompt_index": self.prompt_index}
        return save_npz(npz_path(path), header, arrays, "tree")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TreeData":
        """Read a file written by `save`; UserError on a missing, corrupt or foreign file."""
        names = ("Y", "times", "prompt_index")
        header, arrays = load_npz(path, FORMAT, VERSION, names, names, "tree",
                                  f"tdl embed TRAJ.npz --out {Path(path).name}",
                                  {"tdl-trajectory": "it is a trajectory: run `tdl embed` on it"})
        return cls(layout=str(header.get("layout", "radial")), prompts=list(header.get("prompts", [])),
                   metrics=dict(header.get("metrics", {})), config=dict(header.get("config", {})),
                   source=str(header.get("source", "")), **arrays)
