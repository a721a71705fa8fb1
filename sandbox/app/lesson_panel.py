"""The lesson panel: the current step's text, Check / Next / Back / Reset buttons, and feedback.

Self-contained: `LessonPanel().draw(surface, rect, runner, theme)` draws a `lessons.runner.
LessonRunner` into `rect`, remembering where its buttons are; `handle_event(event)` turns a click
on one of them into an action name ("check", "next", "back", "reset", "restart", "next_lesson") for
`runner.do(action, state)`. It holds no lesson state of its own, like the window's widgets.
"""
from __future__ import annotations

import pygame

from sandbox.view.theme import Theme, blend

from . import overlays

BUTTONS = (("back", "< Back"), ("reset", "Reset step"), ("check", "Check"), ("next", "Next >"))
# pygame's default font has no arrows, check marks or subscripts: spell them out
PLAIN = str.maketrans({"\u2190": "<-", "\u2192": "->", "\u2191": "Up", "\u2193": "Down", "\u2713": "ok",
                       "\u2717": "x", "\u2080": "0", "\u2081": "1", "\u209c": "t"})


def wrap(text: str, font, width: int) -> list[str]:
    """Greedy word wrap of `text` to lines no wider than `width` pixels, paragraph by paragraph
    (an empty paragraph keeps its blank line), in the glyphs pygame's default font has."""
    lines: list[str] = []
    for para in str(text).translate(PLAIN).split("\n"):
        lines.extend(overlays.wrap(para, font, width) or [""])
    return lines


