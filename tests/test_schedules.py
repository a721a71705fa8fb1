"""Noise schedules, timesteps and paths against diffusers, closed forms and autograd."""
import math

import numpy as np
import pytest
import torch

from sandbox import paths, schedules
from sandbox.errors import UserError


def _ddpm_scheduler(**kw):
    diffusers = pytest.importorskip("diffusers")
    return diffusers.DDPMScheduler(clip_sample=False, **kw)


@pytest.mark.parametrize("T", [10, 100, 1000, 4000])
def test_alphas_cumprod_equal_diffusers(T):
    for ours, theirs in [(schedules.linear(T), "linear"), (schedules.cosine(T), "squaredcos_cap_v2")]:
        ref = _ddpm_scheduler(num_train_timesteps=T, beta_schedule=theirs)
        # diffusers works in float32; we keep float64
        assert torch.allclose(ours.betas, ref.betas.double(), rtol=1e-5, atol=1e-8)
        assert torch.allclose(ours.alphas_cumprod, ref.alphas_cumprod.double(), rtol=1e-4, atol=1e-9)
        assert ours.T == T and ours.betas.dtype == torch.float64


def test_linear_endpoints_and_cosine_cap():
    s = schedules.linear(1000, 1e-4, 0.02)
    assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    c = schedules.cosine(1000)
    assert float(c.betas.max()) == pytest.approx(0.999)  # the last beta hits the cap


