"""The denoiser network: a small residual MLP over (x, t, class).

Inputs are points `x (N, dim)` in canonical coordinates, times `t (N,)` in `[0, 1]` (t = 1 noise)
and optional labels `(N,)` int64. The output `(N, dim)` means whatever the objective says
(eps, x0, v or a flow velocity); `objectives.py` turns it into the denoiser.

- Time: sinusoidal embedding of `t * time_scale` (Vaswani et al. 2017, eq. in sec. 3.5; used by
  Ho et al. 2020 for the DDPM index, hence the default scale of 1000 = a DDPM index).
- Input: optional random Fourier features `[sin(2 pi x B), cos(2 pi x B)]`, `B ~ N(0, scale^2)`
  fixed and seeded (Tancik et al. 2020); they let a small net draw sharp edges (checkerboard).
- Class: an embedding table with one extra row, index `num_classes`, for "no label"; classifier-
  free guidance (Ho & Salimans 2022) evaluates the net with and without the label.
- Body: `h <- h + Linear(SiLU(h))` residual layers, then `Linear(SiLU(h))` to the output.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class MLPConfig:
    """Size and inputs of the MLP. Defaults measured for quality per second (docs/BENCHMARKS.md)."""

    width: int = 128
    depth: int = 3
    time_embed_dim: int = 32
    fourier_features: int = 0  # number of random frequencies; 0 = off
    fourier_scale: float = 1.0
    num_classes: int = 0  # 0 = unconditional
    dim: int = 2
    time_scale: float = 1000.0
    seed: int = 0  # seeds the Fourier matrix only (weights follow torch's global seed)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MLPConfig":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def sinusoidal_embedding(t: torch.Tensor, dim: int, scale: float = 1000.0) -> torch.Tensor:
    """`t (N,)` -> `(N, dim)`: `[sin(s t w_k), cos(s t w_k)]`, `w_k = 10000^(-k / (dim/2))`."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    arg = (t.float() * scale)[:, None] * freqs[None, :]  # (N, half)
    return torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)


class MLP(nn.Module):
    """`forward(x (N, dim), t (N,) or scalar, labels (N,) | None) -> (N, dim)`."""

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.width < 1 or cfg.depth < 1 or cfg.time_embed_dim < 2:
            raise ValueError(f"bad MLPConfig {cfg}")
        in_dim = cfg.dim + cfg.time_embed_dim
        if cfg.fourier_features > 0:
            g = torch.Generator().manual_seed(cfg.seed)
            B = torch.randn(cfg.dim, cfg.fourier_features, generator=g) * cfg.fourier_scale
            self.register_buffer("fourier_B", B)
            in_dim += 2 * cfg.fourier_features
        else:
            self.fourier_B = None
        if cfg.num_classes > 0:
            # row `num_classes` is the null class used for unconditional / CFG evaluation
            self.class_embed = nn.Embedding(cfg.num_classes + 1, cfg.time_embed_dim)
            in_dim += cfg.time_embed_dim
        else:
            self.class_embed = None
        self.inp = nn.Linear(in_dim, cfg.width)
        self.layers = nn.ModuleList(nn.Linear(cfg.width, cfg.width) for _ in range(cfg.depth))
        self.out = nn.Linear(cfg.width, cfg.dim)

    @property
    def null_class(self) -> int:
        return self.cfg.num_classes

    def forward(self, x: torch.Tensor, t: torch.Tensor | float, labels: torch.Tensor | None = None) -> torch.Tensor:
        n = x.shape[0]
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        if t.ndim == 0:
            t = t.expand(n)
        feats = [x, sinusoidal_embedding(t, self.cfg.time_embed_dim, self.cfg.time_scale)]
        if self.fourier_B is not None:
            proj = (2 * math.pi) * (x @ self.fourier_B)  # (N, F)
            feats += [torch.sin(proj), torch.cos(proj)]
        if self.class_embed is not None:
            if labels is None:
                labels = torch.full((n,), self.null_class, dtype=torch.long, device=x.device)
            feats.append(self.class_embed(labels))
        h = self.inp(torch.cat(feats, dim=1))  # (N, width)
        for layer in self.layers:
            h = h + layer(torch.nn.functional.silu(h))
        return self.out(torch.nn.functional.silu(h))


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
