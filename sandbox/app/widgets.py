"""Small immediate widgets drawn with the view's Theme: buttons, toggles, segmented choices,
cyclers, sliders and colour swatches.

Each widget reads its value through a getter and changes it through a setter bound to an AppState
action, so the widgets hold no state of their own beyond their rectangle (the state object stays
the one source of truth, and a widget can never disagree with a keyboard shortcut).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import pygame

from sandbox.view.theme import Theme, blend

Getter = Callable[[], Any]
Action = Callable[..., Any]


def _always() -> bool:
    return True


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


class Widget:
    height_rows = 1.0

    def __init__(self, enabled: Getter = _always, tip: str = ""):
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.enabled = enabled
        self.tip = tip

    def draw(self, surf: pygame.Surface, theme: Theme) -> None:
        raise NotImplementedError

    def signature(self) -> tuple:
        """What the drawing depends on: the panel redraws only when some signature changes."""
        return (tuple(self.rect), bool(self.enabled()))

    def handle(self, ev: pygame.event.Event) -> bool:
        """React to a mouse event inside the rect; True if consumed."""
        return False

    # shared drawing helpers
    def _box(self, surf, theme: Theme, rect, active=False, hover=False) -> None:
        col = theme.accent if active else blend(theme.panel, theme.panel_border, 0.45 if hover else 0.25)
        pygame.draw.rect(surf, col, rect, border_radius=max(2, rect.h // 5))
        if not active:
            pygame.draw.rect(surf, theme.panel_border, rect, width=1, border_radius=max(2, rect.h // 5))

    def _text(self, surf, theme: Theme, text, rect, active=False, dim=False, align="center") -> None:
        col = theme.background if active else (theme.text_dim if dim else theme.text)
        img = text_image(theme, str(text), col, 0.9, max_w=max(1, rect.w - 6))  # squeeze, not overflow
        r = img.get_rect(midleft=(rect.x + 6, rect.centery)) if align == "left" else img.get_rect(center=rect.center)
        surf.blit(img, r)


def triangle(surf, color, center, size: float, direction: int) -> None:
    """A small filled triangle pointing left (-1) or right (+1): the default font has no arrows."""
    cx, cy = center
    d = direction * size
    pygame.draw.polygon(surf, color, [(cx + d, cy), (cx - d, cy - size), (cx - d, cy + size)])


def _is_click(ev) -> bool:
    return ev.type == pygame.MOUSEBUTTONDOWN and getattr(ev, "button", 0) == 1


class Label(Widget):
    def __init__(self, text: str | Getter, bold: bool = True, **kw):
        super().__init__(**kw)
        self.text, self.bold = text, bold

    def draw(self, surf, theme):
        t = self.text() if callable(self.text) else self.text
        col = theme.text if self.bold else theme.text_dim
        img = text_image(theme, str(t), col, 1.0 if self.bold else 0.85, self.bold)
        surf.blit(img, img.get_rect(midleft=(self.rect.x, self.rect.centery)))

    def signature(self):
        return (tuple(self.rect), self.text() if callable(self.text) else self.text)


class Button(Widget):
    def __init__(self, text: str | Getter, action: Action, active: Getter | None = None, **kw):
        super().__init__(**kw)
        self.text, self.action, self.active = text, action, active

    def draw(self, surf, theme):
        on = bool(self.active()) if self.active else False
        hover = self.rect.collidepoint(pygame.mouse.get_pos())
        self._box(surf, theme, self.rect, on, hover)
        t = self.text() if callable(self.text) else self.text
        self._text(surf, theme, t, self.rect, on, dim=not self.enabled())

    def handle(self, ev):
        if _is_click(ev) and self.enabled():
            self.action()
            return True
        return False

    def signature(self):
        return (super().signature(), self.text() if callable(self.text) else self.text,
                bool(self.active()) if self.active else False,
                self.rect.collidepoint(pygame.mouse.get_pos()))


class Segmented(Widget):
    """One of a few values side by side: [DDPM][flow]."""

    def __init__(self, options: list[tuple[Any, str]], get: Getter, set: Action, **kw):
        super().__init__(**kw)
        self.options, self.get, self.set = options, get, set

    def _cells(self):
        n = max(len(self.options), 1)
        w = self.rect.w / n
        return [pygame.Rect(round(self.rect.x + i * w), self.rect.y, round(w) - 2, self.rect.h) for i in range(n)]

    def draw(self, surf, theme):
        cur, enabled = self.get(), self.enabled()
        for (val, text), cell in zip(self.options, self._cells()):
            on = enabled and val == cur  # a disabled choice (DDPM-only settings under flow) shows none lit
            self._box(surf, theme, cell, on)
            self._text(surf, theme, text, cell, on, dim=not enabled)

    def signature(self):
        return (super().signature(), self.get())

    def handle(self, ev):
        if not (_is_click(ev) and self.enabled()):
            return False
        for (val, _), cell in zip(self.options, self._cells()):
            if cell.collidepoint(ev.pos):
                self.set(val)
                return True
        return True


class Cycler(Widget):
    """◀ value ▶ : click the left or right third (or scroll) to step through many values."""

    def __init__(self, values: Getter, get: Getter, set: Action, fmt=str, **kw):
        super().__init__(**kw)
        self.values, self.get, self.set, self.fmt = values, get, set, fmt

    def _step(self, k: int) -> None:
        vals = list(self.values())
        if not vals:
            return
        cur = self.get()
        i = vals.index(cur) if cur in vals else -k
        self.set(vals[(i + k) % len(vals)])

    def draw(self, surf, theme):
        self._box(surf, theme, self.rect)
        inner = self.rect.inflate(-2 * self.rect.h, 0)
        self._text(surf, theme, self.fmt(self.get()), inner, dim=not self.enabled())
        col = theme.text if self.enabled() else theme.text_dim
        for side in (-1, 1):
            triangle(surf, col, (self.rect.centerx + side * (self.rect.w // 2 - self.rect.h // 2),
                                 self.rect.centery), self.rect.h * 0.22, side)

    def signature(self):
        return (super().signature(), self.fmt(self.get()))

    def handle(self, ev):
        if not self.enabled():
            return False
        if _is_click(ev):
            self._step(-1 if ev.pos[0] < self.rect.centerx else 1)
            return True
        if ev.type == pygame.MOUSEWHEEL:
            self._step(-1 if getattr(ev, "y", 0) > 0 else 1)
            return True
        return False


class Slider(Widget):
    """A labelled slider; `log` for values spanning decades, `integer` rounds."""

    def __init__(self, label: str, lo: float, hi: float, get: Getter, set: Action, log=False,
                 integer=False, fmt: str = "{:g}", live: bool = True, **kw):
        super().__init__(**kw)
        self.label, self.lo, self.hi, self.get, self.set = label, lo, hi, get, set
        self.log, self.integer, self.fmt, self.live = log, integer, fmt, live
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
        return int(round(v)) if self.integer else v

    def _track(self) -> pygame.Rect:
        r = self.rect
        lw = int(r.w * 0.42)
        return pygame.Rect(r.x + lw, r.centery - 2, r.w - lw - 4, 4)

    def draw(self, surf, theme):
        v = self._pending if self._pending is not None else self.get()
        try:
            text = f"{self.label} {self.fmt.format(v)}"
        except (ValueError, TypeError):
            text = f"{self.label} {v}"
        col = theme.text if self.enabled() else theme.text_dim
        img = text_image(theme, text, col, 0.85, max_w=max(1, int(self.rect.w * 0.42) - 4))
        surf.blit(img, img.get_rect(midleft=(self.rect.x, self.rect.centery)))
        tr = self._track()
        pygame.draw.rect(surf, theme.panel_border, tr, border_radius=2)
        u = min(max(self._to_u(float(v)), 0.0), 1.0) if v is not None else 0.0
        knob = (tr.x + u * tr.w, tr.centery)
        pygame.draw.rect(surf, theme.accent, pygame.Rect(tr.x, tr.y, max(1, u * tr.w), tr.h), border_radius=2)
        pygame.draw.circle(surf, theme.accent if self.enabled() else theme.text_dim, knob,
                           max(5, self.rect.h // 4))

    def signature(self):
        return (super().signature(), self.get(), self._pending)

    def _value_at(self, x: float):
        tr = self._track()
        return self._from_u((x - tr.x) / max(tr.w, 1))

    def handle(self, ev):
        if not self.enabled():
            self.dragging = False
            return False
        if _is_click(ev):
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
        if ev.type == pygame.MOUSEWHEEL:
            u = self._to_u(float(self.get())) + (0.03 if getattr(ev, "y", 0) > 0 else -0.03)
            self.set(self._from_u(u))
            return True
        return False

    def _apply(self, v, final: bool) -> None:
        if self.live or final:
            self._pending = None
            if v != self.get():
                self.set(v)
        else:
            self._pending = v  # expensive settings apply on release


class Swatches(Widget):
    """Class colours to pick from (drawing class, or the class to sample); -1 = 'all'."""

    def __init__(self, count: Getter, get: Getter, set: Action, allow_all: bool = False, **kw):
        super().__init__(**kw)
        self.count, self.get, self.set, self.allow_all = count, get, set, allow_all

    def _cells(self):
        n = int(self.count()) + (1 if self.allow_all else 0)
        n = max(n, 1)
        size = min(self.rect.h, max(8, self.rect.w // n - 3))
        vals = ([-1] if self.allow_all else []) + list(range(int(self.count())))
        return [(v, pygame.Rect(self.rect.x + i * (size + 3), self.rect.y, size, self.rect.h))
                for i, v in enumerate(vals)]

    def draw(self, surf, theme):
        cur = self.get()
        for v, cell in self._cells():
            if v < 0:
                self._box(surf, theme, cell, cur == v)
                self._text(surf, theme, "all", cell, cur == v)
                continue
            pygame.draw.rect(surf, theme.class_color(v), cell, border_radius=3)
            if v == cur:
                pygame.draw.rect(surf, theme.text, cell.inflate(4, 4), width=2, border_radius=4)

    def signature(self):
        return (super().signature(), int(self.count()), self.get())

    def handle(self, ev):
        if not (_is_click(ev) and self.enabled()):
            return False
        for v, cell in self._cells():
            if cell.collidepoint(ev.pos):
                self.set(v)
                return True
        return True


class Row(Widget):
    """Several widgets side by side in one row (widths by weight)."""

    def __init__(self, *children: Widget, weights=None, **kw):
        super().__init__(**kw)
        self.children = list(children)
        self.weights = weights or [1] * len(children)

    def layout(self, rect: pygame.Rect, gap: int) -> None:
        self.rect = rect
        total = float(sum(self.weights))
        x = rect.x
        for w, child in zip(self.weights, self.children):
            cw = int(round((rect.w - gap * (len(self.children) - 1)) * w / total))
            child.rect = pygame.Rect(x, rect.y, cw, rect.h)
            x += cw + gap

    def draw(self, surf, theme):
        for c in self.children:
            c.draw(surf, theme)

    def signature(self):
        return tuple(c.signature() for c in self.children)

    def handle(self, ev):
        pos = getattr(ev, "pos", None)
        for c in self.children:
            if pos is None or c.rect.collidepoint(pos) or getattr(c, "dragging", False):
                if c.handle(ev):
                    return True
        return False
