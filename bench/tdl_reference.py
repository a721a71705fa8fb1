"""Our own numpy transcription of the reference evolutionary embedding, for speed comparisons only.

Written from the reference's formulas (Prasad et al., EvolvED, github.com/vidyaprsd/evolved,
`evol_embed_radial.py` and `tsne_funcs.py`), in the reference's structure: one numpy pass per step
inside each iteration, van der Maaten's `tsne.py` idioms (`x2p` with 50 bisection tries per point,
the gradient as a loop over points with `np.tile`), the polar <-> Cartesian round trip per step, one
gains array shared by all steps, losses computed every iteration, 2000 iterations, eta = 500, w_d = 1.
Not the reference's code: no line is copied; the formulas are those `tests/test_tdl_reference.py`
checks our vectorised embedding against. Two of the reference's bugs are left out because they would
stop it on our data (NaN affinities at raw scale: we feed it the same PCA output as ours; PCA
components are sorted).

    python bench/tdl_reference.py            # times 50 x 200 for a few iterations and prints s/iteration
"""
from __future__ import annotations

import time

import numpy as np


def pca(X: np.ndarray, dims: int = 50) -> np.ndarray:
    """tsne.py's PCA (eigenvectors of X^T X of the centred data), components sorted by eigenvalue."""
    X = X - X.mean(0)
    vals, vecs = np.linalg.eigh(X.T @ X)
    return X @ vecs[:, np.argsort(vals)[::-1][:dims]]


def hbeta(D: np.ndarray, beta: float):
    P = np.exp(-D * beta)
    sP = max(np.sum(P), 1e-300)
    H = np.log(sP) + beta * np.sum(D * P) / sP
    return H, P / sP


def x2p(X: np.ndarray, perplexity: float = 30.0, tol: float = 1e-5) -> np.ndarray:
    """Conditional P by bisection on beta per point (50 tries), then P = (P + P^T) / sum."""
    n = X.shape[0]
    sum_X = np.sum(np.square(X), 1)
    D = np.add(np.add(-2 * X @ X.T, sum_X).T, sum_X)
    P = np.zeros((n, n))
    logU = np.log(perplexity)
    for i in range(n):
        beta, bmin, bmax = 1.0, -np.inf, np.inf
        Di = D[i, np.concatenate((np.r_[0:i], np.r_[i + 1:n]))]
        H, row = hbeta(Di, beta)
        tries = 0
        while abs(H - logU) > tol and tries < 50:
            if H - logU > 0:
                bmin = beta
                beta = beta * 2 if bmax in (np.inf, -np.inf) else (beta + bmax) / 2
            else:
                bmax = beta
                beta = beta / 2 if bmin in (np.inf, -np.inf) else (beta + bmin) / 2
            H, row = hbeta(Di, beta)
            tries += 1
        P[i, np.concatenate((np.r_[0:i], np.r_[i + 1:n]))] = row
    P = P + P.T
    return P / np.sum(P)


def semantic(Y: np.ndarray, P: np.ndarray):
    """KL(P||Q) and tsne.py's gradient (no factor 4), the gradient as a loop over points."""
    n, no_dims = Y.shape
    sum_Y = np.sum(np.square(Y), 1)
    num = 1.0 / (1.0 + np.add(np.add(-2.0 * Y @ Y.T, sum_Y).T, sum_Y))
    num[range(n), range(n)] = 0.0
    Q = np.maximum(num / np.sum(num), 1e-12)
    PQ = P - Q
    dY = np.zeros((n, no_dims))
    for i in range(n):
        dY[i, :] = np.sum(np.tile(PQ[:, i] * num[:, i], (no_dims, 1)).T * (Y[i, :] - Y), 0)
    return np.sum(P * np.log(P / Q)), dY


def cart(Yp: np.ndarray) -> np.ndarray:
    return np.stack((Yp[..., 0] * np.cos(Yp[..., 1]), Yp[..., 0] * np.sin(Yp[..., 1])), -1)


def polar(Yc: np.ndarray) -> np.ndarray:
    return np.stack((np.hypot(Yc[..., 0], Yc[..., 1]), np.arctan2(Yc[..., 1], Yc[..., 0]) % (2 * np.pi)), -1)


def embed(X: np.ndarray, n_iter: int = 2000, max_iter: int = 2000, perplexity: float = 30.0,
          eta: float = 500.0, disp_wt: float = 1.0, align_wt: float = 0.05, seed: int = 0,
          pca_dims: int = 50) -> np.ndarray:
    """`X (S, I, D)` -> display coordinates `(S, I, 2)` after `n_iter` iterations of a `max_iter`
    schedule (time a few iterations and scale: every iteration costs the same)."""
    t0, c0 = time.perf_counter(), time.process_time()
    S, n, D = X.shape
    X = np.stack([pca(x, pca_dims) if D > pca_dims else x for x in X])
    P = np.stack([np.maximum(4 * x2p(x, perplexity), 1e-12) for x in X])  # early exaggeration
    rng = np.random.default_rng(seed)
    radii = [0.0] + [20.0] * (S - 1)
    Y = np.stack([np.stack((rng.uniform(max(0, r - 20), r + 20, n), rng.uniform(0, 2 * np.pi, n)), -1)
                  for r in radii])
    sem_updt = np.zeros((S, n, 2))
    disp_updt = np.zeros((S, n))
    align_updt = np.zeros((S, n))
    gains = np.ones((n, 2))  # one gains array for every step, as the reference
    t1, c1 = time.perf_counter(), time.process_time()
    for it in range(n_iter):
        losses = np.zeros(3)
        for t in range(S):
            Yc = cart(Y)
            kl, g = semantic(Yc[t], P[t])
            mom = 0.5 if it < 20 else 0.8
            gains = np.maximum(np.where((g > 0) != (sem_updt[t] > 0), gains + 0.2, gains * 0.8), 0.01)
            sem_updt[t] = mom * sem_updt[t] - eta * (gains * g)
            sigma = (20 if it < 0.5 * max_iter else 15 if it < 0.625 * max_iter
                     else 10 if it < 0.75 * max_iter else 8)
            val = np.exp(-(Y[t, :, 0] - radii[t]) ** 2 / (2 * sigma ** 2)) / (sigma * np.sqrt(2 * np.pi))
            disp_updt[t] = disp_wt * eta * (-((Y[t, :, 0] - radii[t]) / sigma ** 2) * val)
            losses += (kl, -val.sum(), 0.0)
            if t < S - 1:
                v = Y[t, :, 1] - Y[t + 1, :, 1]
                align_updt[t] = align_wt * -np.sin(v)
                losses[2] += -np.abs(np.cos(v)).sum()
        Y = polar(cart(Y) + sem_updt)
        Y[..., 0] += disp_updt
        Y[..., 1] = (Y[..., 1] + align_updt) % (2 * np.pi)
        if it == 100:
            P = P / 4.0
    Y[..., 0] += 35.0 * np.arange(S)[:, None]  # display stretch (stretch_offset = 35)
    embed.last_times = (t1 - t0, time.perf_counter() - t1)  # wall (set-up: PCA + affinities, iterations)
    embed.last_cpu = (c1 - c0, time.process_time() - c1)  # the same in CPU seconds
    return cart(Y)


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 200, 512))
    for n in (1, 10):
        t0 = time.perf_counter()
        embed(X, n_iter=n)
        print(f"{n} iterations: {time.perf_counter() - t0:.2f} s")
