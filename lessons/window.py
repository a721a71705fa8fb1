"""The sandbox window with a lesson panel in a column on the right.

`LessonApp` is the window's `App` plus three small overrides (right column, mouse, draw) that give the
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
        self.lesson_rect = pygame.Rect(0, 0, 0, 0)  # set by right_column() at every layout
        super().__init__(**kw)
        self.runner = runner
        self.lesson_panel = LessonPanel()
        runner.start(self.state)

    def right_column(self, theme) -> int:
        W, H = self.screen.get_size()
        lw = int(min(max(380 * theme.scale, 300), W * 0.38))
        self.lesson_rect = pygame.Rect(W - lw, 0, lw, H)
        return lw

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
