"""Small immediate widgets drawn with the view's Theme: buttons, toggles, segmented choices,
cyclers, sliders and colour swatches.

Each widget reads its value through a getter and changes it through a setter bound to an AppState
action, so the widgets hold no state of their own beyond their rectangle (the state object stays
the one source of truth, and a widget can never disagree with a keyboard shortcut).

Values change by click or drag only: the mouse wheel scrolls the panel and never changes a value
(a wheel turn over a slider used to change whichever slider passed under the pointer). Keyboard:
Tab / Shift+Tab give the next control the focus (a ring shows it), Left/Right step it, Enter or
Space press it, Esc gives the keys back to the shortcuts. A widget
that is too narrow for its text takes a second line (`lines()`), so text is never squeezed away
at a large presenter scale; `tip` is the sentence shown when the pointer rests on it.
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


class Widget:
    PAD = 5          # pixels between a box's edge and its text

    def __init__(self, enabled: Getter = _always, tip: str = ""):
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.enabled = enabled
        self.tip = tip
        self.nlines = 1
        # (drawn text rect, natural width) of the last draw: the layout test checks them
        self.texts: list[tuple[pygame.Rect, int]] = []

    def draw(self, surf: pygame.Surface, theme: Theme) -> None:
        raise NotImplementedError

    def signature(self) -> tuple:
        """What the drawing depends on: the panel redraws only when some signature changes."""
        return (tuple(self.rect), bool(self.enabled()), self.nlines)

    def handle(self, ev: pygame.event.Event) -> bool:
        """React to a mouse event inside the rect; True if consumed."""
        return False

    # layout
    def min_width(self, theme: Theme) -> int:
        """Narrowest width that shows the text unsqueezed on one line."""
        return 4 * theme.font_px

    def lines(self, width: int, theme: Theme) -> int:
        """Row heights this widget needs at `width` (1, or 2 when its text needs a line of its own)."""
        return 1

    def tip_at(self, pos) -> str:
        return self.tip

    def leaves(self) -> list["Widget"]:
        return [self]

    # keyboard (Tab gives a control the focus; see App.on_key)
    focusable = True

    def key(self, k: int) -> bool:
        """React to a key while focused (Enter/Space activate, Left/Right step); True if used."""
        return False

    # shared drawing helpers
    def _box(self, surf, theme: Theme, rect, active=False, hover=False, enabled=True) -> None:
        radius = max(2, rect.h // 5)
        if not enabled:
            pygame.draw.rect(surf, blend(theme.panel, theme.panel_border, 0.1), rect, border_radius=radius)
            pygame.draw.rect(surf, disabled_color(theme), rect, width=1, border_radius=radius)
            return
        col = theme.accent if active else blend(theme.panel, theme.panel_border, 0.45 if hover else 0.25)
        pygame.draw.rect(surf, col, rect, border_radius=radius)
        if not active:
            pygame.draw.rect(surf, theme.panel_border, rect, width=1, border_radius=radius)

    def _text(self, surf, theme: Theme, text, rect, active=False, dim=False, align="center",
              mult: float = 0.9) -> None:
        col = theme.background if active else (disabled_color(theme) if dim else theme.text)
        text = str(text)
        room = max(1, rect.w - 2 * self.PAD)
        img = text_image(theme, text, col, mult, max_w=room)  # squeeze rather than overflow
        if align == "left":
            r = img.get_rect(midleft=(rect.x + self.PAD, rect.centery))
        else:
            r = img.get_rect(center=rect.center)
        surf.blit(img, r)
        self.texts.append((r, text_width(theme, text, mult)))


def triangle(surf, color, center, size: float, direction: int) -> None:
    """A small filled triangle pointing left (-1) or right (+1): the default font has no arrows."""
    cx, cy = center
    d = direction * size
    pygame.draw.polygon(surf, color, [(cx + d, cy), (cx - d, cy - size), (cx - d, cy + size)])


def _is_click(ev) -> bool:
    return ev.type == pygame.MOUSEBUTTONDOWN and getattr(ev, "button", 0) == 1


def _hover(rect) -> bool:
    return pygame.mouse.get_focused() and rect.collidepoint(pygame.mouse.get_pos())


_ACTIVATE = (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE)
_STEP = {pygame.K_LEFT: -1, pygame.K_DOWN: -1, pygame.K_RIGHT: 1, pygame.K_UP: 1}


class Label(Widget):
    focusable = False

    def __init__(self, text: str | Getter, bold: bool = True, **kw):
        super().__init__(**kw)
        self.text, self.bold = text, bold

    def _mult(self) -> float:
        return 1.0 if self.bold else 0.85

    def draw(self, surf, theme):
        self.texts = []
        t = str(self.text() if callable(self.text) else self.text)
        col = theme.text if self.bold else theme.text_dim
        img = text_image(theme, t, col, self._mult(), self.bold, max_w=max(1, self.rect.w))
        r = img.get_rect(midleft=(self.rect.x, self.rect.centery))
        surf.blit(img, r)
        self.texts.append((r, text_width(theme, t, self._mult(), self.bold)))

    def min_width(self, theme):
        t = self.text() if callable(self.text) else self.text
        return text_width(theme, t, self._mult(), self.bold)

    def signature(self):
        return (tuple(self.rect), self.text() if callable(self.text) else self.text)


class Button(Widget):
    def __init__(self, text: str | Getter, action: Action, active: Getter | None = None, **kw):
        super().__init__(**kw)
        self.text, self.action, self.active = text, action, active

    def _label(self) -> str:
        return str(self.text() if callable(self.text) else self.text)

    def draw(self, surf, theme):
        self.texts = []
        en = bool(self.enabled())
        on = en and (bool(self.active()) if self.active else False)
        self._box(surf, theme, self.rect, on, _hover(self.rect), enabled=en)
        self._text(surf, theme, self._label(), self.rect, on, dim=not en)

    def min_width(self, theme):
        return text_width(theme, self._label()) + 2 * self.PAD + 2

    def handle(self, ev):
        if _is_click(ev) and self.enabled():
            self.action()
            return True
        return False

    def key(self, k):
        if k in _ACTIVATE and self.enabled():
            self.action()
            return True
        return False

    def signature(self):
        return (super().signature(), self._label(), bool(self.active()) if self.active else False,
                _hover(self.rect))


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
        d = _STEP.get(k, 1 if k in _ACTIVATE else 0)
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
        if not (_is_click(ev) and self.enabled()):
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
        d = _STEP.get(k, 1 if k in _ACTIVATE else 0)
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
        if _is_click(ev):
            box = self._value_rect()
            if box.collidepoint(ev.pos):
                self._step(-1 if ev.pos[0] < box.centerx else 1)
            return True
        return False


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
        return False

    def key(self, k):
        d = _STEP.get(k, 0)
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
        d = _STEP.get(k, 1 if k in _ACTIVATE else 0)
        vals = [v for v, _ in self._cells()]
        if not d or not vals or not self.enabled():
            return False
        cur = self.get()
        i = vals.index(cur) if cur in vals else 0
        self.set(vals[(i + d) % len(vals)])
        return True

    def handle(self, ev):
        if not (_is_click(ev) and self.enabled()):
            return False
        for v, cell in self._cells():
            if cell.collidepoint(ev.pos):
                self.set(v)
                return True
        return True


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
