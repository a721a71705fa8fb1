"""`Animation`: a trajectory plus what is drawn with it, shown inline in notebooks and saved to
a web page, GIF, MP4 or PNG.

    anim = Animation.of(model, n=2000)        # samples now (data coordinates)
    anim                                      # in Jupyter: the interactive player (sandbox/web)
    anim.save("moons.html")                   # one self-contained page; .gif / .mp4 / .png too
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.errors import UserError, interruptible
from sandbox.trajectory import Trajectory

VIDEO_EXTS = (".gif", ".mp4", ".png")
WEB_EXTS = (".html", ".htm")
SAVE_OPTIONS = ("size", "fps", "seconds", "theme", "at", "progress")  # Animation.save's


@dataclass
class Animation:
    """traj: the particles (any coordinates); data: (M, 2) points in the same coordinates or None;
    contours: density contour lines; traces: how many particles leave a trail; title: a caption;
    class_names: the legend of a class-conditional model's colours."""

    traj: Trajectory
    data: np.ndarray | None = None
    contours: bool = True
    traces: int = 100
    title: str = ""
    class_names: tuple[str, ...] = ()
    normalizer: Any = None  # the model's (data <-> canonical), for videos of data-coordinate trajectories

    @classmethod
    def of(cls, source: Any, n: int = 2000, data: Any = True, contours: bool = True, traces: int = 100,
           title: str | None = None, **options) -> "Animation":
        """From a DiffusionModel (sampled now, data coordinates; options as its `sample`) or a
        Trajectory. data: True = the model's stored training data, None/False = none, or points."""
        from sandbox.bundle import DiffusionModel

        later = [k for k in options if k in SAVE_OPTIONS]
        if later:  # animate(model, theme="light"): the theme is the page's, chosen when saving
            raise UserError(f"{later[0]} is chosen when saving: sandbox.animate(...).save('x.html', {later[0]}=...)")
        model = None
        if isinstance(source, DiffusionModel):
            from sandbox.api import sample  # class names as labels, too

            model = source
            model.check_sample_options(options, "animate", ("n", "data", "contours", "traces", "title"))
            traj = sample(model, n, **options)
        elif isinstance(source, Trajectory):
            if options:
                raise UserError(f"sampling options ({', '.join(options)}) need a model, not a trajectory")
            traj = source
        else:
            raise UserError(f"animate needs a model or a Trajectory, got {type(source).__name__}")
        if isinstance(traces, bool) or not isinstance(traces, (int, np.integer)) or traces < 0:
            raise UserError(f"traces must be a whole number >= 0, got {traces}")
        points = _data_points(data, model, traj)
        if title is None:
            title = _title(model, traj)
        names = tuple(model.class_names) if model is not None and model.num_classes else ()
        return cls(traj.to("cpu"), points, bool(contours), int(traces), str(title), names,
                   model.normalizer if model is not None else None)

    def __repr__(self) -> str:
        data = "no data" if self.data is None else f"{len(self.data)} data points"
        return (f"Animation({self.traj!r}, {data}, contours {'on' if self.contours else 'off'}, "
                f"{self.traces} traces, title {self.title!r})")

    # --- notebooks and web pages --------------------------------------------------------------
    def player(self, theme: str = "dark"):
        """The web player (`sandbox.web.Player`): `.fragment()` for notebooks, `.page()` / `.save()`."""
        from sandbox.web import trajectory_player

        return trajectory_player(self.traj, data=self.data, contours=self.contours, traces=self.traces,
                                 title=self.title, class_names=list(self.class_names), theme=theme)

    def _repr_html_(self) -> str:
        return self.player().fragment()

    # --- files -------------------------------------------------------------------------------
    def save(self, out: str | os.PathLike, *, size: Any = (1280, 720), fps: float = 30,
             seconds: float = 6.0, theme: str = "dark", at: float = 1.0, progress: bool = False) -> Path:
        """Write .html (interactive page, opens offline), .gif / .mp4 (video) or .png (the frame
        at progress `at`), in `theme` ("dark", "light", "high-contrast"); returns the path."""
        out = Path(out)
        with interruptible(f"writing {out.name}", "the file was left as it was"):  # atomic writes
            return self._save(out, size, fps, seconds, theme, at, progress)

    def _save(self, out: Path, size: Any, fps: float, seconds: float, theme: str, at: float,
              progress: bool) -> Path:
        ext = out.suffix.lower()
        if ext in WEB_EXTS:
            return self.player(theme).save(out)
        if ext not in VIDEO_EXTS:
            raise UserError(f"{out}: unknown output type '{ext or '(none)'}'; use .html, .gif, .mp4 or .png")
        from sandbox.export import export_animation, export_frame
        from sandbox.view import Theme, ViewOptions

        traj, data = self._canonical()
        options = ViewOptions(contours=self.contours, trajectories=self.traces > 0, data=data is not None)
        common = dict(size=size, data=data, options=options, theme=Theme.named(theme),
                      label=self.title or None, traces=self.traces)
        if ext == ".png":
            return export_frame(traj, out, progress=at, **common)
        return export_animation(traj, out, fps=fps, seconds=seconds, progress_bar=progress, **common)

    def _canonical(self) -> tuple[Trajectory, np.ndarray | None]:
        """The renderer draws its faint unit grid in world units: give it canonical coordinates
        (the model's, or fitted to the samples), as the CLI does, whatever the data's units."""
        if self.traj.coords == "canonical":
            return self.traj, self.data
        from dataclasses import replace

        from sandbox.datasets import Normalizer

        norm = self.normalizer
        if norm is None:
            final = self.traj.final.detach().cpu().numpy().astype(np.float64)
            final = final[np.isfinite(final).all(axis=1)]
            norm = Normalizer.fit(final) if len(final) > 1 else Normalizer.identity()
        traj = replace(self.traj, xs=norm.forward(self.traj.xs), coords="canonical")
        return traj, None if self.data is None else np.asarray(norm.forward(self.data), dtype=np.float32)


def _data_points(data: Any, model, traj: Trajectory) -> np.ndarray | None:
    if data is None or data is False:
        return None
    if data is True:
        if model is None or not len(model.data_sample()):
            return None
        pts = model.data_sample()
        return pts if traj.coords == "data" else np.asarray(model.normalizer.forward(pts), dtype=np.float32)
    from sandbox.datasets import as_pointset

    return as_pointset(data, name="data").points


def _title(model, traj: Trajectory) -> str:
    """'two moons  ·  flow matching  ·  Euler–Maruyama 100 steps': display names, never registry ids
    (the same caption as `diffusion-sandbox render`)."""
    from sandbox.registry import PRESETS, SAMPLERS

    bits = []
    if model is not None:
        name = str(model.data_summary.get("name") or "")
        bits += [PRESETS[name].display if name in PRESETS else name,
                 "flow matching" if model.kind == "flow" else "DDPM"]
    sampler = SAMPLERS[traj.sampler].display if traj.sampler in SAMPLERS else (traj.sampler or "sampler")
    bits.append(f"{sampler} {traj.steps} steps")
    return "  \u00b7  ".join(b for b in bits if b)
