"""Samplers as generators: each yields `(t, x)` for every step, from noise to data.

    gen = ddim(field, None, x_T, steps=50)
    for t, x in gen: ...                       # t: float, x: (N, D) tensor; first is (t_start, x_T)
    traj = collect(ddim(field, None, x_T, 50), "ddim")   # or keep everything, with its nfe

The generator's return value (StopIteration.value, or `nfe = yield from gen`) is the number of
network evaluations per particle; `collect` stores it in the Trajectory. t_start is 1.0 except
for DDPM timesteps with spacing="leading", which never start at pure noise.

Every sampler only calls `field.x0(x, t, labels)` (field.py). DDPM-family samplers use the exact
discrete coefficients between consecutive timesteps tau_k > tau_{k+1} of the chosen grid (so 100
steps on a 1000-step chain are as correct as 1000 steps); see `ddpm_coefficients`.
"""
from __future__ import annotations

import math
from typing import Generator, Iterator

import torch

from sandbox.errors import UserError
from sandbox.field import Field, evaluations
from sandbox.paths import DDPMPath, FlowPath, velocity_from_x0
from sandbox.registry import SAMPLERS, SamplerInfo, register_sampler  # noqa: F401
from sandbox.schedules import DDPMSchedule
from sandbox.solvers import ODE_STEPS, KarrasGrid, euler_step, heun_step, midpoint_step  # noqa: F401
from sandbox.trajectory import Trajectory

SamplerGen = Generator[tuple[float, torch.Tensor], None, int]
HEUN_MAX_DROP = 100.0  # see `ode`


