"""The three losses of the evolutionary embedding, each with its analytic gradient, batched over steps.

Transcribed from the reference code (vidyaprsd/evolved, evolutionary_embedding/evol_embed_radial.py):
- semantic: per step s, KL(P_s || Q_s) with Student-t Q_s within the step
  (`semantic_dist_grad`). Returned gradients are the true dKL/dy = 4 sum_j (p_ij - q_ij) w_ij (y_i - y_j);
  the reference (like van der Maaten's tsne.py) drops the 4, which `embedding.py` accounts for.
- displacement: D = -sum_i N(a_si; r_s, sigma^2), a = the step-axis coordinate (radius / x), r_s the
  step's target (`displacement_dist_grad`).
- alignment: A = -sum_{s<S-1} sum_i k(theta_si - theta_{s+1,i}) with theta_{s+1} held fixed (the
  reference moves only step s towards step s+1); k = cos for angles (`alignment_dist_grad`), a Gaussian
  exp(-x^2/2) (same curvature at 0) for the rectilinear cross axis measured in units of the radius.
All functions are pure: tensors in, `(loss (S,), grad)` out, float32 or float64.
"""
from __future__ import annotations

import math

import torch

from tdl.affinity import SparseAffinity

Q_FLOOR = 1e-12  # reference: Q = np.maximum(Q, 1e-12); P = np.maximum(P, 1e-12)


