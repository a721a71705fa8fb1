"""Trees and paths drawn with pygame for lesson 8: every instance's path (S steps) as a faint line,
coloured by what it becomes, with one step highlighted (its points bright, its ring or band marked).

The same `draw_paths` draws the true 2D paths and the tree's display coordinates, so the learner
compares like with like. The faint part depends only on the data and the rectangle and is cached;
a frame redraws only the highlighted step. Colours are tdl's (`tdl.plot_colors.prompt_colors`).
"""
from __future__ import annotations

import numpy as np
import pygame

from sandbox.view import Theme
from sandbox.view.draw import draw_text
from sandbox.view.theme import blend

_CACHE: dict = {}


def colors(labels: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 colour of each label (tdl's palette)."""
    from tdl.plot_colors import prompt_colors

    lab = np.asarray(labels, np.int64)
    pal = np.asarray(prompt_colors(int(lab.max()) + 1), np.uint8)
    return pal[lab]


def fit(points: np.ndarray, rect: pygame.Rect, equal: bool, margin: float = 0.06):
    """A function mapping world (M, 2) -> pixels (M, 2) that fits `points` into `rect` (y up)."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    lo, hi = np.quantile(p, 0.002, axis=0), np.quantile(p, 0.998, axis=0)
    span = np.maximum(hi - lo, 1e-9)
    w, h = rect.w * (1 - 2 * margin), rect.h * (1 - 2 * margin)
    sx, sy = w / span[0], h / span[1]
    if equal:
        sx = sy = min(sx, sy)
    mid = 0.5 * (lo + hi)
    cx, cy = rect.centerx, rect.centery

    def to_px(q):
        q = np.asarray(q, np.float64).reshape(-1, 2)
        return np.stack([cx + (q[:, 0] - mid[0]) * sx, cy - (q[:, 1] - mid[1]) * sy], 1)

    return to_px, (sx, sy)


def density_lines(px: np.ndarray, cols: np.ndarray, size: tuple[int, int], background, tau: float = 6.0
                  ) -> np.ndarray:
    """The instance lines `px (S, N, 2)` (pixels) drawn as a density: each pixel takes the mean colour
    of the lines through it (`cols (N, 3)`), brighter the more lines cross it (1 - exp(-count / tau)),
    so bundles of paths read as branches and a stray path stays faint (opaque 1 px lines, the last
    one drawn on top, made a uniform tangle of 160 paths). Returns `(W, H, 3)` uint8 for blit_array."""
    W, H = size
    bg = np.asarray(background, np.float64)
    out = np.broadcast_to(bg, (W, H, 3)).copy()
    if px.shape[0] < 2:
        return out.astype(np.uint8)
    a, b = px[:-1].reshape(-1, 2), px[1:].reshape(-1, 2)  # (M, 2) segments, instance = index % N
    col = np.tile(np.asarray(cols, np.float64), (px.shape[0] - 1, 1))
    L = np.hypot(*(b - a).T)
    n = int(np.clip(np.ceil(L.max()), 1, 2000))
    t = np.linspace(0.0, 1.0, n + 1)[:, None, None]
    q = np.rint(a[None] + t * (b - a)[None]).astype(np.int64)  # (n + 1, M, 2)
    x, y = q[..., 0].ravel(), q[..., 1].ravel()
    c = np.broadcast_to(col[None], (n + 1, *col.shape)).reshape(-1, 3)
    wt = np.broadcast_to(np.maximum(L, 1.0)[None] / (n + 1), (n + 1, len(L))).ravel()  # ~1 per pixel crossed
    ok = (x >= 0) & (x < W) & (y >= 0) & (y < H)
    cnt = np.zeros((W, H))
    acc = np.zeros((W, H, 3))
    np.add.at(cnt, (x[ok], y[ok]), wt[ok])
    np.add.at(acc, (x[ok], y[ok]), c[ok] * wt[ok, None])
    seen = cnt > 0
    mean = acc[seen] / cnt[seen, None]
    w = (1 - np.exp(-cnt[seen] / tau))[:, None] * 0.9
    out[seen] = bg + (mean - bg) * w
    return np.clip(out, 0, 255).astype(np.uint8)


def _static(Y, labels, rect, theme: Theme, equal: bool, guide):
    key = (id(Y), Y.shape, tuple(rect), theme.key, equal, guide[0] if guide else None)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is Y:
        return hit[1], hit[2]
    to_px, scale = fit(Y, rect, equal)
    layer = pygame.Surface(rect.size)
    layer.fill(theme.background)
    local = pygame.Rect(0, 0, rect.w, rect.h)
    to_local = lambda q: to_px(q) - np.array([rect.x, rect.y])  # noqa: E731
    cols = colors(labels)
    S, N, _ = Y.shape
    px = to_local(Y.reshape(-1, 2)).reshape(S, N, 2)
    pygame.surfarray.blit_array(layer, density_lines(px, cols, rect.size, theme.background))
    dots = [blend(theme.background, tuple(int(v) for v in c), 0.4) for c in cols]
    for s in range(S):
        for i in range(N):
            layer.set_at((int(px[s, i, 0]), int(px[s, i, 1])), dots[i])
    pygame.draw.rect(layer, theme.panel_border, local, 1)
    while len(_CACHE) > 32:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (Y, layer, to_px)
    return layer, to_px


def draw_paths(surface: pygame.Surface, rect, Y: np.ndarray, labels: np.ndarray, step: int, theme: Theme,
               title: str = "", equal: bool = True, guide: tuple | None = None) -> None:
    """Paths `Y (S, N, 2)` coloured by `labels (N,)` into `rect`, with step `step` highlighted.
    guide: ("ring", radii (S,), centre (2,)) or ("band", xs (S,)) marks where each step lies."""
    rect = pygame.Rect(rect)
    if rect.w < 10 or rect.h < 10:
        return
    Y = np.asarray(Y)
    layer, to_px = _static(Y, labels, rect, theme, equal, guide)
    surface.blit(layer, rect.topleft)
    prev = surface.get_clip()
    surface.set_clip(rect)
    try:
        s = int(np.clip(step, 0, Y.shape[0] - 1))
        mark = blend(theme.background, theme.text, 0.55)
        if guide is not None and guide[0] == "ring":
            c = to_px(np.asarray(guide[2])[None])[0]
            rad = float(guide[1][s]) * fit_scale(to_px)
            if rad > 2:
                pygame.draw.circle(surface, mark, c.tolist(), rad, max(1, theme.line_px))
        elif guide is not None and guide[0] == "band":
            x = to_px(np.array([[guide[1][s], 0.0]]))[0, 0]
            pygame.draw.line(surface, mark, (x, rect.top), (x, rect.bottom), max(1, theme.line_px))
        pts = to_px(Y[s])
        cols = colors(labels)
        r = max(2, theme.point_px + 1)
        for (x, y), c in zip(pts.tolist(), cols.tolist()):
            pygame.draw.circle(surface, c, (x, y), r)
        if title:
            _title(surface, rect, theme, title)
    finally:
        surface.set_clip(prev)


def fit_scale(to_px) -> float:
    """Pixels per world unit along x of a `fit` mapping."""
    a = to_px(np.array([[0.0, 0.0], [1.0, 0.0]]))
    return float(a[1, 0] - a[0, 0])


def draw_images(surface: pygame.Surface, rect, images: np.ndarray, labels: np.ndarray, theme: Theme,
                title: str = "") -> None:
    """A grid of small grey images `(N, H, W, 1) uint8`, each framed in its label's colour."""
    rect = pygame.Rect(rect)
    surface.fill(theme.background, rect)
    pygame.draw.rect(surface, theme.panel_border, rect, 1)
    n = len(images)
    if n == 0 or rect.w < 20 or rect.h < 20:
        return
    top = rect.y + int(28 * theme.scale)
    area = pygame.Rect(rect.x + 4, top, rect.w - 8, rect.bottom - top - 4)
    cols = max(1, int(np.ceil(np.sqrt(n * area.w / max(area.h, 1)))))
    rows = int(np.ceil(n / cols))
    cell = max(4, min(area.w // cols, area.h // rows))
    frame = colors(labels)
    for k in range(n):
        img = np.asarray(images[k])[..., 0]                               # (H, W)
        surf = pygame.surfarray.make_surface(np.repeat(img.T[:, :, None], 3, axis=2))
        inner = max(2, cell - 6)
        surf = pygame.transform.scale(surf, (inner, inner))
        x = area.x + (k % cols) * cell
        y = area.y + (k // cols) * cell
        pygame.draw.rect(surface, tuple(int(v) for v in frame[k]), (x, y, cell - 2, cell - 2))
        surface.blit(surf, (x + 2, y + 2))
    if title:
        _title(surface, rect, theme, title)


def _title(surface, rect, theme: Theme, title: str) -> None:
    """`title` at the top left of `rect`, in a smaller font where it would not fit (presenter scale)."""
    pad = int(6 * theme.scale)
    mult = 0.85
    while mult > 0.45 and theme.font(mult).size(title)[0] > rect.w - 2 * pad:
        mult -= 0.05
    draw_text(surface, title, (rect.x + pad, rect.y + pad), theme, backdrop=True, mult=mult)
