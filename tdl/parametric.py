"""Parametric evolutionary embedding (ParaDime-style): a small MLP maps (features, step) -> 2D.

The network is trained with the same three losses as `tdl.embedding` (per-step t-SNE KL, displacement
to the step's ring/band, alignment with the next step), written as one objective for Adam:
    L = sum_s [ KL_s + lambda_d * sum_i D_si + lambda_a * sum_i A_si ] / S
on minibatches of instances (all steps of the chosen instances, so alignment pairs are present; P is
calibrated within the batch, as in parametric t-SNE). Once trained, `transform` places new samples
without re-optimising. Saved as one safetensors file (weights + the PCA) whose metadata holds the JSON
config.

    model = ParametricEmbedding.fit(features (S, I, D), ParametricConfig(...))
    Y = model.transform(features_new (N, D), step)   # (N, 2) display coordinates
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch
from torch import nn

from sandbox.errors import UserError
from tdl import layout as lay
from tdl.affinity import dense_affinities
from tdl.intermediate import PCAModel, fit_pca
from tdl.losses import displacement, student_t

FORMAT = "tdl-parametric"


@dataclass
class ParametricConfig:
    layout: str = "radial"
    perplexity: float = 30.0
    pca_dim: int = 50
    pca_fit: str = "all"  # one input space for every step and for new samples
    hidden: int = 128
    depth: int = 3  # hidden layers
    step_features: int = 4  # sinusoidal frequencies of the step fraction
    epochs: int = 400  # passes over the instances
    batch_instances: int = 256  # instances per batch (with all their steps)
    lr: float = 3e-3
    disp_weight: float = 0.05  # lambda_d (per point, Gaussian density as `losses.displacement`)
    align_weight: float = 0.002  # lambda_a (per point, -cos or Gaussian as `losses.alignment`)
    disp_sigma: float = 20.0  # annealed to disp_sigma_final over training, as the reference
    disp_sigma_final: float = 8.0
    radius: float = lay.RADIUS
    stretch: float = lay.STRETCH
    early_exaggeration: float = 4.0
    exaggeration_epochs: int = 50
    ring_head: bool = True  # the step's ring/band is built into the output (every step stays on it)
    band_fill: float = 0.8  # ring_head: share of the step's band (between the display edges) it may use
    seed: int = 0
    device: str = "cpu"

    def sigma_at(self, epoch: int) -> float:
        f = epoch / max(1, self.epochs)
        s0 = self.disp_sigma
        return s0 if f < 0.5 else 0.75 * s0 if f < 0.625 else 0.5 * s0 if f < 0.75 else self.disp_sigma_final


class StepMLP(nn.Module):
    """`(x (N, d), step fraction u (N,))` -> `(N, 2)` raw outputs."""

    def __init__(self, in_dim: int, hidden: int, depth: int, step_features: int, out: int = 2):
        super().__init__()
        self.freqs = step_features
        layers, width = [], in_dim + 1 + 2 * step_features
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, out))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        k = 2.0 ** torch.arange(self.freqs, device=x.device, dtype=x.dtype) * math.pi
        emb = torch.cat((u[:, None], torch.sin(u[:, None] * k), torch.cos(u[:, None] * k)), -1)
        return self.net(torch.cat((x, emb), -1))


def band_limits(num_steps: int, cfg: "ParametricConfig") -> tuple[torch.Tensor, torch.Tensor]:
    """Per step, the lowest and highest `along` (optimisation coordinates) that stay inside the step's
    display ring/band: `band_fill` of the way from the centre to each display edge, `(S,)` each."""
    c = lay.centres(num_steps, cfg.layout, cfg.radius, cfg.stretch)
    e = lay.edges(num_steps, cfg.layout, cfg.radius, cfg.stretch)
    gap_lo, gap_hi = c - e[:-1], e[1:] - c
    gap_lo = torch.where(torch.isfinite(gap_lo), gap_lo, gap_hi)  # an open side: as wide as the other
    gap_hi = torch.where(torch.isfinite(gap_hi), gap_hi, gap_lo)
    half = torch.full_like(c, cfg.stretch / 2)  # a single step: half a stretch either way
    gap_lo, gap_hi = (torch.where(torch.isfinite(g), g, half) for g in (gap_lo, gap_hi))
    t = lay.targets(num_steps, cfg.layout, cfg.radius, dtype=torch.float64)
    lo, hi = t - cfg.band_fill * gap_lo, t + cfg.band_fill * gap_hi
    if cfg.layout == "radial":
        lo = lo.clamp_min(0.0)
    return lo.float(), hi.float()


def ring_head(raw: torch.Tensor, steps: torch.Tensor, cfg: "ParametricConfig", num_steps: int) -> torch.Tensor:
    """Raw outputs `(N, 2)` -> optimisation coordinates `(N, 2)` on the step's ring/band by construction:
    along = lo + (hi - lo) sigmoid(raw_0) (`band_limits`), across = raw_1 as the angle (radial) or
    scaled by the radius (rectilinear)."""
    lo, hi = (v.to(raw.device)[steps] for v in band_limits(num_steps, cfg))
    along = lo + (hi - lo) * torch.sigmoid(raw[:, 0])
    if cfg.layout == "radial":  # the angle itself (periodic), as smooth in the inputs as raw_1
        across = raw[:, 1]
    else:
        across = cfg.radius * raw[:, 1]
    return lay.join(along, across, cfg.layout)


def _kl(Y: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
    """Differentiable per-step KL(P || Q), `Y (S, B, 2)`, `P (S, B, B)` -> `(S,)`."""
    w = student_t(Y)
    logq = torch.log(w.clamp_min(1e-12)) - torch.log(w.sum(dim=(1, 2)))[:, None, None]
    return (torch.special.xlogy(P, P) - P * logq).sum(dim=(1, 2))


class ParametricEmbedding:
    """A trained network + the intermediate-space PCA + config. Use `fit`, `transform`, `save`, `load`."""

    def __init__(self, net: StepMLP, pca: PCAModel, config: ParametricConfig, num_steps: int):
        self.net, self.pca, self.config, self.num_steps = net, pca, config, num_steps
        self.history: list[dict] = []

    # training ------------------------------------------------------------------------------
    @classmethod
    def fit_iter(cls, features: torch.Tensor, config: ParametricConfig | None = None
                 ) -> Iterator[tuple["ParametricEmbedding", dict]]:
        """Generator: yields `(model, losses)` after every epoch (the model trains in place)."""
        cfg = config or ParametricConfig()
        lay.check_layout(cfg.layout)
        f = torch.as_tensor(features, dtype=torch.float32)
        if f.ndim != 3 or f.shape[1] < 4:
            raise UserError(f"features must be (steps, instances >= 4, dim), got {tuple(f.shape)}")
        dev = torch.device(cfg.device)
        torch.manual_seed(cfg.seed)
        g = torch.Generator().manual_seed(cfg.seed)
        f = f.to(dev)
        pca = fit_pca(f, cfg.pca_dim, cfg.pca_fit, cfg.seed) if f.shape[-1] > cfg.pca_dim else None
        if pca is None:  # keep the features as they are: an identity "PCA"
            D = f.shape[-1]
            eye = torch.eye(D, device=dev)
            pca = PCAModel(torch.zeros(1, D, device=dev), eye[None], torch.ones(1, D, device=dev), "all")
        x = pca.transform(f)  # (S, I, d)
        S, I, d = x.shape
        net = StepMLP(d, cfg.hidden, cfg.depth, cfg.step_features).to(dev)
        model = cls(net, pca, cfg, S)
        scale = x.reshape(-1, d).std(0).mean().clamp_min(1e-8)
        model.input_scale = scale
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        target = lay.targets(S, cfg.layout, cfg.radius, device=dev)
        u = (torch.arange(S, device=dev, dtype=torch.float32) / max(1, S - 1))
        B = min(I, cfg.batch_instances)
        perp = min(cfg.perplexity, (B - 1) / 3)
        cache = dense_affinities(x, perp) if B == I else None
        for epoch in range(cfg.epochs):
            order = torch.randperm(I, generator=g).to(dev) if B < I else torch.arange(I, device=dev)
            sums = {"semantic": 0.0, "displacement": 0.0, "alignment": 0.0}
            for start in range(0, I - B + 1, B):
                idx = order[start:start + B]
                xb = x[:, idx]
                P = cache if cache is not None else dense_affinities(xb, perp)
                if epoch < cfg.exaggeration_epochs:
                    P = P * cfg.early_exaggeration
                Y = model._out(net((xb / scale).reshape(S * B, d), u.repeat_interleave(B)),
                               torch.arange(S, device=dev).repeat_interleave(B)).view(S, B, 2)
                kl = _kl(Y, P)
                along, across = lay.split(Y, cfg.layout)
                dl, _ = displacement(along, target, cfg.sigma_at(epoch))
                theta = across if cfg.layout == "radial" else across / cfg.radius
                al = _alignment_loss(theta, cfg.layout)
                loss = (kl.sum() + cfg.disp_weight * dl.sum() + cfg.align_weight * al) / S
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sums["semantic"] += kl.sum().item() / S
                sums["displacement"] += dl.sum().item() / (S * B)
                sums["alignment"] += al.item() / (S * B)
            losses = {"epoch": epoch, **sums}
            model.history.append(losses)
            yield model, losses

    @classmethod
    def fit(cls, features: torch.Tensor, config: ParametricConfig | None = None) -> "ParametricEmbedding":
        """Train on `features (S, I, D)`; returns the trained model (history in `.history`)."""
        model = None
        for model, _ in cls.fit_iter(features, config):
            pass
        return model

    # use -----------------------------------------------------------------------------------
    @torch.no_grad()
    def transform_opt(self, features: torch.Tensor, step) -> torch.Tensor:
        """Features `(N, D)` and `step` (int or `(N,)`, 0 = noisiest) -> optimisation coordinates `(N, 2)`."""
        dev = self.pca.mean.device
        f = torch.as_tensor(features, dtype=torch.float32, device=dev)
        if f.ndim == 1:
            f = f[None]
        steps = torch.as_tensor(step, device=dev).expand(f.shape[0])
        if steps.min() < 0 or steps.max() > self.num_steps - 1:
            raise UserError(f"step must be in [0, {self.num_steps - 1}], "
                            f"got {steps.min().item()}..{steps.max().item()}")
        x = self.pca.transform(f, steps.round().long())
        u = steps.to(torch.float32) / max(1, self.num_steps - 1)
        return self._out(self.net(x / self.input_scale, u), steps.round().long())

    def _out(self, raw: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """Network outputs -> optimisation coordinates (through the ring head when there is one)."""
        return ring_head(raw, steps, self.config, self.num_steps) if self.config.ring_head else raw

    def transform(self, features: torch.Tensor, step) -> torch.Tensor:
        """Features `(N, D)` and `step` -> display coordinates `(N, 2)` (stretched by the step)."""
        Y = self.transform_opt(features, step)
        steps = torch.as_tensor(step, device=Y.device, dtype=Y.dtype).expand(Y.shape[0])
        along, across = lay.split(Y, self.config.layout)
        return lay.join(along + self.config.stretch * steps, across, self.config.layout)

    def embed_all(self, features: torch.Tensor) -> torch.Tensor:
        """Features `(S, I, D)` -> display coordinates `(S, I, 2)`."""
        f = torch.as_tensor(features, dtype=torch.float32)
        S, I, D = f.shape
        steps = torch.arange(S).repeat_interleave(I)
        return self.transform(f.reshape(S * I, D), steps).view(S, I, 2)

    # files -----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """One `.safetensors` file: weights, PCA and input scale; JSON config in its metadata (atomic)."""
        from safetensors.torch import save as to_bytes

        from sandbox.fileio import atomic_path
        path = Path(path)
        if path.suffix != ".safetensors":
            path = path.with_name(path.name + ".safetensors")
        tensors = {f"net.{k}": v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        tensors.update({k: v.detach().cpu().contiguous() for k, v in self.pca.state_dict().items()})
        tensors["input_scale"] = torch.as_tensor(self.input_scale).reshape(1).cpu()
        meta = {"format": FORMAT, "version": 1, "config": dataclasses.asdict(self.config),
                "num_steps": self.num_steps, "pca_fit": self.pca.fit, "in_dim": self.pca.dim}
        blob = to_bytes(tensors, metadata={"tdl": json.dumps(meta)})
        # written by us, not safetensors' file writer (0600 files) nor mkstemp (0600): a model file
        # like any other; a read-only or full folder is one UserError, the old file kept
        with atomic_path(path, make_parents=True) as tmp:
            tmp.write_bytes(blob)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> "ParametricEmbedding":
        from safetensors import safe_open
        from safetensors.torch import load_file
        path = Path(path)
        if not path.is_file():
            raise UserError(f"no parametric embedding at {path}")
        try:
            with safe_open(str(path), framework="pt") as fh:
                meta = json.loads((fh.metadata() or {}).get("tdl", "{}"))
            tensors = load_file(str(path), device=device)
        except (OSError, ValueError, json.JSONDecodeError, RuntimeError) as e:
            raise UserError(f"{path} is not a readable parametric embedding ({type(e).__name__})") from None
        if meta.get("format") != FORMAT:
            raise UserError(f"{path} is not a tdl parametric embedding")
        known = {f.name for f in dataclasses.fields(ParametricConfig)}
        cfg = ParametricConfig(**{k: v for k, v in meta["config"].items() if k in known})
        cfg.device = device
        cfg.ring_head = bool(meta["config"].get("ring_head", False))  # files from before the ring head
        net = StepMLP(meta["in_dim"], cfg.hidden, cfg.depth, cfg.step_features).to(device)
        net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
        pca = PCAModel.from_state_dict(tensors, meta["pca_fit"])
        model = cls(net, pca, cfg, int(meta["num_steps"]))
        model.input_scale = tensors["input_scale"][0]
        return model


def _alignment_loss(theta: torch.Tensor, layout: str) -> torch.Tensor:
    """Sum of the alignment loss with the next step held fixed (`theta (S, B)`)."""
    if theta.shape[0] < 2:
        return theta.sum() * 0
    d = theta[:-1] - theta[1:].detach()
    return (-torch.cos(d) if layout == "radial" else -torch.exp(-d * d / 2)).sum()
