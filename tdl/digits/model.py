"""The built-in digits model: a class-conditional denoiser for 8x8 images of handwritten digits.

It is the sandbox's own engine with D = 64 instead of 2: the network is `sandbox.model.MLP`
(residual MLP with a sinusoidal time embedding and a class embedding whose extra row is the null
class for classifier-free guidance), the objective `sandbox.objectives.DDPMObjective` (cosine
schedule, v-prediction, so the x0 prediction stays finite at t = 1), the sampler any of
`sandbox.samplers`, guidance `sandbox.field.GuidedField`. A residual MLP beat a small conv net of
a fifth of its size here: 8x8 is tiny, and on a 2-core CPU the MLP trains ~10x more steps a second
(150 s of training each: 99.2% against 91.8% of conditional samples read as their prompt).

Images: scikit-learn's `load_digits` gives pixels 0..16; the model sees `x = pixels / 8 - 1` in
[-1, 1], flattened row-major to `(N, 64)`.
"""
from __future__ import annotations

import numpy as np
import torch

from sandbox.bundle import TrainedField
from sandbox.model import MLP, MLPConfig
from sandbox.objectives import Objective, make_objective

SIDE = 8  # images are SIDE x SIDE, one channel
DIM = SIDE * SIDE
NUM_CLASSES = 10


def denoiser_config(width: int = 192, depth: int = 3, time_embed_dim: int = 64) -> MLPConfig:
    """The network's shape (161k parameters by default: 322 KB as float16)."""
    return MLPConfig(width=width, depth=depth, time_embed_dim=time_embed_dim, num_classes=NUM_CLASSES, dim=DIM)


OBJECTIVE = {"type": "ddpm", "prediction": "v", "schedule": "cosine", "T": 1000}


def default_objective() -> Objective:
    """DDPM, cosine schedule, T = 1000, v-prediction (built through the sandbox's model-file config)."""
    return make_objective(OBJECTIVE)


def load_data() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled digits (no download): `x (1797, 64)` in [-1, 1], `y (1797,)` int64."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return torch.tensor(d.data / 8.0 - 1.0, dtype=torch.float32), torch.tensor(d.target, dtype=torch.int64)


def to_uint8_images(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """`(..., 64)` in [-1, 1] -> `(..., 8, 8, 1)` uint8 (clipped; 0 = white paper, 255 = ink)."""
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    u = np.clip((x + 1.0) * 127.5, 0.0, 255.0).round().astype(np.uint8)
    return u.reshape(*x.shape[:-1], SIDE, SIDE, 1)


def from_images(images: np.ndarray) -> torch.Tensor:
    """`(N, 8, 8[, 1])` uint8 0..255 or float in [0, 1] -> `(N, 64)` float32 in [-1, 1]."""
    a = np.asarray(images)
    a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    return torch.from_numpy(a.reshape(a.shape[0], DIM) * 2.0 - 1.0)


def field(net: MLP, objective: Objective) -> TrainedField:
    """The denoiser E[x0 | x_t] of a net (`sandbox.field.Field`): `x0(x (N, 64), t (N,), labels)`."""
    return TrainedField(net, objective)
