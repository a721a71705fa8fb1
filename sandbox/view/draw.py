"""Drawing primitives on a pygame.Surface, built for tens of thousands of items per frame.

Particles are splatted with numpy straight into the surface's pixels (one fancy-indexed write
for all particles × disc offsets) instead of one draw call each; surfaces numpy cannot address
(not 32-bit) fall back to one bulk `fblits` of a small pre-rendered sprite. Lines go through
`pygame.draw.lines` (aalines is several times slower). Alpha is avoided: "faint" things are drawn
in a colour blended towards the background, which looks the same on an opaque background.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pygame

from .theme import Color, Theme


@lru_cache(maxsize=16)
def disc_offsets(radius: int) -> np.ndarray:
    """Integer pixel offsets (K, 2) covering a disc of `radius` (0 -> the single pixel)."""
    r = int(max(radius, 0))
    g = np.arange(-r, r + 1)
    dx, dy = np.meshgrid(g, g, indexing="ij")
    keep = dx * dx + dy * dy <= r * r + r // 2  # r=1 -> a plus, larger r -> round
    return np.stack([dx[keep], dy[keep]], axis=1).astype(np.int32)


def _clip_rect(surface: pygame.Surface, clip) -> tuple[int, int, int, int]:
    sw, sh = surface.get_size()
    r = pygame.Rect(clip) if clip is not None else pygame.Rect(0, 0, sw, sh)
    r = r.clip(pygame.Rect(0, 0, sw, sh))
    return r.x, r.y, r.w, r.h


def draw_points(surface: pygame.Surface, px: np.ndarray, colors, radius: int,
                clip=None) -> None:
    """Draw discs of `radius` at pixel positions `px` (N, 2).

    `colors` is one RGB tuple or an (N, 3) uint8 array (per-point colour, e.g. by class).
    """
    px = np.asarray(px, dtype=np.float32).reshape(-1, 2)
    if len(px) == 0:
        return
    x0, y0, w, h = _clip_rect(surface, clip)
    if w <= 0 or h <= 0:
        return
    finite = np.isfinite(px).all(axis=1)
    per_point = not (isinstance(colors, tuple) or np.asarray(colors).ndim == 1)
    cols = np.asarray(colors, dtype=np.uint8)
    if not finite.all():
        px = px[finite]
        if per_point:
            cols = cols[finite]
    # clamp before the cast so absurd coordinates cannot overflow int32
    xi = np.rint(np.clip(px[:, 0], -1e6, 1e6)).astype(np.int32)
    yi = np.rint(np.clip(px[:, 1], -1e6, 1e6)).astype(np.int32)
    if surface.get_bitsize() != 32:
        _fblit_points(surface, xi, yi, colors if not per_point else cols, radius, (x0, y0, w, h))
        return
    offs = disc_offsets(radius)
    if per_point:
        val = _map_colors(surface, cols).astype(np.uint32)
    else:
        val = np.array(surface.map_rgb(tuple(int(c) for c in colors[:3])) & 0xFFFFFFFF, dtype=np.uint32)
    r = int(max(radius, 0))
    inside = (xi >= x0 + r) & (xi < x0 + w - r) & (yi >= y0 + r) & (yi < y0 + h - r)
    # most points: whole discs inside the clip; write them through the flat pixel buffer
    # (one 1-D fancy index is several times faster than indexing the (W, H) array)
    pitch = surface.get_pitch() // 4
    flat_offs = offs[:, 1] * pitch + offs[:, 0]
    idx = ((yi[inside].astype(np.int64) * pitch + xi[inside])[:, None] + flat_offs[None, :]).ravel()
    buf = surface.get_view("1")
    try:
        pix = np.frombuffer(buf, dtype=np.uint32)  # type: ignore[call-overload]  # BufferProxy is a buffer
        pix[idx] = np.repeat(val[inside], len(offs)) if per_point else val
        del pix
    finally:
        del buf
    edge = ~inside
    if edge.any():  # discs cut by the clip rectangle: per-pixel bounds checks
        X = (xi[edge][:, None] + offs[None, :, 0]).ravel()
        Y = (yi[edge][:, None] + offs[None, :, 1]).ravel()
        ok = (X >= x0) & (X < x0 + w) & (Y >= y0) & (Y < y0 + h)
        v = np.repeat(val[edge], len(offs))[ok] if per_point else val
        arr = pygame.surfarray.pixels2d(surface)
        try:
            arr[X[ok], Y[ok]] = v
        finally:
            del arr


def _map_colors(surface: pygame.Surface, cols: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 -> (N,) mapped pixel values, through the few distinct colours."""
    c = cols.reshape(-1, 3).astype(np.int64)
    packed = (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]  # 1-D unique is far cheaper than axis=0
    uniq, inv = np.unique(packed, return_inverse=True)
    mapped = np.array([surface.map_rgb(((u >> 16) & 255, (u >> 8) & 255, u & 255)) & 0xFFFFFFFF
                       for u in uniq.tolist()], dtype=np.int64)
    return mapped[inv.ravel()]


