"""Fused CPU kernels (numba) for the t-SNE gradient: one pass over the pairs instead of seven tensors.

On the CPU the exact gradient in torch (`losses.tsne_exact`) materialises several `(S, I, I)` tensors per
iteration (w, then (p - q) w, each a full pass through memory); here each row i of each step is one loop
over j that keeps its five sums in registers:

    Z_s += w_ij,  attr_i += p_ij w_ij (y_i - y_j),  rep_i += w_ij^2 (y_i - y_j),   w_ij = 1 / (1 + |y_i - y_j|^2)
    dKL/dy_i = 4 (e attr_i - rep_i / Z_s)                      (e: exaggeration)

the same formula as `losses.tsne_exact` (tested against it). Measured on the shared 2-core machine,
one thread (bench/tdl_kernels.py, docs/BENCHMARKS.md): 50 x 200 1.0 vs 5.1 ms per gradient,
50 x 1000 34 vs 207 ms.
Also here: the attraction over a sparse P (CSR rows) for the approximate method. (A per-row kernel for
the affinity search was tried and dropped: numba's scalar exp made it slower than torch's vectorised one.)

numba is imported on first use; `available()` says whether it can be (the torch code is the fallback).
Steps run in parallel (`prange`) on as many threads as torch uses (`tdl.threads` sets those).
"""
from __future__ import annotations

import math
import threading

import numpy as np
import torch

_NB = None  # the compiled kernels, built on first use
_FAILED = False


def available() -> bool:
    """Whether numba can be imported (and the kernels compiled); False disables the fused path."""
    return _kernels() is not None


def usable(*tensors: torch.Tensor) -> bool:
    """The fused path applies: CPU tensors, float32/64, no autograd, numba present."""
    for t in tensors:
        if t.device.type != "cpu" or t.dtype not in (torch.float32, torch.float64) or t.requires_grad:
            return False
    return available()


def _kernels():
    global _NB, _FAILED
    if _NB is not None or _FAILED:
        return _NB
    try:
        import numba
    except ImportError:
        _FAILED = True
        return None
    try:
        _NB = _build(numba)
    except Exception:  # e.g. no writable cache folder for the compiled code: the tensor code runs instead
        _FAILED = True
    return _NB


def _build(numba) -> dict:
    nb = numba
    # numba's own thread pool: its OpenMP layer would share libgomp with torch and reset torch's thread
    # count (seen: torch went from 1 to 2 threads after the first call, and small ops became 500x slower)
    numba.config.THREADING_LAYER = "workqueue"

    @nb.njit(parallel=True, fastmath=True, cache=True)
    def exact_grad(yx, yy, P, exag, one, grad, Z):  # pragma: no cover - compiled
        # `one` carries the dtype: a float32 run stays in float32 (an int literal would promote to float64)
        S, I = yx.shape
        for s in nb.prange(S):
            xs, ys, Ps = yx[s], yy[s], P[s]
            zs = 0.0
            for i in range(I):
                xi, yi, Pi = xs[i], ys[i], Ps[i]
                zero = one - one
                ax, ay, rx, ry, zi = zero, zero, zero, zero, zero
                for j in range(I):
                    dx = xi - xs[j]
                    dy = yi - ys[j]
                    w = one / (one + dx * dx + dy * dy)
                    pw = Pi[j] * w
                    w2 = w * w
                    ax += pw * dx
                    ay += pw * dy
                    rx += w2 * dx
                    ry += w2 * dy
                    zi += w
                grad[s, i, 0] = ax
                grad[s, i, 1] = ay
                grad[s, i, 2] = rx
                grad[s, i, 3] = ry
                zs += zi - 1.0  # the self term: w_ii = 1 (and no force)
            Z[s] = zs
            c = one / zs
            for i in range(I):
                grad[s, i, 0] = 4 * (exag * grad[s, i, 0] - c * grad[s, i, 2])
                grad[s, i, 1] = 4 * (exag * grad[s, i, 1] - c * grad[s, i, 3])

    @nb.njit(parallel=True, fastmath=True, cache=True)
    def exact_plogw(yx, yy, P, cap, one, out):  # pragma: no cover - compiled
        """out[s] = sum_ij P_ij log(max(w_ij, 1 / cap)) (the loss's cross term; diagonal P is 0)."""
        S, I = yx.shape
        for s in nb.prange(S):
            xs, ys, Ps = yx[s], yy[s], P[s]
            acc = 0.0
            for i in range(I):
                xi, yi, Pi = xs[i], ys[i], Ps[i]
                for j in range(I):
                    p = Pi[j]
                    if p > 0:
                        dx = xi - xs[j]
                        dy = yi - ys[j]
                        acc -= p * math.log(min(one + dx * dx + dy * dy, cap))
            out[s] = acc

    @nb.njit(parallel=True, fastmath=True, cache=True)
    def sparse_attract(yx, yy, indptr, cols, vals, one, with_loss, out, plogw):  # pragma: no cover - compiled
        """Rows i of the flat (S * I) points: out_i = sum_e p_e w_e (y_i - y_j); plogw_i = sum_e p_e log w_e
        (only `with_loss`: a log per edge costs more than the rest)."""
        N = yx.shape[0]
        for i in nb.prange(N):
            xi, yi = yx[i], yy[i]
            zero = one - one
            ax, ay = zero, zero
            acc = 0.0
            for e in range(indptr[i], indptr[i + 1]):
                j = cols[e]
                dx = xi - yx[j]
                dy = yi - yy[j]
                w = one / (one + dx * dx + dy * dy)
                pw = vals[e] * w
                ax += pw * dx
                ay += pw * dy
            if with_loss:
                for e in range(indptr[i], indptr[i + 1]):
                    j = cols[e]
                    dx = xi - yx[j]
                    dy = yi - yy[j]
                    acc -= vals[e] * math.log(one + dx * dx + dy * dy)
            out[i, 0] = ax
            out[i, 1] = ay
            plogw[i] = acc

    return {"exact_grad": exact_grad, "exact_plogw": exact_plogw, "sparse_attract": sparse_attract,
            "numba": numba}


