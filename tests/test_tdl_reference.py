"""Our vectorised embedding against a slow, loop-based transcription of the reference method.

The transcription below follows, formula by formula and in the same order, the reference code of the
TDL / EvolvED paper: github.com/vidyaprsd/evolved, `evolutionary_embedding/evol_embed_radial.py`
(`tsne`, `semantic_dist_grad`, `displacement_dist_grad`, `alignment_dist_grad`) and
`evolutionary_embedding/tsne_funcs.py` (`x2p`, `Hbeta`). It is written independently (plain loops
over steps, points and pairs, numpy float64) so that it reads like the paper's equations.
One documented deviation is switchable: the reference keeps ONE gains array for all steps (updated
once per step inside the step loop); we keep gains per step (`shared_gains=False` here).
"""

import numpy as np
import pytest
import torch

from tdl.affinity import dense_affinities
from tdl.embedding import EmbedConfig, iterate
from tdl.layout import from_polar


# ---------------------------------------------------------------- slow transcription (numpy, loops)
def ref_affinities(X, perplexity, tol=1e-5):
    """x2p per row (binary search on beta starting at 1), then P = (P + P^T) / sum."""
    n = X.shape[0]
    D = np.array([[np.sum((X[i] - X[j]) ** 2) for j in range(n)] for i in range(n)])
    P = np.zeros((n, n))
    for i in range(n):
        others = [j for j in range(n) if j != i]
        d = D[i, others]
        beta, bmin, bmax = 1.0, -np.inf, np.inf
        for _ in range(200):
            p = np.exp(-d * beta)
            H = np.log(p.sum()) + beta * np.sum(d * p) / p.sum()
            if abs(H - np.log(perplexity)) <= tol:
                break
            if H > np.log(perplexity):
                bmin = beta
                beta = beta * 2 if np.isinf(bmax) else (beta + bmax) / 2
            else:
                bmax = beta
                beta = beta / 2 if np.isinf(bmin) else (beta + bmin) / 2
        p = np.exp(-d * beta)
        P[i, others] = p / p.sum()
    P = P + P.T
    return P / P.sum()


def ref_semantic(Y, P):
    """KL(P || Q) and the reference's gradient sum_j (p_ij - q_ij) w_ij (y_i - y_j) (no factor 4)."""
    n = Y.shape[0]
    w = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                w[i, j] = 1.0 / (1.0 + np.sum((Y[i] - Y[j]) ** 2))
    Q = np.maximum(w / w.sum(), 1e-12)
    grad = np.zeros_like(Y)
    for i in range(n):
        for j in range(n):
            grad[i] += (P[i, j] - Q[i, j]) * w[i, j] * (Y[i] - Y[j])
    return np.sum(P * np.log(P / Q)), grad


def ref_displacement(rho, r, sigma):
    """Loss -N(rho; r, sigma^2) and the reference's 'gradient' d N / d rho (it ascends N)."""
    val = np.exp(-(rho - r) ** 2 / (2 * sigma ** 2)) / (sigma * np.sqrt(2 * np.pi))
    return -val, -((rho - r) / sigma ** 2) * val


def ref_alignment(phi1, phi2):
    """Reported loss -|cos(phi1 - phi2)| and the applied direction -sin(phi1 - phi2) (= d cos / d phi1).

    The direction is the gradient of cos, not of |cos|: the two losses agree only while |phi1 - phi2| < pi/2.
    We report -cos (the loss the update descends); `ref_run` records both."""
    v = phi1 - phi2
    return -np.abs(np.cos(v)), -np.sin(v), -np.cos(v)


def cart(Yp):
    return np.stack((Yp[..., 0] * np.cos(Yp[..., 1]), Yp[..., 0] * np.sin(Yp[..., 1])), -1)


def polar(Yc):
    return np.stack((np.hypot(Yc[..., 0], Yc[..., 1]), np.arctan2(Yc[..., 1], Yc[..., 0]) % (2 * np.pi)), -1)


def ref_run(Y_polar, P, n_iter, max_iter=2000, shared_gains=False, disp_wt=1.0, align_wt=0.05, eta=500.0):
    """The reference's main loop for `n_iter` iterations of a `max_iter` schedule; P already x4.

    Returns the polar positions and the normalised losses of each iteration: (semantic, displacement,
    alignment as the reference prints it (-|cos|), alignment as -cos)."""
    S, n, _ = Y_polar.shape
    Y = Y_polar.copy()
    radii = [0.0] + [20.0] * (S - 1)
    sem_updt = np.zeros((S, n, 2))
    disp_updt = np.zeros((S, n))
    align_updt = np.zeros((S, n))
    gains = np.ones((n, 2)) if shared_gains else np.ones((S, n, 2))
    P = P.copy()
    history = []
    for it in range(n_iter):
        sem_l = disp_l = align_l = align_cos = 0.0
        for t in range(S):
            Yc = cart(Y)
            kl, g = ref_semantic(Yc[t], P[t])
            mom = 0.5 if it < 20 else 0.8
            gt = gains if shared_gains else gains[t]
            gt = np.where((g > 0) != (sem_updt[t] > 0), gt + 0.2, gt * 0.8)
            gt = np.maximum(gt, 0.01)
            if shared_gains:
                gains = gt
            else:
                gains[t] = gt
            sem_updt[t] = mom * sem_updt[t] - eta * (gt * g)
            sem_l += kl
            sigma = 20 if it < 0.5 * max_iter else 15 if it < 0.625 * max_iter else 10 if it < 0.75 * max_iter else 8
            dl, dg = ref_displacement(Y[t, :, 0], radii[t], sigma)
            disp_updt[t] = disp_wt * eta * dg
            disp_l += dl.sum()
            if t < S - 1:
                al, ag, ac = ref_alignment(Y[t, :, 1], Y[t + 1, :, 1])
                align_updt[t] = align_wt * ag
                align_l += al.sum()
                align_cos += ac.sum()
        history.append((sem_l / S, disp_l / (S * n), align_l / (S * n), align_cos / (S * n)))
        Y = polar(cart(Y) + sem_updt)
        Y[..., 0] += disp_updt
        Y[..., 1] = (Y[..., 1] + align_updt) % (2 * np.pi)
        if it == 100:
            P = P / 4.0
    return Y, history


