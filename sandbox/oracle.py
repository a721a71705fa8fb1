"""Exact denoisers: a Gaussian mixture and a finite point set (the memorising "ideal" model).

If x0 ~ sum_k w_k N(mu_k, S_k) and x = alpha x0 + sigma eps, then x | k ~ N(alpha mu_k, C_k) with
C_k = alpha^2 S_k + sigma^2 I, and
    E[x0 | x] = sum_k r_k(x) (mu_k + alpha S_k C_k^{-1} (x - alpha mu_k)),
    r_k(x) proportional to w_k N(x; alpha mu_k, C_k).
With S_k = U diag(lam) U^T (eigendecomposition, done once) C_k is diagonal in U, so the formula
costs O(N K D^2) and works with singular or zero covariances (a point set: E[x0|x] is the
softmax-weighted mean of the points). `MixtureField` / `PointSetField` make these `Field`s.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from sandbox.paths import Path, TimeLike, as_time


def _per_particle(v: TimeLike, n: int, device: torch.device) -> torch.Tensor:
    """A scalar or (N,) alpha/sigma as an (N, 1) float32 column."""
    return as_time(v, device).expand(n).reshape(n, 1)


@dataclass(eq=False)
class GaussianMixture:
    """weights: (K,) (normalised here), means: (K, D), covs: (K, D, D) symmetric PSD (zeros allowed),
    labels: optional (K,) int64 class of each component (for class-conditional oracles)."""

    weights: torch.Tensor
    means: torch.Tensor
    covs: torch.Tensor
    labels: torch.Tensor | None = None

    def __post_init__(self) -> None:
        self.means = torch.as_tensor(self.means, dtype=torch.float32)
        K, D = self.means.shape
        self.weights = torch.as_tensor(self.weights, dtype=torch.float32, device=self.means.device)
        self.covs = torch.as_tensor(self.covs, dtype=torch.float32, device=self.means.device)
        if self.weights.shape != (K,) or self.covs.shape != (K, D, D):
            raise ValueError(f"need weights (K,), means (K, D), covs (K, D, D); got "
                             f"{tuple(self.weights.shape)}, {(K, D)}, {tuple(self.covs.shape)}")
        if not bool((self.weights >= 0).all()) or float(self.weights.sum()) <= 0:
            raise ValueError("mixture weights must be >= 0 and not all zero")
        self.weights = self.weights / self.weights.sum()
        if self.labels is not None:
            self.labels = torch.as_tensor(self.labels, dtype=torch.int64, device=self.means.device)
        covs = 0.5 * (self.covs + self.covs.transpose(1, 2)).double()
        lam, U = torch.linalg.eigh(covs.cpu())
        if float(lam.min()) < -1e-6 * max(float(lam.abs().max()), 1.0):
            raise ValueError("mixture covariances must be positive semi-definite")
        self._lam = lam.clamp(min=0).float().to(self.means.device)  # (K, D)
        self._U = U.float().to(self.means.device)  # (K, D, D), columns = eigenvectors
        self._mu_z = torch.einsum("kd,kde->ke", self.means, self._U)  # means in their eigenbases

    @property
    def device(self) -> torch.device:
        return self.means.device

    def to(self, device: torch.device | str) -> "GaussianMixture":
        labels = None if self.labels is None else self.labels.to(device)
        return GaussianMixture(self.weights.to(device), self.means.to(device), self.covs.to(device), labels)

    def sample(self, n: int, generator: torch.Generator | None = None, label: int | None = None) -> torch.Tensor:
        """(n, D) draws (on the generator's device, then moved to the mixture's); label: one class only."""
        dev = generator.device if generator is not None else self.device
        w = self._class_weights(label).to(dev)
        k = torch.multinomial(w, n, replacement=True, generator=generator)
        z = torch.randn(n, self.means.shape[1], generator=generator, device=dev)
        L = (self._U * self._lam.sqrt().unsqueeze(1)).to(dev)  # U diag(sqrt(lam)): L L^T = S
        return (self.means.to(dev)[k] + torch.einsum("nde,ne->nd", L[k], z)).to(self.device)

    def _class_weights(self, label: int | None) -> torch.Tensor:
        if label is None or label < 0:
            return self.weights
        if self.labels is None or not bool((self.labels == label).any()):
            raise ValueError(f"this mixture has no component of class {label}")
        return self.weights * (self.labels == label)

    def _log_joint(self, x: torch.Tensor, alpha: TimeLike, sigma: TimeLike, labels: torch.Tensor | None):
        """log w_k N(x; alpha mu_k, C_k) (N, K) and the pieces the posterior mean reuses."""
        n = x.shape[0]
        a, s = _per_particle(alpha, n, x.device), _per_particle(sigma, n, x.device)
        # samplers pass one t for the whole batch: then the per-particle variances are one row
        ad, sd = (a[:1], s[:1]) if bool((a == a[0]).all() & (s == s[0]).all()) else (a, s)
        xz = torch.einsum("nd,kde->nke", x, self._U)  # x in each eigenbasis (N, K, D)
        z = xz - a[:, :, None] * self._mu_z[None]  # U^T (x - alpha mu)
        d = (ad[:, :, None] ** 2 * self._lam[None] + sd[:, :, None] ** 2).clamp(min=1e-30)  # (N|1, K, D)
        logits = (torch.log(self.weights)[None] - 0.5 * torch.log(2 * math.pi * d).sum(-1)
                  - 0.5 * (z ** 2 / d).sum(-1))
        if labels is not None:
            if self.labels is None:
                raise ValueError("labels given but this mixture has no component labels")
            keep = (labels[:, None] < 0) | (labels[:, None] == self.labels[None, :])
            logits = logits.masked_fill(~keep, float("-inf"))
        return logits, a, s, z, d

    def log_prob(self, x: torch.Tensor, alpha: TimeLike = 1.0, sigma: TimeLike = 0.0,
                 labels: torch.Tensor | None = None) -> torch.Tensor:
        """(N,) log density of x_t = alpha x0 + sigma eps at x (defaults: the data density itself).

        Needs sigma > 0 where a covariance is singular. labels: log p(x | class) per particle.
        """
        logits, *_ = self._log_joint(x, alpha, sigma, labels)
        out = torch.logsumexp(logits, dim=1)
        if labels is not None and self.labels is not None:  # divide by the class's total weight
            keep = (labels[:, None] < 0) | (labels[:, None] == self.labels[None, :])
            out = out - torch.log((self.weights[None] * keep).sum(1))
        return out

    def posterior_mean(self, x: torch.Tensor, alpha: TimeLike, sigma: TimeLike,
                       labels: torch.Tensor | None = None) -> torch.Tensor:
        """E[x0 | alpha x0 + sigma eps = x]: (N, D). alpha, sigma: scalars or (N,). Where sigma = 0
        the answer is x / alpha. labels (N,): restrict to components of that class (< 0: all)."""
        logits, a, s, z, d = self._log_joint(x, alpha, sigma, labels)
        r = torch.softmax(logits, dim=1)  # (N, K)
        shrunk = a[:, :, None] * self._lam[None] * z / d  # alpha lam z / d, eigen-coordinates
        m = self.means[None] + torch.einsum("kde,nke->nkd", self._U, shrunk)  # (N, K, D)
        out = torch.einsum("nk,nkd->nd", r, m)
        return torch.where(s == 0, x / a, out)


class MixtureField:
    """The exact denoiser of a GaussianMixture on a path: a Field usable wherever a model is."""

    def __init__(self, mixture: GaussianMixture, path: Path):
        self.mixture, self.path = mixture, path

    def x0(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.mixture.posterior_mean(x, self.path.alpha(t), self.path.sigma(t), labels)


class PointSetField:
    """The ideal denoiser of the empirical distribution of `points` (M, D): it memorises them.

    E[x0 | x] = sum_m softmax_m(log w_m - |x - alpha p_m|^2 / (2 sigma^2)) p_m; the same as a
    GaussianMixture with zero covariances, but O(N M) memory-light through cdist.
    labels: optional (M,) classes of the points (label c >= 0 restricts to class c).
    """

    def __init__(self, points: torch.Tensor, path: Path, weights: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None):
        self.points = torch.as_tensor(points, dtype=torch.float32)
        m = self.points.shape[0]
        w = torch.ones(m) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        self.log_w = torch.log(w / w.sum()).to(self.points.device)
        self.labels = None if labels is None else torch.as_tensor(labels, dtype=torch.int64, device=self.points.device)
        self.path = path

    def x0(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None,
           chunk: int = 1024) -> torch.Tensor:
        n = x.shape[0]
        a = _per_particle(self.path.alpha(t), n, x.device)
        s = _per_particle(self.path.sigma(t), n, x.device)
        out = torch.empty_like(x)
        for i in range(0, n, chunk):
            sl = slice(i, i + chunk)
            if bool((a[sl] == a[sl][0]).all()):  # the usual case: one t for the whole batch
                d2 = torch.cdist(x[sl], a[sl][0] * self.points, compute_mode="donot_use_mm_for_euclid_dist") ** 2
            else:
                d2 = ((x[sl, None, :] - a[sl, :, None] * self.points[None]) ** 2).sum(-1)
            logits = self.log_w[None] - d2 / (2 * s[sl] ** 2).clamp(min=1e-30)
            if labels is not None and self.labels is not None:
                keep = (labels[sl, None] < 0) | (labels[sl, None] == self.labels[None, :])
                logits = logits.masked_fill(~keep, float("-inf"))
            out[sl] = torch.softmax(logits, dim=1) @ self.points
        return torch.where(s == 0, x / a, out)


# --- named mixtures for tests and lessons (canonical coordinates: RMS radius about 1) ------------
def eight_gaussians(radius: float = 1.0, std: float = 0.1) -> GaussianMixture:
    """Eight isotropic Gaussians on a circle; classes 0/1 alternate around it."""
    ang = torch.arange(8) * (2 * math.pi / 8)
    means = radius * torch.stack([torch.cos(ang), torch.sin(ang)], dim=1)
    covs = (std ** 2) * torch.eye(2).expand(8, 2, 2)
    return GaussianMixture(torch.ones(8), means, covs, labels=torch.arange(8) % 2)


def anisotropic_pair() -> GaussianMixture:
    """Two correlated Gaussians with unequal weights (class 0 and 1): exercises full covariances."""
    means = torch.tensor([[-0.8, -0.3], [0.7, 0.5]])
    covs = torch.tensor([[[0.10, 0.06], [0.06, 0.05]], [[0.02, -0.01], [-0.01, 0.08]]])
    return GaussianMixture(torch.tensor([0.3, 0.7]), means, covs, labels=torch.tensor([0, 1]))


def gaussian(mean: torch.Tensor, cov: torch.Tensor) -> GaussianMixture:
    """A single Gaussian N(mean (D,), cov (D, D))."""
    mean = torch.as_tensor(mean, dtype=torch.float32)
    return GaussianMixture(torch.ones(1), mean[None], torch.as_tensor(cov, dtype=torch.float32)[None])


def point_mixture(points: torch.Tensor, labels: torch.Tensor | None = None) -> GaussianMixture:
    """The empirical distribution of `points` (M, D) as a zero-covariance mixture."""
    points = torch.as_tensor(points, dtype=torch.float32)
    m, d = points.shape
    return GaussianMixture(torch.ones(m), points, torch.zeros(m, d, d), labels)
