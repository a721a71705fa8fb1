"""Training objectives: what the network sees and what it must predict.

Every objective trains on the Gaussian path of `paths.py`, `x_t = alpha(t) x0 + sigma(t) eps`
(t = 1 noise, t = 0 data), with a plain MSE between the network output and a target. A small base
class holds the loop; each objective overrides one or two methods (TorchCFM's layout):

- `sample_time(n)`: which t to train on;
- `couple(x0, eps)`: how noise is paired with data (independent, or minibatch OT);
- `target(x0, eps, t)`: what the network predicts;
- `to_x0(out, x, t)`: the inverse, network output -> denoiser E[x0 | x_t] (the `Field` contract).

With a `Reference` (the training points) the target is replaced by its mean over the posterior of
the data given x_t, estimated on a reference batch of training points plus the sample's own x0:
the stable target field of Xu et al. (ICLR 2023), eq. 5. It has the same minimiser as the plain
target (the empirical E[target | x_t]) with far less variance at mid and high noise, where one
noisy point is compatible with many data points; a small net then learns sharp, multi-modal data
in a few hundred steps (docs/BENCHMARKS.md, quality table).

Shapes: `x0, eps, x_t, out: (B, D)`; `t: (B,)`; `labels: (B,)` int64 or None.
"""
from __future__ import annotations

from typing import Any

import torch

from sandbox import ot as _ot
from sandbox.paths import DDPMPath, FlowPath, as_time

from sandbox.registry import OBJECTIVES, PREDICTIONS as _PREDICTIONS

PREDICTIONS = tuple(_PREDICTIONS)  # the registry's names (sandbox/registry.py declares them)


