"""Multi-stage ODE samplers follow the probability-flow ODE from the first step, against a float64
`solve_ivp` (DOP853, rtol 1e-10) solution on the exact mixture denoiser; default steps fit short chains.

Measured (200 particles, eight_gaussians oracle, RMS distance to the reference), cosine schedule:
midpoint before the float64 noise level: first step 0.39 (10 steps) / 0.034 (100), final 0.052 /
4.5e-3; after: first step 8.6e-3 / 8.4e-5 (Euler's own first-step error), final 0.026 / 2.1e-4.
"""
import functools
import math

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from sandbox import oracle, paths, registry, samplers, schedules

MIX = oracle.eight_gaussians()
N = 200


def _x0(x, a, s):
    """The mixture's exact E[x0 | x_t] in float64 (isotropic components)."""
    w, mu, var = MIX.weights.double().numpy(), MIX.means.double().numpy(), MIX.covs.double().numpy()[:, 0, 0]
    d = a * a * var + s * s
    diff = x[:, None, :] - a * mu[None]
    logits = np.log(w)[None] - np.log(2 * np.pi * d)[None] - 0.5 * (diff ** 2).sum(-1) / d[None]
    r = np.exp(logits - logits.max(1, keepdims=True))
    r /= r.sum(1, keepdims=True)
    return (r[..., None] * (mu[None] + (a * var / d)[None, :, None] * diff)).sum(1)


def _reference(x_T: np.ndarray, levels: list[float]) -> list[np.ndarray]:
    """x at each Karras level s (sigma / alpha) after levels[0], from x_T at levels[0]: dy/ds = eps."""
    n = len(x_T)

    def f(s, yflat):
        y = yflat.reshape(n, 2)
        a = 1.0 / math.sqrt(1.0 + s * s)
        x = a * y
        return ((x - a * _x0(x, a, s * a)) / (s * a)).ravel()

    ends = [max(s, 1e-9) for s in levels[1:]]  # s = 0 itself: eps is 0/0 there; 1e-9 moves x by ~1e-9
    y0 = x_T.astype(np.float64).ravel() * math.sqrt(1.0 + levels[0] ** 2)
    sol = solve_ivp(f, (levels[0], ends[-1]), y0, t_eval=ends, method="DOP853", rtol=1e-10, atol=1e-10)
    return [sol.y[:, k].reshape(n, 2) / math.sqrt(1.0 + s * s) for k, s in enumerate(ends)]


def _x_T() -> torch.Tensor:
    return torch.randn(N, 2, generator=torch.Generator().manual_seed(0))


@functools.lru_cache(maxsize=None)
def _reference_at(levels: tuple[float, ...]) -> list[np.ndarray]:
    """The reference from the one x_T, solved once per grid: the samplers compared on one grid (midpoint
    and Euler, Heun and midpoint) share it, as they share x_T."""
    return _reference(_x_T().numpy(), list(levels))


def _errors(path, name, steps):
    x_T = _x_T()
    _, abs_ = samplers._ddpm_grid(path.schedule, steps, "trailing")
    ref = _reference_at(tuple(math.sqrt(1.0 / float(ab) - 1.0) for ab in abs_))
    xs = samplers.run(oracle.MixtureField(MIX, path), name, x_T, steps).xs.double().numpy()

    def rms(a, b):
        return float(np.sqrt(((a - b) ** 2).sum(1).mean()))
    return rms(xs[1], ref[0]), rms(xs[-1], ref[-1])


COSINE = paths.DDPMPath(schedules.cosine(1000))


def test_midpoint_follows_the_cosine_pf_ode_from_the_first_step():
    e = {(m, s): _errors(COSINE, m, s) for m in ("midpoint", "euler") for s in (10, 100)}
    for steps in (10, 100):
        # its first step is as good as Euler's (was 45x / 390x worse)
        assert e["midpoint", steps][0] <= 1.2 * e["euler", steps][0]
    assert e["midpoint", 10][1] < 0.035 and e["midpoint", 100][1] < 1e-3
    assert e["midpoint", 10][1] / e["midpoint", 100][1] > 50  # second order: ~100x for 10x the steps
    assert e["euler", 100][1] > 10 * e["midpoint", 100][1]


def test_heun_on_ddpm_is_described_as_first_order():
    lin = paths.DDPMPath(schedules.linear(1000))
    _, heun = _errors(lin, "heun", 100)
    _, mid = _errors(lin, "midpoint", 100)
    assert heun > 5 * mid  # the Euler step into sigma = 0 dominates ...
    assert "first order" in samplers.SAMPLERS["heun"].tooltip  # ... and the registry says so


@pytest.mark.parametrize("objective_T", [20, 100])
def test_short_chains_train_and_sample_with_defaults(objective_T):
    from sandbox.datasets import make_preset
    from sandbox.train import TrainConfig, train

    cfg = TrainConfig(objective="ddpm", T=objective_T, steps=3, eval_every=2, eval_samples=200, width=16, depth=1)
    for ev in train(cfg, make_preset("moons", n=200)):
        pass
    assert ev.score is not None
    for name in registry.samplers_for("ddpm"):
        traj = ev.model.sample(20, sampler=name)
        assert traj.steps == min(registry.SAMPLERS[name].default_steps, objective_T)
