"""The payload of the animation player: particles noise -> data, trails, data, density contours.

Coordinates are quantised (encode.py); the view box is chosen here as the renderer does
(export.fit_viewport): centred on the samples and data, wide enough for most of the noise.
"""
from __future__ import annotations

import numpy as np

from sandbox.web.encode import quantize, quantize_steps
from sandbox.web.page import Player

MAX_PARTICLES = 20_000  # more would make a page of tens of MB; the player draws a subset
UNITS_PER_HALF = 1024  # coordinate steps per half view (encode.quantize_steps): 0.12 CSS px error at most; moons,
# 20,000 particles, Euler-Maruyama: 1.6 % of the changes per step need an escape (2048: 15 %, 0.8 MB more)


def view_box(xs: np.ndarray, data: np.ndarray | None, aspect: float, margin: float = 1.1) -> dict:
    """{"cx", "cy", "half"}: the shorter side of a frame of width/height `aspect` spans 2 * half."""
    targets = [xs[-1]] + ([data] if data is not None and len(data) else [])
    goal = np.concatenate(targets).astype(np.float64)
    allp = np.concatenate(targets + [xs[0]]).astype(np.float64)
    goal, allp = goal[np.isfinite(goal).all(1)], allp[np.isfinite(allp).all(1)]
    if not len(allp):
        return {"cx": 0.0, "cy": 0.0, "half": 3.0}
    goal = goal if len(goal) else allp
    center = 0.5 * (np.quantile(goal, 0.005, axis=0) + np.quantile(goal, 0.995, axis=0))
    lo, hi = np.quantile(allp, 0.01, axis=0), np.quantile(allp, 0.99, axis=0)
    half = np.maximum(np.abs(lo - center), np.abs(hi - center)) * margin
    w, h = (aspect, 1.0) if aspect >= 1 else (1.0, 1.0 / aspect)
    he = max(half[0] * min(w, h) / w, half[1] * min(w, h) / h, 1e-6)
    return {"cx": float(center[0]), "cy": float(center[1]), "half": float(he)}


def theme_colors(name: str = "dark") -> dict:
    """The colours of a `sandbox.view.Theme` ("dark", "light", "high-contrast") for the web views,
    so a page looks like the window and the videos in the same theme."""
    from sandbox.view.theme import Theme

    t = Theme.named(name)
    return {"name": t.name, "background": t.background, "panel": t.panel, "border": t.panel_border,
            "text": t.text, "dim": t.text_dim, "accent": t.accent, "particle": t.particle, "data": t.data,
            "data_alpha": t.data_strength, "trace": t.trace, "trace_alpha": t.trace_strength,
            "contour": list(t.contour), "classes": list(t.class_colors), "highlight": t.highlight}


def trajectory_player(traj, data=None, contours: bool = True, traces: int = 100, title: str = "",
                      class_names: list[str] | None = None, aspect: float = 4 / 3, theme: str = "dark") -> Player:
    """A `Player` for a Trajectory (any coordinates) with `data` (M, 2) in the same coordinates;
    theme: "dark", "light" or "high-contrast" (the window's and the videos' colours)."""
    d = traj.numpy()
    xs = np.asarray(d["xs"], dtype=np.float32)
    if xs.shape[-1] != 2:
        from sandbox.errors import UserError

        raise UserError(f"the web player shows 2D trajectories, got {xs.shape[-1]} coordinates")
    labels = d["labels"]
    if xs.shape[1] > MAX_PARTICLES:
        keep = np.sort(np.random.default_rng(0).choice(xs.shape[1], MAX_PARTICLES, replace=False))
        xs = xs[:, keep]
        labels = None if labels is None else labels[keep]
    data = None if data is None else np.asarray(getattr(data, "points", data), dtype=np.float32).reshape(-1, 2)
    view = view_box(xs, data, aspect)
    payload = {
        "title": title,
        # in units of 1/1024 of the view's half height (0.23 px of the 480 px canvas), as changes per step
        "xs": quantize_steps(xs, view["half"] / UNITS_PER_HALF, (view["cx"], view["cy"])),
        "ts": [round(float(t), 6) for t in d["ts"]],
        "labels": None if labels is None else [int(v) for v in labels],
        "classes": list(class_names or []),
        "data": None if data is None or not len(data) else quantize(data),
        "traces": int(min(traces, xs.shape[1])),
        "contours": bool(contours),
        "view": view,
        "aspect": aspect,
        "sampler": _display(d["sampler"]),
        "nfe": int(d["nfe"]),
        "theme": theme_colors(theme),
    }
    return Player("animation", payload, title or "diffusion sandbox animation")


def _display(sampler: str | None) -> str | None:
    """The sampler's display name from the registry (pages show names, never ids)."""
    from sandbox.registry import SAMPLERS
    return SAMPLERS[sampler].display if sampler and sampler in SAMPLERS else sampler
