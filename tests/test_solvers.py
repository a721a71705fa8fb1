"""Single-step ODE solvers show their order; DDPM/DDIM steps equal diffusers over whole strided runs;
Euler is DDIM and Euler–Maruyama without noise is Euler."""
import math

import pytest
import torch

from sandbox import oracle, paths, samplers, schedules
from sandbox.errors import UserError



# --- order of the single steps on closed-form ODEs, integrated from t = 1 down to 0 -----------------
ODES = {
    # dx/dt = 3t^2, x(1) = 1  ->  x(t) = t^3, x(0) = 0
    "cubic": (lambda x, t: torch.full_like(x, 3.0 * t * t), 1.0, 0.0),
    # dx/dt = -x, x(1) = 1  ->  x(t) = exp(1 - t), x(0) = e
    "exp": (lambda x, t: -x, 1.0, math.e),
    # dx/dt = x cos(t) (state-dependent and time-dependent) -> x(t) = exp(sin t - sin 1)
    "sin": (lambda x, t: x * math.cos(t), 1.0, math.exp(-math.sin(1.0))),
}


def _integrate(step, f, x1, n):
    x = torch.tensor([x1], dtype=torch.float64)
    for k in range(n):
        x = step(f, x, 1.0 - k / n, 1.0 - (k + 1) / n)
    return float(x)


@pytest.mark.parametrize("ode", list(ODES))
@pytest.mark.parametrize("name,order", [("euler", 1), ("midpoint", 2), ("heun", 2)])
def test_solver_order(name, order, ode):
    f, x1, exact = ODES[ode]
    step = samplers.ODE_STEPS[name]
    errs = [abs(_integrate(step, f, x1, n) - exact) for n in (32, 64, 128, 256)]
    rates = [math.log2(a / b) for a, b in zip(errs, errs[1:])]
    assert all(abs(r - order) < 0.15 for r in rates), (errs, rates)


def test_solvers_are_exact_where_they_should_be():
    lin = lambda x, t: torch.full_like(x, 2.0)  # noqa: E731  constant slope: all exact
    assert _integrate(samplers.euler_step, lin, 1.0, 3) == pytest.approx(-1.0)
    quad = lambda x, t: torch.full_like(x, 2.0 * t)  # noqa: E731  linear slope: 2nd order exact
    for name in ("midpoint", "heun"):
        assert _integrate(samplers.ODE_STEPS[name], quad, 1.0, 3) == pytest.approx(0.0, abs=1e-12)


# --- diffusers as the oracle for whole DDPM / DDIM runs ---------------------------------------------
N = 128


def _field(sched):
    return oracle.MixtureField(oracle.anisotropic_pair(), paths.DDPMPath(sched))


def _diffusers_run(scheduler, field, x, steps, prediction, step_kw=None, seed=None):
    """x_T -> x_0 with diffusers' scheduler, feeding it our field's prediction at each timestep.

    Its noise levels are set to ours in float64 (test_schedules checks they agree): diffusers'
    float32 1 - ab_t / ab_prev loses ~1e-3 of a one-step beta, which adds up over 1000 steps.
    """
    scheduler.alphas_cumprod = field.path.schedule.alphas_cumprod
    scheduler.set_timesteps(steps)
    g = None if seed is None else torch.Generator().manual_seed(seed)
    ac = scheduler.alphas_cumprod
    for tau in scheduler.timesteps:
        t = torch.full((x.shape[0],), (int(tau) + 1) / len(ac))
        x0 = field.x0(x, t)
        out = x0 if prediction == "sample" else (x - ac[tau].sqrt() * x0) / (1 - ac[tau]).sqrt()
        x = scheduler.step(out, tau, x, generator=g, **(step_kw or {})).prev_sample
    return x


