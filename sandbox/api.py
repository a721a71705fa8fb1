"""The public Python API: plain data in, plain data out (docs/API.md).

    import sandbox
    data = sandbox.preset("moons")                  # a PointSet (points (N, 2) numpy, labels)
    model = sandbox.train(data, steps=600)          # numpy arrays, PointSets or a file path
    traj = sandbox.sample(model, 2000)              # a Trajectory in DATA coordinates
    sandbox.compare(traj.final, data).ratio         # ~1: as close as fresh data
    sandbox.animate(model).save("moons.html")       # one self-contained web page (or .gif/.mp4)

Everything here is a thin layer over the engine's own pieces (datasets/, train.py, bundle.py,
metrics.py, export.py, web/); they stay usable directly. Mistakes raise `sandbox.UserError`, a
`ValueError`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from sandbox.errors import Interrupted, UserError, interruptible, unknown_options

if TYPE_CHECKING:  # the heavy modules load on first use
    from sandbox.animation import Animation
    from sandbox.bundle import DiffusionModel
    from sandbox.datasets import PointSet
    from sandbox.metrics import Comparison
    from sandbox.train import TrainConfig, TrainEvent
    from sandbox.trajectory import Trajectory

PathLike = str | os.PathLike


# --- data ---------------------------------------------------------------------------------
def presets() -> list[str]:
    """Names of the built-in 2D data sets ("moons", "smiley", ...)."""
    from sandbox.datasets import preset_names

    return preset_names()


def preset(name: str = "moons", n: int = 2000, seed: int = 0, labels: bool = True) -> PointSet:
    """`n` points of a built-in data set (with class labels where it has classes)."""
    from sandbox.datasets import make_preset

    return make_preset(name, n=n, seed=seed, labels=labels)


def points(source: Any, n: int = 2000, seed: int = 0, labels: Any = None, name: str | None = None) -> PointSet:
    """Anything that describes 2D points -> a validated `PointSet`.

    source: an (N, 2) array-like (numpy, torch, nested lists), a PointSet, a file path (.csv /
    .txt / .npy, or a picture whose dark pixels become the density: n points drawn with seed), or
    a preset name. labels: optional (N,) whole numbers for array input.
    """
    from sandbox.datasets import PointSet, as_pointset, load_points, make_preset, preset_names

    if isinstance(source, PointSet):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if isinstance(source, str) and not path.suffix and not path.exists():
            try:
                return make_preset(source, n=n, seed=seed)
            except UserError:
                raise UserError(f"{source!r} is neither a file nor a preset; presets: "
                                f"{', '.join(preset_names())}") from None
        return load_points(path, n=n, seed=seed)
    return as_pointset(source, labels, name or "points")


# --- models -------------------------------------------------------------------------------
def _config(objective: str, steps: int | None, seed: int, config: TrainConfig | None,
            options: dict) -> TrainConfig:
    from dataclasses import fields

    from sandbox.train import TrainConfig

    base = config.to_dict() if config is not None else {}
    known = {f.name for f in fields(TrainConfig)}
    error = unknown_options(sorted(options), sorted(known), "training option", "TrainConfig has")
    if error is not None:
        raise error
    base.update(options)
    if config is None or objective != "flow":
        base["objective"] = objective
    if steps is not None:
        base["steps"] = steps
    if config is None or seed != 0:
        base["seed"] = seed
    return TrainConfig(**base)   # numpy's numbers become Python's there


# TrainConfig fields a warm start takes over from its init model (its network and objective)
ARCHITECTURE = ("prediction", "schedule", "T", "width", "depth", "time_embed_dim", "fourier", "fourier_scale",
                "conditional")


def training(data: Any, *, objective: str = "flow", steps: int | None = None, seed: int = 0,
             device: str = "auto", config: TrainConfig | None = None, init: DiffusionModel | None = None,
             **options) -> Iterator[TrainEvent]:
    """The training loop as a generator: one `TrainEvent(step, loss, score, baseline, model)` per
    optimiser step, for a progress display of your own. Arguments as `train`."""
    from sandbox.train import train as train_loop

    kwargs = {}
    if init is not None:
        kwargs["init"] = _check_init(init)
        if config is None:  # the network and objective it was trained with, unless told otherwise
            prior = init.config.get("train", {})
            options = {**{k: prior[k] for k in ARCHITECTURE if k in prior}, **options}
            if "objective" in prior and objective == "flow":
                objective = prior["objective"]
    cfg = _config(objective, steps, seed, config, options)
    from sandbox.datasets import TRAIN_DRAW

    # a preset name or a picture is a distribution: train on a large draw of it (datasets.TRAIN_DRAW)
    return _threads_while(train_loop(cfg, points(data, n=TRAIN_DRAW, seed=seed), device, **kwargs))


def _threads_while(events: Iterator[TrainEvent]) -> Iterator[TrainEvent]:
    """The CLI's CPU thread policy while the loop runs (sandbox/threads.py), restored after."""
    from sandbox.threads import thread_policy

    with thread_policy():
        yield from events


