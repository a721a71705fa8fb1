"""Self-guided lessons: each sets the sandbox window up, asks the learner to do one thing at a
time, and checks what they did and saw in the window's state (`sandbox.app.state.AppState`).

    import lessons
    lessons.run()                                # list them (also in a notebook cell)
    lessons.run(3)                               # open the window on one; returns when it is closed
    lesson = lessons.get_lesson("ddpm_vs_flow")  # a fresh Lesson (its checks keep their own notes)
    python -m lessons few_steps                  # the same from a terminal (diffusion-sandbox lesson)

`LESSONS` maps each lesson's id to the function that builds it, in teaching order.
"""
from __future__ import annotations

from typing import Callable

from sandbox.errors import UserError

from .lesson import CheckResult, Lesson, Step


def _lazy(module: str) -> Callable[[], Lesson]:
    """The lesson's builder, its module imported on first use: the lessons import torch (3-10 s),
    and `diffusion-sandbox lesson NAME` opens its window, saying it is loading, before that."""
    def make() -> Lesson:
        import importlib

        return importlib.import_module(f"lessons.{module}").lesson()

    make.__name__ = f"{module}.lesson"
    return make


LESSONS: dict[str, Callable[[], Lesson]] = {
    "noise_to_data": _lazy("noise_to_data"),
    "draw_and_train": _lazy("draw_and_train"),
    "ddpm_vs_flow": _lazy("ddpm_vs_flow"),
    "few_steps": _lazy("few_steps"),
    "guidance": _lazy("guidance"),
    "ideal_denoiser": _lazy("ideal_denoiser"),
    "forward_and_score": _lazy("forward_score"),
    "reading_a_tree": _lazy("tree_reading"),
}


def lesson_id(name: str) -> str:
    """The lesson's id for an id or its number in the list (1-based); UserError if unknown. Imports
    no lesson."""
    key = str(name).strip().lower().replace("-", "_")
    if key.isdigit() and 1 <= int(key) <= len(LESSONS):
        key = list(LESSONS)[int(key) - 1]
    if key not in LESSONS:
        raise UserError(f"unknown lesson {name!r}; lessons: {', '.join(LESSONS)}")
    return key


def get_lesson(name: str) -> Lesson:
    """A fresh Lesson by id, or by its number in the list (1-based); UserError if unknown."""
    return LESSONS[lesson_id(name)]()


def run(name: str | int | None = None, *, fullscreen: bool = False) -> None:
    """What `diffusion-sandbox lesson [NAME]` does, for Python and Jupyter: no name prints the list;
    a lesson id or number opens the window on it and returns when the learner closes it (a notebook
    cell stays busy until then). With no display (a remote kernel, SDL_VIDEODRIVER=dummy) it prints
    the lesson and the commands that show it without a window. Unknown names raise UserError (one
    line in Jupyter); Kernel > Interrupt closes the window (Interrupted, one line)."""
    import sys

    from sandbox.errors import Interrupted

    from .__main__ import list_lessons

    if name is None:
        print(list_lessons())
        return
    lesson = get_lesson(str(name))
    from sandbox.cli.commands import display_available

    ok, why = display_available()
    if not ok:
        print(lesson.text())
        print(f"\nno display ({why}): run this where a window can open to follow the lesson in it.", file=sys.stderr)
        return
    from .runner import LessonRunner
    from .window import run as run_window

    try:
        run_window(LessonRunner(lesson), fullscreen=fullscreen)
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted("lesson window closed; finished lessons stay recorded: run the cell again") from None


__all__ = ["LESSONS", "get_lesson", "lesson_id", "run", "Lesson", "Step", "CheckResult"]
