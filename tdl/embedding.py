"""The evolutionary embedding (TDL / EvolvED), vectorised over steps and instances.

The update rule is the reference code's (vidyaprsd/evolved, evol_embed_radial.py), all steps at once:
    g      = dKL_s/dy / 4                        (van der Maaten's gradient convention)
    gains  = (gains + 0.2) if sign(g) != sign(u) else 0.8 * gains,  >= min_gain
    u      = momentum * u - eta * gains * g      (momentum 0.5, 0.8 after 20 iterations)
    Y      = Y + u                               (Cartesian)
    along  -= eta * w_d * dD/d along             (radius or step-axis coordinate)
    theta  -= w_a * dA/d theta                   (angle, or cross-axis / radius)
with every gradient taken at the iteration's starting Y. P is exaggerated by 4 for iterations 0..100;
the displacement sigma is annealed 20 -> 15 -> 10 -> 8 at 50 / 62.5 / 75 % of the iterations. One fix
against the reference: the gains are per step (the reference shares one gains array between steps).
`iterate` is a generator (one `EmbedState` per iteration) so a window can animate it; `embed` runs it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch

from sandbox.errors import UserError
from tdl import layout as lay
from tdl.affinity import SparseAffinity, dense_affinities, knn_affinities
from tdl.intermediate import pca
from tdl.losses import alignment, displacement, tsne_exact, tsne_sparse
from tdl.repulsion import repulsion_exact, repulsion_grid
from tdl.starts import initial_positions, principal_start  # noqa: F401 (principal_start: public here too)

from tdl.config import (  # noqa: F401 (the settings: public here too)
    METHODS, EXACT_MAX, EXACT_MAX_ENTRIES, AUTO_SCALE_MAX, MIN_INSTANCES, FewInstancesWarning, check_instances,
    INITS, PCA_INIT_MIN, PCA_ANGLE_MIN, ALIGN_SCALES, LAYOUT_DEFAULTS, EmbedConfig)


@dataclass
class EmbedState:
    """One iteration of `iterate`: `Y (S, I, 2)` optimisation coordinates after the update;
    `losses` (semantic, displacement, alignment; reference normalisation) on logging iterations."""
    iteration: int
    n_iter: int
    Y: torch.Tensor
    losses: dict | None
    config: EmbedConfig

    def display(self) -> torch.Tensor:
        """Display coordinates `(S, I, 2)` (stretched, see `tdl.layout.stretch`)."""
        c = self.config
        return lay.stretch(self.Y, c.layout, c.stretch, c.display, c.radius)


@dataclass
class EmbeddingResult:
    """`Y (S, I, 2)` display coordinates (what to plot), `Y_opt` optimisation coordinates,
    `intermediate (S, I, d)` the space the embedding preserved, `history` of loss dicts, `runtime_s`."""
    Y: torch.Tensor
    Y_opt: torch.Tensor
    intermediate: torch.Tensor
    history: list[dict]
    runtime_s: float
    config: EmbedConfig
    method: str = "exact"
    extra: dict = field(default_factory=dict)


def prepare(x: torch.Tensor, config: EmbedConfig) -> torch.Tensor:
    """Features or intermediate points `(S, I, D)` -> intermediate `(S, I, d)` on the config's device:
    PCA to `pca_dim` when `D > pca_dim` (as the reference: `pca(...) if initial_dims < D else X`)."""
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim != 3:
        raise UserError(f"features must be (steps, instances, dim), got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise UserError("features contain NaN or infinity")
    x = x.to(config.device)
    return pca(x, config.pca_dim, config.pca_fit, config.seed) if x.shape[-1] > config.pca_dim else x


def affinities(x: torch.Tensor, config: EmbedConfig) -> torch.Tensor | SparseAffinity:
    """Per-step P for intermediate `x (S, I, d)`: dense `(S, I, I)` (exact) or `SparseAffinity`."""
    perp = min(config.by_layout("perplexity"), (x.shape[1] - 1) / 3)
    if config.resolved_method(x.shape[1], x.shape[0]) == "exact":
        return dense_affinities(x, perp)
    return knn_affinities(x, perp, config.n_neighbors)


def iterate(x: torch.Tensor, config: EmbedConfig, Y0: torch.Tensor | None = None,
            P: torch.Tensor | SparseAffinity | None = None) -> Iterator[EmbedState]:
    """Optimise the embedding of intermediate points `x (S, I, d)`; yields an `EmbedState` per iteration.

    `Y0 (S, I, 2)` overrides the initial positions, `P` the affinities (both for tests/resuming)."""
    S, I, _ = x.shape
    config = config.validate(S, I).resolved(I, S)
    dev, dtype = x.device, x.dtype
    P = affinities(x, config) if P is None else P
    exact = isinstance(P, torch.Tensor)
    if Y0 is not None:
        Y = Y0.to(dev, dtype).clone()
    elif config.free_iters > 0 and config.init != "pca":  # plain t-SNE's start: compact (std 1e-4), one
        # point per instance for all steps, so that similar consecutive steps grow similar layouts ("pca"
        # is compact already: the principal start)
        g = torch.Generator().manual_seed(config.seed)
        Y = (1e-4 * torch.randn(I, 2, generator=g, dtype=torch.float64)).expand(S, I, 2).to(dev, dtype).clone()
    else:
        Y = initial_positions(S, I, config, dev, dtype, x)
    update = torch.zeros_like(Y)
    gains = torch.ones_like(Y)
    target = lay.targets(S, config.layout, config.radius, device=dev, dtype=dtype)
    eta, radial = config.learning_rate, config.layout == "radial"
    w_a = config.align_weight  # a number, or (S, 1) with the data's persistence between steps
    if config.align_scale == "persistence" and S > 1:
        from tdl.persistence import alignment_scale
        w_a = config.align_weight * alignment_scale(x).to(dev, dtype)[:, None]
    repulse, work = None, {}
    if not exact:
        repulse = ((lambda Y: repulsion_grid(Y, config.grid_spacing)) if config.resolved_method(I) == "approx"
                   else repulsion_exact)
    for it in range(config.n_iter):
        free = it < config.free_iters  # plain t-SNE first (tdl/free_start.py)
        if it == config.free_iters > 0:  # free layouts -> rings; the new start keeps no momentum
            from tdl.free_start import procrustes_chain, to_rings
            Y = to_rings(procrustes_chain(Y), target, min(config.init_spread, config.radius) / 2, config.layout,
                         config.radius)
            update.zero_()
            gains.fill_(1.0)
        exag = config.early_exaggeration if it <= config.exaggeration_iters else 1.0
        log = config.log_every > 0 and (it % config.log_every == 0 or it == config.n_iter - 1)
        if exact:
            kl, grad = tsne_exact(Y, P, exag, with_loss=log, work=work)
        else:
            kl, grad = tsne_sparse(Y, P, exag, repulse, with_loss=log)
        grad = grad / 4  # the reference's gradient convention (eta = 500 was tuned for it)
        momentum = config.momentum if it < config.momentum_switch else config.final_momentum
        gains = torch.where((grad > 0) != (update > 0), gains + 0.2, gains * 0.8).clamp_min_(config.min_gain)
        update = momentum * update - eta * gains * grad
        if free:
            Y = Y + update
            losses = None
            if log:
                losses = {"iteration": it, "semantic": kl.sum().item() / S, "displacement": 0.0, "alignment": 0.0,
                          "exaggeration": exag, "disp_sigma": 0.0}
            yield EmbedState(it, config.n_iter, Y, losses, config)
            continue
        along, across = lay.split(Y, config.layout)
        sigma = config.disp_sigma_at(it)
        d_loss, d_grad = displacement(along, target, sigma, config.resolved_hold_band())
        theta = across if radial else across / config.radius
        a_loss, a_grad = alignment(theta, "cos" if radial else "gauss")
        along, across = lay.split(Y + update, config.layout)
        along = along - config.disp_rate * config.disp_weight * d_grad
        if radial:
            across = torch.remainder(across - w_a * a_grad, 2 * math.pi)
        else:
            across = across - config.radius * w_a * a_grad
        Y = lay.join(along, across, config.layout)
        losses = None
        if log:
            losses = {"iteration": it, "semantic": kl.sum().item() / S,
                      "displacement": d_loss.sum().item() / (S * I), "alignment": a_loss.sum().item() / (S * I),
                      "exaggeration": exag, "disp_sigma": sigma}
        yield EmbedState(it, config.n_iter, Y, losses, config)


def embed(features: torch.Tensor, config: EmbedConfig | None = None, progress: bool = False,
          callback: Callable[[EmbedState], None] | None = None) -> EmbeddingResult:
    """Features `(S, I, D)` (or intermediate points) -> `EmbeddingResult` (display `Y (S, I, 2)`).

    `progress` shows a tqdm bar; `callback(state)` is called on every iteration."""
    config = config or EmbedConfig()
    shape = tuple(getattr(features, "shape", ()))
    few = check_instances(int(shape[1])) if len(shape) == 3 else None
    if few:
        import warnings
        warnings.warn(few, FewInstancesWarning, stacklevel=2)
    sync = (lambda: torch.cuda.synchronize()) if str(config.device).startswith("cuda") else (lambda: None)
    t0 = time.perf_counter()
    x = prepare(features, config)
    config = config.validate(x.shape[0], x.shape[1]).resolved(x.shape[1], x.shape[0])  # errors before the
    # affinities; "auto" values as numbers (resolving again in `iterate` changes nothing)
    sync()
    t1 = time.perf_counter()
    P = affinities(x, config)
    sync()
    t2 = time.perf_counter()
    history: list[dict] = []
    bar = None
    if progress:
        from sandbox.progress import progress_bar
        bar = progress_bar(total=config.n_iter, desc="embedding", unit="it", leave=False)
    state = None
    for state in iterate(x, config, P=P):
        if state.losses is not None:
            history.append(state.losses)
            if bar is not None:
                bar.set_postfix(kl=f"{state.losses['semantic']:.3f}")
        if bar is not None:
            bar.update(1)
        if callback is not None:
            callback(state)
    if bar is not None:
        bar.close()
    Y = state.Y
    sync()
    t3 = time.perf_counter()
    return EmbeddingResult(Y=state.display(), Y_opt=Y, intermediate=x, history=history, runtime_s=t3 - t0,
                           config=state.config, method=state.config.method,
                           extra={"pca_s": t1 - t0, "affinity_s": t2 - t1, "optimise_s": t3 - t2})
