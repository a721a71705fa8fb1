"""`TrajectoryData`: what every TDL source produces and every later stage reads.

Shapes (S steps, I instances, D features, P prompts):
- `features (S, I, D) float32`: what the embedding sees. Row 0 is the noisiest step, row S-1 the final
  sample. Sources give `S = steps + 1`: row k holds the state at `times[k]` (row 0 at t = 1) and the
  last row (t = 0) the finished sample.
- `times (S,) float64`: the sandbox convention, t = 1 noise -> t = 0 data, decreasing.
- `prompts list[str] (P,)`, `prompt_index (I,) int64` into `prompts`.
- `images (S, I, H, W, C) uint8` or None: the model's prediction of the clean image (x0) at each step.
- `images_xt (S, I, H, W, C) uint8` or None: the noisy state x_t itself, when a source captures it.
- `positions2d (S, I, 2) float32` or None: the true 2D paths (the 2D sandbox source).
- `source str`, `meta dict` (JSON-serialisable: sampler, steps, guidance, seed, model, ...).

Files are `.npz` written by numpy with plain arrays only; metadata travels as JSON in a 0-d unicode
array, so `load` runs with `allow_pickle=False` and never executes code from the file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from sandbox.errors import UserError
from tdl.npzfile import load_npz, npz_path, save_npz

FORMAT = "tdl-trajectory"
VERSION = 1
_ARRAYS = ("features", "times", "prompt_index", "images", "images_xt", "positions2d")


@dataclass
class TrajectoryData:
    features: np.ndarray  # (S, I, D) float32
    times: np.ndarray  # (S,) float64, t = 1 noise -> t = 0 data
    prompts: list[str]  # (P,)
    prompt_index: np.ndarray  # (I,) int64
    images: np.ndarray | None = None  # (S, I, H, W, C) uint8: predicted x0
    images_xt: np.ndarray | None = None  # (S, I, H, W, C) uint8: noisy state x_t
    positions2d: np.ndarray | None = None  # (S, I, 2) float32: true 2D paths
    source: str = "unknown"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.features = np.ascontiguousarray(self.features, dtype=np.float32)
        self.times = np.asarray(self.times, dtype=np.float64)
        self.prompts = [str(p) for p in self.prompts]
        self.prompt_index = np.asarray(self.prompt_index, dtype=np.int64)
        for name in ("images", "images_xt"):
            arr = getattr(self, name)
            if arr is not None:
                setattr(self, name, np.ascontiguousarray(arr, dtype=np.uint8))
        if self.positions2d is not None:
            self.positions2d = np.asarray(self.positions2d, dtype=np.float32)
        self.validate()

    def __repr__(self) -> str:
        # one line: print(traj) of 10 digits printed 3,800 lines of arrays
        extras = [name for name in ("images", "images_xt", "positions2d") if getattr(self, name) is not None]
        return (f"TrajectoryData(source {self.source!r}, {self.num_steps} steps x {self.num_instances} instances x "
                f"{self.dim} features, {len(self.prompts)} prompt(s){''.join(', ' + e for e in extras)})")

    # shapes -------------------------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        return self.features.shape[0]

    @property
    def num_instances(self) -> int:
        return self.features.shape[1]

    @property
    def dim(self) -> int:
        return self.features.shape[2]

    def validate(self) -> None:
        """Raise UserError when the arrays do not fit together."""
        f = self.features
        if f.ndim != 3:
            raise UserError(f"trajectory features must be (steps, instances, dim), got shape {f.shape}")
        S, I, _ = f.shape
        if self.times.shape != (S,):
            raise UserError(f"trajectory times must have shape ({S},), got {self.times.shape}")
        if self.prompt_index.shape != (I,):
            raise UserError(f"trajectory prompt_index must have shape ({I},), got {self.prompt_index.shape}")
        if I and (self.prompt_index.min() < 0 or self.prompt_index.max() >= len(self.prompts)):
            raise UserError("trajectory prompt_index points outside the prompt list")
        for name in ("images", "images_xt"):
            arr = getattr(self, name)
            if arr is not None and (arr.ndim != 5 or arr.shape[:2] != (S, I)):
                raise UserError(f"trajectory {name} must be ({S}, {I}, H, W, C), got {arr.shape}")
        if self.positions2d is not None and self.positions2d.shape != (S, I, 2):
            raise UserError(f"trajectory positions2d must be ({S}, {I}, 2), got {self.positions2d.shape}")
        if not np.isfinite(f).all():
            raise UserError("trajectory features contain NaN or infinity")

    def with_features(self, new_features: np.ndarray, /, **meta) -> "TrajectoryData":
        """A copy with new features `(S, I, D')` (same steps and instances); `meta` entries are added."""
        features = np.asarray(new_features, dtype=np.float32)
        if features.ndim != 3 or features.shape[:2] != self.features.shape[:2]:
            raise UserError(f"new features must be ({self.num_steps}, {self.num_instances}, D), got {features.shape}")
        return replace(self, features=features, meta={**self.meta, **meta})

    def image_rows(self) -> np.ndarray:
        """`(S,)` bool: rows whose images were made (a source that decodes only some steps lists them in
        `meta["image_steps"]`; the other rows' images are zeros). All False without images."""
        if self.images is None and self.images_xt is None:
            return np.zeros(self.num_steps, dtype=bool)
        rows = self.meta.get("image_steps")
        mask = np.zeros(self.num_steps, dtype=bool) if rows is not None else np.ones(self.num_steps, dtype=bool)
        if rows is not None:
            mask[np.asarray(rows, dtype=np.int64)] = True
        return mask

    def select_steps(self, rows) -> "TrajectoryData":
        """A copy with only steps `rows` (indices, increasing); `meta["selected_steps"]` records them."""
        rows = np.asarray(rows, dtype=np.int64)
        def pick(a):
            return None if a is None else a[rows]

        meta = {k: v for k, v in self.meta.items() if k != "image_steps"}
        meta["selected_steps"] = rows.tolist()
        return replace(self, features=self.features[rows], times=self.times[rows], images=pick(self.images),
                       images_xt=pick(self.images_xt), positions2d=pick(self.positions2d), meta=meta)

    def labels(self) -> list[str]:
        """The prompt of each instance, `(I,)`."""
        return [self.prompts[i] for i in self.prompt_index]

    # files --------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write an `.npz` atomically (temporary file in the same folder, then rename)."""
        header = {"format": FORMAT, "version": VERSION, "prompts": self.prompts,
                  "source": self.source, "meta": self.meta}
        return save_npz(npz_path(path), header, {name: getattr(self, name) for name in _ARRAYS}, "trajectory")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrajectoryData":
        """Read a file written by `save`; UserError on a missing, corrupt or foreign file."""
        header, arrays = load_npz(path, FORMAT, VERSION, _ARRAYS, ("features", "times", "prompt_index"),
                                  "trajectory", f"tdl sample --out {Path(path).name}",
                                  {"tdl-tree": "it is a tree: `tdl plot` or `tdl explore` it, or embed the "
                                               "trajectory it was made from"})
        return cls(prompts=list(header.get("prompts", [])), source=str(header.get("source", "unknown")),
                   meta=dict(header.get("meta", {})), **arrays)
