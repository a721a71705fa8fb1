"""`Row`: several widgets side by side, wrapping onto more lines when the panel is too narrow."""
from __future__ import annotations

import pygame

from sandbox.view.theme import Theme

from .base import Widget
from .text import row_metrics


class Row(Widget):
    """Several widgets side by side, wrapping onto more lines when too narrow. Widths follow
    `weights`, or without them each child's natural width (so 'trajectories' gets more room
    than 'field')."""

    def __init__(self, *children: Widget, weights=None, **kw):
        super().__init__(**kw)
        self.children = list(children)
        self._fixed = weights
        self.weights = weights or [1] * len(children)
        self._lines: list[list[int]] = [list(range(len(self.children)))]

    def _split(self, width: int, gap: int, theme: Theme) -> list[list[int]]:
        """Children per line: as few lines as keep every child at least its minimum width."""
        n = len(self.children)
        for k in range(1, n + 1):
            per = -(-n // k)
            groups = [list(range(i, min(i + per, n))) for i in range(0, n, per)]
            if all(self._fits(g, width, gap, theme) for g in groups):
                return groups
        return [[i] for i in range(n)]

    def _fits(self, group, width, gap, theme) -> bool:
        total = float(sum(self.weights[i] for i in group))
        room = width - gap * (len(group) - 1)
        return all(room * self.weights[i] / total >= self.children[i].min_width(theme) for i in group)

    def lines(self, width, theme):
        if self._fixed is None:
            self.weights = [max(1, c.min_width(theme)) for c in self.children]
        self._lines = self._split(width, row_metrics(theme)[1], theme)
        return len(self._lines)

    def min_width(self, theme):
        return max(c.min_width(theme) for c in self.children)

    def layout(self, rect: pygame.Rect, gap: int) -> None:
        self.rect = rect
        k = max(1, len(self._lines))
        lh = (rect.h - gap * (k - 1)) / k
        for li, group in enumerate(self._lines):
            total = float(sum(self.weights[i] for i in group))
            x = rect.x
            y = int(rect.y + li * (lh + gap))
            for i in group:
                cw = int(round((rect.w - gap * (len(group) - 1)) * self.weights[i] / total))
                self.children[i].rect = pygame.Rect(x, y, cw, int(lh))
                x += cw + gap

    def draw(self, surf, theme):
        for c in self.children:
            c.draw(surf, theme)

    def signature(self):
        return tuple(c.signature() for c in self.children)

    def leaves(self):
        return list(self.children)

    def tip_at(self, pos):
        for c in self.children:
            if c.rect.collidepoint(pos):
                return c.tip_at(pos)
        return self.tip

    def handle(self, ev):
        pos = getattr(ev, "pos", None)
        for c in self.children:
            if pos is None or c.rect.collidepoint(pos) or getattr(c, "dragging", False):
                if c.handle(ev):
                    return True
        return False
