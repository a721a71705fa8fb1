"""The time bar along the bottom of the window: jump to noise / play-pause / jump to data, loop,
speed, a slider to scrub progress from noise (left) to data (right), and the status (data, model,
device).

It spans the window's width (under the panel too), so a large presenter scale on a 1280-pixel
projector still leaves the slider room; when the buttons, the slider and the status do not fit on
one line, the status moves to a line of its own, then the slider (`lines_for`)."""
from __future__ import annotations

import pygame

from sandbox.view.theme import Theme

from . import names
from .widgets import Button, Slider, text_image, text_width, triangle


class TimeSlider(Slider):
    """A full-width slider without a label; dragging it pauses the animation."""

    def _track(self) -> pygame.Rect:
        r = self.rect
        inset = max(8, self.knob_r + 2)   # the knob stays whole at both ends
        return pygame.Rect(r.x + inset, r.y + int(r.h * 0.3) - 3, max(r.w - 2 * inset, 1), 6)

    knob_r = 8

    def draw(self, surf, theme):
        tr = self._track()
        pygame.draw.rect(surf, theme.panel_border, tr, border_radius=3)
        u = min(max(float(self.get()), 0.0), 1.0)
        pygame.draw.rect(surf, theme.accent, pygame.Rect(tr.x, tr.y, max(1, int(u * tr.w)), tr.h), border_radius=3)
        self.knob_r = max(7, theme.font_px // 2)
        pygame.draw.circle(surf, theme.accent, (tr.x + u * tr.w, tr.centery), self.knob_r)
        self.texts = []
        for text, x, anchor in (("noise", tr.x, "topleft"), ("data", tr.right, "topright")):
            img = text_image(theme, text, theme.text_dim, 0.7)
            r = img.get_rect(**{anchor: (x, tr.centery + max(7, theme.font_px // 2) + 1)})
            surf.blit(img, r)
            self.texts.append((r, img.get_width()))


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
    data = f"{names.display('preset', state.drawing.name)}: {len(state.drawing)} points"
    named = ""
    if st.running:
        model = f"training {st.step}/{st.total}"
        # which model: in compare mode a second run follows the first under the same chart
        named = f"{st.message} {st.step}/{st.total}" if st.message else ""
    elif state.judging:
        model = "checking the new model"
    elif state.models:
        model = "model ready" + (", data changed: T retrains" if state.models_stale else "")
    else:
        model = "no model: T trains"
    dev = f"device {state.device}"
    sep = "  \u00b7  "
    texts = [sep.join([data, model, dev]), sep.join([model, dev]), model]
    # while training, which model before the data's size (the first that fits is shown)
    return [sep.join([data, named, dev]), sep.join([named, dev]), named] + texts if named else texts


class TimeBar:
    def __init__(self, app):
        st = app.state
        self.app = app
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.status_rect = pygame.Rect(0, 0, 0, 0)
        self.status_text: tuple[pygame.Rect, int] | None = None   # drawn rect, natural width

        def scrub(v):
            st.playing = False
            st.set_progress(v)

        self.widgets = [
            IconButton("start", lambda: st.set_progress(0.0), tip="Jump to the noise (Home)."),
            IconButton(lambda: "pause" if st.playing else "play", lambda: st.play(),
                       tip="Play or pause the animation (Space)."),
            IconButton("end", lambda: st.set_progress(1.0), tip="Jump to the data (End)."),
            Button("loop", st.toggle_loop, active=lambda: st.loop, tip="Play again from noise at the end (L)."),
            Button("-", lambda: st.set_speed(st.speed / 1.5), tip="Slower (-)."),
            Button(lambda: f"{st.speed:.2g}\u00d7", lambda: st.set_speed(1.0),
                   tip="Animation speed; click for normal speed."),
            Button("+", lambda: st.set_speed(st.speed * 1.5), tip="Faster (+)."),
            TimeSlider("", 0.0, 1.0, lambda: st.progress, scrub,
                       tip="Time from noise (left) to data (right): drag to scrub, Left/Right step."),
        ]

    # ---- layout --------------------------------------------------------------------------------
    @staticmethod
    def _metrics(theme: Theme) -> tuple[int, int, int]:
        """(button line height, status line height, padding)."""
        return int(theme.font_px * 2.4), int(theme.font_px * 1.4), max(4, theme.font_px // 4)

    def _button_widths(self, theme: Theme) -> list[int]:
        icon = int(theme.font_px * 1.9)
        pad = 2 * Button.PAD + 4
        texts = ["loop", "-", "0.00\u00d7", "+"]
        return [icon, icon, icon] + [max(int(theme.font_px * 1.5), text_width(theme, t) + pad) for t in texts]

    # the room the status gets does not follow its text: a longer status ("training ...") must not
    # add a line to the time bar and move every control above it
    STATUS_ROOM = "eight Gaussians: 2000 points  \u00b7  model ready  \u00b7  device cuda"

    @classmethod
    def status_margin(cls, theme: Theme) -> int:
        """Pixels between the status text and the time bar's right edge."""
        return cls._metrics(theme)[2] + theme.font_px // 2

    def _status_w(self, theme: Theme) -> int:
        return text_width(theme, self.STATUS_ROOM, 0.8) + 8

    def lines_for(self, width: int, theme: Theme) -> int:
        """1: everything on one line; 2: the status below; 3: buttons, slider, status."""
        _, _, pad = self._metrics(theme)
        buttons = sum(self._button_widths(theme)) + pad * 8 + 2 * pad
        slider_min = theme.font_px * 8
        if buttons + slider_min + self._status_w(theme) + self.status_margin(theme) - pad <= width:
            return 1
        return 2 if buttons + slider_min <= width else 3

    def height_for(self, width: int, theme: Theme) -> int:
        lh, sh, pad = self._metrics(theme)
        n = self.lines_for(width, theme)
        return {1: lh, 2: lh + sh, 3: 2 * lh + sh}[n] + pad

    def layout(self, rect: pygame.Rect, theme: Theme) -> None:
        self.rect = rect
        lh, sh, pad = self._metrics(theme)
        n = self.lines_for(rect.w, theme)
        x, y = rect.x + pad, rect.y + pad
        bh = lh - 2 * pad
        for w, width in zip(self.widgets[:-1], self._button_widths(theme)):
            w.rect = pygame.Rect(x, y + pad // 2, width, bh)
            x += width + pad
        right = rect.right - pad
        # the status text keeps off the window's edge by more than a button's frame does: text
        # 3 px from the edge reads as cut off, and a projector's overscan may cut it
        text_right = rect.right - self.status_margin(theme)
        slider = self.widgets[-1]
        if n == 1:
            status_w = min(self._status_w(theme), text_right - x - theme.font_px * 8)
            slider.rect = pygame.Rect(x, y, text_right - x - status_w - pad, lh - pad)
            self.status_rect = pygame.Rect(text_right - status_w, y, status_w, lh - pad)
        elif n == 2:
            slider.rect = pygame.Rect(x, y, right - x, lh - pad)
            self.status_rect = pygame.Rect(rect.x + pad, y + lh, text_right - rect.x - pad, sh - pad)
        else:
            slider.rect = pygame.Rect(rect.x + pad, y + lh, rect.w - 2 * pad, lh - pad)
            self.status_rect = pygame.Rect(rect.x + pad, y + 2 * lh, text_right - rect.x - pad, sh - pad)

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
        r = img.get_rect(midright=self.status_rect.midright)
        surf.blit(img, r)
        self.status_text = (r, text_width(theme, text, 0.8))

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

    def tip_at(self, pos) -> tuple[object, str] | None:
        for w in self.widgets:
            if w.rect.collidepoint(pos):
                return w, w.tip_at(pos)
        return None
