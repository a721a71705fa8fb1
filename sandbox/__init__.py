"""diffusion-sandbox: a 2D diffusion sandbox for teaching (docs/API.md).

    import sandbox
    model = sandbox.train(sandbox.preset("moons"))
    traj = sandbox.sample(model, 2000)          # data coordinates
    sandbox.animate(traj)                       # an interactive player in a notebook

Attributes load on first use (module `__getattr__`), so `import sandbox` stays light: torch and
pygame load only when something needs them.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sandbox.errors import UserError


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return "0+unknown"
    try:
        return version("diffusion-sandbox")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"



# public name -> module that defines it (imported on first access)
_LAZY = {
    # data
    "presets": "sandbox.api", "preset": "sandbox.api", "points": "sandbox.api",
    "PointSet": "sandbox.datasets", "Normalizer": "sandbox.datasets",
    # models
    "training": "sandbox.api", "load": "sandbox.api", "save": "sandbox.api",
    "shipped": "sandbox.api", "sample": "sandbox.api",
    "TrainConfig": "sandbox.train", "TrainEvent": "sandbox.train", "DiffusionModel": "sandbox.bundle",
    "Trajectory": "sandbox.trajectory",
    # pictures and measures
    "animate": "sandbox.api", "render": "sandbox.api", "Animation": "sandbox.animation",
    "compare": "sandbox.api", "Comparison": "sandbox.metrics",
}
# submodules reachable as attributes; `train` is also callable: sandbox.train(data) (see train.py)
_SUBMODULES = ("train", "metrics", "datasets", "samplers", "web", "errors")

__all__ = [  # = sorted(_LAZY + train, metrics, UserError, __version__); tests/test_api.py checks
    "Animation", "Comparison", "DiffusionModel", "Normalizer", "PointSet", "TrainConfig", "TrainEvent",
    "Trajectory", "UserError", "__version__", "animate", "compare", "load", "metrics", "points", "preset",
    "presets", "render", "sample", "save", "shipped", "train", "training",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata costs ~20 ms: only when asked
        value: Any = _version()
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"sandbox.{name}")
    else:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


if TYPE_CHECKING:  # what type checkers and IDEs see
    __version__: str
    from sandbox import metrics, train
    from sandbox.animation import Animation
    from sandbox.api import (animate, compare, load, points, preset, presets, render, sample, save, shipped,
                             training)
    from sandbox.bundle import DiffusionModel
    from sandbox.datasets import Normalizer, PointSet
    from sandbox.metrics import Comparison
    from sandbox.train import TrainConfig, TrainEvent
    from sandbox.trajectory import Trajectory