# the workqueue pool must not be entered by two Python threads at once (numba aborts the process):
# a window or lesson that embeds in a worker thread waits for any other caller instead
_LOCK = threading.Lock()


def _threads() -> None:
    k = _NB
    n = max(1, min(torch.get_num_threads(), k["numba"].config.NUMBA_NUM_THREADS))
    if k["numba"].get_num_threads() != n:
        k["numba"].set_num_threads(n)


def _xy(Y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    a = Y.detach().numpy()
    return np.ascontiguousarray(a[..., 0]), np.ascontiguousarray(a[..., 1])


def exact_gradient(Y: torch.Tensor, P: torch.Tensor, exaggeration: float = 1.0
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """`Y (S, I, 2)`, symmetric `P (S, I, I)` (zero diagonal) -> `(dKL/dY (S, I, 2), Z (S,) float64)`,
    with p replaced by `exaggeration * p` (as `losses.tsne_exact`)."""
    k = _kernels()
    _threads()
    yx, yy = _xy(Y)
    Pn = P.detach().to(Y.dtype).contiguous().numpy()
    out = np.empty(Y.shape[:2] + (4,), dtype=yx.dtype)
    Z = np.empty(Y.shape[0], dtype=np.float64)
    one = yx.dtype.type(1)
    with _LOCK:
        k["exact_grad"](yx, yy, Pn, one * exaggeration, one, out, Z)
    return torch.from_numpy(out[..., :2].copy()), torch.from_numpy(Z)


def exact_plogw(Y: torch.Tensor, P: torch.Tensor, floor: float) -> torch.Tensor:
    """`(S,)` float64: sum_ij P_ij log(max(w_ij, floor))."""
    k = _kernels()
    _threads()
    yx, yy = _xy(Y)
    out = np.empty(Y.shape[0], dtype=np.float64)
    one = yx.dtype.type(1)
    with _LOCK:
        k["exact_plogw"](yx, yy, P.detach().to(Y.dtype).contiguous().numpy(), one / floor, one, out)
    return torch.from_numpy(out)


def sparse_attraction(Y: torch.Tensor, indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                      with_loss: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat CSR affinities over the S * I points -> `(sum_j p_ij w_ij (y_i - y_j) (S, I, 2),
    sum_j p_ij log w_ij (S * I,) float64, zeros unless with_loss)`; `vals` already exaggerated."""
    k = _kernels()
    _threads()
    S, I, _ = Y.shape
    yx, yy = _xy(Y.reshape(S * I, 2))
    out = np.empty((S * I, 2), dtype=yx.dtype)
    plogw = np.zeros(S * I, dtype=np.float64)
    with _LOCK:
        k["sparse_attract"](yx, yy, indptr, cols, vals.astype(yx.dtype, copy=False), yx.dtype.type(1),
                            bool(with_loss), out, plogw)
    return torch.from_numpy(out).view(S, I, 2), torch.from_numpy(plogw)