def _fblit_points(surface, xi, yi, colors, radius, clip) -> None:
    """Fallback for surfaces numpy cannot address: one bulk blit of pre-rendered sprites."""
    prev = surface.get_clip()
    surface.set_clip(pygame.Rect(clip))
    d = 2 * radius + 1
    if isinstance(colors, tuple):
        groups = {tuple(colors[:3]): np.arange(len(xi))}
    else:
        uniq, inv = np.unique(np.asarray(colors).reshape(-1, 3), axis=0, return_inverse=True)
        groups = {tuple(int(c) for c in u): np.nonzero(inv.ravel() == k)[0] for k, u in enumerate(uniq)}
    for col, idx in groups.items():
        spr = pygame.Surface((d, d), pygame.SRCALPHA)
        for dx, dy in disc_offsets(radius):
            spr.set_at((int(dx) + radius, int(dy) + radius), (*col, 255))
        pos = np.stack([xi[idx] - radius, yi[idx] - radius], axis=1).tolist()
        surface.fblits([(spr, p) for p in pos])
    surface.set_clip(prev)


def clean_polylines(lines) -> list:
    """Pixel polylines -> plain lists safe for pygame: non-finite or too short ones dropped.

    `lines` is a (K, L, 2) array (checked in one go) or a list of (L_k, 2) arrays.
    """
    if isinstance(lines, np.ndarray) and lines.ndim == 3:
        if lines.shape[1] < 2:
            return []
        ok = np.isfinite(lines).all(axis=(1, 2))
        return np.clip(lines[ok], -1e5, 1e5).tolist()
    out = []
    for ln in lines:
        a = np.asarray(ln, dtype=np.float32)
        if len(a) >= 2 and np.isfinite(a).all():
            out.append(np.clip(a, -1e5, 1e5).tolist())
    return out


def draw_polylines(surface: pygame.Surface, lines, color: Color, width: int = 1,
                   clean: bool = False) -> None:
    """Open polylines in pixels (see `clean_polylines`); `clean=True` means already cleaned."""
    for ln in (lines if clean else clean_polylines(lines)):
        pygame.draw.lines(surface, color, False, ln, width)


def arrow_polylines(start: np.ndarray, end: np.ndarray, head: float = 4.0) -> list:
    """Arrows from `start` to `end` ((N, 2) pixels) as one polyline each: shaft, then the two
    head strokes (start -> tip -> left -> tip -> right), ready for `draw_polylines(clean=True)`.
    Arrows shorter than half a pixel or not finite are left out. Computed once per cached field."""
    s = np.asarray(start, dtype=np.float32)
    e = np.asarray(end, dtype=np.float32)
    d = e - s
    n = np.linalg.norm(d, axis=1, keepdims=True)
    ok = (n[:, 0] > 0.5) & np.isfinite(n[:, 0]) & np.isfinite(s).all(axis=1)
    u = d / np.maximum(n, 1e-9)
    h = np.minimum(head, 0.5 * n)
    perp = np.stack([-u[:, 1], u[:, 0]], axis=1)
    left = e - h * u + 0.6 * h * perp
    right = e - h * u - 0.6 * h * perp
    poly = np.stack([s, e, left, e, right], axis=1)[ok]  # (M, 5, 2)
    return np.clip(poly, -1e5, 1e5).tolist()


def draw_text(surface: pygame.Surface, text: str, pos, theme: Theme, color: Color | None = None,
              mult: float = 1.0, anchor: str = "topleft", bold: bool = False,
              backdrop: bool = False) -> pygame.Rect:
    """Render one line of text at `pos` (anchored as a pygame.Rect attribute name)."""
    img = theme.font(mult, bold).render(text, True, color or theme.text)
    r = img.get_rect(**{anchor: (int(pos[0]), int(pos[1]))})
    if backdrop:
        pad = max(2, theme.font_px // 5)
        pygame.draw.rect(surface, theme.background, r.inflate(2 * pad, pad))
    surface.blit(img, r)
    return r


def class_color_array(labels, theme: Theme, default: Color) -> np.ndarray | tuple:
    """Per-point colours (N, 3) uint8 from integer labels, or `default` when there are none."""
    if labels is None:
        return default
    lab = np.asarray(labels).reshape(-1).astype(np.int64)
    pal = np.array(theme.class_colors, dtype=np.uint8)
    return pal[np.mod(lab, len(pal))]
