"""Choosing one of several values: `Segmented` shows a few side by side, `Cycler` steps through many."""
from __future__ import annotations

from typing import Any, Callable

import pygame

from .base import ACTIVATE, STEP, Action, Getter, Widget, is_click
from .text import disabled_color, text_width, triangle


class Segmented(Widget):
    """One of a few values side by side: [DDPM][flow]. `tips` (one per option) explain each."""

    def __init__(self, options: list[tuple[Any, str]], get: Getter, set: Action,
                 tips: list[str] | None = None, **kw):
        super().__init__(**kw)
        self.options, self.get, self.set = options, get, set
        self.tips = tips or []

    def _cells(self):
        n = max(len(self.options), 1)
        per_line = -(-n // max(1, self.nlines))
        h = self.rect.h / max(1, self.nlines)
        w = self.rect.w / per_line
        out = []
        for i in range(n):
            r, c = divmod(i, per_line)
            out.append(pygame.Rect(round(self.rect.x + c * w), round(self.rect.y + r * h),
                                   round(w) - 2, round(h) - (2 if self.nlines > 1 else 0)))
        return out

    def draw(self, surf, theme):
        self.texts = []
        cur, enabled = self.get(), bool(self.enabled())
        for (val, text), cell in zip(self.options, self._cells()):
            on = enabled and val == cur  # a disabled choice (DDPM-only settings under flow) shows none lit
            self._box(surf, theme, cell, on, enabled=enabled)
            self._text(surf, theme, text, cell, on, dim=not enabled)

    def min_width(self, theme):
        widest = max((text_width(theme, t) for _, t in self.options), default=0)
        return len(self.options) * (widest + 2 * self.PAD + 4)

    def lines(self, width, theme):
        return 1 if self.min_width(theme) <= width else 2

    def signature(self):
        return (super().signature(), self.get())

    def key(self, k):
        d = STEP.get(k, 1 if k in ACTIVATE else 0)
        if not d or not self.enabled():
            return False
        vals = [v for v, _ in self.options]
        cur = self.get()
        i = vals.index(cur) if cur in vals else 0
        self.set(vals[(i + d) % len(vals)])
        return True

    def tip_at(self, pos):
        for k, cell in enumerate(self._cells()):
            if k < len(self.tips) and self.tips[k] and cell.collidepoint(pos):
                return self.tips[k]
        return self.tip

    def handle(self, ev):
        if not (is_click(ev) and self.enabled()):
            return False
        for (val, _), cell in zip(self.options, self._cells()):
            if cell.collidepoint(ev.pos):
                self.set(val)
                return True
        return True


class Cycler(Widget):
    """label: ◀ value ▶ : click the left or right half to step through many values. When the
    panel is narrow the label takes its own line above the value."""

    def __init__(self, values: Getter, get: Getter, set: Action, fmt=str, label: str = "",
                 tips: Callable[[Any], str] | None = None, **kw):
        super().__init__(**kw)
        self.values, self.get, self.set, self.fmt, self.label = values, get, set, fmt, label
        self.tips = tips

    def _step(self, k: int) -> None:
        vals = list(self.values())
        if not vals:
            return
        cur = self.get()
        i = vals.index(cur) if cur in vals else -k
        self.set(vals[(i + k) % len(vals)])

    def _value_rect(self) -> pygame.Rect:
        if self.nlines > 1:
            h = self.rect.h // 2
            return pygame.Rect(self.rect.x, self.rect.bottom - h, self.rect.w, h)
        return self.rect

    def _one_line_text(self, value: str) -> str:
        return f"{self.label}: {value}" if self.label else value

    def draw(self, surf, theme):
        self.texts = []
        en = bool(self.enabled())
        value = str(self.fmt(self.get()))
        box = self._value_rect()
        if self.nlines > 1:
            top = pygame.Rect(self.rect.x, self.rect.y, self.rect.w, self.rect.h - box.h)
            self._text(surf, theme, self.label, top, dim=not en, align="left", mult=0.85)
            text = value
        else:
            text = self._one_line_text(value)
        self._box(surf, theme, box, enabled=en)
        inner = box.inflate(-2 * box.h, 0)
        self._text(surf, theme, text, inner, dim=not en)
        col = theme.text if en else disabled_color(theme)
        for side in (-1, 1):
            triangle(surf, col, (box.centerx + side * (box.w // 2 - box.h // 2), box.centery),
                     box.h * 0.22, side)

    def _widest(self, theme, one_line: bool) -> int:
        vals = [str(self.fmt(v)) for v in self.values()] or [""]
        texts = [self._one_line_text(v) for v in vals] if one_line else vals
        return max(text_width(theme, t) for t in texts)

    def min_width(self, theme):
        return self._widest(theme, True) + 2 * self.PAD + 2 * int(theme.font_px * 1.65)

    def lines(self, width, theme):
        return 1 if self.min_width(theme) <= width or not self.label else 2

    def signature(self):
        return (super().signature(), str(self.fmt(self.get())))

    def key(self, k):
        d = STEP.get(k, 1 if k in ACTIVATE else 0)
        if not d or not self.enabled():
            return False
        self._step(d)
        return True

    def tip_at(self, pos):
        extra = self.tips(self.get()) if self.tips else ""
        return f"{self.tip} {extra}".strip()

    def handle(self, ev):
        if not self.enabled():
            return False
        if is_click(ev):
            box = self._value_rect()
            if box.collidepoint(ev.pos):
                self._step(-1 if ev.pos[0] < box.centerx else 1)
            return True
        return False

