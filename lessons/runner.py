"""`LessonRunner`: where the learner is in a lesson, and the four things they can do there.

The runner is plain state, like AppState: the lesson panel draws it and turns clicks into
`runner.do(action, state)`; tests call the same methods. A step's setup runs when the learner
arrives at it; Check runs the step's check; Next is allowed once the step has passed. A check
never raises into the window: a user mistake becomes feedback, a bug becomes feedback and is
counted in `state.errors` through `state.bug`.
"""
from __future__ import annotations

import sys
import traceback

from sandbox.errors import UserError

from .lesson import CheckResult, Lesson, Step

ACTIONS = ("check", "next", "back", "reset", "restart", "next_lesson")


class LessonRunner:
    def __init__(self, lesson: Lesson, record: bool = False):
        """record: a finished lesson is written to the learner's progress file (`lessons.progress`);
        the window records, tests and renders do not unless asked."""
        self.lesson = lesson
        self.record = record
        self.index = 0
        self.result: CheckResult | None = None     # the last check of the current step
        self.done = [False] * len(lesson.steps)
        self.finished = False
        self.checks = 0                            # Check presses (all steps)
        self.lessons_done: set[str] = set()        # finished lessons (read when this one finishes)

    # ---- where we are ------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.lesson.steps[self.index]

    @property
    def total(self) -> int:
        return len(self.lesson.steps)

    @property
    def is_last(self) -> bool:
        return self.index == self.total - 1

    def can_next(self) -> bool:
        return self.done[self.index] and not self.finished

    def can_back(self) -> bool:
        return self.index > 0

    # ---- actions -----------------------------------------------------------------------------
    def start(self, state) -> None:
        """Begin at step 1 (runs its setup)."""
        self.index, self.result, self.finished = 0, None, False
        self.done = [False] * self.total
        _fresh_view(state)
        self._enter(state)

    def check(self, state) -> CheckResult:
        self.checks += 1
        try:
            res = self.step.check(state)
        except UserError as e:
            res = CheckResult(False, str(e))
        except Exception as e:  # noqa: BLE001 - a lesson bug must not take the window down
            traceback.print_exc(file=sys.stderr)
            _bug(state, f"lesson check failed: {type(e).__name__}: {e}")
            res = CheckResult(False, f"The check itself failed ({type(e).__name__}: {e}). Please report this.")
        self.result = res
        if res.passed:
            self.done[self.index] = True
        return res

    def next(self, state) -> bool:
        """Go on once the step has passed; after the last step the lesson is finished."""
        if not self.can_next():
            return False
        if self.is_last:
            self.finished = True
            from . import progress

            if self.record:
                progress.mark_done(self.lesson.id)
            self.lessons_done = progress.done() | {self.lesson.id}   # for the panel's list
            return True
        self.index += 1
        self._enter(state)
        return True

    def back(self, state) -> bool:
        """Re-read the previous step (its setup is NOT re-run, so nothing the learner did is lost)."""
        if not self.can_back():
            return False
        self.index -= 1
        self.finished = False
        self.result = None
        return True

    def next_lesson_id(self) -> str | None:
        """The lesson offered once this one is finished (teaching order), or None after the last."""
        from . import progress

        return progress.next_lesson(self.lesson.id)

    def next_lesson(self, state) -> bool:
        """Once finished, start the next lesson in this runner (the window keeps its state)."""
        nxt = self.next_lesson_id() if self.finished else None
        if nxt is None:
            return False
        from lessons import get_lesson

        self.lesson = get_lesson(nxt)
        self.checks = 0
        self.start(state)
        return True

    def enter(self, index: int, state) -> None:
        """Go to step `index` (0-based) and run its setup, passed or not (rendering, "skip to")."""
        if not 0 <= index < self.total:
            raise UserError(f"lesson {self.lesson.id!r} has steps 1..{self.total}, not {index + 1}")
        self.index, self.finished = index, False
        self._enter(state)

    def reset(self, state) -> None:
        """Run the current step's setup again (the window back to how the step began)."""
        self.finished = False
        self._enter(state)

    def do(self, action: str | None, state) -> None:
        """What the panel's buttons call: one of ACTIONS (None does nothing)."""
        if action is None:
            return
        if action not in ACTIONS:
            raise UserError(f"unknown lesson action {action!r}")
        if action == "restart":
            self.start(state)
        else:
            getattr(self, action)(state)

    def _enter(self, state) -> None:
        self.result = None
        setup = self.step.setup
        if setup is None:
            return
        try:
            setup(state)
        except UserError as e:
            self.result = CheckResult(False, f"Could not set this step up: {e}")
        except Exception as e:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            _bug(state, f"lesson setup failed: {type(e).__name__}: {e}")
            self.result = CheckResult(False, f"Could not set this step up ({type(e).__name__}: {e}).")


def _fresh_view(state) -> None:
    """A lesson begins with the view of a freshly opened window (the calm layers, playing from the
    noise) and the release tool, not where the last lesson left it: after lesson 1, lesson 2's training preview stayed
    paused at t = 0.92 under lesson 1's arrows. The lesson's own setup then changes what it needs."""
    from sandbox.view.options import ViewOptions

    state.options = ViewOptions()
    # a click on the canvas drops a particle, never sprays 30 points into the lesson's data (which
    # made lesson 1's model stale at its first step); the lesson that asks for drawing picks the spray
    state.set_tool("release")
    state.clear_released()
    state.set_progress(0.0)
    state.play(True)


def _bug(state, text: str) -> None:
    fn = getattr(state, "bug", None)
    if callable(fn):
        fn(text)
