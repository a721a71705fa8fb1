"""The intermediate space: PCA of the features before the embedding (TDL paper, section 4).

Default `fit="per_step"` (as the reference code: `X_red[t] = pca(X[t], initial_dims)`): each step keeps
the directions of its own largest variance. The embedding only ever compares points *within* a step
(P_s, Q_s), so this is the projection that best keeps what the t-SNE loss sees; measured on the
benchmark data it keeps the steps' neighbourhoods in the original 512-d features better (mean
trustworthiness 0.866 vs 0.832; noisy steps 0.70 vs 0.63), and with at most dim + 1 instances per
step it is exact. `fit="all"` fits one PCA on every step's points: one shared coordinate system, which
the parametric embedding uses (one network input space for all steps and for new samples). See
docs/TDL.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from sandbox.errors import UserError

FITS = ("all", "per_step")
_EXACT_LIMIT = 4096  # up to this min(N, D) we diagonalise exactly; beyond, randomised SVD


@dataclass
class PCAModel:
    """A fitted PCA. `mean (G, D)`, `components (G, D, d)`, `explained (G, d)` variance per component;
    `G = 1` for `fit="all"`, `G = S` for `fit="per_step"`. float32 tensors on the fitting device."""
    mean: torch.Tensor
    components: torch.Tensor
    explained: torch.Tensor
    fit: str

    @property
    def dim(self) -> int:
        return self.components.shape[-1]

    def transform(self, features: torch.Tensor, step: torch.Tensor | int | None = None) -> torch.Tensor:
        """Project features. `(S, I, D) -> (S, I, d)`; or `(N, D)` with `step` (int or `(N,)`) -> `(N, d)`.

        `step` is needed only for a per-step fit (it picks which step's PCA to use)."""
        x = torch.as_tensor(features, dtype=torch.float32, device=self.mean.device)
        D = self.mean.shape[-1]
        if x.shape[-1] != D:
            raise UserError(f"features have {x.shape[-1]} dimensions but the PCA was fitted on {D}")
        if x.ndim == 3:
            if self.fit == "per_step" and x.shape[0] != self.mean.shape[0]:
                raise UserError(f"per-step PCA was fitted on {self.mean.shape[0]} steps, got {x.shape[0]}")
            return torch.bmm(x - self.mean[:, None], self.components.expand(x.shape[0], -1, -1)
                             if self.fit == "all" else self.components)
        if x.ndim != 2:
            raise UserError(f"features must be (S, I, D) or (N, D), got shape {tuple(x.shape)}")
        if self.fit == "all":
            return (x - self.mean[0]) @ self.components[0]
        if step is None:
            raise UserError("a per-step PCA needs the step of each sample")
        g = torch.as_tensor(step, device=x.device, dtype=torch.long).expand(x.shape[0])
        return torch.einsum("nd,ndk->nk", x - self.mean[g], self.components[g])

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"pca_mean": self.mean, "pca_components": self.components, "pca_explained": self.explained}

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor], fit: str) -> "PCAModel":
        return cls(state["pca_mean"], state["pca_components"], state["pca_explained"], fit)


def _top_components(x: torch.Tensor, dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Centred `x (G, N, D)` -> `components (G, D, dim)`, `variance (G, dim)`; deterministic signs.

    All G groups at once (one batched eigendecomposition) when exact; randomised SVD group by group."""
    G, n, D = x.shape
    if min(n, D) <= _EXACT_LIMIT:
        xd = x.double()
        if D <= n:  # eigenvectors of the D x D covariance
            evals, evecs = torch.linalg.eigh(xd.transpose(1, 2) @ xd)
            comps, var = evecs.flip(-1)[..., :dim], evals.flip(-1)[..., :dim]
        else:  # Gram trick: eigenvectors of the N x N Gram matrix, mapped back
            evals, evecs = torch.linalg.eigh(xd @ xd.transpose(1, 2))
            evals, evecs = evals.flip(-1)[..., :dim], evecs.flip(-1)[..., :dim]
            keep = evals > 1e-12 * evals[..., :1].clamp_min(1e-300)  # beyond the rank: zero components
            comps = xd.transpose(1, 2) @ evecs / evals.clamp_min(1e-300).sqrt()[:, None] * keep[:, None]
            var = evals * keep
        comps, var = comps.float(), (var.clamp_min(0) / max(n - 1, 1)).float()
    else:
        cs, vs = [], []
        with torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
            torch.manual_seed(seed)
            for g in x:
                _, sv, v = torch.svd_lowrank(g, q=min(dim + 10, n, D), niter=4)
                cs.append(v[:, :dim]), vs.append(sv[:dim] ** 2 / max(n - 1, 1))
        comps, var = torch.stack(cs), torch.stack(vs)
    # sign convention: the largest |loading| of each component is positive (reproducible output)
    idx = comps.abs().argmax(dim=1, keepdim=True)  # (G, 1, dim)
    signs = torch.sign(torch.gather(comps, 1, idx))
    return comps * torch.where(signs == 0, torch.ones_like(signs), signs), var


def fit_pca(features: torch.Tensor, dim: int = 50, fit: str = "per_step", seed: int = 0) -> PCAModel:
    """Fit the intermediate-space PCA on `features (S, I, D)`.

    `dim` is clamped to what the data can give (`min(D, points)`); with `dim >= D` the PCA is only a
    rotation (the reference skips PCA then). Exact (float64 eigendecomposition) up to 4096 points or
    dimensions, randomised SVD (seeded) beyond."""
    if fit not in FITS:
        raise UserError(f"unknown PCA fit {fit!r}; choose one of {', '.join(FITS)}")
    x = torch.as_tensor(features, dtype=torch.float32)
    if x.ndim != 3 or min(x.shape) < 1:
        raise UserError(f"features must be a non-empty (steps, instances, dim) array, got {tuple(x.shape)}")
    if dim < 1:
        raise UserError(f"PCA dimension must be >= 1, got {dim}")
    S, I, D = x.shape
    groups = x.reshape(1, S * I, D) if fit == "all" else x  # (G, N, D)
    d = min(dim, D, groups.shape[1])
    means = groups.mean(dim=1)
    comps, var = _top_components(groups - means[:, None], d, seed)
    return PCAModel(means, comps, var, fit)


def pca(features: torch.Tensor, dim: int = 50, fit: str = "per_step", seed: int = 0) -> torch.Tensor:
    """Features `(S, I, D)` -> intermediate space `(S, I, d)`, `d = min(dim, D, points)`."""
    model = fit_pca(features, dim, fit, seed)
    return model.transform(torch.as_tensor(features, dtype=torch.float32, device=model.mean.device))
