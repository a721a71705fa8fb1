"""The three small types every lesson is made of: `Lesson`, `Step`, `CheckResult`.

A step sets the sandbox up (`setup(state)`, run when the learner arrives at it), tells the learner
what to do (`instructions`), and checks what they did and saw (`check(state) -> CheckResult`).
Both take the window's `AppState` and use only its public actions and attributes, so a lesson
runs the same in the window, in a test and from a script.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

Setup = Callable[[Any], None]          # (AppState) -> None
Check = Callable[[Any], "CheckResult"]  # (AppState) -> CheckResult
Pick = Callable[[Any, float, float], None]   # (AppState, x, y): a click on the canvas, data coordinates
Marks = Callable[[Any], list]           # (AppState) -> [(x, y), ...] points the window marks on the canvas
Scene = Callable[..., None]             # (AppState, surface, rect, theme, progress) -> draws the step's picture


@dataclass(frozen=True)
class CheckResult:
    """passed: the step is done; feedback: one or two sentences that teach (shown in the panel);
    measured: the numbers the check looked at (for tests, logs and the panel's details)."""

    passed: bool
    feedback: str
    measured: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    instructions: str
    setup: Setup | None
    check: Check
    hint: str = ""                 # shown after a failed check, below the feedback
    demo: Setup | None = None      # what a learner does to pass (renders and "show me"; never run by the window)
    pick: Pick | None = None       # takes the canvas's left clicks in this step (a guess, not a tool)
    marks: Marks | None = None     # the learner's picks, drawn as crosses on the canvas
    scene: Scene | None = None     # draws the step's own picture over the canvas (default: the canvas)
    reverse: bool = False          # its animation runs data -> noise (the forward process)
    web: Callable[[Any, str], Any] | None = None  # (AppState, title) -> sandbox.web Player of its scene


@dataclass(frozen=True)
class Lesson:
    """id: the name on the command line (`python -m lessons ID`); goal: one sentence, what the
    learner will understand; render: commands that show the same thing with no window, one a line,
    runnable as printed ('# ' lines say how to make a file that a command reads)."""

    id: str
    title: str
    goal: str
    steps: tuple[Step, ...]
    render: str = ""

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"lesson {self.id!r} has no steps")
        object.__setattr__(self, "steps", tuple(self.steps))

    def text(self) -> str:
        """The whole lesson as plain text (for a terminal with no display)."""
        out = [f"{self.title}  ({self.id})", "", f"Goal: {self.goal}", ""]
        for i, s in enumerate(self.steps, 1):
            out.append(f"{i}. {s.instructions}")
        if self.render:
            out += ["", "Without a window, render a related animation:"]
            out += [f"  {line}" for line in self.render.splitlines()]
        return "\n".join(out)


def actions(*fns: Setup) -> Setup:
    """One demo out of several learner actions, run in order."""
    def run(state) -> None:
        for fn in fns:
            fn(state)
    return run


def train_if_missing(state) -> None:
    """Press Train when a shown pane has no model (demos of lessons that train)."""
    from .measure import model_of

    panes = (0, 1) if state.compare else (0,)
    if any(model_of(state, i) is None for i in panes):
        state.train()


def passed(feedback: str, **measured) -> CheckResult:
    return CheckResult(True, feedback, measured)


def failed(feedback: str, **measured) -> CheckResult:
    return CheckResult(False, feedback, measured)