@pytest.mark.parametrize("spacing", ["trailing", "leading", "linspace"])
@pytest.mark.parametrize("T", [50, 1000])
def test_timesteps_equal_diffusers(spacing, T):
    sched = schedules.linear(T)
    for offset in ([0, 1] if spacing == "leading" else [0]):
        ref = _ddpm_scheduler(num_train_timesteps=T, timestep_spacing=spacing, steps_offset=offset)
        for n in sorted({1, 2, 3, 7, 10, T // 3, T // 2, T - 1, T} - ({T} if offset else set())):
            ref.set_timesteps(n)
            ours = sched.timesteps(n, spacing, steps_offset=offset)
            theirs = ref.timesteps[:n]  # see test_trailing_never_has_a_stray_step
            assert torch.equal(ours, theirs.long()), (spacing, T, n)
            assert ours.dtype == torch.int64 and bool((ours[:-1] > ours[1:]).all())


def test_trailing_starts_at_pure_noise_and_never_has_a_stray_step():
    sched = schedules.linear(1000)
    ref = _ddpm_scheduler(num_train_timesteps=1000, timestep_spacing="trailing")
    ref.set_timesteps(61)
    assert len(ref.timesteps) == 62 and int(ref.timesteps[-1]) == -1  # diffusers' float-arange quirk
    for n in range(1, 1001):
        ts = sched.timesteps(n)
        assert len(ts) == n and int(ts[0]) == 999 and int(ts[-1]) >= 0 and len(torch.unique(ts)) == n


@pytest.mark.parametrize("bad", [0, -3, 1001, 2.5, True])
def test_bad_step_counts_are_user_errors(bad):
    with pytest.raises(UserError, match="steps"):
        schedules.linear(1000).timesteps(bad)


def test_bad_spacing_and_T_are_user_errors():
    with pytest.raises(UserError, match="spacing"):
        schedules.linear(100).timesteps(10, "uniform")
    with pytest.raises(UserError):
        schedules.linear(0)
    with pytest.raises(UserError, match="unknown schedule"):
        schedules.get_schedule("sigmoid")
    assert schedules.get_schedule("cosine", 50).T == 50


# --- paths ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [schedules.linear, schedules.cosine])
def test_ddpm_path_hits_the_grid(make):
    sched = make(1000)
    path = paths.DDPMPath(sched)
    i = torch.arange(1000)
    t = path.index_to_t(i)
    # t is float32, so log ab is off by at most |d log ab / dt| * (float32 spacing near t)
    err = (2 * torch.log(path.alpha(t).double()) - torch.log(sched.alphas_cumprod)).abs()
    slope = torch.diff(torch.log(sched.alphas_cumprod), prepend=torch.zeros(1)).abs() * 1000
    assert bool((err <= 1e-6 + slope * 1.2e-7).all())
    assert torch.equal(path.t_to_index(t), i)
    assert float(path.alpha(0.0)) == 1.0 and float(path.sigma(0.0)) == 0.0
    tt = torch.rand(500, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(path.alpha(tt) ** 2 + path.sigma(tt) ** 2, torch.ones(500), atol=1e-6)
    # log ab is linear in t between knots: halfway between two grid times, ab is the geometric mean
    mid = (t[:-1] + t[1:]) / 2
    geo = torch.sqrt(sched.alphas_cumprod[:-1] * sched.alphas_cumprod[1:])
    assert torch.allclose(path.alpha(mid).double() ** 2, geo, rtol=1e-4)


@pytest.mark.parametrize("path", [paths.FlowPath(), paths.DDPMPath(schedules.linear(1000)),
                                  paths.DDPMPath(schedules.cosine(100))], ids=repr)
def test_derivatives_match_autograd(path):
    # away from the knots (the interpolant has kinks there), at t where sigma > 0
    t = (torch.arange(1, 97, dtype=torch.float32) + 0.37) / 97
    t.requires_grad_(True)
    for f, df in [(path.alpha, path.d_alpha), (path.sigma, path.d_sigma)]:
        (g,) = torch.autograd.grad(f(t).sum(), t)
        assert torch.allclose(df(t.detach()), g, rtol=2e-3, atol=1e-5), f


def test_flow_path_closed_form_and_broadcasting():
    p = paths.FlowPath()
    t = torch.tensor([0.0, 0.25, 1.0])
    assert torch.equal(p.alpha(t), 1 - t) and torch.equal(p.sigma(t), t)
    assert p.alpha(0.3).shape == () and p.d_sigma(torch.tensor(0.3)).shape == ()
    d = paths.DDPMPath(schedules.linear(100))
    for tt in (0.5, torch.tensor(0.5), torch.full((4,), 0.5)):
        a = d.alpha(tt)
        assert a.dtype == torch.float32 and a.shape == torch.as_tensor(tt).shape


@pytest.mark.parametrize("path", [paths.FlowPath(), paths.DDPMPath(schedules.cosine(1000))], ids=repr)
def test_prediction_conversions_on_a_conditional_path(path):
    g = torch.Generator().manual_seed(1)
    x0, eps = torch.randn(64, 3, generator=g), torch.randn(64, 3, generator=g)
    for t in (0.4, torch.rand(64, generator=g) * 0.9 + 0.05):
        a, s = path.alpha(t), path.sigma(t)
        a, s = (c.reshape(-1, 1) if c.ndim else c for c in (a, s))
        x = a * x0 + s * eps
        assert torch.allclose(paths.eps_from_x0(path, x, t, x0), eps, atol=1e-4)
        assert torch.allclose(paths.x0_from_eps(path, x, t, eps), x0, atol=1e-4)
        v = paths.velocity_from_x0(path, x, t, x0)
        da, ds = (c.reshape(-1, 1) if c.ndim else c for c in (path.d_alpha(t), path.d_sigma(t)))
        assert torch.allclose(v, da * x0 + ds * eps, atol=1e-4)
        assert torch.allclose(paths.x0_from_velocity(path, x, t, v), x0, atol=1e-3)
        assert torch.allclose(paths.score_from_x0(path, x, t, x0), -eps / s, rtol=1e-4, atol=1e-4)


def test_sigma_ratio_inverse():
    path = paths.DDPMPath(schedules.cosine(1000))
    t = torch.linspace(0.0, 1.0, 2001)
    s = path.sigma_ratio(t)
    assert torch.allclose(path.t_from_sigma_ratio(s), t, atol=1e-5)
    grid = path.index_to_t(torch.arange(1000))
    ab = path.schedule.alphas_cumprod
    assert torch.allclose(path.sigma_ratio(grid).double(), torch.sqrt(1 / ab - 1), rtol=1e-4)
    assert math.isclose(float(path.t_from_sigma_ratio(0.0)), 0.0, abs_tol=1e-7)
    assert np.all(np.diff(s.numpy()) > 0)


@pytest.mark.parametrize("T", [20, 1000])
def test_power_spacing_crowds_steps_toward_the_data(T):
    """spacing "power": exactly n distinct descending indices from T-1 to >= 0 for every n, at
    tau_k = round(T (1 - k/n)^1.5) - 1 where the chain has room; the ancestral sampler's default."""
    import inspect

    from sandbox import samplers

    sched = schedules.linear(T)
    for n in range(1, T + 1):
        ts = sched.timesteps(n, "power")
        assert len(ts) == n and int(ts[0]) == T - 1 and int(ts.min()) >= 0 and bool((ts[1:] < ts[:-1]).all()), n
    ts = schedules.cosine(1000).timesteps(10, "power").tolist()
    assert ts == [round(1000 * (1 - k / 10) ** schedules.POWER_RHO) - 1 for k in range(10)]
    gaps = [a - b for a, b in zip(ts, ts[1:])]
    assert gaps == sorted(gaps, reverse=True)  # ever smaller steps toward the data
    assert inspect.signature(samplers.ddpm).parameters["spacing"].default == "power"
