"""One registry per concept: each sampler, objective, prediction, schedule and preset declares itself
once, and the window, the command line, the lessons and the docs read that declaration.

    from sandbox.registry import SAMPLERS, SamplerInfo, register_sampler
    register_sampler(SamplerInfo("toy", "Toy", "Moves nothing.", paths=("flow",), stochastic=False,
                                 default_steps=10, fn=my_generator_fn))
    SAMPLERS["toy"]                 # the declaration; unknown names are a one-line UserError
    samplers_for("flow")            # ("euler", "heun", ..., "toy"): the window's list, the CLI's choices

This module imports no torch (the CLI's --help reads it): implementations are referenced as
"module:attribute" strings and imported on first use; a registration may pass the callable itself.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Generic, Iterator, TypeVar

from sandbox.errors import UserError

T = TypeVar("T")


def resolve(ref: Any) -> Any:
    """A callable as is; a "module:attribute" string imported."""
    if isinstance(ref, str):
        module, _, attrs = ref.partition(":")
        obj = importlib.import_module(module)
        for attr in attrs.split("."):
            obj = getattr(obj, attr)
        return obj
    return ref


class UnknownName(UserError, KeyError):
    """An unknown name in a registry: a UserError (one line) that `except KeyError` also catches."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Ordered name -> declaration (any object with a `.name`), read like a dict."""

    def __init__(self, concept: str, aliases: dict[str, str] | None = None):
        self.concept = concept
        self._items: dict[str, T] = {}
        self.aliases: dict[str, str] = dict(aliases or {})

    def register(self, info: T, replace: bool = False) -> T:
        name = info.name  # type: ignore[attr-defined]
        if name in self._items and not replace:
            raise ValueError(f"{self.concept} {name!r} is registered already")
        self._items[name] = info
        return info

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def canonical(self, name: str) -> str:
        """`name` as registered (aliases resolved); UnknownName with the choices otherwise."""
        if name in self._items:
            return name
        key = self.aliases.get(name, name)
        if key not in self._items:
            raise UnknownName(f"unknown {self.concept} {name!r}; choose one of {', '.join(self._items)}")
        return key

    def __getitem__(self, name: str) -> T:
        return self._items[self.canonical(name)]

    def get(self, name: str, default: Any = None) -> Any:
        return self._items.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        return list(self._items)

    def values(self) -> list[T]:
        return list(self._items.values())

    def items(self) -> list[tuple[str, T]]:
        return list(self._items.items())

    def __repr__(self) -> str:
        return f"Registry({self.concept}: {', '.join(self._items)})"


# --- samplers -----------------------------------------------------------------------------------
COMMON_SAMPLER_OPTIONS = {
    "generator": "torch.Generator for the start noise and any sampler noise",
    "labels": "(N,) class labels of a conditional model",
    "spacing": "DDPM paths: timestep spacing, trailing | leading | linspace | power (T (1 - k/n)^1.5; "
               "the ancestral sampler's default, the others' is trailing)",
}


@dataclass(frozen=True)
class SamplerInfo:
    """A sampler's declaration.

    fn(field, x_T (N, D), steps, **options) -> generator of (t, x) returning the nfe (samplers.py);
    paths: model kinds it runs on ("ddpm", "flow"); stochastic: draws noise while sampling;
    default_steps: its steps when none are asked for (capped at a DDPM chain's T, `steps_for`);
    options: option name -> one-line help, beyond COMMON_SAMPLER_OPTIONS; evals_per_step:
    network evaluations per step (guidance doubles them); deterministic: the deterministic
    sampler of the same family (the window's smooth mesh uses it), or None if it is one.
    """

    name: str
    display: str
    tooltip: str
    paths: tuple[str, ...]
    stochastic: bool
    default_steps: int
    fn: Any  # callable or "module:attribute"
    options: dict[str, str] = field(default_factory=dict)
    evals_per_step: int = 1
    deterministic: str | None = None

    @property
    def summary(self) -> str:
        return self.tooltip

    def steps_for(self, T: int | None = None) -> int:
        """Default steps on a model whose DDPM chain has T steps (None: a flow model)."""
        return self.default_steps if not T else max(1, min(self.default_steps, int(T)))

    def option_names(self) -> tuple[str, ...]:
        return tuple(COMMON_SAMPLER_OPTIONS) + tuple(self.options)

    def __call__(self, field, x_T, steps, **options):
        return resolve(self.fn)(field, x_T, steps, **options)


