"""From a trajectory to a tree: the embedding stage of `tdl embed` / `tdl run`, as plain functions.

- `embed_trajectory`: PCA + the evolutionary embedding (`tdl.embedding`) + metrics -> `TreeData`.
- `embed_parametric`: the same picture from a small network (`tdl.parametric`), which is saved so that
  `place_trajectory` can put new samples into it later without optimising again.
Metrics always compare the picture with the intermediate (PCA) space the embedding was given.
"""
from __future__ import annotations

import os
import time

import numpy as np
import torch

from sandbox.errors import UserError

# what a parametric embedding takes over from the evolutionary embedding's config (the loss weights
# are on another scale there, so they keep the parametric defaults)
SHARED = ("layout", "perplexity", "pca_dim", "radius", "stretch", "seed", "device")  # pca_fit: the
# parametric model keeps its own default ("all": one input space for every step and new samples)


def _tree(traj, Y, layout: str, metrics: dict, config: dict, source: str):
    from tdl.tree import TreeData
    config = {**jsonable(config), "trajectory_source": traj.source}
    return TreeData(np.asarray(Y, dtype=np.float32), layout, traj.times, traj.prompts, traj.prompt_index,
                    metrics=jsonable(metrics), config=config, source=source)


def embed_trajectory(traj, config, source: str = "", progress: bool = True):
    """`TrajectoryData` + `EmbedConfig` -> `TreeData` (display coordinates, metrics, config)."""
    from tdl.embedding import embed
    from tdl.metrics import evaluate
    config.validate(traj.num_steps, traj.num_instances)  # before any progress bar
    result = embed(traj.features, config, progress=progress)
    if config.layout == "radial":  # the tree round the whole disc; metrics measure what is shown
        from tdl.tree import fill_disc
        result.Y = torch.as_tensor(fill_disc(result.Y.detach().cpu().numpy()), dtype=result.Y.dtype)
    metrics = evaluate(result.intermediate, result)
    metrics.update(branch_metrics(result.intermediate, result.Y, traj, config.layout, result.config.stretch,
                                  result.config.radius))
    return _tree(traj, result.Y.detach().cpu().numpy(), config.layout, metrics, result.config.to_dict(), source)


def embed_parametric(traj, config, out: str | os.PathLike, epochs: int | None = None, source: str = "",
                     progress: bool = True):
    """Train the parametric embedding with `config`'s shared settings, save it to `out`
    (.safetensors) and return the `TreeData` of the trajectory it was trained on."""
    from tdl.parametric import ParametricConfig, ParametricEmbedding
    pcfg = ParametricConfig(**{k: getattr(config, k) for k in SHARED if getattr(config, k) != "auto"})
    if epochs is not None:
        pcfg.epochs = int(epochs)
    config.validate(traj.num_steps, traj.num_instances)
    t0 = time.perf_counter()
    epochs_iter = ParametricEmbedding.fit_iter(traj.features, pcfg)
    if progress:
        from sandbox.progress import progress_bar
        epochs_iter = progress_bar(epochs_iter, total=pcfg.epochs, desc="parametric embedding", unit="epoch",
                                   leave=False)
    model = None
    for model, _ in epochs_iter:
        pass
    path = model.save(out)
    tree = place_trajectory(traj, model, source=source, runtime=time.perf_counter() - t0)
    tree.config["parametric"] = path.name
    return tree


def place_trajectory(traj, model, source: str = "", runtime: float | None = None):
    """Put `traj` into the picture of a trained `ParametricEmbedding` (no optimisation) -> `TreeData`."""
    from dataclasses import asdict

    from tdl.metrics import evaluate_display
    if traj.num_steps != model.num_steps:
        raise UserError(f"the parametric embedding was trained on {model.num_steps} steps, "
                        f"this trajectory has {traj.num_steps}")
    t0 = time.perf_counter()
    with torch.no_grad():
        f = torch.as_tensor(traj.features, dtype=torch.float32, device=model.pca.mean.device)
        Y = model.embed_all(f)
        x = model.pca.transform(f)
    cfg = model.config
    metrics = evaluate_display(x, Y, None, cfg.layout, cfg.radius, cfg.stretch)
    metrics.update(branch_metrics(x, Y, traj, cfg.layout, cfg.stretch, cfg.radius))
    metrics["runtime_s"] = runtime if runtime is not None else time.perf_counter() - t0
    metrics["method"] = "parametric"
    return _tree(traj, Y.cpu().numpy(), cfg.layout, metrics, asdict(cfg), source)


def branch_metrics(x, Y, traj, layout: str, stretch: float, radius: float = 20.0) -> dict:
    """Per prompt: the commitment step (`tdl.commitment`, in the intermediate space `x (S, I, d)`),
    per-step prompt purity of the picture and the swap measure (`tdl.metrics.swaps`); for every tree the
    share of each instance's nearest neighbours kept from one step to the next, in the data
    (`neighbours_kept`) and in the picture (`neighbours_kept_display`): a stochastic sampler's paths cross
    in the data itself (sandbox2d moons, Euler-Maruyama: 0.69 per step against 0.96-0.99 for the ODE
    samplers), and the figure says so (`tdl.plot`)."""
    from tdl.commitment import commitment
    from tdl.metrics import prompt_purity, swaps
    from tdl.persistence import neighbour_persistence
    pidx = np.asarray(traj.prompt_index)
    out = {}
    if x.shape[0] > 1 and x.shape[1] > 2:  # 300 query instances: the mean is good to about 0.01
        # on the features' device: at 50 x 20,000 the CPU takes 14 + 8 s for the two (2 busy cores)
        dev = x.device if isinstance(x, torch.Tensor) else torch.device("cpu")
        for key, z in (("neighbours_kept", x), ("neighbours_kept_display", Y)):
            z = torch.as_tensor(np.asarray(z, dtype=np.float32)) if not isinstance(z, torch.Tensor) else z
            out[key] = float(neighbour_persistence(z.detach().float().to(dev), queries=300)[:-1].mean())
    if len(np.unique(pidx)) >= 2:
        c = commitment(x, pidx)
        out.update(c.as_metrics([traj.prompts[p] for p in np.unique(pidx)]))
        out["prompt_purity_per_step"] = prompt_purity(Y, pidx).tolist()
        out.update(swaps(Y, x, pidx, layout, stretch, radius))
    return out


def jsonable(obj):
    """Metrics and configs -> plain JSON types (tensors and arrays become lists)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
