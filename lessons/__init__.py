"""Self-guided lessons: each sets the sandbox window up, asks the learner to do one thing at a
time, and checks what they did and saw in the window's state (`sandbox.app.state.AppState`).

    from lessons import LESSONS, get_lesson
    lesson = get_lesson("ddpm_vs_flow")          # a fresh Lesson (its checks keep their own notes)
    python -m lessons                            # list them
    python -m lessons few_steps                  # open the window on one

`LESSONS` maps each lesson's id to the function that builds it, in teaching order.
"""
from __future__ import annotations

from typing import Callable

from sandbox.errors import UserError

from . import (ddpm_vs_flow, draw_and_train, few_steps, forward_score, guidance, ideal_denoiser, noise_to_data,
               tree_reading)
from .lesson import CheckResult, Lesson, Step

LESSONS: dict[str, Callable[[], Lesson]] = {
    "noise_to_data": noise_to_data.lesson,
    "draw_and_train": draw_and_train.lesson,
    "ddpm_vs_flow": ddpm_vs_flow.lesson,
    "few_steps": few_steps.lesson,
    "guidance": guidance.lesson,
    "ideal_denoiser": ideal_denoiser.lesson,
    "forward_and_score": forward_score.lesson,
    "reading_a_tree": tree_reading.lesson,
}


def get_lesson(name: str) -> Lesson:
    """A fresh Lesson by id, or by its number in the list (1-based); UserError if unknown."""
    key = str(name).strip().lower().replace("-", "_")
    if key.isdigit() and 1 <= int(key) <= len(LESSONS):
        key = list(LESSONS)[int(key) - 1]
    if key not in LESSONS:
        raise UserError(f"unknown lesson {name!r}; lessons: {', '.join(LESSONS)}")
    return LESSONS[key]()


__all__ = ["LESSONS", "get_lesson", "Lesson", "Step", "CheckResult"]
