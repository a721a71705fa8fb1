"""What the checks measure in the window's state: the samples a pane shows and numbers about them.

Everything reads `AppState` (panes, models, drawing, settings) and computes with `sandbox.metrics`
and plain torch; nothing here changes the state. Points are in data coordinates (what the window
shows) unless a name says canonical.
"""
from __future__ import annotations

import numpy as np
import torch

from sandbox import metrics
from sandbox.samplers import SAMPLERS


def model_of(state, i: int = 0):
    """The model pane i's settings ask for, or None."""
    return state.models.get(state.panes[i].settings.model_key())


def sampling_pending(state) -> bool:
    fn = getattr(state, "busy", None)
    if callable(fn):
        return bool(fn())
    tasks = getattr(state, "_tasks", None)  # no public flag yet (reported)
    return bool(tasks is not None and tasks.busy())


def pane_result(state, i: int = 0):
    """(Sampled, "") when pane i shows samples of its current settings, else (None, why not)."""
    if state.training.running:
        return None, (f"training is still running (step {state.training.step}/{state.training.total}): "
                      "wait for it to finish")
    if i == 1 and not state.compare:
        return None, "compare mode is off: press C to show the second pane"
    pane = state.panes[i]
    if model_of(state, i) is None:
        return None, pane.note or "there is no model for these settings yet: press Train"
    if sampling_pending(state):
        return None, "still sampling: press Check again in a moment"
    s = pane.sampled
    if s is None:
        return None, pane.note or "nothing sampled yet"
    if s.traj.sampler != pane.settings.sampler or s.traj.steps != pane.settings.steps:
        return None, "the pane is still showing older samples: press Check again in a moment"
    return s, ""


def final(sampled) -> torch.Tensor:
    """(N, 2) the samples of a pane (data coordinates)."""
    return sampled.traj.xs[-1].float()


def straightness(sampled) -> float:
    """Mean chord / path length over particles (sandbox.metrics): 1 = straight lines."""
    return float(metrics.straightness(sampled.traj))


def late_share(sampled, last: float = 0.5) -> float:
    """Mean over particles of the share of its path length covered in the last `last` of the steps
    (0.5 = the second half): about 0.5 when a particle moves evenly in time."""
    xs = sampled.traj.xs.float()
    seg = (xs[1:] - xs[:-1]).norm(dim=-1)                    # (S, N)
    k = int(round(seg.shape[0] * (1.0 - last)))
    total = seg.sum(0).clamp(min=1e-12)
    return float((seg[k:].sum(0) / total).mean())


def is_stochastic(sampler: str) -> bool:
    return bool(SAMPLERS[sampler].stochastic)


def quality(samples: torch.Tensor, points, seed: int = 0, repeats: int = 6) -> dict:
    """How close samples (n, 2) are to a finite data set `points` (M, 2), against data itself.

    Split the data into two random halves A and B; value = SW(samples, A), baseline = SW(B, A),
    both at |B| points and averaged over `repeats` splits. B is a genuine independent sample, so
    the baseline is fair (resampling one set with replacement would share points and read too
    low). ratio = value / baseline: about 1 = as good as more data; sandbox.metrics' SW2.
    """
    # the one function the window's score panel uses too: the same number in both places
    c = metrics.split_half(samples, np.asarray(points, np.float32), seed=seed, repeats=repeats)
    return {"sw": c.value, "baseline": c.baseline, "ratio": c.ratio}


def times(r: float) -> str:
    """A ratio as the panel prints it: 1.37×, or >100× for a sampler that blew up."""
    return f"{r:.2f}×" if r < 100 else ">100×"


def nearest(samples: torch.Tensor, points) -> tuple[torch.Tensor, torch.Tensor]:
    """Distance (n,) and index (n,) of each sample's nearest point in `points` (M, 2)."""
    pts = torch.as_tensor(np.asarray(points, np.float32))
    d = torch.cdist(samples.float(), pts, compute_mode="donot_use_mm_for_euclid_dist")
    dist, idx = d.min(dim=1)
    return dist, idx


def class_purity(samples: torch.Tensor, points, labels, cls: int) -> float:
    """Share of samples whose nearest data point belongs to class `cls` (non-finite samples never do)."""
    _, idx = nearest(samples, points)
    lab = torch.as_tensor(np.asarray(labels)).long()
    ok = torch.isfinite(samples).all(dim=1)
    return float(((lab[idx] == int(cls)) & ok).float().mean())


def copy_fraction(samples: torch.Tensor, points, radius: float) -> float:
    """Share of samples within `radius` of some training point (copies of the data)."""
    dist, _ = nearest(samples, points)
    return float((dist <= radius).float().mean())


def rms_radius(points) -> float:
    """Size of a data set: RMS distance to its mean (the canonical unit of the models)."""
    p = np.asarray(points, np.float64)
    return float(np.sqrt(((p - p.mean(0)) ** 2).sum(1).mean()))
