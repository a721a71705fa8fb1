"""What the user chose: model and training settings, and each compare pane's sampler settings."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace

from sandbox import registry
from sandbox.errors import UserError
from sandbox.train import TrainConfig

from . import names

_TRAIN = TrainConfig()


class _SamplersFor(Mapping):
    """objective -> names of the samplers that run on its models, read from sandbox.registry on
    every access (a sampler registered later shows up in the window's list)."""

    def __getitem__(self, objective: str) -> tuple[str, ...]:
        return registry.samplers_for(registry.OBJECTIVES[objective].path)

    def __iter__(self):
        return iter(registry.OBJECTIVES)

    def __len__(self) -> int:
        return len(registry.OBJECTIVES)


# the window's choices: declared once in sandbox/registry.py
OBJECTIVES = tuple(registry.OBJECTIVES)
PREDICTIONS = tuple(registry.PREDICTIONS)
SCHEDULES = tuple(registry.SCHEDULES)
SAMPLERS_FOR: Mapping[str, tuple[str, ...]] = _SamplersFor()
OBJECTIVE_NAMES = {n: i.display for n, i in registry.OBJECTIVES.items()}
PREDICTION_NAMES = {n: i.display for n, i in registry.PREDICTIONS.items()}


@dataclass(frozen=True)
class PaneSettings:
    """One animation: which model (objective, prediction, schedule) and how it is sampled."""

    objective: str = "flow"
    prediction: str = "eps"      # DDPM only
    schedule: str = "linear"     # DDPM only; eps + linear is what the shipped DDPM models are
    sampler: str = "euler"
    steps: int = 50

    def model_key(self) -> tuple:
        """Settings that need their own trained model (the sampler and steps do not)."""
        if self.objective == "flow":
            return ("flow",)
        return ("ddpm", self.prediction, self.schedule)

    def checked(self) -> "PaneSettings":
        """Fix combinations that cannot run (e.g. DDPM's sampler after switching to flow)."""
        obj = self.objective if self.objective in OBJECTIVES else "flow"
        ok = SAMPLERS_FOR[obj]
        sampler = self.sampler if self.sampler in ok else ok[0]
        pred = self.prediction if self.prediction in PREDICTIONS else "eps"
        sched = self.schedule if self.schedule in SCHEDULES else "linear"
        steps = int(min(max(int(self.steps), 1), 1000))
        return replace(self, objective=obj, sampler=sampler, prediction=pred, schedule=sched,
                       steps=steps)

    def title(self) -> str:
        obj = OBJECTIVE_NAMES[self.objective]
        if self.objective == "ddpm":
            obj += f" ({PREDICTION_NAMES[self.prediction]}, {self.schedule})"
        sampler = getattr(registry.SAMPLERS.get(self.sampler), "display", self.sampler)
        return f"{obj} \u00b7 {sampler} {names.steps(self.steps)}"


@dataclass(frozen=True)
class TrainSettings:
    """The advanced panel."""

    # defaults are sandbox.train.TrainConfig's, measured for time-to-quality (docs/BENCHMARKS.md)
    lr: float = _TRAIN.lr
    train_steps: int = _TRAIN.steps
    batch_size: int = _TRAIN.batch_size
    width: int = _TRAIN.width
    depth: int = _TRAIN.depth
    seed: int = _TRAIN.seed
    ot: bool = False           # flow matching: minibatch optimal-transport pairing (straighter paths)
    eval_every: int = 250      # quality score every k steps (0 = never)
    eval_samples: int = 1000   # samples per score (the baseline uses as many data points)

    def checked(self) -> "TrainSettings":
        if not (1e-7 <= self.lr <= 1e3):  # absurd rates are allowed on purpose: watch it diverge
            raise UserError(f"learning rate {self.lr:g} is out of range 1e-7..1000")
        if not (1 <= self.train_steps <= 1_000_000):
            raise UserError(f"training steps {self.train_steps} out of range 1..1000000")
        if not (1 <= self.batch_size <= 65536):
            raise UserError(f"batch size {self.batch_size} out of range 1..65536")
        if not (4 <= self.width <= 2048 and 1 <= self.depth <= 16):
            raise UserError(f"network {self.width}x{self.depth} out of range (width 4..2048, depth 1..16)")
        return self


@dataclass(frozen=True)
class Settings:
    pane: PaneSettings = field(default_factory=PaneSettings)
    other: PaneSettings = field(default_factory=lambda: PaneSettings("ddpm", "eps", "linear", sampler="ddpm"))
    train: TrainSettings = field(default_factory=TrainSettings)
    guidance: float = 1.0          # classifier-free guidance scale (multi-class data)
    cls: int = -1                  # class to sample; -1 = all classes (unconditional)
    particles: int = 2000          # particles in the animation
    device: str = "auto"

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "Settings":
        """Rebuild from `to_dict` output, ignoring unknown keys (files from other versions)."""
        def pick(cls, sub):
            names = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in (sub or {}).items() if k in names})

        d = dict(d or {})
        pane = pick(PaneSettings, d.pop("pane", {})).checked()
        other = pick(PaneSettings, d.pop("other", {})).checked()
        train = pick(TrainSettings, d.pop("train", {}))
        top = {k: v for k, v in d.items() if k in {f.name for f in fields(Settings)}}
        return Settings(pane=pane, other=other, train=train, **top)
