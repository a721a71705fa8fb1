"""The sandbox window with a lesson panel in a column on the right.

`LessonApp` is the window's `App` plus three small overrides (layout, mouse, draw) that give the
panel its column, its clicks and its pixels; everything else is the ordinary window, driven by
the same AppState the lesson sets up and checks.
"""
from __future__ import annotations

import pygame

from sandbox.app.lesson_panel import LessonPanel
from sandbox.app.window import App

from .runner import LessonRunner


class LessonApp(App):
    def __init__(self, runner: LessonRunner, **kw):
        kw.setdefault("dataset", None)     # the lesson's first step chooses the data
        super().__init__(**kw)
        self.runner = runner
        self.lesson_panel = LessonPanel()
        self.lesson_rect = pygame.Rect(0, 0, 0, 0)
        runner.start(self.state)

    def layout(self, theme) -> None:
        super().layout(theme)
        W, H = self.screen.get_size()
        lw = int(min(max(380 * theme.scale, 300), W * 0.38))
        self.lesson_rect = pygame.Rect(W - lw, 0, lw, H)
        self.canvas.w = max(1, self.canvas.w - lw)
        if self.state.compare:
            half = self.canvas.w // 2
            self.pane_rects = [pygame.Rect(self.canvas.x, 0, half - 1, self.canvas.h),
                               pygame.Rect(self.canvas.x + half + 1, 0, self.canvas.w - half - 1, self.canvas.h)]
        else:
            self.pane_rects = [self.canvas.copy()]
        tb = self.timebar.rect
        self.timebar.layout(pygame.Rect(tb.x, tb.y, max(1, tb.w - lw), tb.h), theme)

    def on_mouse(self, ev) -> None:
        if self.drag is None and self.lesson_panel.contains(getattr(ev, "pos", None)):
            self.runner.do(self.lesson_panel.handle_event(ev), self.state)
            return
        super().on_mouse(ev)

    def draw(self, dt: float = 0.0) -> None:
        super().draw(dt)
        if not self.state.help_visible and self.dialog is None:
            self.lesson_panel.draw(self.screen, self.lesson_rect, self.runner, self.theme())


def run(runner: LessonRunner, size=(1440, 860), **kw) -> int:
    return LessonApp(runner, size=size, **kw).run()
