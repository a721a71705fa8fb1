"""The slider: linear, logarithmic, integer or snapped values, dragged or stepped by keys."""
from __future__ import annotations

import math

import pygame

from .base import STEP, Action, Getter, Widget, is_click
from .text import disabled_color, text_image, text_width


class Slider(Widget):
    """A labelled slider; `log` for values spanning decades, `integer` rounds, `step` snaps (so
    round values such as 1.00 are reachable). Narrow: the label goes on a line above the track."""

    def __init__(self, label: str, lo: float, hi: float, get: Getter, set: Action, log=False,
                 integer=False, fmt: str = "{:g}", live: bool = True, step: float | None = None, **kw):
        super().__init__(**kw)
        self.label, self.lo, self.hi, self.get, self.set = label, lo, hi, get, set
        self.log, self.integer, self.fmt, self.live, self.step = log, integer, fmt, live, step
        self.dragging = False
        self._pending = None

    def _to_u(self, v: float) -> float:
        if self.log:
            v = max(v, self.lo)
            return (math.log(v) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        return (v - self.lo) / (self.hi - self.lo)

    def _from_u(self, u: float) -> float:
        u = min(max(u, 0.0), 1.0)
        v = math.exp(math.log(self.lo) + u * (math.log(self.hi) - math.log(self.lo))) if self.log \
            else self.lo + u * (self.hi - self.lo)
        if self.step:
            v = min(max(round(v / self.step) * self.step, self.lo), self.hi)
            v = round(v, 10)
        return int(round(v)) if self.integer else v

    def _label_w(self) -> int:
        return self.rect.w if self.nlines > 1 else int(self.rect.w * 0.42)

    def _track(self) -> pygame.Rect:
        r = self.rect
        if self.nlines > 1:
            cy = r.bottom - r.h // 4
            return pygame.Rect(r.x + 8, cy - 2, r.w - 16, 4)
        lw = self._label_w()
        return pygame.Rect(r.x + lw, r.centery - 2, r.w - lw - 4 - 8, 4)

    def _format(self, v) -> str:
        try:
            return f"{self.label} {self.fmt.format(v)}"
        except (ValueError, TypeError):
            return f"{self.label} {v}"

    def draw(self, surf, theme):
        self.texts = []
        en = bool(self.enabled())
        v = self._pending if self._pending is not None else self.get()
        text = self._format(v)
        col = theme.text if en else disabled_color(theme)
        room = max(1, self._label_w() - 4)
        img = text_image(theme, text, col, 0.85, max_w=room)
        cy = self.rect.y + self.rect.h // 4 if self.nlines > 1 else self.rect.centery
        r = img.get_rect(midleft=(self.rect.x, cy))
        surf.blit(img, r)
        self.texts.append((r, text_width(theme, text, 0.85)))
        tr = self._track()
        pygame.draw.rect(surf, theme.panel_border if en else disabled_color(theme), tr, border_radius=2)
        u = min(max(self._to_u(float(v)), 0.0), 1.0) if v is not None else 0.0
        knob = (tr.x + u * tr.w, tr.centery)
        if en:
            pygame.draw.rect(surf, theme.accent, pygame.Rect(tr.x, tr.y, max(1, u * tr.w), tr.h),
                             border_radius=2)
            pygame.draw.circle(surf, theme.accent, knob, max(5, theme.font_px // 3))
        else:  # a hollow knob: visibly off in every theme
            pygame.draw.circle(surf, theme.panel, knob, max(5, theme.font_px // 3))
            pygame.draw.circle(surf, disabled_color(theme), knob, max(5, theme.font_px // 3), 2)

    def _widest_text(self, theme) -> int:
        return max(text_width(theme, self._format(v), 0.85) for v in (self.lo, self.hi, self.get()))

    def min_width(self, theme):
        return int((self._widest_text(theme) + 4) / 0.42)

    def lines(self, width, theme):
        return 1 if self._widest_text(theme) + 4 <= int(width * 0.42) else 2

    def signature(self):
        return (super().signature(), self.get(), self._pending)

    def _value_at(self, x: float):
        tr = self._track()
        return self._from_u((x - tr.x) / max(tr.w, 1))

    def handle(self, ev):
        if not self.enabled():
            self.dragging = False
            return False
        if is_click(ev):
            self.dragging = True
            self._apply(self._value_at(ev.pos[0]), final=not self.live)
            return True
        if ev.type == pygame.MOUSEMOTION and self.dragging:
            self._apply(self._value_at(ev.pos[0]), final=False)
            return True
        if ev.type == pygame.MOUSEBUTTONUP and self.dragging:
            self.dragging = False
            if self._pending is not None:
                v, self._pending = self._pending, None
                self.set(v)
            return True
        return False

    def key(self, k):
        d = STEP.get(k, 0)
        if not d or not self.enabled():
            return False
        v = float(self.get())
        if self.integer and (self.hi - self.lo) <= 200 and not self.log:
            new = int(v) + d                                  # small integer ranges: one by one
        elif self.step:
            new = v + d * self.step
        else:
            new = self._from_u(self._to_u(v) + d * 0.02)
            if new == v and self.integer:
                new = int(v) + d
        new = min(max(new, self.lo), self.hi)
        self.set(int(round(new)) if self.integer else round(new, 10))
        return True

    def _apply(self, v, final: bool) -> None:
        if self.live or final:
            self._pending = None
            if v != self.get():
                self.set(v)
        else:
            self._pending = v  # expensive settings apply on release