def _check_init(init: Any) -> DiffusionModel:
    import inspect

    from sandbox.bundle import DiffusionModel
    from sandbox.train import train as train_loop

    if "init" not in inspect.signature(train_loop).parameters:
        raise UserError("warm start (init=) is not available in this version of diffusion-sandbox")
    if not isinstance(init, DiffusionModel):
        raise UserError(f"init must be a DiffusionModel (from sandbox.train or sandbox.load), "
                        f"got {type(init).__name__}")
    return init


def train(data: Any, *, objective: str = "flow", steps: int | None = None, seed: int = 0,
          device: str = "auto", progress: bool = False, config: TrainConfig | None = None,
          init: DiffusionModel | None = None, **options) -> DiffusionModel:
    """Train a model on `data` and return it (a `DiffusionModel`).

    data: an (N, 2) array, a PointSet, a file path or a preset name (see `points`); a preset name or
    a picture is drawn with 20,000 points (`sandbox.datasets.TRAIN_DRAW`), arrays and files are used as they are.
    objective: "flow" (flow matching) or "ddpm"; steps: optimiser steps (default TrainConfig's);
    device: "auto" | "cpu" | "cuda" | "mps"; progress: show a progress bar;
    config: a TrainConfig to start from; init: a model to continue from (warm start);
    options: any other TrainConfig field (lr, batch_size, width, conditional, ema, ...).
    """
    events = training(data, objective=objective, steps=steps, seed=seed, device=device, config=config,
                      init=init, **options)
    event = None
    if progress:
        from sandbox.progress import progress_bar  # a widget in notebooks with ipywidgets, text elsewhere

        total = _config(objective, steps, seed, config, options).steps
        with progress_bar(total=total, unit="step", desc="train", leave=False) as bar:
            for event in _stop_cleanly(events, total):
                bar.update(event.step - bar.n)
                bar.set_postfix(loss=f"{event.loss:.4f}", refresh=False)
    else:
        for event in _stop_cleanly(events, _config(objective, steps, seed, config, options).steps):
            pass
    if event is None:
        raise UserError("training produced no model (0 steps?)")
    return event.model


def _stop_cleanly(events: Iterator[TrainEvent], total: int) -> Iterator[TrainEvent]:
    """Ctrl-C / Kernel > Interrupt: one line with the step it stopped at (not torch's frames)."""
    step = 0
    try:
        for event in events:
            step = event.step
            yield event
    except KeyboardInterrupt:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # the thread policy is given back now, not when the generator is collected
        raise Interrupted(f"training interrupted at step {step} of {total}; no model was kept: "
                          f"run the cell again (or fewer steps=)") from None


def load(path: PathLike, device: str = "cpu") -> DiffusionModel:
    """Read a model file (.safetensors written by `save` or `diffusion-sandbox train`)."""
    from sandbox.modelio import load_model

    if not Path(path).exists() and _is_preset(path):
        raise UserError(f"model file not found: {path}; the model shipped for the preset: sandbox.shipped({path!r})")
    return load_model(path, device=device)


def shipped(name: str, objective: str = "flow", device: str = "cpu") -> DiffusionModel:
    """The pre-trained model shipped for preset `name` (no training)."""
    from sandbox.modelio import load_model, shipped_model_path

    return load_model(shipped_model_path(name, objective), device=device)


def save(model: DiffusionModel, path: PathLike) -> Path:
    """Write `model` to `path` (.safetensors, atomically); returns the path."""
    from sandbox.modelio import save_model

    path = Path(path)
    if path.suffix.lower() != ".safetensors":  # as `train --out`: a .pt name would promise a torch pickle
        raise UserError(f"{path}: model files are safetensors (they hold no code); "
                        f"save to {path.with_suffix('.safetensors').name}")
    return save_model(model, path)


def sample(model: DiffusionModel, n: int = 2000, *, coords: str = "data", **options) -> Trajectory:
    """Sample `n` points; returns the whole `Trajectory` (`.final` = the samples, `.xs` every step).

    Coordinates are the data's unless `coords="canonical"` (the model's normalised space).
    options: sampler, steps, labels (class indices or names, one or one per sample), guidance,
    seed, device, ... (`DiffusionModel.sample`).
    """
    from sandbox.bundle import DiffusionModel

    if not isinstance(model, DiffusionModel):
        raise UserError(f"sample needs a model (from sandbox.train or sandbox.load), got {type(model).__name__}"
                        + _shipped_hint(model))
    if "labels" in options:
        options["labels"] = _class_indices(model, options["labels"])
    from sandbox.threads import thread_policy

    with thread_policy(), interruptible("sampling"):
        return model.sample(n, coords=coords, **options)


