"""Labels and push buttons."""
from __future__ import annotations

from .base import ACTIVATE, Action, Getter, Widget, hovered, is_click
from .text import text_image, text_width


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
        self._box(surf, theme, self.rect, on, hovered(self.rect), enabled=en)
        self._text(surf, theme, self._label(), self.rect, on, dim=not en)

    def min_width(self, theme):
        return text_width(theme, self._label()) + 2 * self.PAD + 2

    def handle(self, ev):
        if is_click(ev) and self.enabled():
            self.action()
            return True
        return False

    def key(self, k):
        if k in ACTIVATE and self.enabled():
            self.action()
            return True
        return False

    def signature(self):
        return (super().signature(), self._label(), bool(self.active()) if self.active else False,
                hovered(self.rect))

