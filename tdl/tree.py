"""`TreeData`: a finished embedding, as saved by `tdl embed` and read by `tdl plot` / `tdl explore`.

- `Y (S, I, 2) float32`: display coordinates (already stretched: radial radius / rectilinear x grows
  with the step; see `tdl.layout`). Step 0 is the noisiest.
- `layout`: "radial" or "rectilinear"; `times (S,)` (t = 1 noise -> 0 data); `prompts (P,)`,
  `prompt_index (I,)`; `metrics` and `config` dicts (JSON); `source`: the trajectory file's name.

Saved as one `.npz` holding plain arrays and a JSON header in a 0-d unicode array, so `load` runs with
`allow_pickle=False`; written to a temporary file and renamed (atomic).
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sandbox.fileio import atomic_path
from sandbox.errors import UserError
from tdl.layout import check_layout

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

    def save(self, path: str | os.PathLike) -> Path:
        """Write `path` (`.npz` added if missing) atomically; returns the path written."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"format": FORMAT, "version": VERSION, "layout": self.layout, "prompts": self.prompts,
                  "metrics": self.metrics, "config": self.config, "source": self.source}
        try:
            header_json = json.dumps(header)
        except TypeError as e:
            raise UserError(f"tree metrics/config must be JSON-serialisable: {e}") from None
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, header=np.array(header_json), Y=self.Y, times=self.times,
                                prompt_index=self.prompt_index)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TreeData":
        """Read a file written by `save`; UserError on a missing, corrupt or foreign file."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"no tree file at {path} (make one with `tdl embed TRAJ.npz --out {path.name}`)")
        try:
            with np.load(path, allow_pickle=False) as z:
                if "header" not in z.files:
                    raise UserError(f"{path} is not a tdl tree file (no header)")
                header = json.loads(str(z["header"][()]))
                arrays = {name: z[name] for name in ("Y", "times", "prompt_index") if name in z.files}
        except UserError:
            raise
        except ValueError as e:  # includes object arrays refused without pickle
            raise UserError(f"{path} is not a readable tdl tree file ({type(e).__name__})") from None
        except (OSError, zipfile.BadZipFile, EOFError, KeyError, json.JSONDecodeError) as e:
            raise UserError(f"{path} is corrupt or not a tdl tree file ({type(e).__name__})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise UserError(f"{path} is not a tdl tree file" + (" (it is a trajectory: run `tdl embed` on it)"
                            if isinstance(header, dict) and header.get("format") == "tdl-trajectory" else ""))
        if header.get("version", 0) > VERSION:
            raise UserError(f"{path} was written by a newer tdl (format version {header['version']})")
        missing = [n for n in ("Y", "times", "prompt_index") if n not in arrays]
        if missing:
            raise UserError(f"{path} is missing the {', '.join(missing)} array(s)")
        return cls(layout=str(header.get("layout", "radial")), prompts=list(header.get("prompts", [])),
                   metrics=dict(header.get("metrics", {})), config=dict(header.get("config", {})),
                   source=str(header.get("source", "")), **arrays)
