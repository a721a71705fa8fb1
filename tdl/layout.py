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
- *display coordinates*: each step's ring/band moves out to `centre_s = target_s + stretch * step`
  (reference `log_interim`, `stretch_offset = 35`). Radial: the radius grows with the step (noise in
  the centre, data outside); rectilinear: the x axis is the step (noise left, data right), y the cross
  axis. Two ways to move a ring (`DISPLAYS`):
  - "shift" (the reference): `along + stretch * step`. Rectilinear it is a translation (nothing
    changes); radial it stretches the ring's circumference by `centre_s / target_s` (up to 87x at
    step 49) and not its width, so a ring's 2D neighbourhoods become 1D arcs on screen.
  - "conformal" (default): radial rings are scaled across as much as along, `centre_s + k_s (along -
    target_s)` with `k_s = centre_s / target_s` (a locally uniform scaling: neighbourhoods kept),
    capped so that 99 % of the ring's points stay within `fill` of the way to its neighbours' rings
    (the rest are clamped to that edge). Rectilinear bands are translated, as "shift".
"""
from __future__ import annotations

import math

import torch

from sandbox.errors import UserError

LAYOUTS = ("radial", "rectilinear")
RADIUS = 20.0  # reference: radius = 20 (ring of steps >= 1 during optimisation)
STRETCH = 35.0  # reference: stretch_offset = 35 (display only)
DISPLAYS = ("conformal", "shift")
FILL = 0.8  # conformal display: a ring may fill 80 % of the space between its neighbours' centres


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


def stretch(Y: torch.Tensor, layout: str, offset: float = STRETCH, display: str = "shift",
            radius: float = RADIUS, fill: float = FILL) -> torch.Tensor:
    """Optimisation coordinates `(S, I, 2)` -> display coordinates `(S, I, 2)` (module docstring):
    "shift" `along += offset * step`; "conformal" also scales each radial ring's width with its
    circumference, within `fill` of the band."""
    if display not in DISPLAYS:
        raise UserError(f"unknown display {display!r}; choose one of {', '.join(DISPLAYS)}")
    along, across = split(Y, layout)
    steps = torch.arange(Y.shape[0], device=Y.device, dtype=Y.dtype)[:, None]
    if display == "shift" or layout != "radial" or Y.shape[0] < 2 or Y.shape[1] < 2:
        return join(along + offset * steps, across, layout)
    t = targets(Y.shape[0], layout, radius, device=Y.device, dtype=Y.dtype)[1:, None]  # (S-1, 1), all R
    c = t + offset * steps[1:]
    dev = along[1:] - t
    half = fill * offset / 2
    q = dev.abs().kthvalue(max(1, math.ceil(0.99 * Y.shape[1])), dim=1, keepdim=True).values.clamp_min(1e-12)
    k = torch.minimum(c / t, half / q)
    moved = c + (k * dev).clamp(-half, half)
    # step 0 is the disk in the centre (target 0): its radius stays as it is
    return join(torch.cat((along[:1], moved)), across, layout)


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
