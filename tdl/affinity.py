"""Per-step t-SNE input affinities P, every step at once.

For each step s the conditional p_{j|i} = exp(-beta_i d_ij^2) / sum_k exp(-beta_i d_ik^2) is calibrated
by binary search on beta_i so that its entropy is log(perplexity) (van der Maaten's `x2p`, used by the
reference code), then symmetrised and normalised within the step: P_s = (P + P^T) / sum(P + P^T).
Each step's P sums to 1; there is no affinity between different steps.

- `dense_affinities`: exact, all pairs, `(S, I, I)`; for up to a few thousand instances per step.
- `knn_affinities`: only the k = 3 * perplexity exact nearest neighbours (chunked `torch.cdist`),
  returned as `SparseAffinity` (COO over the S * I points, indices `s * I + i`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from sandbox.errors import UserError

TINY = 1e-30  # affinities below this are set to 0 (see dense_affinities)


def calibrate(d2: torch.Tensor, perplexity: float, tol: float = 1e-5, max_iter: int = 200) -> torch.Tensor:
    """Conditional affinities from squared distances `d2 (..., m)` to the m candidate neighbours.

    Finds the precision beta of every row at once so that |H - log(perplexity)| <= tol, the stopping
    rule of `x2p` in the reference. The reference bisects (30-50 passes over every row); here each row
    takes a Newton step in log beta, dH/dlog(beta) = -Var_p(beta d2), kept inside the bracket that the
    bisection would keep (a step leaving it bisects instead), and rows that are done leave the passes:
    at 50 x 1000 about 14 passes, the last ones over a few rows (15.8 s -> about 4 s on one CPU thread).
    The answer is the same within `tol`. Rows are shifted by their minimum (H and p are unchanged; exp
    cannot underflow to 0 everywhere) and beta starts at 1 / mean(shifted d2). Returns rows summing to 1,
    same shape as `d2`."""
    shape = d2.shape
    d = d2.reshape(-1, shape[-1])
    d = d - d.min(dim=-1, keepdim=True).values
    beta = 1 / d.mean(dim=-1, keepdim=True).clamp_min(1e-12)  # (R, 1), final values written back here
    act, da, b = None, d, beta.clone()  # the rows still searching (None: all), their d2 and beta
    lo = torch.full_like(b, -math.inf)
    hi = torch.full_like(b, math.inf)
    log_u = math.log(perplexity)
    for _ in range(max_iter):
        nx = torch.mul(da, -b).clamp_(min=-80.0)  # -beta d2; exp(-80) is still a normal float (no denormals)
        p = torch.exp(nx)
        sum_p = p.sum(dim=-1, keepdim=True)
        nxp = nx * p  # -x p (8 passes over the rows per search step, where the plain formulas take 10)
        mean_x = -nxp.sum(dim=-1, keepdim=True) / sum_p
        diff = torch.log(sum_p) + mean_x - log_u  # H - log(perplexity)
        done = diff.abs() <= tol
        up = (diff > 0) & ~done  # entropy too high: sharpen (larger beta)
        down = (diff <= 0) & ~done
        lo = torch.where(up, b, lo)
        hi = torch.where(down, b, hi)
        var_x = (nxp.mul_(nx).sum(dim=-1, keepdim=True) / sum_p - mean_x * mean_x).clamp_min(1e-12)
        newton = b * torch.exp((diff / var_x).clamp(-2.0, 2.0))
        bisect = torch.where(up, torch.where(torch.isinf(hi), b * 2, (b + hi) / 2),
                             torch.where(torch.isinf(lo), b / 2, (b + lo) / 2))
        b = torch.where(done, b, torch.where((newton > lo) & (newton < hi), newton, bisect))
        left = int((~done).sum())
        if left == 0:
            break
        if left <= done.shape[0] // 2:  # drop finished rows: later passes only touch the rest
            beta = beta.index_copy(0, act, b) if act is not None else b
            keep = (~done[:, 0]).nonzero()[:, 0]
            act = keep if act is None else act[keep]
            da, b, lo, hi = da[keep], b[keep], lo[keep], hi[keep]
    beta = beta.index_copy(0, act, b) if act is not None else b
    p = torch.exp(-(d * beta).clamp_(max=80.0))
    return (p / p.sum(dim=-1, keepdim=True)).view(shape)


def off_diagonal(m: torch.Tensor) -> torch.Tensor:
    """`(S, I, I)` -> its off-diagonal entries `(S, I, I - 1)`, row by row."""
    S, I, _ = m.shape
    return m.reshape(S, I * I)[:, 1:].reshape(S, I - 1, I + 1)[:, :, :I].reshape(S, I, I - 1)


def with_zero_diagonal(p: torch.Tensor) -> torch.Tensor:
    """Inverse of `off_diagonal`: `(S, I, I - 1)` -> `(S, I, I)` with a zero diagonal."""
    S, I, _ = p.shape
    out = torch.zeros(S, I * I, dtype=p.dtype, device=p.device)
    out[:, 1:].view(S, I - 1, I + 1)[:, :, :I] = p.reshape(S, I - 1, I)
    return out.view(S, I, I)


def _check(x: torch.Tensor, perplexity: float) -> None:
    if x.ndim != 3:
        raise UserError(f"intermediate features must be (steps, instances, dim), got {tuple(x.shape)}")
    if x.shape[1] < 3:
        raise UserError(f"need at least 3 instances per step for t-SNE, got {x.shape[1]}")
    if not (perplexity > 0 and 3 * perplexity < x.shape[1]):
        raise UserError(f"perplexity must be > 0 and below instances/3 = {x.shape[1] / 3:.1f}, got {perplexity} "
                        "(use fewer neighbours: --perplexity)")


def sq_distances(x: torch.Tensor) -> torch.Tensor:
    """`(S, I, d)` -> squared Euclidean distances `(S, I, I)` (PCA output is centred, so the matmul
    form loses little precision)."""
    return torch.cdist(x, x) ** 2


def dense_affinities(x: torch.Tensor, perplexity: float = 30.0, tol: float = 1e-5,
                     chunk_entries: int = 2 ** 25) -> torch.Tensor:
    """Intermediate points `(S, I, d)` -> joint affinities `P (S, I, I)`, symmetric, zero diagonal,
    each step summing to 1. Steps are done in groups of about `chunk_entries` pairs, so the search's
    temporaries stay small next to P (50 x 4000 at once held 15 GB on the CPU; P itself is 3.2 GB)."""
    _check(x, perplexity)
    S, I, _ = x.shape
    out = torch.empty(S, I, I, dtype=x.dtype, device=x.device)
    b = max(1, chunk_entries // (I * I))
    for s in range(0, S, b):
        p = with_zero_diagonal(calibrate(off_diagonal(sq_distances(x[s:s + b])), perplexity, tol))
        p = p + p.transpose(1, 2)
        out[s:s + b] = p / p.sum(dim=(1, 2), keepdim=True)
    # far pairs get p ~ 1e-38: float32 denormals, which make every CPU product with them ~100x slower
    # (measured: the fused gradient 6 ms instead of 0.9 ms at 50 x 200); they weigh nothing, so drop them
    return out.masked_fill_(out < TINY, 0)


@dataclass
class SparseAffinity:
    """Joint affinities of S steps x I instances as COO over the S * I points (index `s * I + i`).

    `rows, cols (E,) int64`, `vals (E,)`; symmetric; each step's values sum to 1; never across steps."""
    rows: torch.Tensor
    cols: torch.Tensor
    vals: torch.Tensor
    num_steps: int
    num_instances: int
    _csr: tuple | None = field(default=None, repr=False, compare=False)

    def csr(self):
        """`(indptr (S*I + 1,), cols (E,))` numpy int64 (rows are sorted), for the fused CPU kernel."""
        if self._csr is None:
            counts = torch.bincount(self.rows, minlength=self.num_steps * self.num_instances)
            indptr = torch.cat((counts.new_zeros(1), counts.cumsum(0)))
            self._csr = (indptr.cpu().numpy(), self.cols.cpu().numpy())
        return self._csr

    def to_dense(self) -> torch.Tensor:
        """`(S, I, I)` (for tests and small sizes)."""
        S, I = self.num_steps, self.num_instances
        out = torch.zeros(S * I * I, dtype=self.vals.dtype, device=self.vals.device)
        s = self.rows // I
        out.index_add_(0, s * I * I + (self.rows % I) * I + self.cols % I, self.vals)
        return out.view(S, I, I)


