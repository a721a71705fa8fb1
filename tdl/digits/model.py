"""A small class-conditional denoiser for 8x8 digit images (scikit-learn's `load_digits`).

It follows the sandbox's network contract (`sandbox/model.py`): `forward(x (N, 64), t (N,), labels
(N,) | None) -> (N, 64)`, images flattened row-major, pixels scaled to [-1, 1]; `t` in [0, 1]
(t = 1 noise); label `num_classes` (10) is the null class for classifier-free guidance. The output
means whatever the objective says (eps / x0 / v); `sandbox.objectives` turns it into the denoiser, so
the sandbox's samplers and `GuidedField` drive it unchanged with D = 64.

Body: a 3x3 convolution in, residual blocks at full 8x8 resolution (six 3x3 convolutions see the whole
image), each modulated by the time + class embedding (FiLM: scale and shift after GroupNorm, as in
Dhariwal & Nichol 2021's AdaGN), and a 3x3 convolution out. About 80k parameters.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from sandbox.model import sinusoidal_embedding

SIDE = 8  # images are SIDE x SIDE, one channel
DIM = SIDE * SIDE


@dataclass(frozen=True)
class DenoiserConfig:
    channels: int = 32
    blocks: int = 3
    embed_dim: int = 64
    num_classes: int = 10
    groups: int = 8
    time_scale: float = 1000.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DenoiserConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


class ResBlock(nn.Module):
    """`h + conv(act(film(norm(conv(act(norm(h)))))))`, FiLM from the embedding `e (N, E)`."""

    def __init__(self, ch: int, embed_dim: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, ch)
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, ch)
        self.film = nn.Linear(embed_dim, 2 * ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity
        nn.init.zeros_(self.conv2.bias)

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        y = self.conv1(F.silu(self.norm1(h)))
        scale, shift = self.film(e)[:, :, None, None].chunk(2, dim=1)  # (N, C, 1, 1) each
        y = self.norm2(y) * (1 + scale) + shift
        return h + self.conv2(F.silu(y))


class DigitsDenoiser(nn.Module):
    """`forward(x (N, 64), t (N,) or scalar, labels (N,) | None) -> (N, 64)`."""

    def __init__(self, cfg: DenoiserConfig = DenoiserConfig()):
        super().__init__()
        self.cfg = cfg
        E = cfg.embed_dim
        self.class_embed = nn.Embedding(cfg.num_classes + 1, E)  # last row = null class
        self.embed = nn.Sequential(nn.Linear(E, E), nn.SiLU(), nn.Linear(E, E))
        self.inp = nn.Conv2d(1, cfg.channels, 3, padding=1)
        self.blocks = nn.ModuleList(ResBlock(cfg.channels, E, cfg.groups) for _ in range(cfg.blocks))
        self.out_norm = nn.GroupNorm(cfg.groups, cfg.channels)
        self.out = nn.Conv2d(cfg.channels, 1, 3, padding=1)

    @property
    def null_class(self) -> int:
        return self.cfg.num_classes

    def forward(self, x: torch.Tensor, t: torch.Tensor | float, labels: torch.Tensor | None = None) -> torch.Tensor:
        n = x.shape[0]
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        if t.ndim == 0:
            t = t.expand(n)
        if labels is None:
            labels = torch.full((n,), self.null_class, dtype=torch.long, device=x.device)
        e = sinusoidal_embedding(t, self.cfg.embed_dim, self.cfg.time_scale) + self.class_embed(labels)
        e = self.embed(e)  # (N, E)
        h = self.inp(x.reshape(n, 1, SIDE, SIDE))  # (N, C, 8, 8)
        for block in self.blocks:
            h = block(h, e)
        return self.out(F.silu(self.out_norm(h))).reshape(n, DIM)
