"""Which layers a frame shows; each toggled on its own (window keys, CLI flags, lessons)."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class ViewOptions:
    """The first view is calm: particles and data; every other layer is one click away."""

    particles: bool = True
    trajectories: bool = False
    contours: bool = False
    field: bool = False       # the model's vector field at the current time
    mesh: bool = False        # a grid of noise carried by the sampler
    data: bool = True         # the training data, faintly behind
    label: bool = True        # time label "t = 0.42 · step 12/50"
    axes: bool = True         # faint unit grid
    legend: bool = True       # "data / samples" key at the bottom right

    def toggled(self, name: str) -> "ViewOptions":
        if name not in LAYERS:
            raise KeyError(name)
        return replace(self, **{name: not getattr(self, name)})


LAYERS = tuple(f.name for f in fields(ViewOptions))
