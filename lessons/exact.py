"""Exact denoisers shown in the window where a trained model would be.

Two lessons need a model with no training error: few-step sampling (then only the sampler's
error is left to see) and the ideal memorising denoiser (the subject of the lesson). The window's
`engine.ExactModel` dresses a `sandbox.oracle` field as a model; here we build the two fields in
the canonical frame of the drawing and hand the result to the state.
"""
from __future__ import annotations

import numpy as np
import torch

from sandbox.datasets import MIXTURES, Normalizer
from sandbox.oracle import MixtureField, PointSetField
from sandbox.paths import FlowPath


def mixture_model(preset: str, points: np.ndarray):
    """The exact denoiser (flow path) of preset `preset`'s Gaussian mixture (eight_gaussians,
    three_modes), normalised like a model trained on `points` (N, 2), the drawing behind it.
    Component k is class k (named "mode k", as the preset's labels)."""
    from sandbox.app.engine import ExactModel

    norm = Normalizer.fit(np.asarray(points, np.float64))
    spec = MIXTURES[preset].normalized(norm.center, norm.scale)
    names = [f"mode {i}" for i in range(len(spec.weights))]
    return ExactModel(MixtureField(spec.oracle(), FlowPath()), norm, preset, names)


def point_set_model(points: np.ndarray, name: str = "drawing"):
    """The ideal denoiser (flow path) of the finite point set (N, 2): E[x0 | x_t] over exactly
    these points, so every sample lands on one of them."""
    from sandbox.app.engine import ExactModel

    pts = np.asarray(points, np.float64)
    norm = Normalizer.fit(pts)
    z = torch.as_tensor(norm.forward(pts), dtype=torch.float32)
    return ExactModel(PointSetField(z, FlowPath()), norm, name)


def is_exact(model) -> bool:
    from sandbox.app.engine import ExactModel

    return isinstance(model, ExactModel)


def use_model(state, model) -> None:
    """Make `model` the one that panes asking for its kind show.

    Uses AppState.use_model when it has one; otherwise does what that action would through the
    state's public attributes (models, models_stale, resample).
    """
    fn = getattr(state, "use_model", None)
    if callable(fn):
        fn(model)
        return
    from sandbox.app import engine

    state.models[engine.model_key(model)] = model
    state.models_stale = False
    state.resample()


def start_on_mixture(state, preset: str, sampler: str, steps: int) -> None:
    """The set-up the exact-model lessons share: one pane, the preset, a flow pane with `sampler`
    at `steps`, showing the exact denoiser of the preset's mixture (no training)."""
    from sandbox.app import names

    state.set_compare(False)
    before = {id(m) for m in state.messages}
    state.set_preset(preset)
    # set_preset's "pretrained flow matching and DDPM model loaded" is not what the pane shows
    state.messages = [m for m in state.messages if id(m) in before]
    state.set_pane(0, objective="flow", sampler=sampler, steps=steps)
    use_model(state, mixture_model(preset, state.drawing.points))
    state.say(f"{names.display('preset', preset)}: the exact denoiser of its Gaussian mixture (no training)")


def _density(spec, t: float, extent: float, side: int) -> np.ndarray:
    """(side, side) closed-form density of x_t = (1 - t) x0 + t eps for the Gaussian mixture `spec`
    (canonical coordinates) on a grid over [-extent, extent]^2:
    p_t = sum_k w_k N((1 - t) mu_k, (1 - t)^2 C_k + t^2 I)."""
    g = np.linspace(-extent, extent, side)
    xx, yy = np.meshgrid(g, g)
    x = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], 1), dtype=torch.float64)
    mix = spec.oracle()
    logp = mix.log_prob(x.to(mix.means.dtype), alpha=1.0 - float(t), sigma=max(float(t), 1e-4))
    return logp.exp().reshape(side, side).numpy()


def marginal_peaks(spec, t: float, extent: float = 3.5, side: int = 141, floor: float = 1e-3) -> int:
    """Number of local maxima of the density of x_t = (1 - t) x0 + t eps (the flow path's forward
    process) for the Gaussian mixture `spec` (a MixtureSpec, canonical coordinates), on a side x side
    grid over [-extent, extent]^2; bumps below `floor` x the highest are ignored."""
    return _peaks(_density(spec, t, extent, side), floor)


def ring_pieces(spec, t: float, extent: float = 3.5, side: int = 141) -> int:
    """Most separate pieces any of the window's contour rings has at time t, for the closed-form
    density: the regions of highest density holding 25/50/75/90% of the mass (`sandbox.view.density`'s
    levels, what the contours draw), each counted as connected regions of the grid. 1 = every ring is
    one ring. The density can still have a second, weaker peak once the rings have joined: that peak
    lies inside a ring, which then looks like a peanut."""
    return _rings(_density(spec, t, extent, side))


def _peaks(p: np.ndarray, floor: float = 1e-3) -> int:
    side = p.shape[0]
    inner = p[1:-1, 1:-1]
    neigh = np.stack([p[1 + dy: side - 1 + dy, 1 + dx: side - 1 + dx]
                      for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx])
    return int(((inner > neigh.max(0)) & (inner >= floor * p.max())).sum())


def _rings(p: np.ndarray) -> int:
    from scipy import ndimage

    from sandbox.view.density import MASS_LEVELS, mass_thresholds

    return max(int(ndimage.label(p >= level)[1]) for level in mass_thresholds(p, MASS_LEVELS))


def merge_times(spec, resolution: float = 0.01) -> tuple[float, float]:
    """(rings, peak): the smallest t (on a grid of `resolution`) at which every contour ring of the
    forward-process density of `spec` (canonical coordinates) is one piece, and at which the density
    has a single peak. The rings join first: for three_modes 0.38 and 0.40."""
    rings = None
    for t in np.arange(0.0, 1.0 + 1e-9, resolution):
        p = _density(spec, float(t), 3.5, 141)
        if rings is None and _rings(p) <= 1:
            rings = float(round(t, 6))
        if rings is not None and _peaks(p) <= 1:
            return rings, float(round(t, 6))
    return (1.0 if rings is None else rings), 1.0


def canonical_spec(preset: str, points: np.ndarray):
    """MIXTURES[preset] in the canonical frame of a model fitted to `points` (N, 2)."""
    norm = Normalizer.fit(np.asarray(points, np.float64))
    return MIXTURES[preset].normalized(norm.center, norm.scale)
