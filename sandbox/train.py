"""`sandbox.train(data, objective="flow", steps=..., seed=0, device="auto", progress=False, **options)`
trains a model and returns it (`sandbox.api.train`: this module is callable: sandbox/callmodule.py).

Underneath, the training loop, as a generator that yields after every optimiser step.

    for ev in train(TrainConfig(objective="flow"), make_preset("moons")):
        print(ev.step, ev.loss, ev.score)        # score: every eval_every steps, else None
    model = ev.model                             # a DiffusionModel (bundle.py)

The caller decides when to stop (the window pulls a few steps per frame, the CLI drives a
progress bar, the benchmark stops at a target score). Seeded: the same config and data give the
same losses on the CPU. Divergence (NaN/inf or an exploding loss) stops with a UserError.
The run's settings, `TrainConfig` and `warm_start_config`, are `sandbox/train_config.py` (and
importable from here, as before).
"""
from __future__ import annotations

import math
import time
from typing import Iterator

import numpy as np
import torch

from sandbox import metrics
from sandbox.bundle import DiffusionModel
from sandbox.callmodule import make_callable
from sandbox.datasets import Normalizer, PointSet, as_pointset
from sandbox.errors import UserError
from sandbox.model import MLP, MLPConfig
from sandbox.objectives import Objective, Reference
from sandbox.registry import OBJECTIVES
from sandbox.train_config import WARM_STEPS, TrainConfig, warm_start_config  # noqa: F401 - their names here before
from sandbox.train_step import make_step

DATA_SAMPLE_MAX = 2000  # training points kept in the model file (drawn faintly behind samples)
ADAM_BETAS = (0.9, 0.95)  # a short memory of squared gradients: faster in runs of a few hundred steps


class TrainEvent:
    """One optimiser step: `step` (1-based), `loss` (float), `score` (sliced Wasserstein of
    eval_samples samples vs the data, or None between evaluations), `baseline` (data vs data at
    the same n; set with every score), `model` (the DiffusionModel being trained, updated in place),
    `stopped` (None, or on the last event why training ended: STOP_CONVERGED or STOP_CAP).
    The loss is kept as a tensor and read on access, so a caller that ignores it costs no GPU sync.
    """

    __slots__ = ("step", "_loss", "score", "baseline", "model", "stopped")

    def __init__(self, step: int, loss, score: float | None, baseline: float | None, model: DiffusionModel,
                 stopped: str | None = None):
        self.step, self._loss, self.score, self.baseline, self.model = step, loss, score, baseline, model
        self.stopped = stopped

    @property
    def loss(self) -> float:
        return float(self._loss)

    def __repr__(self) -> str:
        return f"TrainEvent(step={self.step}, loss={self.loss:.4g}, score={self.score}, baseline={self.baseline})"


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """"auto" (cuda, then mps, then cpu), "cpu", "cuda[:k]", "mps"; UserError if absent."""
    if isinstance(name, torch.device):
        name = str(name)
    name = (name or "auto").strip().lower()
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError("device 'cuda' asked for but no CUDA GPU is available (use device cpu or auto)")
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UserError(f"device {name!r} asked for but only {torch.cuda.device_count()} GPU(s) exist")
        return dev
    if name == "mps":
        if not has_mps:
            raise UserError("device 'mps' asked for but Apple's Metal backend is not available")
        return torch.device("mps")
    raise UserError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")


def make_objective_for(cfg: TrainConfig) -> Objective:
    """The objective of cfg, built by its registry entry from the TrainConfig fields it declares."""
    info = OBJECTIVES[cfg.objective]
    return info({"type": info.name, **{k: getattr(cfg, k) for k in info.options}})


