"""`TreeData`: a finished embedding, as saved by `tdl embed` and read by `tdl plot` / `tdl explore`.

- `Y (S, I, 2) float32`: display coordinates (already stretched: radial radius / rectilinear x grows
  with the step; see `tdl.layout`). Step 0 is the noisiest.
- `layout`: "radial" or "rectilinear"; `times (S,)` (t = 1 noise -> 0 data); `prompts (P,)`,
  `prompt_index (I,)`; `metrics` and `config` dicts (JSON); `source`: the trajectory file's name.

Saved as one `.npz` holding plain arrays and a JSON header in a 0-d unicode array, so `load` runs with
`allow_pickle=False`; written to a temporary file and renamed (atomic).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sandbox.errors import UserError
from tdl.layout import check_layout
from tdl.npzfile import load_npz, npz_path, save_npz

FORMAT = "tdl-tree"
VERSION = 1


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