def knn(x: torch.Tensor, k: int, chunk: int = 1024,
        rows: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact k nearest neighbours within each step (self excluded).

    `x (S, I, d)` -> `(d2 (S, Q, k), idx (S, Q, k))`, nearest first, for the instances `rows (Q,)` (default
    all I); queries in chunks to bound memory (S * chunk * I distances at a time)."""
    S, I, _ = x.shape
    rows = torch.arange(I, device=x.device) if rows is None else rows.to(x.device)
    d2s, idxs = [], []
    for start in range(0, rows.numel(), chunk):
        rc = rows[start:start + chunk]
        d2 = torch.cdist(x[:, rc], x) ** 2  # (S, c, I)
        d2[:, torch.arange(rc.numel(), device=x.device), rc] = math.inf
        v, i = torch.topk(d2, k, dim=-1, largest=False, sorted=True)
        d2s.append(v), idxs.append(i)
    return torch.cat(d2s, dim=1), torch.cat(idxs, dim=1)


def knn_affinities(x: torch.Tensor, perplexity: float = 30.0, k: int | None = None,
                   tol: float = 1e-5) -> SparseAffinity:
    """Intermediate points `(S, I, d)` -> sparse joint affinities on the k nearest neighbours
    (default k = 3 * perplexity, as in Barnes-Hut t-SNE), symmetrised: P = (P + P^T) / (2 I) per step."""
    _check(x, perplexity)
    S, I, _ = x.shape
    k = min(I - 1, int(3 * perplexity) if k is None else k)
    d2, idx = knn(x, k)
    p = calibrate(d2, perplexity, tol)  # (S, I, k), rows sum to 1
    offset = (torch.arange(S, device=x.device) * I)[:, None, None]
    rows = (offset + torch.arange(I, device=x.device)[None, :, None]).expand(S, I, k).reshape(-1)
    cols = (offset + idx).reshape(-1)
    vals = p.reshape(-1) / (2 * I)
    # P + P^T: the same pair may appear from both ends; sum duplicates (sorted, deterministic)
    key = torch.cat((rows * (S * I) + cols, cols * (S * I) + rows))
    uniq, inv = torch.unique(key, sorted=True, return_inverse=True)
    summed = torch.zeros(uniq.shape[0], dtype=vals.dtype, device=x.device).index_add_(0, inv, torch.cat((vals, vals)))
    return SparseAffinity(uniq // (S * I), uniq % (S * I), summed, S, I)
