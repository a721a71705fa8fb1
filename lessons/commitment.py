"""When do samples commit to what they become? Measured on any per-step features.

`predictability(features, labels)`: at every step, the leave-one-out k-nearest-neighbour accuracy
(tdl's `tdl.commitment`) of predicting each instance's final label (the mode a 2D sample ends in, the digit a sample
becomes) from its state at that step. Chance is the largest class share; at the last step it is
about 1 when the final label is a function of the final state. `commit_step`: the first step from
which the accuracy stays at or above `level` x its final value: the samples have decided.
The same two functions read the true paths (x_t) and the tree (the embedding's 2D points).
"""
from __future__ import annotations

import numpy as np


def predictability(features: np.ndarray, labels: np.ndarray, k: int = 7) -> np.ndarray:
    """(S,) leave-one-out k-NN accuracy of the final `labels (N,)` from `features (S, N, D)` at each
    step: tdl's commitment measure (`tdl.commitment`), the same the tree's metrics report."""
    from tdl.commitment import commitment

    f = np.asarray(features, np.float32)
    return np.asarray(commitment(f.reshape(f.shape[0], f.shape[1], -1), np.asarray(labels), k=k).accuracy,
                      np.float64)


def commit_step(acc: np.ndarray, level: float = 0.9) -> int:
    """First step from which `acc (S,)` stays >= level * acc[-1] (S - 1 if only the last does)."""
    acc = np.asarray(acc, np.float64)
    bar = level * acc[-1]
    below = np.nonzero(acc < bar)[0]
    return int(below[-1] + 1) if len(below) else 0


def chance(labels: np.ndarray) -> float:
    """Accuracy of always guessing the most common label."""
    return float(np.bincount(np.asarray(labels)).max() / len(labels))
