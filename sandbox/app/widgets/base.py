"""The widget base class: a rectangle, an `enabled` getter, a tooltip and the line count the panel
gives it; the box and text drawing every widget shares; what counts as a click, a hover, an
activating or a stepping key."""
from __future__ import annotations

from typing import Any, Callable

import pygame

from sandbox.view.theme import Theme, blend

from .text import disabled_color, text_image, text_width

Getter = Callable[[], Any]
Action = Callable[..., Any]


def always() -> bool:
    return True


class Widget:
    PAD = 5          # pixels between a box's edge and its text

    def __init__(self, enabled: Getter = always, tip: str = ""):
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


def is_click(ev) -> bool:
    return ev.type == pygame.MOUSEBUTTONDOWN and getattr(ev, "button", 0) == 1


def hovered(rect) -> bool:
    return pygame.mouse.get_focused() and rect.collidepoint(pygame.mouse.get_pos())


ACTIVATE = (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE)
STEP = {pygame.K_LEFT: -1, pygame.K_DOWN: -1, pygame.K_RIGHT: 1, pygame.K_UP: 1}