@pytest.mark.parametrize("steps,spacing,prediction", [
    (10, "trailing", "sample"), (50, "leading", "epsilon"), (1000, "trailing", "sample"),
    (37, "trailing", "sample"), (20, "linspace", "epsilon"),  # uneven grids: DDPM follows the grid too
])
def test_ddpm_equals_diffusers(steps, spacing, prediction):
    diffusers = pytest.importorskip("diffusers")
    sched = schedules.linear(1000)
    field = _field(sched)
    x_T = torch.randn(N, 2, generator=torch.Generator().manual_seed(0))
    ref = diffusers.DDPMScheduler(num_train_timesteps=1000, clip_sample=False, prediction_type=prediction,
                                  timestep_spacing=spacing, variance_type="fixed_small")
    theirs = _diffusers_run(ref, field, x_T, steps, prediction, seed=7)
    traj = samplers.collect(samplers.ddpm(field, sched, x_T, steps, spacing=spacing,
                                          generator=torch.Generator().manual_seed(7)))
    assert traj.nfe == steps and traj.xs.shape == (steps + 1, N, 2)
    assert torch.allclose(traj.final, theirs, atol=5e-5), (traj.final - theirs).abs().max()


LINEAR = (schedules.linear, "linear", "epsilon")
# cosine with eps: diffusers' x0 = (x - sqrt(1 - ab) eps) / sqrt(ab) at ab = 2e-9 amplifies float32
# rounding 2e4-fold, so those runs feed x0 ("sample") instead
COSINE = (schedules.cosine, "squaredcos_cap_v2", "sample")


@pytest.mark.parametrize("make,beta_schedule,prediction,steps,spacing,eta", [
    (*LINEAR, 10, "trailing", 0.0), (*LINEAR, 50, "leading", 0.5), (*LINEAR, 1000, "trailing", 0.0),
    (*LINEAR, 50, "trailing", 0.5), (*COSINE, 10, "trailing", 0.0), (*COSINE, 50, "leading", 0.5),
    (*COSINE, 50, "trailing", 0.5),
])
def test_ddim_equals_diffusers(make, beta_schedule, prediction, steps, spacing, eta):
    diffusers = pytest.importorskip("diffusers")
    sched = make(1000)
    field = _field(sched)
    x_T = torch.randn(N, 2, generator=torch.Generator().manual_seed(1))
    ref = diffusers.DDIMScheduler(num_train_timesteps=1000, beta_schedule=beta_schedule, clip_sample=False,
                                  set_alpha_to_one=True, prediction_type=prediction, timestep_spacing=spacing)
    theirs = _diffusers_run(ref, field, x_T, steps, prediction, {"eta": eta}, seed=3 if eta else None)
    ours = samplers.collect(samplers.ddim(field, sched, x_T, steps, eta=eta, spacing=spacing,
                                          generator=torch.Generator().manual_seed(3))).final
    assert torch.allclose(ours, theirs, atol=5e-5), (ours - theirs).abs().max()


# --- identities between our samplers --------------------------------------------------------------
@pytest.mark.parametrize("make", [schedules.linear, schedules.cosine])
def test_ode_euler_is_ddim_eta0(make):
    field = _field(make(1000))
    x_T = torch.randn(N, 2, generator=torch.Generator().manual_seed(2))
    for steps in (7, 25):
        euler = samplers.collect(samplers.ode(field, x_T, steps, "euler"))
        ddim = samplers.collect(samplers.ddim(field, None, x_T, steps))
        assert torch.allclose(euler.xs, ddim.xs, atol=1e-5) and torch.equal(euler.ts, ddim.ts)


def test_flow_euler_is_ddim_of_the_straight_path():
    field = oracle.MixtureField(oracle.anisotropic_pair(), paths.FlowPath())
    x = torch.randn(N, 2, generator=torch.Generator().manual_seed(3))
    traj = samplers.collect(samplers.ode(field, x, 8, "euler"))
    for k in range(8):  # x_next = (1 - t') x0_hat + t' eps_hat
        t, t_next = 1 - k / 8, 1 - (k + 1) / 8
        x0 = field.x0(x, torch.full((N,), t))
        eps = paths.eps_from_x0(field.path, x, t, x0)
        x = (1 - t_next) * x0 + t_next * eps
        assert torch.allclose(traj.xs[k + 1], x, atol=1e-5)


