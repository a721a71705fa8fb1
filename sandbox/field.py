"""The one interface every sampler consumes: a denoiser over a Gaussian path.

A `Field` has a `path` (see paths.py) and `x0(x, t, labels=None) -> (N, D)`, the estimate of
E[x0 | x_t = x]. Noise, velocity and score all follow from it through `paths.py`, so a trained
network (whatever it predicts: eps, x0, v or a flow velocity), the exact Gaussian-mixture oracle
and the memorising point-set oracle are interchangeable in every sampler.

Labels: None means unconditional. A trained class-conditional net (`bundle.TrainedField`) treats
its null class (label dropout in training) as "unconditional"; the oracles in `oracle.py` treat
None or any negative label as unconditional and a label c >= 0 as "only components of class c".
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from sandbox.paths import Path


@runtime_checkable
class Field(Protocol):
    path: Path

    def x0(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """x: (N, D) float32, t: (N,) float32 in [0, 1], labels: (N,) int64 or None -> (N, D)."""
        ...


class GuidedField:
    """Classifier-free guidance: x0_u + w (x0_c - x0_u), done in x0 space.

    For fixed (x, t) the maps x0 -> eps, x0 -> velocity and x0 -> score are affine (paths.py)
    and the weights 1 - w and w sum to one, so guiding x0 is exactly guiding eps, v or the score:
    eps(x0_u + w (x0_c - x0_u)) = eps_u + w (eps_c - eps_u).
    w = 1 is the conditional model, w = 0 the unconditional one, w > 1 sharpens the classes.

    null_label: the label value the inner field reads as "unconditional" (a trained net's null
    class, or -1 for the oracles); then both halves go through the inner field in ONE call on a
    doubled batch. With null_label=None the unconditional half is a second call with labels=None.
    Either way a call costs 2 evaluations per particle (`evaluations`); with labels=None the
    field is unconditional and costs one.
    """

    def __init__(self, field: Field, guidance: float, null_label: int | None = None):
        self.field = field
        self.path = field.path
        self.guidance = float(guidance)
        self.null_label = null_label

    def x0(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is None:
            return self.field.x0(x, t, None)
        if self.null_label is None:
            x0_c = self.field.x0(x, t, labels)
            x0_u = self.field.x0(x, t, None)
        else:
            null = torch.full_like(labels, self.null_label)
            both = self.field.x0(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))
            x0_c, x0_u = both.chunk(2)
        return x0_u + self.guidance * (x0_c - x0_u)

    def evaluations(self, labels: torch.Tensor | None) -> int:
        return 1 if labels is None else 2


def evaluations(field: Field, labels: torch.Tensor | None) -> int:
    """Network evaluations per particle that one `field.x0` call costs (a field may define
    `evaluations(labels)`; default 1)."""
    fn = getattr(field, "evaluations", None)
    return int(fn(labels)) if callable(fn) else 1
