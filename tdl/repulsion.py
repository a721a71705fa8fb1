"""The repulsive half of the t-SNE gradient, per step: Z_s and R_i = sum_j w_ij^2 (y_i - y_j).

- `repulsion_exact`: all pairs, in row chunks (memory O(chunk * I) per step), O(I^2) work.
- `repulsion_grid`: particle-mesh interpolation as in FIt-SNE (Linderman et al. 2019): charges are
  spread onto a regular grid per step with cubic Lagrange weights, convolved with the kernels
  1/(1+r^2) and 1/(1+r^2)^2 by FFT, and interpolated back. O(I + G^2 log G) per step, every step in
  one batched FFT; error shrinks like h^4 with the grid spacing h (tested against the exact sums).
Both take `Y (S, I, 2)` and return `(Z (S,), R (S, I, 2))`, where Z_s = sum_{i != j} w_ij.
"""
from __future__ import annotations

import math

import torch


def repulsion_exact(Y: torch.Tensor, chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    S, I, _ = Y.shape
    Z = torch.zeros(S, dtype=Y.dtype, device=Y.device)
    R = torch.empty_like(Y)
    for start in range(0, I, chunk):
        q = Y[:, start:start + chunk]  # (S, c, 2)
        diff = q[:, :, None, :] - Y[:, None, :, :]  # (S, c, I, 2)
        w = 1 / (1 + (diff * diff).sum(-1))  # self terms give w = 1, diff = 0
        Z += w.sum(dim=(1, 2)) - q.shape[1]
        R[:, start:start + chunk] = ((w * w)[..., None] * diff).sum(2)
    return Z, R


def _lagrange3(x: torch.Tensor) -> torch.Tensor:
    """Cubic Lagrange weights on nodes -1, 0, 1, 2 at fractional position x in [0, 1): `(...,) -> (..., 4)`."""
    return torch.stack((-x * (x - 1) * (x - 2) / 6, (x + 1) * (x - 1) * (x - 2) / 2,
                        -(x + 1) * x * (x - 2) / 2, (x + 1) * x * (x - 1) / 6), dim=-1)


def _smooth(n: int) -> int:
    """The smallest m >= n whose prime factors are 2, 3, 5, 7 (FFT libraries are fast on those sizes)."""
    while True:
        m = n
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def grid_size(Y: torch.Tensor, spacing: float, min_grid: int = 16, max_grid: int = 512) -> int:
    """Nodes per axis so that the widest step's box has node spacing <= `spacing` (clamped), rounded up
    so that the padded FFT length 2G has only the factors 2, 3, 5, 7 (pocketfft took 100 ms for 2G = 222
    = 2 x 3 x 37 and 50 ms for 224 = 2^5 x 7 on one CPU thread; a finer grid is only more accurate)."""
    span = (Y.amax(dim=1) - Y.amin(dim=1)).amax().item()
    G = int(min(max_grid, max(min_grid, math.ceil(span / spacing) + 5)))
    return _smooth(2 * G) // 2


def _kernel_fft(G: int, h: float, device, dtype) -> torch.Tensor:
    """FFT of the kernels 1/(1+r^2), dx/(1+r^2)^2, dy/(1+r^2)^2 on node offsets -(G-1)..(G-1) laid out
    circularly on a 2G x 2G torus (zero padding = linear convolution): `(3, 2G, G+1)` complex."""
    off = torch.arange(2 * G, device=device, dtype=dtype)
    off = torch.where(off < G, off, off - 2 * G) * h
    dx, dy = off[:, None], off[None, :]
    k1 = 1 / (1 + dx * dx + dy * dy)
    return torch.fft.rfft2(torch.stack((k1, dx * k1 * k1, dy * k1 * k1)))


_KERNELS: dict = {}  # (G, h, device, dtype) -> kernel FFT; h is quantised, so few entries live


def _cached_kernel_fft(G: int, h: float, device, dtype) -> torch.Tensor:
    key = (G, h, str(device), dtype)
    k = _KERNELS.get(key)
    if k is None:
        if len(_KERNELS) >= 4:
            _KERNELS.clear()
        k = _KERNELS[key] = _kernel_fft(G, h, device, dtype)
    return k


def repulsion_grid(Y: torch.Tensor, spacing: float = 0.4, grid: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Approximate `(Z, R)` by grid interpolation; `grid` nodes per axis (default from `spacing`).

    Every step uses the same node spacing h (the widest step's box over G - 5 nodes, rounded up to a
    power of 2^(1/16)), so the kernels' FFT is one `(3, 2G, G+1)` array shared by all steps and reused
    while h stays in its bracket: per iteration only the charges are transformed."""
    S, I, _ = Y.shape
    G = grid or grid_size(Y, spacing)
    lo = Y.amin(dim=1)  # (S, 2)
    span = (Y.amax(dim=1) - lo).amax().clamp_min(1e-3).item()
    h = span / (G - 5)
    h = 2.0 ** (math.ceil(16 * math.log2(h)) / 16)  # quantised up: the box still fits, the FFT is reused
    origin = lo - 2 * h  # points sit in nodes [2, G-3]: the 4-node stencil stays inside
    t = (Y - origin[:, None]) / h  # (S, I, 2) in grid units
    base = t.floor().clamp(1, G - 3)
    wts = _lagrange3(t - base)  # (S, I, 2, 4)
    base = base.long() - 1
    ar4 = torch.arange(4, device=Y.device)
    ax = base[..., 0, None] + ar4  # (S, I, 4)
    ay = base[..., 1, None] + ar4
    flat = ((torch.arange(S, device=Y.device)[:, None, None, None] * G + ax[..., :, None]) * G
            + ay[..., None, :]).reshape(-1)  # (S*I*16,) node index per stencil entry
    wx, wy = wts[..., 0, :], wts[..., 1, :]
    w16 = (wx[..., :, None] * wy[..., None, :]).reshape(-1)  # (S*I*16,)
    # unit charges -> grid (S*G*G); R is a convolution with the vector kernel d / (1 + |d|^2)^2, so no
    # cancellation between large terms (y_i sum w^2 - sum w^2 y_j would lose precision far from 0)
    mesh = torch.zeros(S * G * G, dtype=Y.dtype, device=Y.device).index_add_(0, flat, w16).view(S, G, G)
    kf = _cached_kernel_fft(G, h, Y.device, Y.dtype)  # (3, 2G, G+1)
    mf = torch.fft.rfft2(mesh, s=(2 * G, 2 * G))  # (S, 2G, G+1)
    pots = torch.fft.irfft2(kf[:, None] * mf[None], s=(2 * G, 2 * G))[..., :G, :G]  # (3, S, G, G)
    vals = pots.reshape(3, S * G * G).index_select(1, flat).view(3, S * I, 16)
    phi = (vals * w16.view(1, S * I, 16)).sum(-1).view(3, S, I)
    # remove each point's interaction with itself *as the grid computes it* (subtracting the exact w_ii = 1
    # would leave the interpolation's systematic under-estimate of the kernel's peak in Z); R has none.
    # self_i = sum_{abcd} wx_a wx_b wy_c wy_d / (1 + h^2 ((a-b)^2 + (c-d)^2)): one (N,16) x (16,16) product
    a = torch.arange(4, device=Y.device, dtype=Y.dtype)
    da2 = (a[:, None] - a[None]) ** 2  # (4, 4)
    table = 1 / (1 + (da2[:, :, None, None] + da2[None, None]) * h * h)  # (a, b, c, d)
    table = table.permute(0, 2, 1, 3).reshape(16, 16)  # rows (a, c), columns (b, d)
    wxy = w16.view(S * I, 16)  # entry (a, c) = wx_a wy_c
    self_w = ((wxy @ table) * wxy).sum(-1).view(S, I)
    Z = (phi[0] - self_w).sum(-1)
    R = phi[1:].permute(1, 2, 0)
    return Z, R
