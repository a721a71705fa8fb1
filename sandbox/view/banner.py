"""A question across the top of the canvas with two answers (e.g. keep the previous model?)."""
from __future__ import annotations

import pygame

from .draw import draw_text
from .theme import Theme, blend


def question(surf: pygame.Surface, area: pygame.Rect, theme: Theme, text: str, yes: str,
             no: str) -> tuple[pygame.Rect, pygame.Rect]:
    """Draw the banner; returns the (yes, no) button rectangles for clicks."""
    font = theme.font(0.9)
    pad = max(8, int(8 * theme.scale))
    bh = int(font.get_linesize() * 1.5)
    bw_yes = font.size(yes)[0] + 3 * pad
    bw_no = font.size(no)[0] + 3 * pad
    width = min(area.w - 2 * pad, font.size(text)[0] + bw_yes + bw_no + 5 * pad)
    box = pygame.Rect(0, 0, width, bh + 2 * pad)
    box.midtop = (area.centerx, area.y + int(theme.font_px * 2.4))
    pygame.draw.rect(surf, blend(theme.background, theme.panel, 1.0), box, border_radius=6)
    pygame.draw.rect(surf, theme.highlight, box, width=max(1, theme.line_px), border_radius=6)
    no_r = pygame.Rect(box.right - pad - bw_no, box.y + pad, bw_no, bh)
    yes_r = pygame.Rect(no_r.x - pad - bw_yes, box.y + pad, bw_yes, bh)
    prev = surf.get_clip()
    surf.set_clip(pygame.Rect(box.x, box.y, yes_r.x - box.x - pad // 2, box.h))
    draw_text(surf, text, (box.x + pad, box.centery), theme, mult=0.9, anchor="midleft")
    surf.set_clip(prev)
    for r, t, primary in ((yes_r, yes, False), (no_r, no, True)):
        pygame.draw.rect(surf, theme.accent if primary else theme.panel, r, border_radius=4)
        pygame.draw.rect(surf, theme.panel_border, r, width=1, border_radius=4)
        draw_text(surf, t, r.center, theme, mult=0.9, anchor="center",
                  color=theme.background if primary else theme.text)
    return yes_r, no_r
