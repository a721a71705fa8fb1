"""When does a sample commit to what it becomes? The "commitment step" of each branch.

An instance's *final group* is its prompt (or any per-instance label, e.g. a cluster of its final
image). At step s we ask: can the final group be read off the features of that step? We answer it with
a leave-one-out k-nearest-neighbour vote inside the step (the instance's k nearest other instances in
the step's features vote with their final groups). Then

- per instance: the commitment step is the first step from which its vote is right at *every* later
  step (None if even the final step's vote is wrong);
- per group (a branch of the tree): the first step from which the group's leave-one-out recall stays
  >= `threshold` at every later step (None if it never does).

Before that step the model has not decided (the step's features do not tell the groups apart); after
it, it has. kNN is used because it needs no training and no tuning and reads the same neighbourhoods
the embedding preserves. Chance level is about the group's share of instances, so `threshold`
(default 0.9) is far above it for two or more balanced groups.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Commitment:
    """`group_step (G,)`: commitment step per group (-1: never); `instance_step (I,)` the same per
    instance; `recall (S, G)`: leave-one-out kNN recall of each group at each step; `accuracy (S,)`."""
    group_step: np.ndarray
    instance_step: np.ndarray
    recall: np.ndarray
    accuracy: np.ndarray
    threshold: float
    k: int

    def as_metrics(self, names: list[str] | None = None) -> dict:
        """Plain-JSON entries for a tree's metrics (None = never committed)."""
        names = names or [str(g) for g in range(len(self.group_step))]
        return {"commitment_step": {n: (int(s) if s >= 0 else None) for n, s in zip(names, self.group_step)},
                "commitment_accuracy_per_step": self.accuracy.tolist(),
                "commitment_threshold": self.threshold, "commitment_k": self.k}


def _first_from_which(ok: np.ndarray) -> np.ndarray:
    """`ok (S, ...)` bool -> the first s with ok[s:] all True along axis 0, -1 where ok[-1] is False."""
    S = ok.shape[0]
    # reversed cumulative AND: tail[s] = ok[s] & ok[s+1] & ... & ok[S-1]
    tail = np.flip(np.logical_and.accumulate(np.flip(ok, 0), axis=0), 0)
    first = S - tail.sum(0)  # tail is False...False True...True, so its count gives the first True
    return np.where(tail[-1], first, -1)


def commitment(features, groups, k: int = 7, threshold: float = 0.9, chunk: int = 1024) -> Commitment:
    """`features (S, I, D)` (any space: raw features or the intermediate PCA), `groups (I,)` int final
    group of each instance -> `Commitment`. Exact kNN within each step (self excluded)."""
    from tdl.affinity import knn
    x = torch.as_tensor(features, dtype=torch.float32)
    if x.ndim != 3:
        raise ValueError(f"features must be (S, I, D), got {tuple(x.shape)}")
    S, I, _ = x.shape
    g = torch.as_tensor(np.asarray(groups), dtype=torch.int64, device=x.device)
    if g.shape != (I,):
        raise ValueError(f"groups must be ({I},), got {tuple(g.shape)}")
    _, inv = torch.unique(g, return_inverse=True)
    G = int(inv.max()) + 1 if I else 0
    k = max(1, min(k, I - 1))
    _, idx = knn(x, k, chunk)  # (S, I, k)
    votes = torch.zeros(S, I, G, device=x.device).scatter_add_(-1, inv[idx], torch.ones(idx.shape, device=x.device))
    # ties go to the instance's nearest neighbour's group (add a half vote to it)
    votes.scatter_add_(-1, inv[idx[..., :1]], torch.full(idx[..., :1].shape, 0.5, device=x.device))
    correct = (votes.argmax(-1) == inv[None]).cpu().numpy()  # (S, I)
    ginv = inv.cpu().numpy()
    recall = np.stack([correct[:, ginv == c].mean(1) for c in range(G)], 1) if G else np.zeros((S, 0))
    return Commitment(group_step=_first_from_which(recall >= threshold), instance_step=_first_from_which(correct),
                      recall=recall, accuracy=correct.mean(1), threshold=threshold, k=k)