SAMPLERS: Registry[SamplerInfo] = Registry("sampler")


def register_sampler(info: SamplerInfo, replace: bool = False) -> SamplerInfo:
    return SAMPLERS.register(info, replace)


def samplers_for(kind: str) -> tuple[str, ...]:
    """Names of the samplers that run on models of `kind` ("ddpm" | "flow"), in registry order."""
    return tuple(n for n, i in SAMPLERS.items() if kind in i.paths)


def deterministic_twin(name: str) -> str:
    """The deterministic sampler for `name` (itself if it is deterministic)."""
    info = SAMPLERS[name]
    return info.deterministic or name if info.stochastic else name


for _info in (
    SamplerInfo("ddpm", "DDPM ancestral", "DDPM ancestral: each step removes predicted noise and adds "
                "fresh random noise, so paths zig-zag.", ("ddpm",), True, 100,
                "sandbox.samplers:_run_ddpm", deterministic="ddim"),
    SamplerInfo("ddim", "DDIM", "DDIM: the same model stepped deterministically (eta = 0), so the same "
                "noise always gives the same sample; eta = 1 is as noisy as DDPM.", ("ddpm",), False, 50,
                "sandbox.samplers:_run_ddim", {"eta": "noise, 0 (deterministic) to 1 (like DDPM)"}),
    SamplerInfo("euler", "Euler", "Euler: follows the probability-flow ODE in straight steps, first "
                "order, one network call per step.", ("ddpm", "flow"), False, 50, "sandbox.samplers:_run_euler"),
    SamplerInfo("midpoint", "midpoint", "Midpoint: looks half a step ahead before stepping; second order, "
                "two network calls per step.", ("ddpm", "flow"), False, 20,
                "sandbox.samplers:_run_midpoint", evals_per_step=2),
    SamplerInfo("heun", "Heun", "Heun: takes a step, checks the slope at its end and averages; its last "
                "step into zero noise is a plain Euler step, which on DDPM models makes it first order "
                "overall.", ("ddpm", "flow"), False, 20,
                "sandbox.samplers:_run_heun", evals_per_step=2),
    SamplerInfo("euler_maruyama", "Euler\u2013Maruyama", "Euler\u2013Maruyama: the stochastic version of the "
                "path, with random kicks at every step that cancel out on average.", ("ddpm", "flow"),
                True, 100, "sandbox.samplers:euler_maruyama",
                {"noise": "SDE noise scale (0 = the ODE, 1 = the usual reverse SDE)",
                 "rho": "flow paths: time grid t_k = (1 - k/N)^rho (1 = uniform; default 1.25: finer near the data)"},
                deterministic="euler"),
):
    register_sampler(_info)


# --- objectives, predictions, schedules ----------------------------------------------------------
@dataclass(frozen=True)
class ObjectiveInfo:
    """A training objective: `build(config dict) -> Objective` (objectives.py); path: the kind of
    model it makes ("ddpm" | "flow", the samplers' `paths`); options: TrainConfig fields it reads;
    default_sampler: what its models sample with by default."""

    name: str
    display: str
    tooltip: str
    path: str
    build: Any
    options: tuple[str, ...] = ()
    default_sampler: str = "euler"

    def __call__(self, config: dict):
        return resolve(self.build)(config)


@dataclass(frozen=True)
class ChoiceInfo:
    """A named choice with a display name and a tooltip (predictions, schedules); `fn` builds it
    where there is something to build (a schedule: fn(T) -> DDPMSchedule)."""

    name: str
    display: str
    tooltip: str
    fn: Any = None

    def __call__(self, *args, **kwargs):
        return resolve(self.fn)(*args, **kwargs)


