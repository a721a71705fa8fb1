"""Minibatch optimal-transport coupling for flow matching.

Tong et al. 2023 ("Improving and generalizing flow-based generative models with minibatch optimal
transport", sec. 3.2) and Pooladian et al. 2023 pair each data point of a batch with a noise sample
so that the total squared distance is minimal: the exact assignment problem, solved here by
`scipy.optimize.linear_sum_assignment`. Paths of the learnt flow then cross less and are straighter.
"""
from __future__ import annotations

import numpy as np
import torch


def ot_permutation(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """Permutation `p (B,)` minimising `sum_i |x0[i] - x1[p[i]]|^2`. `x0, x1: (B, D)`."""
    if x0.shape != x1.shape:
        raise ValueError(f"OT coupling needs equal shapes, got {tuple(x0.shape)} and {tuple(x1.shape)}")
    from scipy.optimize import linear_sum_assignment  # lazy: only OT runs need scipy

    cost = torch.cdist(x0.detach().double(), x1.detach().double()).pow(2).cpu().numpy()  # (B, B)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=np.int64)
    perm[rows] = cols
    return torch.from_numpy(perm).to(x1.device)


def ot_couple(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """Reorder `x1 (B, D)` so that `(x0[i], result[i])` is an optimal pairing."""
    return x1[ot_permutation(x0, x1)]


def mean_pair_cost(x0: torch.Tensor, x1: torch.Tensor) -> float:
    """Mean squared distance of the pairs `(x0[i], x1[i])`."""
    return float(((x0 - x1) ** 2).sum(dim=1).mean())