@pytest.mark.parametrize("path", [paths.FlowPath(), paths.DDPMPath(schedules.linear(1000))], ids=repr)
def test_euler_maruyama_without_noise_is_euler(path):
    field = oracle.MixtureField(oracle.anisotropic_pair(), path)
    x_T = torch.randn(N, 2, generator=torch.Generator().manual_seed(4))
    em = samplers.collect(samplers.euler_maruyama(field, x_T, 12, noise=0.0, rho=1.0))  # rho: flow's grid
    eu = samplers.collect(samplers.ode(field, x_T, 12, "euler"))
    assert torch.equal(em.xs, eu.xs) and em.nfe == eu.nfe == 12
    noisy = samplers.collect(samplers.euler_maruyama(field, x_T, 12, noise=1.0,
                                                     generator=torch.Generator().manual_seed(0)))
    assert not torch.allclose(noisy.final, eu.final, atol=1e-3)


def test_flow_euler_maruyama_grid_is_finer_near_the_data():
    """On a straight path the default grid is t_k = (1 - k/N)^FLOW_EM_RHO (1.25), and with noise = 0
    each step is the ODE's Euler step on that grid (computed here by hand)."""
    field = oracle.MixtureField(oracle.anisotropic_pair(), paths.FlowPath())
    x = torch.randn(N, 2, generator=torch.Generator().manual_seed(4))
    traj = samplers.collect(samplers.euler_maruyama(field, x, 10, noise=0.0))
    assert samplers.FLOW_EM_RHO == 1.25
    ts = [(1 - k / 10) ** 1.25 for k in range(10)] + [0.0]
    assert torch.allclose(traj.ts, torch.tensor(ts, dtype=traj.ts.dtype))
    for k in range(10):
        t, t_next = ts[k], ts[k + 1]
        x0 = field.x0(x, torch.full((N,), t))
        x = x + (t_next - t) * paths.velocity_from_x0(field.path, x, t, x0)
        assert torch.allclose(traj.xs[k + 1], x, atol=1e-5)
    with pytest.raises(UserError, match="rho"):
        samplers.euler_maruyama(field, x, 10, rho=0.0)


def test_ddim_eta1_has_ddpm_variance():
    # same noise, same coefficients: DDIM with eta = 1 is DDPM ancestral sampling
    field = _field(schedules.linear(1000))
    x_T = torch.randn(N, 2, generator=torch.Generator().manual_seed(5))
    a = samplers.collect(samplers.ddim(field, None, x_T, 30, eta=1.0, generator=torch.Generator().manual_seed(9)))
    b = samplers.collect(samplers.ddpm(field, None, x_T, 30, spacing="trailing",  # the same grid as ddim
                                       generator=torch.Generator().manual_seed(9)))
    assert torch.allclose(a.xs, b.xs, atol=1e-4)


def test_heun_and_midpoint_costs_and_last_step():
    field = oracle.MixtureField(oracle.anisotropic_pair(), paths.FlowPath())
    x_T = torch.randn(16, 2, generator=torch.Generator().manual_seed(6))
    assert samplers.collect(samplers.ode(field, x_T, 10, "heun")).nfe == 19  # Euler into sigma = 0
    assert samplers.collect(samplers.ode(field, x_T, 10, "midpoint")).nfe == 20
    lin = oracle.MixtureField(oracle.anisotropic_pair(), paths.DDPMPath(schedules.linear(1000)))
    assert samplers.collect(samplers.ode(lin, x_T, 10, "heun")).nfe == 19
    cos = oracle.MixtureField(oracle.anisotropic_pair(), paths.DDPMPath(schedules.cosine(1000)))
    # cosine: t = 1 sits at sigma/alpha = 2e4, 3000x the next level; that step is Euler too
    assert samplers.collect(samplers.ode(cos, x_T, 10, "heun")).nfe == 18