OBJECTIVES: Registry[ObjectiveInfo] = Registry("objective")
PREDICTIONS: Registry[ChoiceInfo] = Registry("prediction")
SCHEDULES: Registry[ChoiceInfo] = Registry("schedule")

OBJECTIVES.register(ObjectiveInfo(
    "flow", "flow matching", "Flow matching: the network learns the velocity that moves noise "
    "straight to data.", "flow", "sandbox.objectives:FlowObjective.from_config", ("ot",), "euler_maruyama"))
OBJECTIVES.register(ObjectiveInfo(
    "ddpm", "DDPM", "DDPM: the network learns to predict the noise that was added to a data "
    "point (or the point, or v) along a chain of T noising steps.", "ddpm",
    "sandbox.objectives:DDPMObjective.from_config", ("prediction", "schedule", "T"), "ddpm"))
PREDICTIONS.register(ChoiceInfo("eps", "\u03b5", "The net predicts the noise that was added (Ho et al. 2020)."))
PREDICTIONS.register(ChoiceInfo("x0", "x0", "The net predicts the clean data point directly."))
PREDICTIONS.register(ChoiceInfo("v", "v", "The net predicts v = alpha eps - sigma x0 (Salimans & Ho 2022)."))
SCHEDULES.register(ChoiceInfo("linear", "linear", "Betas evenly spaced from 1e-4 to 0.02 (Ho et al. 2020).",
                              "sandbox.schedules:linear"))
SCHEDULES.register(ChoiceInfo("cosine", "cosine", "alpha_bar = cos^2 of time (Nichol & Dhariwal 2021): "
                              "noise is added more evenly.", "sandbox.schedules:cosine"))


# --- presets ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PresetInfo:
    """A built-in 2D data set: fn(n, numpy Generator, **kw) -> PointSet (datasets/presets.py).

    noise: the scale of its own generating noise in data units (the std of its Gaussian blur, or
    for a sharp-edged set a twentieth of its smallest feature); "farther than 4 noise" from every
    data point is the quality table's measure of samples stranded between modes."""

    name: str
    display: str
    tooltip: str
    fn: Any
    noise: float
    classes: bool = False

    def __call__(self, n: int, generator, **kwargs):
        return resolve(self.fn)(n, generator, **kwargs)


# spellings people type; all map to registered names
PRESETS: Registry[PresetInfo] = Registry("data set", aliases={
    "8gaussians": "eight_gaussians", "8_gaussians": "eight_gaussians", "two_moons": "moons",
    "swissroll": "swiss_roll", "circles": "rings", "concentric_rings": "rings", "3modes": "three_modes",
    "checkers": "checkerboard"})


def register_preset(info: PresetInfo, replace: bool = False) -> PresetInfo:
    return PRESETS.register(info, replace)


for _preset in (
    PresetInfo("smiley", "smiley", "A smiley face: outline, two eyes and a mouth (4 classes).",
               "sandbox.datasets.presets:smiley", 0.03, True),
    PresetInfo("three_modes", "three modes", "Three Gaussians of different weights and shapes (an exact "
               "mixture: the oracle knows its denoiser).", "sandbox.datasets.presets:three_modes", 0.16, True),
    PresetInfo("eight_gaussians", "eight Gaussians", "Eight round Gaussians on a circle (an exact mixture).",
               "sandbox.datasets.presets:eight_gaussians", 0.15, True),
    PresetInfo("moons", "two moons", "Two interleaving half circles, as scikit-learn's make_moons.",
               "sandbox.datasets.presets:moons", 0.06, True),
    PresetInfo("swiss_roll", "Swiss roll", "A spiral band of one and a half turns.",
               "sandbox.datasets.presets:swiss_roll", 0.25),
    PresetInfo("checkerboard", "checkerboard", "Uniform on the dark squares of a 4 x 4 board: sharp "
               "edges.", "sandbox.datasets.presets:checkerboard", 0.05),
    PresetInfo("spirals", "spirals", "Two interleaved spiral arms.", "sandbox.datasets.presets:spirals",
               0.08, True),
    PresetInfo("rings", "rings", "Three concentric thin rings.", "sandbox.datasets.presets:rings", 0.04, True),
):
    register_preset(_preset)
