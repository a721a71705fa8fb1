"""Class colour swatches (the drawing class, the class to sample)."""
from __future__ import annotations

import pygame

from sandbox.view.theme import blend

from .base import ACTIVATE, STEP, Action, Getter, Widget, is_click


class Swatches(Widget):
    """Class colours to pick from (drawing class, or the class to sample); -1 = 'all'."""

    def __init__(self, count: Getter, get: Getter, set: Action, allow_all: bool = False, **kw):
        super().__init__(**kw)
        self.count, self.get, self.set, self.allow_all = count, get, set, allow_all

    def _cells(self):
        count = max(int(self.count()), 0)
        vals = ([-1] if self.allow_all else []) + list(range(count))
        n = max(len(vals), 1)
        size = min(self.rect.h, max(8, (self.rect.w - 6) // n - 3))
        out = []
        x = self.rect.x + 2
        for v in vals:
            w = size if v >= 0 else max(size, min(self.rect.w // 4, size * 2))
            out.append((v, pygame.Rect(x, self.rect.y + 2, w, self.rect.h - 4)))
            x += w + 3
        return out

    def draw(self, surf, theme):
        self.texts = []
        cur, en = self.get(), bool(self.enabled())
        for v, cell in self._cells():
            if v < 0:
                self._box(surf, theme, cell, en and cur == v, enabled=en)
                self._text(surf, theme, "all", cell, en and cur == v, dim=not en, mult=0.8)
                continue
            col = theme.class_color(v) if en else blend(theme.panel, theme.class_color(v), 0.35)
            pygame.draw.rect(surf, col, cell, border_radius=3)
            if v == cur and en:
                pygame.draw.rect(surf, theme.text, cell, width=max(2, theme.line_px + 1), border_radius=3)

    def signature(self):
        return (super().signature(), int(self.count()), self.get())

    def key(self, k):
        d = STEP.get(k, 1 if k in ACTIVATE else 0)
        vals = [v for v, _ in self._cells()]
        if not d or not vals or not self.enabled():
            return False
        cur = self.get()
        i = vals.index(cur) if cur in vals else 0
        self.set(vals[(i + d) % len(vals)])
        return True

    def handle(self, ev):
        if not (is_click(ev) and self.enabled()):
            return False
        for v, cell in self._cells():
            if cell.collidepoint(ev.pos):
                self.set(v)
                return True
        return True