def _check_data(pointset: PointSet) -> np.ndarray:
    pts = np.asarray(getattr(pointset, "points", pointset), dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2:
        raise UserError(f"need at least 2 points with 2 coordinates to train, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        raise UserError("the training data contains NaN or infinite coordinates")
    if float(np.sqrt(((pts - pts.mean(0)) ** 2).sum(1).mean())) <= 0:
        raise UserError("all training points are at the same place; the data needs some extent")
    return pts


def data_summary(pointset: PointSet, seed: int = 0) -> dict:
    """JSON-able description of the training data with a subsample (<= 2000 points, data coords)."""
    pts = np.asarray(pointset.points, dtype=np.float32)
    labels = getattr(pointset, "labels", None)
    idx = np.arange(len(pts))
    if len(pts) > DATA_SAMPLE_MAX:
        idx = np.sort(np.random.default_rng(seed).choice(len(pts), DATA_SAMPLE_MAX, replace=False))
    summary = pointset.summary() if hasattr(pointset, "summary") else {"name": "points", "n": len(pts)}
    summary["sample"] = pts[idx].tolist()
    summary["sample_labels"] = None if labels is None else np.asarray(labels)[idx].astype(int).tolist()
    return summary


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up to 1 over `warmup` steps, then cosine decay to 0 at `total` (step is 0-based)."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


def build_model(cfg: TrainConfig, pointset: PointSet, device: torch.device) -> DiffusionModel:
    """A fresh (seeded) model for `cfg` on `device`, with the data's normaliser and summary."""
    pts = _check_data(pointset)
    labels = getattr(pointset, "labels", None)
    num_classes = len(pointset.class_names) if (cfg.conditional and labels is not None) else 0
    if cfg.conditional and labels is None:
        raise UserError("conditional training needs class labels; this data has none")
    net_cfg = MLPConfig(width=cfg.width, depth=cfg.depth, time_embed_dim=cfg.time_embed_dim,
                        fourier_features=cfg.fourier, fourier_scale=cfg.fourier_scale,
                        num_classes=num_classes, seed=cfg.seed)
    with torch.random.fork_rng(devices=[]):  # seed the init without touching the caller's RNG
        torch.manual_seed(cfg.seed)
        net = MLP(net_cfg)
    objective = make_objective_for(cfg)
    config = {"net": net_cfg.to_dict(), "objective": objective.config(), "train": cfg.to_dict(), "stats": {}}
    return DiffusionModel(net.to(device), objective, Normalizer.fit(pts), config, data_summary(pointset, cfg.seed))



NET_FIELDS = {"width": "width", "depth": "depth", "time_embed_dim": "time_embed_dim",
              "fourier": "fourier_features", "fourier_scale": "fourier_scale"}


def warm_model(cfg: TrainConfig, pointset: PointSet, device: torch.device, init: DiffusionModel) -> DiffusionModel:
    """A copy of `init` to continue training on `pointset`: same net, objective and normaliser;
    the data summary is the new data's. UserError if cfg asks for another network or objective."""
    import copy

    if not isinstance(init, DiffusionModel):
        raise UserError(f"init must be a trained model (DiffusionModel), got {type(init).__name__}")
    pts = _check_data(pointset)
    obj = init.objective.config()
    if obj.get("type") != cfg.objective:
        raise UserError(f"the initial model is {obj.get('type')}, but {cfg.objective} training was asked for; "
                        f"drop --objective or use a {cfg.objective} model")
    net_cfg = init.config.get("net", {})
    for field, key in NET_FIELDS.items():
        asked = getattr(cfg, field)
        if key in net_cfg and asked != getattr(TrainConfig, field) and asked != net_cfg[key]:
            raise UserError(f"{field} {getattr(cfg, field)} differs from the initial model's {net_cfg[key]}; "
                            "a warm start keeps the network")
    labels = getattr(pointset, "labels", None)
    if init.num_classes and (labels is None or len(pointset.class_names) != init.num_classes):
        raise UserError(f"the initial model is conditional on {init.num_classes} classes; the new data must have "
                        "the same classes")
    if not np.isfinite(init.normalizer.forward(pts)).all():
        raise UserError("the new data cannot be expressed in the initial model's coordinates")
    net = copy.deepcopy(init.net).to(device)
    config = {"net": dict(net_cfg), "objective": dict(obj), "stats": {},
              "train": {**init.config.get("train", {}), **cfg.to_dict(), "init": True}}
    model = DiffusionModel(net, init.objective, init.normalizer, config, data_summary(pointset, cfg.seed))
    return model


# the score's sampler and steps per model kind: the cheapest setting measured to be within
# noise of many more steps (bench/time_to_quality.py); stochastic sampling hides the errors of a
# young eps-predicting DDPM net far better than DDIM does. Euler-Maruyama is not used on the
# cosine schedule: its first step from t = 1 (sigma/alpha ~ 2e4) is far too coarse at 50 steps.
EVAL_SAMPLER = {"flow": ("heun", 10), "ddpm": ("euler_maruyama", 50), "ddpm-cosine": ("ddpm", 50)}
STOP_CONVERGED = "the score stopped improving"
STOP_CAP = "reached the step cap"
IMPROVEMENT = 0.02  # a score counts as better when it is 2% below the best so far
COOLDOWN = 100  # steps of linear learning-rate decay to 0 once the score stopped improving
EVAL_REFERENCES = 4  # data draws the score is averaged over (each is as noisy as the samples)
BASELINE_REPEATS = 16


@torch.no_grad()
def update_ema(ema_params: list[torch.Tensor], params: list[torch.Tensor], weight: float) -> None:
    """ema <- ema + weight (param - ema), in place, with public tensor ops (Tensor.lerp_)."""
    for e, p in zip(ema_params, params):
        e.lerp_(p, weight)


def sample_final(model: DiffusionModel, n: int, sampler: str, steps: int, seed: int) -> torch.Tensor:
    """(n, 2) final samples in canonical coordinates, without keeping the trajectory."""
    from sandbox.samplers import sample

    g = torch.Generator(device=model.device).manual_seed(seed)
    x = torch.randn(n, 2, generator=g, device=model.device)
    for _, x in sample(model.field(), sampler, x, steps, generator=g):
        pass
    return x


def evaluate(model: DiffusionModel, references: list[torch.Tensor], cfg: TrainConfig, seed: int = 0) -> float:
    """Mean sliced Wasserstein between cfg.eval_samples samples and each reference draw."""
    key = model.kind
    if key == "ddpm" and getattr(model.objective, "schedule_name", "") == "cosine":
        key = "ddpm-cosine"
    sampler, steps = EVAL_SAMPLER[key]
    sampler, steps = cfg.eval_sampler or sampler, cfg.eval_steps or steps
    if model.T:  # a short chain (T = 20) has at most T timesteps to visit
        steps = min(steps, model.T)
    model.net.eval()
    x = sample_final(model, cfg.eval_samples, sampler, steps, seed)
    model.net.train()
    return sum(metrics.sliced_wasserstein(x, ref) for ref in references) / len(references)


def train(cfg: TrainConfig, pointset: PointSet, device: str | torch.device | None = None,
          init: DiffusionModel | None = None) -> Iterator[TrainEvent]:
    """Generator: yields a TrainEvent after each optimiser step (see module doc), at most cfg.steps;
    with cfg.patience and cfg.eval_every it ends early once the score stops improving, and the last
    event's `stopped` says why it ended.

    pointset: a PointSet or an (N, 2) array (numpy or torch).
    init: warm start: continue from this model's weights (a copy; `init` is not changed) on the new
    data. Its network, objective and coordinates (normaliser) are kept, so what it learned still
    means the same; cfg's network and objective settings must agree with it (UserError otherwise).
    """
    cfg.validate()
    pointset = as_pointset(pointset)
    device = resolve_device(device if device is not None else cfg.device)
    model = build_model(cfg, pointset, device) if init is None else warm_model(cfg, pointset, device, init)
    net = model.net
    if cfg.ema > 0:  # the model samples with the average; the optimiser trains `net`
        import copy

        model.net = copy.deepcopy(net)
        ema_params, params = list(model.net.parameters()), list(net.parameters())
    data = model.normalizer.forward(torch.as_tensor(_check_data(pointset), dtype=torch.float32)).to(device)
    labels = None
    if model.num_classes:
        labels = torch.as_tensor(np.asarray(pointset.labels), dtype=torch.long, device=device)
    g = torch.Generator(device=device).manual_seed(cfg.seed)
    reference = Reference(data, labels, cfg.reference) if cfg.reference else None

    def compute_loss() -> torch.Tensor:
        idx = torch.randint(0, data.shape[0], (cfg.batch_size,), generator=g, device=device)
        return model.objective.loss(net, data[idx], None if labels is None else labels[idx], generator=g,
                                    label_dropout=cfg.label_dropout, num_classes=model.num_classes,
                                    reference=reference)

    net.train()
    # OT coupling solves an assignment on the host each step, which a CUDA graph cannot hold
    optimiser_step = make_step(net, compute_loss, cfg.lr, ADAM_BETAS, device, g, graph=cfg.cuda_graph and not cfg.ot)
    check_every = 1 if torch.device(device).type == "cpu" else 16  # a host sync per check: cheap on the CPU only
    references = baseline = None
    first_loss = None
    best, since_best = math.inf, 0
    cool_from = cool_to = None  # the cool-down after the score stopped improving: (step, factor) -> 0
    t_start = time.perf_counter()
    for k in range(cfg.steps):
        if cool_from is None:
            factor = lr_factor(k, cfg.warmup, cfg.steps)
        else:  # linear decay from where the plateau was found to 0 over COOLDOWN steps
            factor = cool_from[1] * max(0.0, 1.0 - (k - cool_from[0]) / COOLDOWN)
        loss = optimiser_step(cfg.lr * factor)
        if cfg.ema > 0:
            update_ema(ema_params, params, 1.0 - min(cfg.ema, (1.0 + k) / (10.0 + k)))
        step = k + 1
        if step % check_every == 0 or step == cfg.steps or step == 1:
            value = float(loss.detach())
            first_loss = value if first_loss is None else first_loss
            if not math.isfinite(value) or value > 1e3 * max(first_loss, 1.0):
                how = 'NaN/inf' if not math.isfinite(value) else 'explosive'
                raise UserError(f"training diverged: loss became {how} "
                                f"at step {step}; lower the learning rate (now {cfg.lr:g})")
        score = None
        if cfg.eval_every and (step % cfg.eval_every == 0 or step == cfg.steps):
            if references is None:  # once: fixed data draws and the data-vs-data baseline at n
                gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)
                references = [metrics.draw(data, cfg.eval_samples, gen) for _ in range(EVAL_REFERENCES)]
                baseline = metrics.baseline(data, cfg.eval_samples, generator=gen, repeats=BASELINE_REPEATS)
            score = evaluate(model, references, cfg, seed=cfg.seed + 2)
            if score < best * (1.0 - IMPROVEMENT):
                best, since_best = score, 0
            else:
                since_best += 1
        stopped = None
        if cool_to is not None and step >= cool_to:
            stopped = STOP_CONVERGED
        elif step == cfg.steps:
            stopped = STOP_CAP
        elif cfg.patience and since_best >= cfg.patience and cool_from is None:
            # a plateau: anneal the learning rate to 0 over COOLDOWN steps (what the cosine
            # schedule would have done at the cap), then stop; at most the cap
            cool_from, cool_to = (step, factor), min(step + COOLDOWN, cfg.steps)
        stats = model.config["stats"]
        stats.update(steps=step, seconds=time.perf_counter() - t_start)
        if score is not None:
            stats.update(score=score, baseline=baseline, loss=float(loss.detach()))
        if stopped:
            stats.update(stopped=stopped)
            model.net.eval()
        yield TrainEvent(step, loss.detach(), score, baseline, model, stopped)
        if stopped:
            return
    model.net.eval()


# sandbox.train(data, ...) is this module called: the public API's train (sandbox/callmodule.py)
make_callable(__name__, "sandbox.api:train")
