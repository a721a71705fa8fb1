"""The widgets' drawing helpers: rendered text (cached: font rendering is slow), text widths, the
row metrics every panel shares, the colour of a disabled control and the small arrow triangles."""
from __future__ import annotations

import pygame

from sandbox.view.theme import Theme, blend

_TEXT_CACHE: dict = {}


def text_image(theme: Theme, text: str, color, mult: float = 0.9, bold: bool = False,
               max_w: int | None = None) -> pygame.Surface:
    """Rendered text (squeezed to max_w pixels if wider), cached: font rendering is slow."""
    key = (text, tuple(color), theme.font_px, mult, bold, max_w)
    img = _TEXT_CACHE.get(key)
    if img is None:
        if len(_TEXT_CACHE) > 2000:
            _TEXT_CACHE.clear()
        img = theme.font(mult, bold).render(str(text), True, color)
        if max_w is not None and img.get_width() > max_w:
            img = pygame.transform.smoothscale(img, (max(1, max_w), img.get_height()))
        _TEXT_CACHE[key] = img
    return img


def text_width(theme: Theme, text: str, mult: float = 0.9, bold: bool = False) -> int:
    return theme.font(mult, bold).size(str(text))[0]


def row_metrics(theme: Theme) -> tuple[int, int, int]:
    """(row height, gap between rows, panel padding) in pixels at this theme's scale."""
    rh = int(theme.font_px * 1.6)
    return rh, max(3, rh // 7), max(8, rh // 3)


def disabled_color(theme: Theme):
    """Text and marks of a disabled control: half-way to the panel, so it reads as off in every
    theme (high contrast's dim text is nearly white, which made disabled look enabled)."""
    return blend(theme.panel, theme.text_dim, 0.5)


def triangle(surf, color, center, size: float, direction: int) -> None:
    """A small filled triangle pointing left (-1) or right (+1): the default font has no arrows."""
    cx, cy = center
    d = direction * size
    pygame.draw.polygon(surf, color, [(cx + d, cy), (cx - d, cy - size), (cx - d, cy + size)])

