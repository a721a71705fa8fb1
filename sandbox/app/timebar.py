"""The time bar under the canvas: jump to noise / play-pause / jump to data, loop, speed, a
slider to scrub progress from noise (left) to data (right), and the status (data, model, device)."""
from __future__ import annotations

import pygame

from sandbox.view.theme import Theme

from .widgets import Button, Slider, text_image, triangle


class TimeSlider(Slider):
    """A full-width slider without a label; dragging it pauses the animation."""

    def _track(self) -> pygame.Rect:
        r = self.rect
        return pygame.Rect(r.x + 8, r.centery - 3, max(r.w - 16, 1), 6)

    def draw(self, surf, theme):
        tr = self._track()
        pygame.draw.rect(surf, theme.panel_border, tr, border_radius=3)
        u = min(max(float(self.get()), 0.0), 1.0)
        pygame.draw.rect(surf, theme.accent, pygame.Rect(tr.x, tr.y, max(1, int(u * tr.w)), tr.h), border_radius=3)
        pygame.draw.circle(surf, theme.accent, (tr.x + u * tr.w, tr.centery), max(7, self.rect.h // 3))
        for text, x, anchor in (("noise", tr.x, "topleft"), ("data", tr.right, "topright")):
            img = text_image(theme, text, theme.text_dim, 0.7)
            surf.blit(img, img.get_rect(**{anchor: (x, tr.bottom + 3)}))


class IconButton(Button):
    """A button with a drawn icon (the default font has no media symbols)."""

    def __init__(self, icon, action, **kw):
        super().__init__("", action, **kw)
        self.icon = icon

    def draw(self, surf, theme):
        super().draw(surf, theme)
        on = bool(self.active()) if self.active else False
        col = theme.background if on else theme.text
        r, s = self.rect, self.rect.h * 0.2
        cx, cy = r.center
        kind = self.icon() if callable(self.icon) else self.icon
        if kind == "play":
            triangle(surf, col, (cx + s * 0.2, cy), s, 1)
        elif kind == "pause":
            for dx in (-s * 0.5, s * 0.5):
                pygame.draw.rect(surf, col, (cx + dx - s * 0.25, cy - s, s * 0.5, 2 * s))
        elif kind in ("start", "end"):
            d = -1 if kind == "start" else 1
            triangle(surf, col, (cx - d * s * 0.3, cy), s, d)
            pygame.draw.rect(surf, col, (cx + d * s * 0.8 - s * 0.15, cy - s, s * 0.3, 2 * s))


def status_texts(state) -> list[str]:
    """The status line, longest first (the time bar shows the longest that fits)."""
    st = state.training
    data = f"{state.drawing.name}: {len(state.drawing)} points"
    if st.running:
        model = f"training {st.step}/{st.total}"
    elif state.models:
        model = "model ready" + (", data changed: T retrains" if state.models_stale else "")
    else:
        model = "no model: T trains"
    dev = f"device {state.device}"
    sep = "  \u00b7  "
    return [sep.join([data, model, dev]), sep.join([model, dev]), dev]


class TimeBar:
    def __init__(self, app):
        st = app.state
        self.app = app
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.status_rect = pygame.Rect(0, 0, 0, 0)

        def scrub(v):
            st.playing = False
            st.set_progress(v)

        self.widgets = [
            IconButton("start", lambda: st.set_progress(0.0)),
            IconButton(lambda: "pause" if st.playing else "play", lambda: st.play()),
            IconButton("end", lambda: st.set_progress(1.0)),
            Button("loop", st.toggle_loop, active=lambda: st.loop),
            Button("-", lambda: st.set_speed(st.speed / 1.5)),
            Button(lambda: f"{st.speed:.2g}\u00d7", lambda: st.set_speed(1.0)),
            Button("+", lambda: st.set_speed(st.speed * 1.5)),
            TimeSlider("", 0.0, 1.0, lambda: st.progress, scrub),
        ]
        self.weights = [1, 1.2, 1, 1.6, 0.8, 1.3, 0.8]

    def layout(self, rect: pygame.Rect, theme: Theme) -> None:
        self.rect = rect
        pad = max(4, rect.h // 6)
        inner = rect.inflate(-2 * pad, -2 * pad)
        bw = theme.font_px * 1.9
        x = inner.x
        for w, weight in zip(self.widgets[:-1], self.weights):
            width = int(bw * weight)
            w.rect = pygame.Rect(x, inner.y, width, inner.h)
            x += width + pad
        status_w = int(min(theme.font_px * 26, max(inner.right - x, 0) * 0.5))
        self.widgets[-1].rect = pygame.Rect(x, inner.y, max(inner.right - x - status_w, 10), inner.h)
        self.status_rect = pygame.Rect(inner.right - status_w, inner.y, status_w, inner.h)

    def draw(self, surf: pygame.Surface, theme: Theme) -> None:
        pygame.draw.rect(surf, theme.panel, self.rect)
        pygame.draw.line(surf, theme.panel_border, self.rect.topleft, self.rect.topright)
        for w in self.widgets:
            w.draw(surf, theme)
        for text in status_texts(self.app.state):
            img = text_image(theme, text, theme.text_dim, 0.8)
            if img.get_width() <= self.status_rect.w:
                break
        else:
            img = text_image(theme, text, theme.text_dim, 0.8, max_w=max(1, self.status_rect.w))
        surf.blit(img, img.get_rect(midright=self.status_rect.midright))

    def handle(self, ev) -> bool:
        slider = self.widgets[-1]
        if slider.dragging and ev.type in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONUP):
            slider.handle(ev)
            return True
        pos = getattr(ev, "pos", None)
        if pos is None or not self.rect.collidepoint(pos):
            return False
        for w in self.widgets:
            if w.rect.collidepoint(pos):
                w.handle(ev)
                break
        return True