# ---------------------------------------------------------------- tests
def tiny(seed=0, S=3, n=12, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(S, n, d)) + np.linspace(0, 2, S)[:, None, None] * rng.normal(size=(1, n, d))
    base = rng.uniform(0, 2 * np.pi, n)  # angles within +-0.4 rad of each other across steps,
    phi = (base[None] + rng.uniform(-0.4, 0.4, (S, n))) % (2 * np.pi)  # so -|cos| = -cos (see ref_alignment)
    rho = np.stack([rng.uniform(0, 20, n)] + [rng.uniform(0, 40, n) for _ in range(S - 1)])
    return X, np.stack((rho, phi), -1)


def test_affinities_match_x2p():
    X, _ = tiny()
    ours = dense_affinities(torch.tensor(X), perplexity=3.0, tol=1e-8).numpy()
    for t in range(X.shape[0]):
        np.testing.assert_allclose(ours[t], ref_affinities(X[t], 3.0, tol=1e-8), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("n_iter", [1, 3, 12])
def test_iterations_match_reference(n_iter):
    X, Yp = tiny()
    P = np.stack([ref_affinities(x, 3.0) for x in X])
    P4 = np.maximum(4 * P, 1e-12)  # reference: P *= 4 (early exaggeration); P = max(P, 1e-12)
    Y_ref, hist_ref = ref_run(Yp, P4, n_iter)
    cfg = EmbedConfig.reference(perplexity=3.0, log_every=1)
    Y0 = from_polar(torch.tensor(Yp[..., 0]), torch.tensor(Yp[..., 1]))
    states = iterate(torch.tensor(X), cfg, Y0=Y0, P=torch.tensor(P))
    for _, state in zip(range(n_iter), states):
        ours = state.losses
        sem, disp, align_printed, align_cos = hist_ref[state.iteration]
        assert ours["semantic"] == pytest.approx(sem, rel=1e-6)
        assert ours["displacement"] == pytest.approx(disp, rel=1e-6)
        assert ours["alignment"] == pytest.approx(align_cos, rel=1e-6, abs=1e-6)
        if state.iteration == 0:  # angles start within pi/2 of each other (see `tiny`)
            assert ours["alignment"] == pytest.approx(align_printed, rel=1e-9)
    # rounding differences (the reference round-trips polar <-> Cartesian S times per iteration) grow
    # about tenfold every 2-3 iterations at eta = 500 on 12 points: 1e-13 after 3, 1e-9 after 12
    np.testing.assert_allclose(state.Y.numpy(), cart(Y_ref), rtol=0, atol=1e-8)


def test_schedules_match_reference_late_in_the_run():
    """Exaggeration switch (iteration 100), momentum switch (20) and sigma annealing, on a short schedule.

    A small learning rate keeps the dynamics smooth, so 130 iterations stay comparable."""
    X, Yp = tiny(seed=1)
    P = np.stack([ref_affinities(x, 3.0) for x in X])
    n_iter = 130
    Y_ref, hist_ref = ref_run(Yp, np.maximum(4 * P, 1e-12), n_iter, max_iter=160, eta=2.0)
    cfg = EmbedConfig.reference(n_iter=160, perplexity=3.0, log_every=1, learning_rate=2.0, disp_rate=2.0)
    Y0 = from_polar(torch.tensor(Yp[..., 0]), torch.tensor(Yp[..., 1]))
    for _, state in zip(range(n_iter), iterate(torch.tensor(X), cfg, Y0=Y0, P=torch.tensor(P))):
        pass
    assert state.losses["semantic"] == pytest.approx(hist_ref[-1][0], rel=1e-8)
    assert state.losses["displacement"] == pytest.approx(hist_ref[-1][1], rel=1e-8)
    np.testing.assert_allclose(state.Y.numpy(), cart(Y_ref), rtol=0, atol=1e-8)


def test_shared_gains_of_the_reference_differ_from_per_step_gains():
    """The one deviation is real (so the per-step choice is a decision, not a no-op)."""
    X, Yp = tiny(seed=2)
    P4 = np.maximum(4 * np.stack([ref_affinities(x, 3.0) for x in X]), 1e-12)
    a, _ = ref_run(Yp, P4, 1, shared_gains=True)
    b, _ = ref_run(Yp, P4, 1, shared_gains=False)
    assert np.abs(a[0] - b[0]).max() < 1e-12  # step 0 is first in the loop: same gains either way
    assert np.abs(a[1:] - b[1:]).max() > 1e-6
