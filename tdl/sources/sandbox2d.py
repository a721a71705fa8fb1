"""Source: a 2D sandbox model; the features are the 2D positions themselves.

The embedding of these trajectories can be drawn next to the true paths (`positions2d`), which is
the point: a learner sees what the embedding keeps and what it distorts on paths they can see.
features: canonical coordinates (what the model works in: data centred, RMS radius 1; noise is
N(0, I)); positions2d: the same states in data coordinates, for display. capture "x0" uses the
model's prediction x0_hat(x_t, t) at every state instead of x_t (positions2d stay the true path).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sandbox.errors import UserError
from tdl.trajectory import TrajectoryData


def shipped_model(preset: str, objective: str = "flow") -> Path | None:
    """The `objective` model for `preset` shipped in assets/models/ (sandbox.modelio), or None."""
    from sandbox.modelio import shipped_model_path

    try:
        return shipped_model_path(preset, objective)
    except UserError:
        return None


def objective_for(sampler: str | None) -> str:
    """"flow" (the presets' default model), or "ddpm" for a sampler that runs on DDPM paths only (ddpm,
    ddim): every preset ships both models, so `--sampler ddpm --preset moons` works as the window's does."""
    if sampler is None:
        return "flow"
    from sandbox.registry import SAMPLERS
    info = SAMPLERS.get(sampler)
    return "ddpm" if info is not None and "flow" not in info.paths else "flow"


def quick_model(preset: str, train_steps: int = 600, seed: int = 0, device: str = "cpu", progress: bool = False):
    """Train a small conditional (when the preset has classes) flow model on `preset` (seconds)."""
    from sandbox.datasets import make_preset
    from sandbox.progress import progress_bar
    from sandbox.train import TrainConfig, train

    ps = make_preset(preset, n=2000, seed=seed)
    cfg = TrainConfig(objective="flow", steps=int(train_steps), eval_every=0, seed=seed, device=device,
                      conditional=ps.labels is not None and len(ps.class_names) > 1)
    ev, threads = None, torch.get_num_threads()
    if str(device) == "cpu":
        # a net this small runs many times faster on one thread when the cores are shared (measured
        # 600 steps: 3.5 min on two contended threads, seconds on one)
        torch.set_num_threads(1)
    try:
        for ev in progress_bar(train(cfg, ps), show=progress, total=cfg.steps, desc=f"training {preset}", leave=False):
            pass
    finally:
        torch.set_num_threads(threads)
    return ev.model


def load(model_path: str | None, preset: str | None, seed: int, device: str, progress: bool, train_steps: int,
         sampler: str | None = None):
    """(DiffusionModel, where it came from): the file, else the shipped preset model (DDPM for a sampler
    of DDPM paths only, `objective_for`), else a quick one."""
    name = preset or "moons"
    path = Path(model_path) if model_path else shipped_model(name, objective_for(sampler))
    if path is not None:
        from sandbox.modelio import load_model
        return load_model(path), str(path)
    origin = f"preset {name} (trained now, {train_steps} steps)"
    return quick_model(name, train_steps, seed, device, progress), origin


def sandbox2d(model_path: str | None = None, preset: str | None = None, instances: int = 200,
              steps: int | None = None, sampler: str | None = None, seed: int = 0, guidance: float = 1.0,
              device: str = "cpu", capture: str = "xt", train_steps: int = 600,
              progress: bool = True) -> TrajectoryData:
    """Trajectories of a saved 2D model (`model_path`) or of a preset (shipped, else trained now for
    `train_steps` steps: seconds).

    A class-conditional model gets the instances spread evenly over its classes (prompts = class
    names, guidance applies); an unconditional one has the single prompt "all". steps / sampler:
    None = the model's defaults. S = steps + 1 rows, t = 1 (noise) ... 0 (samples).
    """
    if capture not in ("xt", "x0"):
        raise UserError(f"capture must be 'xt' or 'x0', got {capture!r}")
    if isinstance(instances, bool) or int(instances) < 1:
        raise UserError(f"instances must be a positive integer, got {instances}")
    model, origin = load(model_path, preset, seed, device, progress, train_steps, sampler)
    model.to(device)
    n = int(instances)
    if model.num_classes > 0:
        names = model.class_names or [str(c) for c in range(model.num_classes)]
        prompt_index = np.arange(n) % model.num_classes
        labels = torch.as_tensor(prompt_index, dtype=torch.long)
    else:
        if float(guidance) != 1.0:  # was ignored, and the file said guidance 3
            raise UserError(f"guidance needs a class-conditional model; {Path(origin).name} has no classes "
                            "(leave it at 1)")
        names, prompt_index, labels = ["all"], np.zeros(n, dtype=np.int64), None
    traj = model.sample(n, sampler, steps, labels=labels, guidance=guidance if labels is not None else 1.0,
                        seed=seed, device=device, coords="canonical")
    xs, ts = traj.xs.detach(), traj.ts.detach()
    features = xs
    if capture == "x0":
        field = model.field(guidance if labels is not None else 1.0)
        lab = None if labels is None else labels.to(device)
        with torch.no_grad():  # at t = 0 the prediction is the sample itself
            features = torch.stack([x if t == 0.0 else field.x0(x, torch.full((n,), t, device=x.device), lab)
                                    for t, x in zip(ts.tolist(), xs)])
    positions = np.stack([np.asarray(model.normalizer.inverse(x.cpu().numpy())) for x in xs])
    return TrajectoryData(
        features=features.cpu().numpy(), times=ts.cpu().numpy().astype(np.float64), prompts=names,
        prompt_index=prompt_index, positions2d=positions, source="sandbox2d",
        meta={"model": origin, "sampler": traj.sampler, "steps": int(traj.steps), "nfe": int(traj.nfe),
              "guidance": float(guidance), "seed": int(seed), "capture": capture, "kind": model.kind,
              "feature_space": f"2D {capture} in canonical coordinates (positions2d: data coordinates)"},
    )