def _t(t: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    """Times as a tensor on `like`'s device: `(B,)` or 0-d."""
    return torch.as_tensor(t, dtype=like.dtype, device=like.device)


def _col(v: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    """Broadcast a per-sample coefficient `(B,)` (or scalar) against `(B, D)`."""
    v = torch.as_tensor(v, dtype=like.dtype, device=like.device)
    return v[:, None] if v.ndim == 1 else v


MIN_SIGMA = 1e-3  # below this noise the posterior is the sample's own point: the plain target is exact


class Reference:
    """Training points the stable targets average over: points (M, D), labels (M,) int64 or None,
    `size`: reference points per training step (all M when size >= M)."""

    def __init__(self, points: torch.Tensor, labels: torch.Tensor | None = None, size: int = 1024):
        self.points, self.labels, self.size = points, labels, int(size)

    def draw(self, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor | None, bool]:
        """(points (m, D), labels (m,) | None, include_own): a random batch, or all points (which
        already hold every sample's own x0)."""
        m = self.points.shape[0]
        if self.size >= m:
            return self.points, self.labels, False
        idx = torch.randint(0, m, (self.size,), generator=generator, device=self.points.device)
        return self.points[idx], None if self.labels is None else self.labels[idx], True


def posterior_x0(x_t: torch.Tensor, a: torch.Tensor, s: torch.Tensor, x0: torch.Tensor, ref: torch.Tensor,
                 include_own: bool = True, labels: torch.Tensor | None = None,
                 ref_labels: torch.Tensor | None = None, null_label: int = -1) -> torch.Tensor:
    """E[x0 | x_t] under the empirical distribution of `ref` (m, D) (plus each row's own x0 (B, D)
    when include_own), for x_t = a x0 + s eps with a, s (B, 1): softmax_j(-|x_t - a r_j|^2 / 2 s^2)
    weighted mean of the r_j. labels (B,): restrict row i to ref points of its class, except where
    labels[i] == null_label (a dropped label: all points). Returns (B, D)."""
    inv = 0.5 / s.clamp_min(1e-12) ** 2  # (B, 1)
    # -|x - a r|^2 inv without the |x|^2 term (the same for every j of a row), as one matmul:
    # [2 a inv x, -a^2 inv] . [r, |r|^2]
    q = torch.cat([(2 * a * inv) * x_t, -(a * a * inv)], 1)  # (B, D + 1)
    logits = q @ torch.cat([ref, (ref * ref).sum(1, keepdim=True)], 1).T  # (B, m)
    if include_own:  # the own point as one more column
        own = (q * torch.cat([x0, (x0 * x0).sum(1, keepdim=True)], 1)).sum(1, keepdim=True)  # (B, 1)
        logits = torch.cat([logits, own], 1)  # (B, m + 1)
    keep = None
    if labels is not None and ref_labels is not None:
        keep = (labels[:, None] == null_label) | (labels[:, None] == ref_labels[None])  # (B, m)
        if include_own:
            keep = torch.cat([keep, torch.ones_like(keep[:, :1])], 1)
        logits = logits.masked_fill(~keep, float("-inf"))
    # Weights below e^-60 of a row's largest are raised to that floor (< 1e-26 relative: nothing
    # changes): exp of logits far below the maximum (~-1e8 at small s) leaves the vectorised fast
    # path, and the clamped softmax took half the time of the plain one (a third of max/exp/sum).
    logits = torch.maximum(logits, logits.amax(1, keepdim=True) - 60.0)
    if keep is not None:
        logits = logits.masked_fill(~keep, float("-inf"))  # the floor raised them: other classes weigh 0
    w = torch.softmax(logits, 1)
    if not include_own:
        return w @ ref
    return w[:, :-1] @ ref + w[:, -1:] * x0


def drop_labels(labels: torch.Tensor | None, num_classes: int, p: float, n: int, device,
                generator: torch.Generator | None = None) -> torch.Tensor | None:
    """Labels for a conditional net: each replaced by the null class `num_classes` with prob. `p`.

    `None` labels with a conditional net mean "all null". Unconditional nets (num_classes = 0) get None.
    """
    if num_classes <= 0:
        return None
    if labels is None:
        return torch.full((n,), num_classes, dtype=torch.long, device=device)
    if p <= 0:
        return labels
    drop = torch.rand(n, generator=generator, device=device) < p
    return torch.where(drop, torch.full_like(labels, num_classes), labels)


class Objective:
    """Base class. Subclasses set `self.path` and override `sample_time`, `target`, `to_x0`."""

    path: Any = None
    kind = "base"

    def sample_time(self, n: int, generator: torch.Generator | None, device) -> torch.Tensor:
        """Training times `(n,)`."""
        return torch.rand(n, generator=generator, device=device)

    def couple(self, x0: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Noise paired with `x0`: independent by default."""
        return eps

    def sample_xt(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """`x_t = alpha(t) x0 + sigma(t) eps`."""
        return _col(self.path.alpha(t), x0) * x0 + _col(self.path.sigma(t), x0) * eps

    def target(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def to_x0(self, out: torch.Tensor, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        raise NotImplementedError

    def coefs(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, sigma) columns `(B, 1)` at training times t."""
        return _col(self.path.alpha(t), like), _col(self.path.sigma(t), like)

    def stable(self) -> bool:
        """Whether stable targets apply: the path's pairs are independent (not OT-coupled)."""
        return True

    def training_batch(self, x0: torch.Tensor, generator: torch.Generator | None = None,
                       reference: Reference | None = None, labels: torch.Tensor | None = None,
                       null_label: int = -1):
        """`(x_t, t, target)` for a batch of data `x0 (B, D)`. With a `reference` the target is the
        stable target (module doc); labels (B,) then restrict the posterior to each row's class."""
        n = x0.shape[0]
        t = self.sample_time(n, generator, x0.device)
        eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        eps = self.couple(x0, eps)
        x_t, tgt = self.sample_xt(x0, eps, t), self.target(x0, eps, t)
        if reference is not None and self.stable():
            ref, ref_labels, own = reference.draw(generator)
            a, s = self.coefs(t, x0)
            x0_hat = posterior_x0(x_t, a, s, x0, ref, own, labels, ref_labels, null_label)
            eps_hat = (x_t - a * x0_hat) / s.clamp_min(MIN_SIGMA)  # so that x_t = a x0_hat + s eps_hat
            tgt = torch.where(s > MIN_SIGMA, self.target(x0_hat, eps_hat, t), tgt)
        return x_t, t, tgt

    def loss(self, net, x0: torch.Tensor, labels: torch.Tensor | None = None,
             generator: torch.Generator | None = None, label_dropout: float = 0.1,
             num_classes: int = 0, reference: Reference | None = None) -> torch.Tensor:
        """Scalar MSE `mean |net(x_t, t, labels') - target|^2` (labels' = labels with CFG dropout;
        reference: stable targets over these training points)."""
        if reference is None:
            x_t, t, tgt = self.training_batch(x0, generator)
            lab = drop_labels(labels, num_classes, label_dropout, x0.shape[0], x0.device, generator)
        else:  # the posterior is that of the label the net sees
            lab = drop_labels(labels, num_classes, label_dropout, x0.shape[0], x0.device, generator)
            x_t, t, tgt = self.training_batch(x0, generator, reference, lab, num_classes)
        return torch.mean((net(x_t, t, lab) - tgt) ** 2)

    def config(self) -> dict:
        """Plain JSON-able description; `make_objective(config)` rebuilds the objective."""
        return {"type": self.kind}


class DDPMObjective(Objective):
    """DDPM (Ho et al. 2020, Algorithm 1): `i ~ U{0..T-1}`, `t = (i + 1) / T`,
    `x_t = sqrt(ab_i) x0 + sqrt(1 - ab_i) eps` (eq. 4). Targets by `prediction`:

    - `eps`: eps (eq. 14, the "simple" loss);
    - `x0`: x0;
    - `v`: `alpha eps - sigma x0` (Salimans & Ho 2022, sec. 4; diffusers' `get_velocity`).
    """

    kind = "ddpm"

    def __init__(self, schedule, prediction: str = "eps"):
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        self.schedule = schedule
        self.prediction = prediction
        self.path = DDPMPath(schedule)
        self.T = int(schedule.alphas_cumprod.shape[0])
        ab = schedule.alphas_cumprod.double()
        self._grid = torch.stack([ab.sqrt(), (1.0 - ab).sqrt()]).float()  # (2, T): alpha_i, sigma_i
        self._grid_on: dict[str, torch.Tensor] = {}

    @property
    def schedule_name(self) -> str:
        return self.schedule.name

    def sample_time(self, n, generator, device):
        i = torch.randint(0, self.T, (n,), generator=generator, device=device)
        return (i + 1).float() / self.T

    def coefs(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, sigma) columns `(B, 1)` at training times t = (i + 1) / T, by table lookup
        (the same values as `self.path` at grid points, in 3 kernels instead of ~25)."""
        key = str(like.device)
        if key not in self._grid_on:
            self._grid_on[key] = self._grid.to(like.device)
        i = (t * self.T).round().long().clamp(1, self.T) - 1
        coef = self._grid_on[key][:, i]  # (2, B)
        return coef[0][:, None], coef[1][:, None]

    def sample_xt(self, x0, eps, t):
        a, s = self.coefs(t, x0)
        return a * x0 + s * eps

    def target(self, x0, eps, t):
        if self.prediction == "eps":
            return eps
        if self.prediction == "x0":
            return x0
        a, s = self.coefs(t, x0)
        return a * eps - s * x0

    def to_x0(self, out, x, t):
        if self.prediction == "x0":
            return out
        t = as_time(t, x.device)  # keeps a sampler's float64 t (solvers.KarrasGrid)
        a, s = _col(self.path.alpha(t), x), _col(self.path.sigma(t), x)
        if self.prediction == "eps":
            return (x - s * out) / a
        # v = a eps - s x0 and x = a x0 + s eps with a^2 + s^2 = 1  =>  x0 = a x - s v
        return a * x - s * out

    def config(self):
        return {"type": "ddpm", "prediction": self.prediction, "schedule": self.schedule.name, "T": self.T}

    @classmethod
    def from_config(cls, config: dict) -> "DDPMObjective":
        from sandbox.schedules import get_schedule

        schedule = get_schedule(config.get("schedule", "linear"), int(config.get("T", 1000)))
        return cls(schedule, prediction=config.get("prediction", "eps"))


class FlowObjective(Objective):
    """Flow matching on the straight path (Lipman et al. 2023 with sigma_min = 0; Liu et al. 2023):
    `t ~ U(0, 1)`, `x_t = (1 - t) x0 + t eps`, target the velocity `dx_t/dt = eps - x0`.
    With `ot=True` the noise of a batch is paired with the data by exact minibatch OT
    (Tong et al. 2023, `ot.py`). The denoiser is `x0 = x_t - t v`.
    """

    kind = "flow"

    def __init__(self, ot: bool = False):
        self.ot = bool(ot)
        self.path = FlowPath()

    def couple(self, x0, eps):
        return _ot.ot_couple(x0, eps) if self.ot else eps

    def stable(self):
        return not self.ot  # an OT-coupled pair is not drawn from the independent posterior

    def target(self, x0, eps, t):
        return eps - x0

    def to_x0(self, out, x, t):
        return x - _col(_t(t, x), x) * out

    def config(self):
        return {"type": "flow", "ot": self.ot}

    @classmethod
    def from_config(cls, config: dict) -> "FlowObjective":
        return cls(ot=bool(config.get("ot", False)))


def make_objective(config: dict) -> Objective:
    """Rebuild an objective from `Objective.config()` (model files) through the registry."""
    kind = config.get("type")
    if not isinstance(kind, str) or kind not in OBJECTIVES:
        raise ValueError(f"unknown objective type {kind!r}")
    return OBJECTIVES[kind](config)
