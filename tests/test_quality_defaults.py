"""Final quality of a default `train` (no flags), a fast subset of bench/quality_defaults.py.

The full table (every preset and the held-out sets, both objectives, several training draws each) is
in docs/BENCHMARKS.md. This test holds three runs that measured inside the issue's bar (ratio <= 1.2
and <= 1% of samples beyond 4 noise scales) on the first training draw, at the bar itself, so a
change that loses it fails: three_modes flow 0.86 / 0.00%, iid_moons flow 1.10 / 0.00%,
eight_gaussians DDPM 1.05 / 0.00% (torch 2.13 CPU, defaults of session 16: batch 384 x 800 steps,
DDPM predicting v; training data drawn as the CLI draws it).
"""
import numpy as np
import pytest

from sandbox import quality
from sandbox.train import STOP_CAP, STOP_CONVERGED, TrainConfig


def _defaults(name, objective):
    r = quality.train_and_score(name, TrainConfig(objective=objective))  # drawn as the CLI draws it
    return r, r["scores"][0]["ratio"], r["scores"][0]["far"]


@pytest.mark.slow
@pytest.mark.parametrize("name,objective,max_ratio", [("three_modes", "flow", 1.2), ("iid_moons", "flow", 1.2),
                                                      ("eight_gaussians", "ddpm", 1.2)])
def test_default_training_quality(name, objective, max_ratio):
    r, ratio, far = _defaults(name, objective)
    assert r["stopped"] in (STOP_CAP, STOP_CONVERGED) and r["steps"] <= TrainConfig().steps
    assert ratio <= max_ratio and far <= 0.01, (ratio, far)


def test_quality_measures_know_the_answer():
    draw, sigma = quality.HELDOUT["grid_5x5"]
    fresh = [draw(2000, 500 + k) for k in range(4)]
    assert 0.85 < quality.sw_ratio(fresh, draw) < 1.15  # fresh data scores as data
    assert quality.far_fraction(np.concatenate(fresh), draw(20000, 99), sigma) == 0.0
    assert 0.9 < quality.near_ratio(fresh[0], draw(20000, 99), draw(2000, 98)) < 1.1
    blurred = fresh[0] + 2 * sigma * np.random.default_rng(0).standard_normal(fresh[0].shape)
    assert quality.near_ratio(blurred, draw(20000, 99), draw(2000, 98)) > 1.5  # clusters drawn 2.2x as wide
    between = draw(2000, 7) + 0.5  # every point moved to the middle between four clusters
    assert quality.far_fraction(between, draw(20000, 99), sigma) > 0.99
    assert quality.sw_ratio([between], draw) > 2
