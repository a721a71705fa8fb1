"""When do samples commit to what they become? Measured on any per-step features.

`predictability(features, labels)`: at every step, the leave-one-out k-nearest-neighbour accuracy
of predicting each instance's final label (the mode a 2D sample ends in, the digit a sample
becomes) from its state at that step. Chance is the largest class share; at the last step it is
about 1 when the final label is a function of the final state. `commit_step`: the first step from
which the accuracy stays at or above `level` x its final value: the samples have decided.
The same two functions read the true paths (x_t) and the tree (the embedding's 2D points).
"""
from __future__ import annotations

import numpy as np
import torch


def knn_accuracy(x: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Leave-one-out k-NN (majority vote, ties to the nearest) accuracy of `labels (N,)` from `x (N, D)`."""
    xt = torch.as_tensor(np.asarray(x, np.float64))
    lab = torch.as_tensor(np.asarray(labels)).long()
    n = len(xt)
    k = max(1, min(int(k), n - 1))
    d = torch.cdist(xt, xt)
    d.fill_diagonal_(float("inf"))
    idx = d.topk(k, largest=False).indices                 # (N, k), nearest first
    votes = torch.zeros(n, int(lab.max()) + 1, dtype=torch.float64)
    # a tiny bonus for nearer neighbours breaks ties towards the nearest
    w = 1.0 + 1e-6 * torch.arange(k, 0, -1, dtype=torch.float64)
    votes.scatter_add_(1, lab[idx], w.expand(n, k).contiguous())
    return float((votes.argmax(1) == lab).double().mean())


def predictability(features: np.ndarray, labels: np.ndarray, k: int = 10) -> np.ndarray:
    """(S,) k-NN accuracy of the final `labels (N,)` from `features (S, N, D)` at each step."""
    f = np.asarray(features)
    return np.array([knn_accuracy(f[s].reshape(len(labels), -1), labels, k) for s in range(f.shape[0])])


def commit_step(acc: np.ndarray, level: float = 0.9) -> int:
    """First step from which `acc (S,)` stays >= level * acc[-1] (S - 1 if only the last does)."""
    acc = np.asarray(acc, np.float64)
    bar = level * acc[-1]
    below = np.nonzero(acc < bar)[0]
    return int(below[-1] + 1) if len(below) else 0


def chance(labels: np.ndarray) -> float:
    """Accuracy of always guessing the most common label."""
    return float(np.bincount(np.asarray(labels)).max() / len(labels))