def student_t(Y: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """`Y (S, I, 2)` -> w_ij = 1 / (1 + |y_i - y_j|^2) `(S, I, I)` with zero diagonal.

    1 + |y_i - y_j|^2 is one batched matmul of [y_i, |y_i|^2 + 1, 1] with [-2 y_j, 1, |y_j|^2]."""
    sq = (Y * Y).sum(-1, keepdim=True)
    one = torch.ones_like(sq)
    a = torch.cat((Y, sq + 1, one), -1)
    b = torch.cat((-2 * Y, one, sq), -1)
    if torch.is_grad_enabled() and Y.requires_grad:  # differentiable path (parametric embedding)
        w = 1 / torch.bmm(a, b.transpose(1, 2))
        return w * (1 - torch.eye(Y.shape[1], dtype=Y.dtype, device=Y.device))
    w = torch.bmm(a, b.transpose(1, 2), out=out).reciprocal_()
    w.diagonal(dim1=1, dim2=2).zero_()
    return w


def tsne_exact(Y: torch.Tensor, P: torch.Tensor, exaggeration: float = 1.0, with_loss: bool = True,
               work: dict | None = None) -> tuple[torch.Tensor | None, torch.Tensor]:
    """Exact per-step t-SNE. `Y (S, I, 2)`, symmetric `P (S, I, I)` -> `(KL (S,) or None, dKL/dY (S, I, 2))`.

    KL_s = sum_ij p_ij log(p_ij / q_ij), q_ij = w_ij / Z_s, Z_s = sum_{i != j} w_ij, and
    dKL/dy_i = 4 sum_j (p_ij - q_ij) w_ij (y_i - y_j). With exaggeration e, p is replaced by p' = e p in
    both (as the reference); the step is then the gradient of KL(P'||Q) - (e - 1) log Z (usual t-SNE).
    `work` (a dict) keeps two `(S, I, I)` buffers between calls: no allocation per iteration. On the
    CPU the fused kernel of `tdl.fused` computes the same numbers in one pass (`work["fused"] = False`
    forces the tensor code)."""
    work = {} if work is None else work
    from tdl import fused
    if work.get("fused", True) and fused.usable(Y, P):  # CPU: one pass over the pairs (tdl/fused.py)
        grad, Zf = fused.exact_gradient(Y, P, exaggeration)
        loss = None
        if with_loss:
            plogp = work.get("plogp")
            if plogp is None or work.get("P") is not P:
                plogp = work["plogp"] = torch.special.xlogy(P, P).sum(dim=(1, 2))
                work["P"] = P
            mass = exaggeration * P.sum(dim=(1, 2))
            cross = fused.exact_plogw(Y, P, Q_FLOOR).to(Y.dtype)
            loss = (exaggeration * plogp + mass * math.log(exaggeration) - exaggeration * cross
                    + mass * torch.log(Zf.to(Y.dtype)))
        return loss, grad.to(Y.dtype)
    if work.get("w") is None or work["w"].shape != P.shape or work["w"].dtype != Y.dtype:
        work["w"], work["A"] = torch.empty_like(P, dtype=Y.dtype), torch.empty_like(P, dtype=Y.dtype)
    w, A = student_t(Y, out=work["w"]), work["A"]
    Z = w.sum(dim=(1, 2))
    torch.mul(w, (-1 / Z)[:, None, None], out=A)
    A.add_(P, alpha=exaggeration).mul_(w)  # (p'_ij - q_ij) w_ij, symmetric
    # one pass over A gives both sum_j A_ij y_j and sum_j A_ij (A = A^T, so [Y, 1]^T A is (A [Y, 1])^T)
    r = torch.bmm(torch.cat((Y, torch.ones_like(Y[..., :1])), -1).transpose(1, 2), A)  # (S, 3, I)
    grad = 4 * (r[:, 2, :, None] * Y - r[:, :2].transpose(1, 2))
    loss = None
    if with_loss:  # sum p' log p' - sum p' log w + sum p' log Z, entries with p = 0 add nothing
        plogp = work.get("plogp")
        if plogp is None or work.get("P") is not P:
            plogp = work["plogp"] = torch.special.xlogy(P, P).sum(dim=(1, 2))
            work["P"] = P
        mass = exaggeration * P.sum(dim=(1, 2))
        torch.log(w.clamp_(min=Q_FLOOR), out=A)
        loss = (exaggeration * plogp + mass * math.log(exaggeration) - exaggeration * (P * A).sum(dim=(1, 2))
                + mass * torch.log(Z))
    return loss, grad


def tsne_sparse(Y: torch.Tensor, P: SparseAffinity, exaggeration: float = 1.0, repulsion=None,
                with_loss: bool = True) -> tuple[torch.Tensor | None, torch.Tensor]:
    """t-SNE with sparse P and a repulsion term: `Y (S, I, 2)` -> `(KL (S,) or None, dKL/dY)`.

    `repulsion(Y) -> (Z (S,), R (S, I, 2))` with R_i = sum_j w_ij^2 (y_i - y_j) (exact or approximate,
    see `tdl.repulsion`). Attraction is exact on the edges of P:
    dKL/dy_i = 4 [sum_j e p_ij w_ij (y_i - y_j) - R_i / Z]; KL = sum e p log(e p) - sum e p log w + e log Z."""
    from tdl import fused
    from tdl.repulsion import repulsion_exact
    S, I, _ = Y.shape
    if fused.usable(Y, P.vals):  # CPU: the attraction row by row over P's CSR form (tdl/fused.py)
        indptr, cols = P.csr()
        attr, plogw = fused.sparse_attraction(Y, indptr, cols, (P.vals * exaggeration).numpy(), with_loss)
        Z, R = (repulsion or repulsion_exact)(Y)
        grad = 4 * (attr.to(Y.dtype) - R / Z[:, None, None])
        loss = None
        if with_loss:
            p = P.vals * exaggeration
            step = P.rows // I
            plogp = torch.zeros(S, dtype=torch.float64).index_add_(0, step, torch.special.xlogy(p, p).double())
            mass = torch.zeros(S, dtype=torch.float64).index_add_(0, step, p.double())
            cross = torch.zeros(S, dtype=torch.float64).index_add_(
                0, torch.arange(S).repeat_interleave(I), plogw)
            loss = (plogp - cross + mass * torch.log(Z.double())).to(Y.dtype)
        return loss, grad
    flat = Y.reshape(S * I, 2)
    diff = flat[P.rows] - flat[P.cols]
    w = 1 / (1 + (diff * diff).sum(-1))
    p = P.vals * exaggeration
    attr = torch.zeros_like(flat).index_add_(0, P.rows, (p * w)[:, None] * diff).view(S, I, 2)
    Z, R = (repulsion or repulsion_exact)(Y)
    grad = 4 * (attr - R / Z[:, None, None])
    loss = None
    if with_loss:
        step = P.rows // I
        per_edge = p * (torch.log(p.clamp_min(Q_FLOOR)) - torch.log(w))
        loss = torch.zeros(S, dtype=Y.dtype, device=Y.device).index_add_(0, step, per_edge)
        mass = torch.zeros(S, dtype=Y.dtype, device=Y.device).index_add_(0, step, p)
        loss = loss + mass * torch.log(Z)
    return loss, grad


def gaussian(x: torch.Tensor, sigma: float) -> torch.Tensor:
    return torch.exp(-x * x / (2 * sigma ** 2)) / (sigma * math.sqrt(2 * math.pi))


def displacement(along: torch.Tensor, target: torch.Tensor, sigma: float,
                 hold: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Pull each step to its ring/band. `along (S, I)`, `target (S,)` -> `(D (S,), dD/d along (S, I))`.

    D_s = -sum_i N(a_si; r_s, sigma^2) (Gaussian density); its pull vanishes far from the ring, as in
    the reference, so sigma is annealed from wide to narrow (`embedding.disp_sigma`). `hold`: beyond
    one sigma the pull keeps its largest value (D continued linearly, so D and its gradient are
    continuous): points the t-SNE forces push far out are still pulled back instead of escaping."""
    x = along - target[:, None]
    g = gaussian(x, sigma)
    if not hold:
        return -g.sum(-1), x / sigma ** 2 * g
    g1 = math.exp(-0.5) / (sigma * math.sqrt(2 * math.pi))  # the density at one sigma
    out = x.abs() > sigma
    loss = torch.where(out, -g1 + g1 / sigma * (x.abs() - sigma), -g)
    grad = torch.where(out, torch.sign(x) * g1 / sigma, x / sigma ** 2 * g)
    return loss.sum(-1), grad


def alignment(theta: torch.Tensor, kernel: str = "cos") -> tuple[torch.Tensor, torch.Tensor]:
    """Align each instance with itself at the next step. `theta (S, I)` (angle, or cross-axis / radius)
    -> `(A (S,), dA/d theta (S, I))`, the last step's loss and gradient are 0 (it has no next step).

    A_s = -sum_i k(theta_si - theta_{s+1,i}), gradient only w.r.t. theta_s (theta_{s+1} is the target)."""
    d = theta[:-1] - theta[1:]
    if kernel == "cos":
        loss, grad = -torch.cos(d), torch.sin(d)
    elif kernel == "gauss":
        e = torch.exp(-d * d / 2)
        loss, grad = -e, d * e
    else:
        raise ValueError(f"unknown alignment kernel {kernel!r}")
    zeros = torch.zeros_like(theta[:1])
    return torch.cat((loss.sum(-1), zeros[:, 0])), torch.cat((grad, zeros))
