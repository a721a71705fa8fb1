"""Layouts: where each step's points are pulled during optimisation, and the stretch for display.

Two coordinate systems, both `(S, I, 2)`:
- *optimisation coordinates* (what `embedding.iterate` moves): plain Cartesian points. The layout
  reads them as `(along, across)`: along the step axis (displacement pulls it to the step's target)
  and across it (the alignment loss compares it between consecutive steps).
  - radial: `along = rho` (radius), `across = phi` (angle, radians). Targets: step 0 -> 0 (a disk
    in the centre), every later step -> `radius` (as the reference code, `radii = [20]*S; radii[0] = 0`).
  - rectilinear: `along = Y[..., 0]`, `across = Y[..., 1]`. Target 0 for every step.
  During optimisation all steps share one ring/band (the reference's "dummy radius"); steps are
  pulled apart only for display.
- *display coordinates*: `along + stretch * step` (reference `log_interim`, `stretch_offset = 35`).
  Radial: the radius grows with the step (noise in the centre, data outside); rectilinear: the x axis
  is the step (noise left, data right) and y is the cross axis.
"""
from __future__ import annotations

import math

import torch

from sandbox.errors import UserError

LAYOUTS = ("radial", "rectilinear")
RADIUS = 20.0  # reference: radius = 20 (ring of steps >= 1 during optimisation)
STRETCH = 35.0  # reference: stretch_offset = 35 (display only)


def check_layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise UserError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    return layout


def targets(num_steps: int, layout: str, radius: float = RADIUS, device=None,
            dtype=torch.float32) -> torch.Tensor:
    """Target of the `along` coordinate for each step, `(S,)`: radial [0, R, R, ...], rectilinear 0."""
    check_layout(layout)
    out = torch.zeros(num_steps, device=device, dtype=dtype)
    if layout == "radial" and num_steps > 1:
        out[1:] = radius
    return out


def to_polar(Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cartesian `(..., 2)` -> `(rho, phi)` with `phi` in [0, 2 pi) (reference `cart2pol`)."""
    rho = torch.sqrt(Y[..., 0] ** 2 + Y[..., 1] ** 2)
    phi = torch.remainder(torch.atan2(Y[..., 1], Y[..., 0]), 2 * math.pi)
    return rho, phi


def from_polar(rho: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """`(rho, phi)` -> Cartesian `(..., 2)` (reference `pol2cart`)."""
    return torch.stack((rho * torch.cos(phi), rho * torch.sin(phi)), dim=-1)


def split(Y: torch.Tensor, layout: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Optimisation coordinates `(S, I, 2)` -> `(along, across)`, each `(S, I)`."""
    if check_layout(layout) == "radial":
        return to_polar(Y)
    return Y[..., 0], Y[..., 1]


def join(along: torch.Tensor, across: torch.Tensor, layout: str) -> torch.Tensor:
    """Inverse of `split`: `(along, across)` -> `(S, I, 2)`."""
    if check_layout(layout) == "radial":
        return from_polar(along, across)
    return torch.stack((along, across), dim=-1)


def stretch(Y: torch.Tensor, layout: str, offset: float = STRETCH) -> torch.Tensor:
    """Optimisation coordinates `(S, I, 2)` -> display coordinates `(S, I, 2)`: `along += offset * step`."""
    along, across = split(Y, layout)
    steps = torch.arange(Y.shape[0], device=Y.device, dtype=Y.dtype)[:, None]
    return join(along + offset * steps, across, layout)


def centres(num_steps: int, layout: str, radius: float = RADIUS, offset: float = STRETCH) -> torch.Tensor:
    """Display position of each step's ring/band along the step axis, `(S,)` float64."""
    t = targets(num_steps, layout, radius, dtype=torch.float64)
    return t + offset * torch.arange(num_steps, dtype=torch.float64)


def edges(num_steps: int, layout: str, radius: float = RADIUS, offset: float = STRETCH) -> torch.Tensor:
    """Boundaries between the steps' rings/bands in display coordinates, `(S + 1,)`.

    Midpoints between consecutive centres; the outer edges are -inf/+inf (radial: 0 is the inner edge).
    """
    c = centres(num_steps, layout, radius, offset)
    inner = 0.0 if layout == "radial" else -math.inf
    mids = (c[1:] + c[:-1]) / 2
    return torch.cat((torch.tensor([inner], dtype=c.dtype), mids, torch.tensor([math.inf], dtype=c.dtype)))


def display_along(Y_display: torch.Tensor, layout: str) -> torch.Tensor:
    """The step-axis coordinate of display points `(S, I, 2)` -> `(S, I)` (radius or x)."""
    return split(Y_display, layout)[0]