# --- helpers ------------------------------------------------------------------------------------
class _Denoiser:
    """Calls field.x0 with t as an (N,) tensor and counts evaluations per particle."""

    def __init__(self, field: Field, labels: torch.Tensor | None):
        self.field, self.labels, self.nfe = field, labels, 0
        self.cost = evaluations(field, labels)

    def __call__(self, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
        self.nfe += self.cost
        # a float64 t (the Karras grid's) stays float64; see solvers.KarrasGrid
        dtype = t.dtype if isinstance(t, torch.Tensor) and t.dtype == torch.float64 else torch.float32
        tt = torch.as_tensor(t, dtype=dtype, device=x.device).expand(x.shape[0])
        return self.field.x0(x, tt, self.labels)


def _randn(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    # drawn on the generator's device, as diffusers' randn_tensor, so seeded runs match it
    device = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=device, dtype=x.dtype).to(x.device)


def _check_steps(steps: int) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise UserError(f"steps must be a positive integer, got {steps}")


def _ddpm_path(field: Field, schedule: DDPMSchedule | None, sampler: str) -> DDPMSchedule:
    if not isinstance(field.path, DDPMPath):
        raise UserError(f"{sampler} needs a DDPM model; this one is on {field.path!r}: "
                        f"use {', '.join(n for n, i in SAMPLERS.items() if 'flow' in i.paths)}")
    if schedule is None:
        return field.path.schedule
    if not schedule.same_as(field.path.schedule):
        raise UserError(f"{sampler}: the schedule given differs from the model's ({field.path!r})")
    return schedule


def _ddpm_grid(schedule: DDPMSchedule, steps: int, spacing: str) -> tuple[list[float], list[float]]:
    """Times t_k = (tau_k + 1) / T and alphas_cumprod ab_k for the timesteps, then (0.0, 1.0)."""
    taus = schedule.timesteps(steps, spacing).tolist()
    ac = schedule.alphas_cumprod
    return [(i + 1) / schedule.T for i in taus] + [0.0], [float(ac[i]) for i in taus] + [1.0]


def ddpm_coefficients(ab_t: float, ab_prev: float) -> tuple[float, float, float]:
    """q(x_prev | x_t, x0) = N(c_x0 x0 + c_xt x_t, var) between ANY two levels ab_t < ab_prev.

    beta_eff = 1 - ab_t / ab_prev replaces beta_t (the step may span many chain steps):
    c_x0 = sqrt(ab_prev) beta_eff / (1 - ab_t), c_xt = sqrt(1 - beta_eff) (1 - ab_prev) / (1 - ab_t),
    var = (1 - ab_prev) / (1 - ab_t) beta_eff ("fixed_small"). As diffusers' DDPMScheduler.step.
    """
    beta_eff = 1.0 - ab_t / ab_prev
    c_x0 = math.sqrt(ab_prev) * beta_eff / (1.0 - ab_t)
    c_xt = math.sqrt(1.0 - beta_eff) * (1.0 - ab_prev) / (1.0 - ab_t)
    var = max((1.0 - ab_prev) / (1.0 - ab_t) * beta_eff, 1e-20)
    return c_x0, c_xt, var


# --- DDPM family ------------------------------------------------------------------------------
def ddpm(field: Field, schedule: DDPMSchedule | None, x_T: torch.Tensor, steps: int,
         spacing: str = "power", generator: torch.Generator | None = None,
         labels: torch.Tensor | None = None) -> SamplerGen:
    """Ancestral sampling (Ho et al. 2020) on `steps` timesteps of the chain, strided correctly.

    schedule: None = the field's (must be the same anyway). Noise is drawn after every step but
    the last, with `generator`, so a seeded run with spacing "trailing" (or "leading",
    "linspace") equals diffusers' DDPMScheduler with that seed. The default spacing "power"
    (schedules.POWER_RHO) crowds the steps toward the data: trained 2D models (v on cosine, 100
    steps, 3 draws) left 0.37% of samples stranded on a 5x5 grid of clusters instead of 1.29%,
    and sat closer to thin data, at the same or better sliced-Wasserstein ratio (docs/BENCHMARKS.md).
    """
    _check_steps(steps)
    schedule = _ddpm_path(field, schedule, "ddpm")
    ts, abs_ = _ddpm_grid(schedule, steps, spacing)
    return _ddim_family(field, x_T, ts, abs_, None, generator, labels)


def ddim(field: Field, schedule: DDPMSchedule | None, x_T: torch.Tensor, steps: int, eta: float = 0.0,
         spacing: str = "trailing", generator: torch.Generator | None = None,
         labels: torch.Tensor | None = None) -> SamplerGen:
    """DDIM (Song et al. 2021, eq. 12): eta = 0 deterministic, eta = 1 has DDPM's variance.

    As diffusers' DDIMScheduler.step with set_alpha_to_one (the last step goes to ab = 1), except
    that the previous timestep is the next one of the grid; diffusers takes tau - T // steps,
    which is the same whenever the grid is evenly spaced (e.g. steps divides T, not "linspace").
    """
    _check_steps(steps)
    if eta < 0:
        raise UserError(f"eta must be >= 0, got {eta}")
    schedule = _ddpm_path(field, schedule, "ddim")
    ts, abs_ = _ddpm_grid(schedule, steps, spacing)
    return _ddim_family(field, x_T, ts, abs_, float(eta), generator, labels)


def _ddim_family(field, x, ts, abs_, eta, generator, labels) -> SamplerGen:
    """eta=None: DDPM posterior mean and variance; eta=float: DDIM."""
    den = _Denoiser(field, labels)
    last = len(ts) - 2
    yield ts[0], x
    for k in range(last + 1):
        ab_t, ab_prev = abs_[k], abs_[k + 1]
        x0 = den(x, ts[k])
        if eta is None:
            c_x0, c_xt, var = ddpm_coefficients(ab_t, ab_prev)
            x_next = c_x0 * x0 + c_xt * x
            if k < last:
                x_next = x_next + math.sqrt(var) * _randn(x, generator)
        else:
            eps = (x - math.sqrt(ab_t) * x0) / math.sqrt(1.0 - ab_t)
            std = eta * math.sqrt((1.0 - ab_prev) / (1.0 - ab_t) * (1.0 - ab_t / ab_prev))
            x_next = math.sqrt(ab_prev) * x0 + math.sqrt(max(1.0 - ab_prev - std ** 2, 0.0)) * eps
            if eta > 0 and k < last:
                x_next = x_next + std * _randn(x, generator)
        x = x_next
        yield ts[k + 1], x
    return den.nfe


# --- probability-flow ODE -----------------------------------------------------------------------
def ode(field: Field, x_T: torch.Tensor, steps: int, method: str = "euler", spacing: str = "trailing",
        labels: torch.Tensor | None = None, generator: torch.Generator | None = None) -> SamplerGen:
    """Probability-flow ODE dx/dt = d_alpha x0_hat + d_sigma eps_hat from t = 1 to 0.

    FlowPath (and any other non-DDPM path): integrate in t on a uniform grid; Euler here is DDIM
    of the straight path. DDPMPath: integrate dy/ds = eps_hat in Karras variables (y = x/alpha,
    s = sigma/alpha) on the DDPM timesteps (`spacing`), then to s = 0; Euler here is DDIM eta=0.
    Heun takes a plain Euler step into sigma = 0 (the slope is undefined there; Karras et al.),
    and on the DDPM path also on a step where s falls by more than HEUN_MAX_DROP = 100x: the
    trapezoid weights the end slope over the whole span, but it only holds near the end (only
    the first step of a cosine schedule, where t = 1 sits at s = 2e4, gets there; with pure Heun
    the sliced-Wasserstein ratio to data on 8 gaussians was 61 at 10 steps, Euler's 2.4).
    That Euler step dominates Heun's error on DDPM paths, so there Heun is first order overall
    (100 steps, linear: 1.0e-2 RMS from a float64 solve_ivp solution, midpoint 6.7e-4; measured in
    tests/test_samplers_ode.py); the registry says so. Lesson few_steps teaches exactly this.
    Cost: euler 1 evaluation a step, midpoint 2, heun 2 (1 on the last step).
    `generator` is accepted (and unused) so that callers can pass one to any sampler.
    """
    _check_steps(steps)
    if method not in ODE_STEPS:
        raise UserError(f"unknown ODE method {method!r}; choose one of {', '.join(ODE_STEPS)}")
    if isinstance(field.path, DDPMPath):
        ts, abs_ = _ddpm_grid(field.path.schedule, steps, spacing)
        return _ode_karras(field, x_T, ts, abs_, method, labels)
    return _ode_t(field, x_T, steps, method, labels)


def _ode_t(field, x, steps, method, labels) -> SamplerGen:
    den = _Denoiser(field, labels)
    path = field.path

    def f(x: torch.Tensor, t: float) -> torch.Tensor:
        return velocity_from_x0(path, x, t, den(x, t))

    ts = [1.0 - k / steps for k in range(steps)] + [0.0]
    yield ts[0], x
    for t, t_next in zip(ts[:-1], ts[1:]):
        step = ODE_STEPS[method]
        if method == "heun" and float(path.sigma(t_next)) == 0.0:
            step = euler_step  # the slope at sigma = 0 is undefined (Karras et al.): see the docstring
        x = step(f, x, t, t_next)
        yield t_next, x
    return den.nfe


def _ode_karras(field, x, ts, abs_, method, labels) -> SamplerGen:
    den = _Denoiser(field, labels)
    grid = KarrasGrid(field.path, ts, abs_, x.device)
    f = grid.eps_fn(den)
    yield ts[0], x
    for k in range(len(ts) - 1):
        s, s_next = grid.s[k], grid.s[k + 1]
        step = euler_step if (method == "heun" and s_next < s / HEUN_MAX_DROP) else ODE_STEPS[method]
        x = grid.to_x(step(f, grid.to_y(x, s), s, s_next), s_next)
        yield ts[k + 1], x
    return den.nfe


# --- stochastic sampler ---------------------------------------------------------------------
# Euler-Maruyama on straight paths: t_k = (1 - k/N)^rho, finer steps near the data. 1.25, not 1.5:
# i.i.d. moons' ratio (10 draws) was 1.147 / 1.183 / 1.201 at rho 1 / 1.25 / 1.5
FLOW_EM_RHO = 1.25


def euler_maruyama(field: Field, x_T: torch.Tensor, steps: int, noise: float = 1.0,
                   generator: torch.Generator | None = None, spacing: str = "trailing",
                   labels: torch.Tensor | None = None, rho: float = FLOW_EM_RHO) -> SamplerGen:
    """Euler–Maruyama on a reverse-time SDE with the path's marginals, run from t = 1 to 0:

        dx = [v(x,t) - g(t)^2 / 2 * score(x,t)] dt + g(t) dW,   dt < 0,
        g(t)^2 = 2 * noise * sigma * (alpha d_sigma - sigma d_alpha)

    For any g, the Fokker–Planck equation of this SDE (run backwards) is the continuity equation
    of the ODE, so the marginals are the path's. With score = -eps_hat/sigma the drift is
    v + noise * (alpha d_sigma - sigma d_alpha) * eps_hat; this g is finite on both paths
    (FlowPath: g^2 = 2 noise t, drift v + noise eps_hat). noise = 0 is the ODE, bit for bit equal
    to `ode(..., "euler")`. Grids as `ode`: uniform in t, or in Karras variables on the DDPM
    timesteps, where the same SDE reads dy = (1 + noise alpha) eps_hat ds + sqrt(2 noise sigma) dW_s.
    The last step (into sigma = 0) is deterministic: a noisy step there would leave noise of the
    size of the last sigma that no later step removes (as Karras et al.).
    On non-DDPM paths the grid is t_k = (1 - k/steps)^rho: rho = 1 is uniform (with noise = 0, the
    ODE's Euler bit for bit); the default FLOW_EM_RHO gives the steps near the data more room: at
    1.5, on 13 data sets, 5 training draws each, fewer samples were stranded off the data and they
    sat 5-25% closer to it, for -0.02..+0.04 of sliced-Wasserstein ratio (docs/BENCHMARKS.md).
    """
    _check_steps(steps)
    if noise < 0:
        raise UserError(f"noise must be >= 0, got {noise}")
    noise = float(noise)
    if isinstance(field.path, DDPMPath):
        ts, abs_ = _ddpm_grid(field.path.schedule, steps, spacing)
        return _em_karras(field, x_T, ts, abs_, noise, generator, labels)
    if not (math.isfinite(rho) and 0.5 <= rho <= 4.0):
        raise UserError(f"rho must be a number from 0.5 to 4, got {rho}")
    return _em_t(field, x_T, steps, noise, generator, labels, float(rho))


def _em_t(field, x, steps, noise, generator, labels, rho) -> SamplerGen:
    den = _Denoiser(field, labels)
    path = field.path
    ts = [(1.0 - k / steps) ** rho for k in range(steps)] + [0.0]
    yield ts[0], x
    for k in range(steps):
        t, t_next = ts[k], ts[k + 1]
        x0 = den(x, t)
        drift = velocity_from_x0(path, x, t, x0)
        if noise > 0 and k < steps - 1:
            a, s, da, ds = (float(fn(t)) for fn in (path.alpha, path.sigma, path.d_alpha, path.d_sigma))
            c = a * ds - s * da
            drift = drift + noise * c * (x - a * x0) / s
            x = x + (t_next - t) * drift + math.sqrt(2.0 * noise * s * c * (t - t_next)) * _randn(x, generator)
        else:
            x = x + (t_next - t) * drift
        yield t_next, x
    return den.nfe


def _em_karras(field, x, ts, abs_, noise, generator, labels) -> SamplerGen:
    den = _Denoiser(field, labels)
    grid = KarrasGrid(field.path, ts, abs_, x.device)
    f = grid.eps_fn(den)
    last = len(ts) - 2
    yield ts[0], x
    for k in range(last + 1):
        s, s_next = grid.s[k], grid.s[k + 1]
        _, a, sig = grid.at(s)
        y = grid.to_y(x, s)
        if noise > 0 and k < last:
            y = y + (1.0 + noise * a) * (s_next - s) * f(y, s) \
                + math.sqrt(2.0 * noise * sig * (s - s_next)) * _randn(x, generator).to(y.dtype)
        else:
            y = euler_step(f, y, s, s_next)
        x = grid.to_x(y, s_next)
        yield ts[k + 1], x
    return den.nfe


# --- registry entries (declared in sandbox/registry.py) ------------------------------------------
def _run_ddpm(field, x_T, steps, **kw):
    return ddpm(field, None, x_T, steps, **kw)


def _run_ddim(field, x_T, steps, **kw):
    return ddim(field, None, x_T, steps, **kw)


def _run_euler(field, x_T, steps, **kw):
    return ode(field, x_T, steps, method="euler", **kw)


def _run_midpoint(field, x_T, steps, **kw):
    return ode(field, x_T, steps, method="midpoint", **kw)


def _run_heun(field, x_T, steps, **kw):
    return ode(field, x_T, steps, method="heun", **kw)


def path_kind(field: Field) -> str:
    return "ddpm" if isinstance(field.path, DDPMPath) else "flow" if isinstance(field.path, FlowPath) else "other"


def sample(field: Field, name: str, x_T: torch.Tensor, steps: int, **options) -> SamplerGen:
    """The generator of sampler `name` (registered in sandbox.registry.SAMPLERS) from x_T (N, D).

    options: generator, labels, spacing (DDPM timesteps) and the sampler's own (eta: ddim,
    noise: euler_maruyama), as its registry entry declares.
    Unknown sampler, option or model kind, or steps <= 0: UserError.
    """
    info = SAMPLERS[name]  # UserError for an unknown name
    kind = path_kind(field)
    if kind != "other" and kind not in info.paths:
        ok = [n for n, i in SAMPLERS.items() if kind in i.paths]
        raise UserError(f"sampler {name!r} does not run on a {kind} model; choose one of {', '.join(ok)}")
    allowed = info.option_names()
    bad = [k for k in options if k not in allowed]
    if bad:
        raise UserError(f"sampler {name!r} takes no option {bad[0]!r}; it takes {', '.join(allowed)}")
    return info(field, x_T, steps, **options)


def collect(gen: Iterator[tuple[float, torch.Tensor]], sampler: str = "",
            labels: torch.Tensor | None = None) -> Trajectory:
    """Run a sampler generator to the end and keep every step as a Trajectory (its nfe included)."""
    ts, xs = [], []
    while True:
        try:
            t, x = next(gen)
        except StopIteration as stop:
            nfe = int(stop.value or 0)
            break
        ts.append(t)
        xs.append(x)
    return Trajectory(xs=torch.stack(xs), ts=torch.tensor(ts, dtype=torch.float32), nfe=nfe,
                      labels=labels, sampler=sampler)


def run(field: Field, name: str, x_T: torch.Tensor, steps: int, **options) -> Trajectory:
    """`collect(sample(...))`: the whole trajectory of sampler `name`."""
    return collect(sample(field, name, x_T, steps, **options), name, options.get("labels"))
