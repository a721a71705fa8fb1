"""The window's only door into the 2D engine: training, sampling and models in data coordinates.

Models live in canonical coordinates (ARCHITECTURE.md); the window draws in data coordinates (the
drawing's own), so every trajectory is mapped back through the model's `normalizer` here.
Keeping these calls in one file keeps the engine's interface visible from the app.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sandbox import registry
from sandbox.errors import UserError

from .identity import Source
from .settings import PaneSettings, TrainSettings

Model = Any   # a sandbox.bundle.DiffusionModel or an ExactModel: anything with .field() and .normalizer



def resolve_device(name: str = "auto"):
    from sandbox.train import resolve_device as rd

    return rd(name)


LIVE_LR = 0.3   # train as I draw: this fraction of the learning rate (warm starts from a trained model)


def train_config(pane: PaneSettings, train: TrainSettings, conditional: bool, live: bool = False):
    from sandbox.train import TrainConfig

    t = train.checked()
    kw: dict[str, Any] = dict(objective=pane.objective, steps=t.train_steps, lr=t.lr, batch_size=t.batch_size,
              width=t.width, depth=t.depth, seed=t.seed, conditional=conditional,
              eval_every=t.eval_every, eval_samples=t.eval_samples)
    if live:  # train as I draw: no warm-up, and a third of the learning rate: a fresh Adam's first
        # steps move every weight by about lr, and at the full 1e-2 (with plain targets) 5 steps took the
        # shipped smiley from 1.18x to 3.46x; the stable targets (reference) keep it at 0.93-1.11x
        kw.update(warmup=0, lr=t.lr * LIVE_LR)
    if pane.objective == "ddpm":
        kw.update(prediction=pane.prediction, schedule=pane.schedule)
    else:
        kw.update(ot=t.ot)
    return TrainConfig(**kw)


def train_events(pointset, pane: PaneSettings, train: TrainSettings, device, init: Model = None,
                 live: bool = False):
    """The engine's training generator for these settings (events: step, loss, score, model).

    init: continue from this model's weights (a warm start) instead of a fresh network."""
    from sandbox.threads import apply_thread_policy
    from sandbox.train import train as train_loop

    apply_thread_policy()  # one thread: two crawl when another process holds a core (bench/threads.py)
    if init is not None:   # a warm start keeps the network it starts from
        net = (getattr(init, "config", None) or {}).get("net", {})
        train = replace(train, width=int(net.get("width", train.width)),
                        depth=int(net.get("depth", train.depth)))
    cfg = train_config(pane, train, conditional=pointset.labels is not None, live=live)
    if init is None:
        return train_loop(cfg, pointset, device)
    warm: dict[str, Any] = {"init": init}   # engines before the warm start have no init=
    return train_loop(cfg, pointset, device, **warm)


@functools.lru_cache(maxsize=1)
def can_warm_start() -> bool:
    """Whether this engine's `train` takes `init=` (train as I draw)."""
    import inspect

    from sandbox.train import train as train_loop

    return "init" in inspect.signature(train_loop).parameters


def model_key(model) -> tuple:
    """("flow",) or ("ddpm", prediction, schedule): which PaneSettings this model serves."""
    if getattr(model, "kind", "flow") == "flow":
        return ("flow",)
    obj = model.objective
    return ("ddpm", str(getattr(obj, "prediction", "eps")), str(getattr(obj, "schedule_name", None) or "cosine"))


def class_names(model) -> list[str]:
    names = getattr(model, "class_names", None)
    if names is None:
        names = (getattr(model, "data_summary", None) or {}).get("class_names", [])
    return list(names or [])


@dataclass
class Sampled:
    """A trajectory in data coordinates, what the pane header prints about it, and its identity
    (the model object and the settings that produced it: see identity.py)."""

    traj: Any                  # sandbox.trajectory.Trajectory, xs (S+1, N, 2) in data coords
    nfe: int
    straightness: float | None
    source: Source


def num_classes(model) -> int:
    """Classes the model can be asked for (0: unconditional, even if its data had labels)."""
    n = getattr(model, "num_classes", None)
    return int(n) if n is not None else len(class_names(model))


def _labels(model, n: int, cls: int):
    import torch

    k = num_classes(model)
    if cls is None or cls < 0 or k == 0:
        return None
    return torch.full((n,), int(cls) % k, dtype=torch.int64)


def _field(model, guidance: float, labels):
    """Guidance only means something for a class (labels); without one the plain denoiser."""
    return model.field(guidance=guidance if labels is not None else 1.0)


