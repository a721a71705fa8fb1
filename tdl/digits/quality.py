"""How good are generated digits? Numbers that do not depend on our own models.

- `judge()`: an RBF support-vector classifier (scikit-learn) fit on ALL real digits: the share of
  generated digits it assigns to their prompt's class ("prompt accuracy").
- `diversity_ratio`: mean pairwise distance among generated digits of a class over the same among
  real digits of that class, averaged over classes (1 = as varied as the data; << 1 = collapse).
- `nearest_real_distance`: mean L2 distance (in [-1, 1] pixels) from each generated digit to its
  nearest real digit, next to the same for real digits (leave-one-out) as a baseline.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def judge():
    """An SVC on all 1797 real digits (`predict` takes `(N, 64)` in [-1, 1]); 97% in 5-fold cross-validation."""
    from sklearn.svm import SVC

    from tdl.digits.model import load_data

    x, y = load_data()
    return SVC(gamma=0.05, C=10.0).fit(x.numpy(), y.numpy())


def prompt_accuracy(x: np.ndarray, labels: np.ndarray) -> float:
    """Share of `x (N, 64)` that the judge puts in class `labels (N,)`."""
    x = np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)
    return float((judge().predict(x) == np.asarray(labels)).mean())


def _mean_pairwise(a: np.ndarray) -> float:
    d = np.sqrt(((a[:, None, :] - a[None, :, :]) ** 2).sum(-1))
    n = len(a)
    return float(d.sum() / (n * (n - 1)))


def diversity_ratio(x: np.ndarray, labels: np.ndarray) -> float:
    from tdl.digits.model import load_data

    rx, ry = (a.numpy() for a in load_data())
    x, labels = np.clip(np.asarray(x), -1, 1), np.asarray(labels)
    ratios = [_mean_pairwise(x[labels == c]) / _mean_pairwise(rx[ry == c])
              for c in np.unique(labels) if (labels == c).sum() > 1]
    return float(np.mean(ratios))


def nearest_real_distance(x: np.ndarray) -> tuple[float, float]:
    """(generated -> nearest real, real -> nearest other real) mean L2 distances."""
    from tdl.digits.model import load_data

    rx = load_data()[0].numpy().astype(np.float64)
    x = np.clip(np.asarray(x, dtype=np.float64), -1, 1)

    def dists(a: np.ndarray) -> np.ndarray:
        return np.sqrt(np.maximum((a ** 2).sum(1)[:, None] - 2 * a @ rx.T + (rx ** 2).sum(1)[None], 0))

    real = dists(rx)
    np.fill_diagonal(real, np.inf)
    return float(dists(x).min(1).mean()), float(real.min(1).mean())
