"""`TrainConfig`: every setting of a training run, its measured default and its checks
(`validate`: one UserError line before anything is allocated), and `warm_start_config`, the settings
to continue from a model after a small change of the data. The run itself is `sandbox/train.py`.

The defaults stay literals: `--help` reads them from this file's source without importing torch
(`sandbox/cli/defaults.py`; tests/test_packaging.py checks they agree).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields

from sandbox.errors import UserError
from sandbox.objectives import PREDICTIONS
from sandbox.registry import OBJECTIVES
from sandbox.schedules import SCHEDULES


@dataclass
class TrainConfig:
    """Every knob of a training run; defaults measured for the final quality a user keeps, on every
    preset and five held-out sets, five training draws each (bench/quality_defaults.py,
    docs/BENCHMARKS.md "Final quality of default training")."""

    objective: str = "flow"  # "flow" | "ddpm"
    prediction: str = "v"  # ddpm: "eps" | "x0" | "v" (v: fewer samples stranded between modes than eps)
    schedule: str = "cosine"  # ddpm: "linear" | "cosine"
    T: int = 1000  # ddpm chain length
    ot: bool = False  # flow: minibatch optimal-transport coupling
    reference: int = 256  # stable targets: posterior over this many training points per step (0 = plain)
    steps: int = 800  # a fixed budget with cosine decay (early stopping: eval_every + patience)
    batch_size: int = 384  # 384 x 800 beat 512 x 600 at ~10% more time (bench/quality_sweep.py)
    lr: float = 1e-2
    warmup: int = 50  # linear warm-up steps, then cosine decay to 0 at `steps`
    ema: float = 0.99  # decay of the moving average of the weights the model samples with (0 = off)
    width: int = 128
    depth: int = 3
    time_embed_dim: int = 32
    fourier: int = 16  # random Fourier features of the input (0 = off)
    fourier_scale: float = 1.0
    conditional: bool = False  # use the data's class labels (classifier-free guidance)
    label_dropout: float = 0.1
    seed: int = 0
    eval_every: int = 0  # sample-quality score every k steps (and at the last step); 0 = never
    patience: int = 0  # after this many scores without a 2% gain: anneal lr for COOLDOWN steps, stop (0 = off)
    eval_samples: int = 2000
    eval_sampler: str = ""  # "" = EVAL_SAMPLER[objective]
    eval_steps: int = 0  # 0 = EVAL_SAMPLER[objective]
    device: str = "auto"
    cuda_graph: bool = True  # on a GPU, replay the step as one CUDA graph (train_step.py)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def __post_init__(self) -> None:
        # numpy's numbers (steps=np.int64(300) read from an array) as Python's: the model file's JSON
        # takes no int64, and every path to a run (API, generator, window) builds a TrainConfig
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, numbers.Number) and type(v).__module__ == "numpy":
                setattr(self, f.name, v.item())  # type: ignore[attr-defined]

    def validate(self) -> None:
        """UserError (one line) for a setting that cannot train."""
        if self.objective not in OBJECTIVES:
            raise UserError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.prediction not in PREDICTIONS:
            raise UserError(f"prediction must be one of {', '.join(PREDICTIONS)}, got {self.prediction!r}")
        if self.schedule not in SCHEDULES:
            raise UserError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        for name in ("T", "steps", "batch_size", "width", "depth", "eval_samples"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:  # numpy's ints too
                raise UserError(f"{name} must be a positive whole number, got {v!r}")
        from sandbox import limits

        for name, rng in (("T", limits.T_CHAIN), ("steps", limits.STEPS), ("batch_size", limits.BATCH),
                          ("width", limits.WIDTH), ("depth", limits.DEPTH), ("fourier", limits.FOURIER),
                          ("time_embed_dim", limits.TIME_EMBED), ("eval_samples", limits.SAMPLES),
                          ("seed", limits.SEED)):
            limits.check_int(name, getattr(self, name), *rng)  # before anything is allocated
        limits.check_int("reference", self.reference, *limits.REFERENCE)
        for name in ("warmup", "fourier", "eval_every", "eval_steps", "patience"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
                raise UserError(f"{name} must be a whole number >= 0, got {v!r}")
        for name in ("lr", "ema", "label_dropout", "fourier_scale"):  # lr="0.01" was a TypeError from math
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise UserError(f"{name} must be a number, got {v!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise UserError(f"learning rate must be a positive number, got {self.lr}")
        if not 0.0 <= self.ema < 1.0:
            raise UserError(f"ema decay must be in [0, 1), got {self.ema}")
        if not 0.0 <= self.label_dropout < 1.0:
            raise UserError(f"label dropout must be in [0, 1), got {self.label_dropout}")
        if self.time_embed_dim < 2 or self.time_embed_dim % 2:
            raise UserError(f"time_embed_dim must be an even number >= 2, got {self.time_embed_dim}")


WARM_STEPS = 100  # bench/warm_start.py: enough to follow a stroke, ~0.3 s on a 2-core laptop


def warm_start_config(cfg: TrainConfig | None = None, steps: int = WARM_STEPS) -> TrainConfig:
    """Settings to continue from a model after a small change of the data (a stroke ends): a short
    run, a brief warm-up, lr 3e-3 decaying to 0, no in-loop scores (the caller shows samples).
    Use as `train(warm_start_config(cfg), new_points, init=model)`: the generator the window pulls."""
    from dataclasses import replace

    # plain targets: the stable ones cost ~30% more per step, and a stroke must show within 0.5 s
    return replace(cfg or TrainConfig(), steps=steps, warmup=min(10, max(1, steps // 5)), lr=3e-3,
                   eval_every=0, patience=0, reference=0)