def _class_indices(model: DiffusionModel, labels: Any) -> Any:
    """Class names (one, or one per sample) -> indices; numbers pass through."""
    names = model.class_names
    one = isinstance(labels, str)
    if not one and not (isinstance(labels, (list, tuple)) and labels and isinstance(labels[0], str)):
        return labels
    wanted = [labels] if one else list(labels)
    unknown = sorted({w for w in wanted if w not in names})
    if unknown:
        have = ", ".join(names) if names else "none (trained without classes)"
        raise UserError(f"unknown class {', '.join(map(repr, unknown))}; the model's classes: {have}")
    index = [names.index(w) for w in wanted]
    return index[0] if one else index


def _is_preset(name: Any) -> bool:
    from sandbox.registry import PRESETS

    return isinstance(name, str) and name in PRESETS


def _shipped_hint(source: Any) -> str:
    """sandbox.sample("moons"): the student means the preset's model."""
    return f" {source!r}: for the preset's shipped model, sandbox.shipped({source!r})" if _is_preset(source) else ""


# --- pictures -----------------------------------------------------------------------------
def animate(source: Any, n: int = 2000, *, data: Any = True, contours: bool = True, traces: int = 100,
            title: str | None = None, **options) -> Animation:
    """An `Animation` of a model (sampled now: n particles, options as `sample`) or of a Trajectory.

    data: True = the training data kept in the model, False/None = none, or points (data coords).
    Shows an interactive player in notebooks; `.save("x.html" | "x.gif" | "x.mp4" | "x.png")`.
    """
    from sandbox.animation import Animation
    from sandbox.threads import thread_policy

    if _is_preset(source):
        raise UserError(f"animate needs a model or a Trajectory, got str{_shipped_hint(source)}")
    with thread_policy(), interruptible("sampling the animation"):
        return Animation.of(source, n=n, data=data, contours=contours, traces=traces, title=title, **options)


def render(source: Any, out: PathLike, n: int = 2000, **options) -> Path:
    """`animate(source, n, ...)` written to `out` (.html, .gif, .mp4 or .png); returns the path.
    options: animate's and sample's, and save's (size, fps, seconds, theme, at, progress)."""
    from sandbox.animation import SAVE_OPTIONS
    from sandbox.bundle import DiffusionModel

    if isinstance(source, DiffusionModel):  # a typo is matched against all three ('sizee': size)
        source.check_sample_options({k: v for k, v in options.items() if k not in SAVE_OPTIONS}, "render",
                                    ("n", "data", "contours", "traces", "title", *SAVE_OPTIONS))
    save_opts = {k: options.pop(k) for k in SAVE_OPTIONS if k in options}
    return animate(source, n, **options).save(out, **save_opts)


# --- measures -----------------------------------------------------------------------------
def _points_tensor(x: Any, what: str):
    import torch

    from sandbox.datasets import PointSet
    from sandbox.trajectory import Trajectory

    if isinstance(x, Trajectory):
        x = x.final
    if isinstance(x, PointSet):
        x = x.points
    if isinstance(x, torch.Tensor):
        t = x.detach().float().cpu()
    else:
        try:
            t = torch.as_tensor(np.asarray(x, dtype=np.float32))
        except (TypeError, ValueError):
            raise UserError(f"{what}: cannot read points from a {type(x).__name__}") from None
    if t.ndim != 2 or t.shape[0] < 2:
        raise UserError(f"{what}: need an (N, D) array of at least 2 points, got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise UserError(f"{what}: contains NaN or infinite coordinates")
    return t


def compare(samples: Any, data: Any, metric: str = "sw", seed: int = 0) -> Comparison:
    """How close `samples` are to `data`, relative to fresh data of the same size.

    Both: (N, 2) arrays / tensors, PointSets or Trajectories (their final step), in the same
    coordinates. Returns `Comparison(value, baseline, ratio)`; ratio ~1 is as good as it gets.
    """
    import torch

    from sandbox import metrics

    if metric not in metrics.METRICS:
        raise UserError(f"unknown metric {metric!r}; choose one of {', '.join(metrics.METRICS)}")
    a, b = _points_tensor(samples, "samples"), _points_tensor(data, "data")
    if a.shape[1] != b.shape[1]:
        raise UserError(f"samples have {a.shape[1]} coordinates but the data {b.shape[1]}")
    return metrics.compare(a, b, metric, generator=torch.Generator().manual_seed(seed))
