"""A small digit encoder: 8x8 image -> a 32-d feature vector (and 10 class logits on top).

Trained as a classifier on scikit-learn's digits (tdl/digits/train.py) with noise and shift
augmentation, so the features of the blurry early x0 predictions stay meaningful. It is the
`digits_encoder` feature extractor of TDL and the judge of the digits model's quality.

Input `x (N, 64)` or `(N, 1, 8, 8)` in [-1, 1] (the denoiser's scale); `features` -> `(N, feature_dim)`,
`forward` -> logits `(N, 10)`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from tdl.digits.model import SIDE


@dataclass(frozen=True)
class EncoderConfig:
    channels: int = 16
    feature_dim: int = 32
    num_classes: int = 10

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "EncoderConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


class DigitsEncoder(nn.Module):
    def __init__(self, cfg: EncoderConfig = EncoderConfig()):
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.conv1 = nn.Conv2d(1, c, 3, padding=1)  # 8x8
        self.conv2 = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)  # 4x4
        self.conv3 = nn.Conv2d(2 * c, 2 * c, 3, padding=1)  # 4x4
        self.proj = nn.Linear(2 * c * (SIDE // 2) ** 2, cfg.feature_dim)
        self.head = nn.Linear(cfg.feature_dim, cfg.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, 64)` or `(N, 1, 8, 8)` in [-1, 1] -> `(N, feature_dim)`."""
        h = x.reshape(x.shape[0], 1, SIDE, SIDE)
        h = F.silu(self.conv1(h))
        h = F.silu(self.conv2(h))
        h = F.silu(self.conv3(h))
        return F.silu(self.proj(h.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits `(N, num_classes)`."""
        return self.head(self.features(x))