def sample(model: Model, x_T: np.ndarray, pane: PaneSettings, guidance: float = 1.0, cls: int = -1,
           seed: int = 0, deterministic: bool = False, preview_run: int = 0) -> Sampled:
    """Run the pane's sampler from canonical noise x_T (N, 2); result mapped to data coordinates."""
    import torch

    from sandbox import samplers
    from sandbox.trajectory import Trajectory

    dev = model_device(model)
    x = torch.as_tensor(np.asarray(x_T, np.float32)).to(dev)
    labels = _labels(model, len(x), cls)
    field = _field(model, guidance, labels)
    # for the mesh: a smooth map, the deterministic sampler of the same family (sandbox.registry)
    name = registry.deterministic_twin(pane.sampler) if deterministic else pane.sampler
    g = torch.Generator(device=dev).manual_seed(int(seed))
    # every sampler takes the generator, so DDIM with eta > 0 is seeded too
    opts = {"labels": None if labels is None else labels.to(dev), "generator": g}
    with torch.no_grad():
        tr = samplers.run(field, name, x, pane.steps, **opts).to("cpu")
    xs = model.normalizer.inverse(tr.xs.numpy().astype(np.float32))
    data_traj = Trajectory(xs=torch.as_tensor(np.asarray(xs, np.float32)), ts=tr.ts, nfe=tr.nfe,
                           labels=labels, sampler=name)
    src = Source(model, pane, float(guidance), int(cls), (int(seed), len(x)), preview_run)
    return Sampled(data_traj, int(tr.nfe), straightness(tr), src)


def model_device(model):
    """Where the model computes (trained models may sit on a GPU; display data stays on the CPU)."""
    import torch

    try:
        return torch.device(getattr(model, "device", "cpu"))
    except (TypeError, RuntimeError, StopIteration):
        return torch.device("cpu")


def straightness(traj) -> float | None:
    """Path straightness from sandbox.metrics (1 = straight lines)."""
    from sandbox.metrics import straightness as metric

    return float(metric(traj))


class DataField:
    """A model's field seen from data coordinates, for the arrows layer.

    `to_canonical` maps world points into the model's frame; directions are unchanged by the
    normaliser (one scalar scale), which is all the arrows need.
    """

    def __init__(self, model, guidance: float, cls: int):
        self.model = model
        labels = _labels(model, 1, cls)
        self.field = _field(model, guidance, labels)
        self.path = self.field.path
        self.label = None if labels is None else int(labels[0])

    def to_canonical(self, pts: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.normalizer.forward(np.asarray(pts, np.float64)), np.float32)

    def x0(self, x, t, labels=None):
        dev = model_device(self.model)
        lab = None if labels is None else labels.to(dev)
        return self.field.x0(x.to(dev), t.to(dev), lab).cpu()


def field_kind(pane: PaneSettings) -> str:
    return "score" if pane.objective == "ddpm" else "velocity"


def load_model(path):
    from sandbox.modelio import load_model as lm

    return lm(path)


def save_model(model, path) -> None:
    from sandbox.modelio import save_model as sm

    sm(model, path)


def shipped_models(dataset: str) -> list:
    """The pretrained models shipped for a preset (flow first, then DDPM); [] where none is."""
    from sandbox.modelio import shipped_model_path

    out = []
    for objective in ("flow", "ddpm"):
        try:
            out.append(load_model(shipped_model_path(dataset, objective)))
        except UserError:
            continue
    return out


class ExactModel:
    """An analytic denoiser (sandbox.oracle) dressed as a model: the window, lessons and tests
    can show the ideal model of a data set (a Gaussian mixture, or the memorising point-set
    denoiser) exactly where a trained one would go. `field` lives in the canonical frame of
    `normalizer`; labels follow the oracle's convention (None or -1 = all classes)."""

    def __init__(self, field, normalizer, name: str = "exact", class_names=()):
        from types import SimpleNamespace

        from sandbox.paths import FlowPath

        self._field = field
        self.normalizer = normalizer
        self.kind = "flow" if isinstance(field.path, FlowPath) else "ddpm"
        sched = getattr(getattr(field.path, "schedule", None), "name", "cosine")
        self.objective = SimpleNamespace(prediction="eps", schedule_name=sched, path=field.path)
        self.class_names = list(class_names)
        self.num_classes = len(self.class_names)
        self.data_summary = {"name": name, "class_names": self.class_names}

    def field(self, guidance: float = 1.0):
        from sandbox.field import GuidedField

        if guidance != 1.0 and self.class_names:
            return GuidedField(self._field, guidance, null_label=-1)
        return self._field
