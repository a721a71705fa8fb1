"""The sandbox window with a lesson panel in a column on the right.

`LessonApp` is the window's `App` plus small overrides (right column, mouse, draw) that give the
panel its column, its clicks and its pixels; everything else is the ordinary window, driven by
the same AppState the lesson sets up and checks. A step with `pick` takes the canvas's left clicks
(a guess, shown as a cross from `marks`); a step with `scene` draws its own picture over the canvas,
which then takes no clicks.
Lessons never autosave the drawing nor offer to restore one: a lesson's data is the lesson's.
"""
from __future__ import annotations

import pygame

from sandbox.app.opening import LESSON_SIZE, fit_to_desktop
from sandbox.app.lesson_panel import LessonPanel
from sandbox.app.window import App

from .runner import LessonRunner
from .scene import draw_marks


class LessonApp(App):
    def __init__(self, runner: LessonRunner, **kw):
        kw.setdefault("dataset", None)     # the lesson's first step chooses the data
        # a lesson replaces the drawing with its own data: keep the learner's autosave out of it
        # (no restore prompt inside a lesson, and no lesson data written over their drawing)
        kw["autosave"] = False
        self.lesson_rect = pygame.Rect(0, 0, 0, 0)  # set by right_column() at every layout
        super().__init__(**kw)
        self.state.restore_offer = None
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
        step = None if self.runner.finished else self.runner.step
        if step is not None and step.scene is not None and self.drag is None and self.pane_at(
                getattr(ev, "pos", None)) is not None:
            # the step's picture covers the canvas: a click there neither sprays into the hidden data nor
            # drops a particle (which restarted the animation and lost the learner's step in lesson 8)
            return
        if (step is not None and step.pick is not None and getattr(ev, "type", None) == pygame.MOUSEBUTTONDOWN
                and getattr(ev, "button", 0) == 1 and self.pane_at(getattr(ev, "pos", None)) == 0):
            x, y = self.viewport(0).to_world([ev.pos])[0]
            step.pick(self.state, float(x), float(y))
            return
        super().on_mouse(ev)

    def draw(self, dt: float = 0.0) -> None:
        super().draw(dt)
        if self.state.help_visible or self.dialog is not None:
            return
        step = None if self.runner.finished else self.runner.step
        theme = self.theme()
        if step is not None and step.scene is not None:
            prev = self.screen.get_clip()
            self.screen.set_clip(self.canvas)
            try:
                step.scene(self.state, self.screen, self.canvas.copy(), theme, self.state.progress)
            finally:
                self.screen.set_clip(prev)
        elif step is not None and step.marks is not None:
            draw_marks(self.screen, self.viewport(0), step.marks(self.state), theme)
        self.lesson_panel.draw(self.screen, self.lesson_rect, self.runner, theme)


def run(runner: LessonRunner, size=LESSON_SIZE, **kw) -> int:
    runner.record = True
    return LessonApp(runner, size=fit_to_desktop(size), **kw).run()
