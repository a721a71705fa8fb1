"""`DiffusionModel`: everything needed to sample from a trained model, in one object.

    model = DiffusionModel(net, objective, normalizer, config, data_summary)
    traj = model.sample(2000, seed=0)                   # Trajectory in data coordinates
    z = model.sample(2000, coords="canonical").final    # the model's own normalised space
    field = model.field(guidance=3.0)                   # a Field for any sampler (samplers.py)

The net (any module `net(x (N, D), t (N,), labels (N,) | None) -> (N, D)`) predicts whatever the
objective trains it on; `TrainedField` turns that into the denoiser E[x0 | x_t] of the `Field`
contract, so every sampler, metric and view works on it as on the analytic oracle.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from sandbox.errors import UserError, unknown_options
from sandbox.field import GuidedField
from sandbox.paths import as_time
from sandbox.registry import OBJECTIVES, SAMPLERS
from sandbox.samplers import collect, sample as run_sampler
from sandbox.trajectory import Trajectory



class TrainedField:
    """A network + objective as a `Field`: `x0(x (N, D), t (N,) or float, labels) -> (N, D)`.

    clip: if given, x0 is clamped to the box [-clip, clip]^D, as DDPM implementations do
    (Ho et al.'s code, diffusers' `clip_sample`): an eps-predicting net converts to
    x0 = (x - sigma eps) / alpha, which amplifies its error by 1 / alpha near pure noise
    (1 / alpha ~ 2e4 at t = 1 for the cosine schedule), and the clamp keeps that bounded.
    """

    def __init__(self, net: torch.nn.Module, objective, clip: float | None = None):
        self.net, self.objective, self.path, self.clip = net, objective, objective.path, clip

    @torch.no_grad()
    def x0(self, x: torch.Tensor, t, labels: torch.Tensor | None = None) -> torch.Tensor:
        t = as_time(t, x.device)
        if t.ndim == 0:
            t = t.expand(x.shape[0])
        x0 = self.objective.to_x0(self.net(x, t, labels), x, t)
        return x0 if self.clip is None else x0.clamp(-self.clip, self.clip)


class DiffusionModel:
    """net + objective + normaliser + config (net, objective, training) + data summary."""

    def __init__(self, net: torch.nn.Module, objective, normalizer, config: dict, data_summary: dict):
        self.net, self.objective, self.normalizer = net, objective, normalizer
        self.config, self.data_summary = config, data_summary

    # --- what it is ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        data = self.data_summary.get("name", "?")
        classes = f", {self.num_classes} classes" if self.num_classes else ""
        steps = self.config.get("stats", {}).get("steps", "?")
        return f"<DiffusionModel {self.kind} on {data!r}{classes}, {steps} steps>"

    @property
    def kind(self) -> str:
        """The kind of path its objective declares in sandbox.registry.OBJECTIVES ("ddpm" | "flow")."""
        return OBJECTIVES[self.objective.kind].path

    @property
    def T(self) -> int | None:
        """The DDPM chain length (samplers take at most T steps), None for other paths."""
        return getattr(self.objective, "T", None)

    def default_steps(self, sampler: str) -> int:
        """The registry's default steps of `sampler`, capped at this model's chain length."""
        return SAMPLERS[sampler].steps_for(self.T)

    @property
    def num_classes(self) -> int:
        return int(getattr(getattr(self.net, "cfg", None), "num_classes", 0))

    @property
    def class_names(self) -> list[str]:
        return list(self.data_summary.get("class_names", []))

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def to(self, device: torch.device | str) -> "DiffusionModel":
        self.net.to(device)
        return self

    def data_sample(self) -> np.ndarray:
        """(M, 2) float32 subsample of the training data in data coordinates (M may be 0)."""
        pts = self.data_summary.get("sample", [])
        return np.asarray(pts, dtype=np.float32).reshape(-1, 2)

    @property
    def default_sampler(self) -> str:
        return OBJECTIVES[self.objective.kind].default_sampler

    # --- sampling -----------------------------------------------------------------------------
    def clip_box(self) -> float | None:
        """Half-width of the x0 clamp (canonical coordinates): 1.5 x the largest coordinate of the
        training data, or None when the model holds no data summary. Flow models are clamped too:
        x0 = x - t v is exact where the net is right, but a net extrapolates linearly in x far from
        the data, and a rare far noise point then feeds Heun a velocity that grows with each stage
        (seen: a 4000-step moons model sent 1 sample in 2000 to |x| ~ 1e4..5e10)."""
        if "min" not in self.data_summary:
            return None
        lo = self.normalizer.forward(np.asarray(self.data_summary["min"], dtype=np.float64))
        hi = self.normalizer.forward(np.asarray(self.data_summary["max"], dtype=np.float64))
        return 1.5 * float(max(np.abs(lo).max(), np.abs(hi).max()))

    def field(self, guidance: float = 1.0, clip: bool = True):
        """The denoiser as a Field; with guidance != 1 (and labels at call time) classifier-free
        guidance on the net's null class. clip: clamp x0 to the data's box (see TrainedField, clip_box)."""
        f = TrainedField(self.net, self.objective, self.clip_box() if clip else None)
        if guidance != 1.0 and self.num_classes > 0:
            return GuidedField(f, guidance, null_label=self.num_classes)
        return f

    def _labels(self, labels, n: int, device) -> torch.Tensor | None:
        if labels is None:
            return None
        if self.num_classes == 0:
            raise UserError("this model was trained without classes; sample it without a class")
        lab = torch.as_tensor(labels, dtype=torch.long, device=device)
        if lab.ndim == 0:
            lab = lab.expand(n).clone()
        if lab.shape != (n,):
            raise UserError(f"need one label per sample ({n}), got {tuple(lab.shape)}")
        if bool(((lab < 0) | (lab >= self.num_classes)).any()):
            raise UserError(f"class labels must be in 0..{self.num_classes - 1}")
        return lab

    def sample(self, n: int, sampler: str | None = None, steps: int | None = None, labels=None,
               guidance: float = 1.0, generator: torch.Generator | None = None, seed: int | None = None,
               device: torch.device | str | None = None, x_T: torch.Tensor | None = None,
               coords: str = "data", **options) -> Trajectory:
        """Run a sampler from fresh noise; returns the whole Trajectory, in data coordinates
        (the units of the training data) unless `coords="canonical"` asks for the model's
        normalised space (what the renderer and `tdl` work in). `traj.coords` says which.

        sampler: a name of sandbox.registry.SAMPLERS (default: the objective's default_sampler);
        steps: its step count (default: the sampler's default_steps, at most T);
        labels: int or (n,) classes for a conditional model;
        guidance: classifier-free guidance scale; generator or seed: the noise (and sampler noise);
        x_T: (n, 2) start points (canonical coordinates: standard normal noise) instead of fresh
        noise. options go to the sampler (eta, spacing...).
        """
        if coords not in ("data", "canonical"):
            raise UserError(f"coords must be 'data' or 'canonical', got {coords!r}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise UserError(f"number of samples must be a positive whole number, got {n}")
        sampler = SAMPLERS.canonical(sampler or self.default_sampler)  # UserError if unknown
        self.check_sample_options({"sampler": sampler, **options})
        steps = self.default_steps(sampler) if steps is None else steps
        # the CLI's ranges and memory check, for the Python API too (sample(model, 10**10) asked torch for 80 GB)
        from sandbox import limits
        limits.check_int("number of samples", n, *limits.SAMPLES)
        limits.check_int("steps", steps, *limits.SAMPLER_STEPS)
        limits.check_int("seed", seed, *limits.SEED)
        guidance = limits.check_float("guidance", guidance, *limits.GUIDANCE)
        if guidance != 1.0 and self.num_classes == 0:  # it did nothing, silently
            raise UserError("guidance needs a class-conditional model; this one was trained without classes "
                            "(train on labelled data with conditional=True)")
        limits.check_fits("n", int(n), 4.0 * 2 * (int(steps) + 1) + 4.0 * (128 * 5 + 66) * 2, what=f"{steps} steps")
        if device is None:
            device = self.device
        else:
            from sandbox.train import resolve_device  # "cuda" without a GPU: one line, not torch's assertion

            device = resolve_device(device)
        if device != self.device:
            self.to(device)
        if generator is None:
            generator = torch.Generator(device=device).manual_seed(0 if seed is None else int(seed))
        if x_T is None:
            x_T = torch.randn(int(n), 2, generator=generator, device=generator.device).to(device)
        else:
            x_T = _start_points(x_T, int(n))
        lab = self._labels(labels, int(n), device)
        options.setdefault("generator", generator)  # every sampler takes it (DDIM eta > 0 too)
        if lab is not None:
            options["labels"] = lab
        gen = run_sampler(self.field(guidance), sampler, x_T.to(device), steps, **options)
        traj = collect(gen, sampler, lab)
        if coords == "canonical":
            return traj
        return replace(traj, xs=self.normalizer.inverse(traj.xs), coords="data")

    def check_sample_options(self, options: dict, who: str = "sample", extra: tuple[str, ...] = ()) -> None:
        """UserError for a keyword that neither `sample` nor the chosen sampler takes (a typo such as
        `stesp=10` is named with its nearest keyword, rather than blamed on the sampler)."""
        import inspect

        own = [p for p in inspect.signature(DiffusionModel.sample).parameters if p not in ("self", "n", "options")]
        name = SAMPLERS.canonical(options.get("sampler") or self.default_sampler)
        theirs = [o for o in SAMPLERS[name].option_names() if o not in own]
        listing = f"{who} takes {', '.join([*extra, *own])}" + (f"; the {name} sampler also takes {', '.join(theirs)}"
                                                                  if theirs else "")
        error = unknown_options(options, [*extra, *own, *theirs], "option", listing=listing)
        if error is not None:
            raise error

    def _repr_html_(self) -> str:
        """A short summary card in notebooks (sandbox/web/cards.py)."""
        from sandbox.web.cards import model_card

        return model_card(self)


def _start_points(x_T, n: int) -> torch.Tensor:
    """`x_T` given to `sample`: an (n, 2) array or tensor of start points (canonical coordinates)."""
    try:
        x = torch.as_tensor(np.asarray(x_T.detach().cpu() if isinstance(x_T, torch.Tensor) else x_T,
                                       dtype=np.float32))
    except (TypeError, ValueError):
        raise UserError(f"x_T: cannot read start points from a {type(x_T).__name__}") from None
    if tuple(x.shape) != (n, 2):
        raise UserError(f"x_T must be ({n}, 2) start points, one per sample, got shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise UserError("x_T contains NaN or infinite coordinates")
    return x
