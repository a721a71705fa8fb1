"""A question across the canvas with two answers (e.g. use the new model or keep the previous?).

The text wraps and the buttons move to their own row when the area is narrow (a compare pane at
a large presenter scale), so nothing leaves the area.
"""
from __future__ import annotations

import pygame

from .draw import draw_text
from .theme import Theme, blend


def wrap(text: str, font, width: int) -> list[str]:
    """Greedy word wrap to `width` pixels (a word longer than the width gets its own line)."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if cur and font.size(trial)[0] > width:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    return lines + ([cur] if cur else [])


def question(surf: pygame.Surface, area: pygame.Rect, theme: Theme, text: str, yes: str,
             no: str, top: int | None = None) -> tuple[pygame.Rect, pygame.Rect]:
    """Draw the banner inside `area` (from y = `top`); returns the (yes, no) button rectangles."""
    font = theme.font(0.9)
    pad = max(8, int(8 * theme.scale))
    lh = font.get_linesize()
    bh = int(lh * 1.4)
    bw_yes, bw_no = font.size(yes)[0] + 3 * pad, font.size(no)[0] + 3 * pad
    buttons_w = bw_yes + bw_no + pad
    room = max(area.w - 2 * pad, buttons_w + 2 * pad)
    one_row = font.size(text)[0] + buttons_w + 3 * pad <= room
    if one_row:
        lines = [text]
        w = font.size(text)[0] + buttons_w + 3 * pad
        h = bh + 2 * pad
    else:
        lines = wrap(text, font, room - 2 * pad)
        w = max(buttons_w, max(font.size(s)[0] for s in lines)) + 2 * pad
        h = len(lines) * lh + bh + 3 * pad
    box = pygame.Rect(0, 0, min(w, room), h)
    box.midtop = (area.centerx, area.y + int(theme.font_px * 2.4) if top is None else top)
    pygame.draw.rect(surf, blend(theme.background, theme.panel, 1.0), box, border_radius=6)
    pygame.draw.rect(surf, theme.highlight, box, width=max(1, theme.line_px), border_radius=6)
    by = box.y + pad if one_row else box.bottom - pad - bh
    no_r = pygame.Rect(box.right - pad - bw_no, by, bw_no, bh)
    yes_r = pygame.Rect(no_r.x - pad - bw_yes, by, bw_yes, bh)
    prev = surf.get_clip()
    surf.set_clip(box)
    if one_row:
        draw_text(surf, text, (box.x + pad, yes_r.centery), theme, mult=0.9, anchor="midleft")
    else:
        for k, line in enumerate(lines):
            draw_text(surf, line, (box.x + pad, box.y + pad + k * lh), theme, mult=0.9)
    for r, t, primary in ((yes_r, yes, False), (no_r, no, True)):
        pygame.draw.rect(surf, theme.accent if primary else theme.panel, r, border_radius=4)
        pygame.draw.rect(surf, theme.panel_border, r, width=1, border_radius=4)
        draw_text(surf, t, r.center, theme, mult=0.9, anchor="center",
                  color=theme.background if primary else theme.text)
    surf.set_clip(prev)
    return yes_r, no_r