class LessonPanel:
    def __init__(self):
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.buttons: dict[str, pygame.Rect] = {}      # enabled buttons, from the last draw

    # ---- layout --------------------------------------------------------------------------------
    def _blocks(self, width: int, runner, theme: Theme) -> list[tuple[str, list[str], tuple]]:
        """The text blocks top to bottom: (kind, wrapped lines, colour)."""
        pad = self._pad(theme)
        inner = max(40, width - 2 * pad)
        body, small = theme.font(0.95), theme.font(0.85)
        lesson = runner.lesson
        out = [("title", wrap(lesson.title, theme.font(1.1, bold=True), inner), theme.text),
               ("meta", [self._progress_text(runner)], theme.text_dim)]
        if runner.finished:
            out.append(("body", wrap(f"Lesson complete. {lesson.goal}", body, inner), theme.text))
            nxt = _next_title(runner)
            out.append(("hint", wrap(f"Next: {nxt}" if nxt else "That was the last lesson.", small, inner),
                        theme.text_dim))
            lines = _lesson_list(runner)
            if lines:
                out.append(("hint", [ln for line in lines for ln in wrap(line, small, inner)], theme.text_dim))
            return out
        if runner.index == 0 and runner.result is None:
            out.append(("goal", wrap(lesson.goal, small, inner), theme.text_dim))
        out.append(("body", wrap(runner.step.instructions, body, inner), theme.text))
        res = runner.result
        if res is not None:
            mark = "Done: " if res.passed else "Not yet: "
            col = self._ok(theme) if res.passed else self._not_yet(theme)
            out.append(("feedback", wrap(mark + res.feedback, body, inner - pad), col))
            if not res.passed and runner.step.hint:
                out.append(("hint", wrap("Hint: " + runner.step.hint, small, inner), theme.text_dim))
        return out

    def fitted(self, rect, runner, theme: Theme, smallest: float = 0.6) -> Theme:
        """`theme`, or a smaller copy (down to `smallest` x its scale) whose text fits `rect`: at a large
        presenter scale on a small screen the step's text shrinks rather than vanish under the buttons."""
        rect = pygame.Rect(rect)
        f = 1.0
        while f > smallest and self.height_for(rect.w, runner, theme.scaled(theme.scale * f)) > rect.h:
            f -= 0.1
        return theme if f == 1.0 else theme.scaled(theme.scale * max(f, smallest))

    def height_for(self, width: int, runner, theme: Theme) -> int:
        """Pixels the panel needs at this width (the window may give it less: text is clipped)."""
        pad = self._pad(theme)
        h = pad
        for kind, lines, _ in self._blocks(width, runner, theme):
            h += len(lines) * self._line_h(kind, theme) + pad // 2 + (pad if kind == "feedback" else 0)
        return h + self._button_h(theme) + 2 * pad

    # ---- drawing -------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface, rect, runner, theme: Theme) -> None:
        rect = pygame.Rect(rect)
        self.rect = rect
        self.buttons = {}
        if rect.w < 20 or rect.h < 20:
            return
        theme = self.fitted(rect, runner, theme)
        pad = self._pad(theme)
        pygame.draw.rect(surface, theme.panel, rect)
        pygame.draw.rect(surface, theme.panel_border, rect, width=max(1, theme.line_px))
        clip = surface.get_clip()
        surface.set_clip(rect)
        try:
            bh = self._button_h(theme)
            bottom = rect.bottom - bh - 2 * pad       # text stops above the buttons
            y = rect.y + pad
            for kind, lines, col in self._blocks(rect.w, runner, theme):
                lh = self._line_h(kind, theme)
                font = self._font(kind, theme)
                if kind == "feedback":   # the box stops above the buttons, with the text
                    box = pygame.Rect(rect.x + pad // 2, y - pad // 3, rect.w - pad,
                                      min(len(lines) * lh, max(0, (bottom - y) // lh * lh)) + 2 * (pad // 3))
                    pygame.draw.rect(surface, blend(theme.panel, col, 0.18), box, border_radius=max(2, pad // 3))
                    pygame.draw.rect(surface, col, box, width=max(1, theme.line_px), border_radius=max(2, pad // 3))
                if kind == "meta" and y + lh <= bottom:
                    self._draw_step_dots(surface, rect.right - pad, y + lh // 2, runner, theme)
                for line in lines:
                    if y + lh > bottom:
                        break
                    surface.blit(font.render(line, True, col), (rect.x + pad, y))
                    y += lh
                y += pad // 2 + (pad if kind == "feedback" else 0)
            self._draw_buttons(surface, pygame.Rect(rect.x + pad, rect.bottom - bh - pad, rect.w - 2 * pad, bh),
                               runner, theme)
        finally:
            surface.set_clip(clip)

    def _draw_step_dots(self, surface, right: int, y: int, runner, theme: Theme) -> None:
        """One dot per step, right-aligned: green = passed, filled accent = current."""
        r = max(3, int(theme.font_px * 0.28))
        x = right - r
        for i in reversed(range(runner.total)):
            col = self._ok(theme) if runner.done[i] else (theme.accent if i == runner.index else theme.panel_border)
            width = 0 if (runner.done[i] or i == runner.index) else max(1, theme.line_px)
            pygame.draw.circle(surface, col, (x, y), r, width)
            x -= 3 * r

    def _draw_buttons(self, surface, area: pygame.Rect, runner, theme: Theme) -> None:
        if runner.finished:
            shown = [("restart", "Start again", True)]
            if _next_title(runner):
                shown.append(("next_lesson", "Next lesson >", True))
        else:
            last = runner.is_last
            shown = [(a, ("Finish" if a == "next" and last else label), self._enabled(a, runner))
                     for a, label in BUTTONS]
        gap = max(4, area.h // 4)
        w = (area.w - gap * (len(shown) - 1)) // len(shown)
        font = theme.font(0.9)
        for k, (action, label, on) in enumerate(shown):
            r = pygame.Rect(area.x + k * (w + gap), area.y, w, area.h)
            primary = on and (action == "check" and not runner.done[runner.index]
                              or action in ("next", "next_lesson")
                              or action == "restart" and len(shown) == 1)
            fill = theme.accent if primary else blend(theme.panel, theme.panel_border, 0.3 if on else 0.1)
            pygame.draw.rect(surface, fill, r, border_radius=max(2, r.h // 5))
            pygame.draw.rect(surface, theme.panel_border, r, width=1, border_radius=max(2, r.h // 5))
            col = theme.background if primary else (theme.text if on else theme.text_dim)
            img = font.render(label, True, col)
            if img.get_width() > r.w - 4:
                img = pygame.transform.smoothscale(img, (max(1, r.w - 4), img.get_height()))
            surface.blit(img, img.get_rect(center=r.center))
            if on:
                self.buttons[action] = r

    # ---- events --------------------------------------------------------------------------------
    def handle_event(self, event) -> str | None:
        """The action of a left click on an enabled button, else None. (Use `contains(pos)` to know
        whether a click landed on the panel at all, so the canvas does not also get it.)"""
        if getattr(event, "type", None) != pygame.MOUSEBUTTONDOWN or getattr(event, "button", 0) != 1:
            return None
        pos = getattr(event, "pos", None)
        if not isinstance(pos, (tuple, list)) or len(pos) != 2:
            return None
        for action, r in self.buttons.items():
            if r.collidepoint(pos):
                return action
        return None

    def contains(self, pos) -> bool:
        try:
            return bool(self.rect.collidepoint(pos))
        except TypeError:
            return False

    # ---- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _enabled(action: str, runner) -> bool:
        return {"back": runner.can_back(), "next": runner.can_next(), "check": True, "reset": True}.get(action, True)

    @staticmethod
    def _progress_text(runner) -> str:
        if runner.finished:
            return f"all {runner.total} steps done"
        return f"step {runner.index + 1} of {runner.total}"

    @staticmethod
    def _pad(theme: Theme) -> int:
        return max(6, int(theme.font_px * 0.7))

    @staticmethod
    def _font(kind: str, theme: Theme):
        if kind == "title":
            return theme.font(1.1, bold=True)
        if kind in ("meta", "goal", "hint"):
            return theme.font(0.85)
        return theme.font(0.95)

    def _line_h(self, kind: str, theme: Theme) -> int:
        return self._font(kind, theme).get_linesize()

    @staticmethod
    def _button_h(theme: Theme) -> int:
        return int(theme.font_px * 2.0)

    @staticmethod
    def _ok(theme: Theme):
        return theme.field          # the theme's green

    @staticmethod
    def _not_yet(theme: Theme):
        return theme.particle       # orange / yellow: "not yet", not an error


def _next_title(runner) -> str:
    """The title of the lesson a finished runner offers next ("" after the last, or for a runner
    that has no notion of a next lesson)."""
    fn = getattr(runner, "next_lesson_id", None)
    nxt = fn() if callable(fn) else None
    if not nxt:
        return ""
    from lessons import get_lesson

    return get_lesson(nxt).title


def _lesson_list(runner) -> list[str]:
    """Every lesson, "[x]" for the finished ones (the runner's record), or [] for a runner without one."""
    done = getattr(runner, "lessons_done", None)
    if not done:
        return []
    from lessons import LESSONS, get_lesson

    # '[_]', not '[ ]': the panel's word wrap would fold the space away
    return ["Lessons:"] + [f"[{'x' if key in done else '_'}] {get_lesson(key).title}" for key in LESSONS]
